package preflight

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/bundle"
	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
)

// crlMaxBytes bounds a CRL download: IGC-Santé CRLs are a few megabytes.
const crlMaxBytes = 64 << 20

// credInput is a credential as read from its files.
type credInput struct {
	side string // "client" or "server"
	cfg  Credential
	leaf *x509.Certificate
	// given are the other certificates of its files, in file order.
	given   []*x509.Certificate
	key     crypto.Signer
	keyName string
	// unread names the settings whose file could not be read.
	unread []string
}

// inputs is everything the configuration names, read.
type inputs struct {
	files          []FileResult
	client, server *credInput
	// igcRoot is nil when no igc-root is configured.
	igcRoot                         []*x509.Certificate
	ingetrust, geotrust, providerCA []bundle.Source
	crls                            []check.NamedCRL
	// unread are the settings whose file could not be read.
	unread map[string]bool
}

// loadJob reads one setting's file into the inputs; it returns the file's result.
type loadJob struct {
	setting, path string
	read          func() (summary string, err error)
}

// load reads every file of the configuration, several at once.
func (st *state) load(ctx context.Context) *inputs {
	cfg := st.cfg
	in := &inputs{client: &credInput{side: "client", cfg: cfg.Client}, server: &credInput{side: "server", cfg: cfg.Server.Credential},
		unread: map[string]bool{}}
	ld := certio.Loader{}
	var jobs []loadJob
	// after runs once every file is read, to put what the jobs read together.
	var after []func()
	type crlSlot struct{ crls []check.NamedCRL }
	crlSlots := make([]crlSlot, len(cfg.CRLs))
	for i, src := range cfg.CRLs {
		jobs = append(jobs, loadJob{"crl", src, func() (string, error) {
			crls, err := st.loadCRL(ctx, src)
			crlSlots[i].crls = crls
			if err != nil {
				return "", err
			}
			return describeCRLs(crls), nil
		}})
	}
	if cfg.IGCRoot != "" {
		jobs = append(jobs, loadJob{"igc-root", cfg.IGCRoot, func() (string, error) {
			certs, err := ld.LoadCertificates(cfg.IGCRoot)
			in.igcRoot = certs
			return describeCerts(certs), err
		}})
	}
	for _, c := range []*credInput{in.client, in.server} {
		cj, done := st.credentialJobs(c, ld)
		jobs, after = append(jobs, cj...), append(after, done)
	}
	caJobs := func(setting string, paths []string, into *[]bundle.Source) {
		slots := make([][]*x509.Certificate, len(paths))
		for i, p := range paths {
			jobs = append(jobs, loadJob{setting, p, func() (string, error) {
				certs, err := ld.LoadCertificates(p)
				slots[i] = certs
				return describeCerts(certs), err
			}})
		}
		after = append(after, func() {
			for i, certs := range slots {
				for _, c := range certs {
					*into = append(*into, bundle.Source{Cert: c, Path: paths[i]})
				}
			}
		})
	}
	caJobs("provider.ca", cfg.Provider.CA, &in.providerCA)
	caJobs("truststore.ingetrust", cfg.Truststore.IngeTrust, &in.ingetrust)
	caJobs("truststore.geotrust", cfg.Truststore.GeoTrust, &in.geotrust)

	in.files = make([]FileResult, len(jobs))
	st.parallel(len(jobs), func(i int) {
		j := jobs[i]
		summary, err := j.read()
		fr := FileResult{Setting: j.setting, Path: j.path, OK: err == nil, Summary: summary}
		if err != nil {
			fr.Summary, fr.Hint = fileError(j.setting, err)
		}
		in.files[i] = fr
	})
	for _, fr := range in.files {
		if !fr.OK {
			in.unread[fr.Setting] = true
		}
	}
	for _, slot := range crlSlots {
		in.crls = append(in.crls, slot.crls...)
	}
	for _, f := range after {
		f()
	}
	for _, c := range []*credInput{in.client, in.server} {
		c.finish(in.unread)
	}
	return in
}

// credentialJobs reads a credential's files: certificate, key and chain, or
// the PKCS#12 and chain, and the passphrase source. done puts them together.
func (st *state) credentialJobs(c *credInput, ld certio.Loader) (jobs []loadJob, done func()) {
	n := c.side
	pass := st.passphrase(c.cfg.Secret, n)
	var certs, chain []*x509.Certificate
	if p := c.cfg.Cert; p != "" {
		jobs = append(jobs, loadJob{n + ".cert", p, func() (s string, err error) {
			certs, err = ld.LoadCertificates(p)
			return describeCerts(certs), err
		}})
	}
	if p := c.cfg.Key; p != "" {
		c.keyName = p
		jobs = append(jobs, loadJob{n + ".key", p, func() (string, error) {
			k, err := ld.LoadPrivateKey(p, pass)
			if err != nil {
				return "", err
			}
			c.key = k.Signer
			s := check.DescribeKey(k.Signer.Public()).String() + " private key"
			if k.Encrypted {
				s += ", encrypted, unlocked"
			}
			return s, nil
		}})
	}
	if p := c.cfg.P12; p != "" {
		c.keyName = "the key of " + p
		jobs = append(jobs, loadJob{n + ".p12", p, func() (string, error) {
			p12, err := ld.LoadPKCS12(p, pass)
			if err != nil {
				return "", err
			}
			c.leaf, c.key = p12.Leaf, p12.Key
			c.given = append(c.given, p12.CACerts...)
			return fmt.Sprintf("PKCS#12 file: %s private key, certificate %q, %d CA certificates",
				check.DescribeKey(p12.Key.Public()), p12.Leaf.Subject.CommonName, len(p12.CACerts)), nil
		}})
	}
	if p := c.cfg.Chain; p != "" {
		jobs = append(jobs, loadJob{n + ".chain", p, func() (s string, err error) {
			chain, err = ld.LoadCertificates(p)
			return describeCerts(chain), err
		}})
	}
	if p := c.cfg.Secret.File; p != "" {
		jobs = append(jobs, loadJob{n + ".passphrase-file", p, func() (string, error) {
			if _, err := readSecretFile(p); err != nil {
				return "", err
			}
			return "readable and not empty (its content is never shown)", nil
		}})
	}
	if name := c.cfg.Secret.Env; name != "" {
		jobs = append(jobs, loadJob{n + ".passphrase-env", "$" + name, func() (string, error) {
			if st.opts.Getenv(name) == "" {
				return "", fmt.Errorf("the environment variable %s is not set or empty", name)
			}
			return "set (its value is never shown)", nil
		}})
	}
	return jobs, func() {
		if c.cfg.P12 == "" {
			c.pickLeaf(certs)
		}
		c.given = append(c.given, chain...)
	}
}

// pickLeaf takes the certificate of the key as the leaf, else the first
// end-entity certificate; the others of the file go with the chain.
func (c *credInput) pickLeaf(certs []*x509.Certificate) {
	if len(certs) == 0 {
		return
	}
	leaf := -1
	if c.key != nil {
		for i, cert := range certs {
			if certio.KeyMatches(cert, c.key.Public()) {
				leaf = i
				break
			}
		}
	}
	for i, cert := range certs {
		if leaf < 0 && !cert.IsCA {
			leaf = i
		}
	}
	if leaf < 0 {
		leaf = 0
	}
	c.leaf = certs[leaf]
	for i, cert := range certs {
		if i != leaf {
			c.given = append(c.given, cert)
		}
	}
}

// finish notes which of the credential's settings could not be read.
func (c *credInput) finish(unread map[string]bool) {
	for _, s := range []string{"cert", "key", "chain", "p12", "passphrase-file", "passphrase-env"} {
		if unread[c.side+"."+s] {
			c.unread = append(c.unread, c.side+"."+s)
		}
	}
}

// passphrase is the source of a credential's passphrase; nil when none is
// configured, so that an encrypted input says a passphrase is required.
func (st *state) passphrase(s Secret, side string) certio.Passphrase {
	switch {
	case s.File != "":
		return func() ([]byte, error) { return readSecretFile(s.File) }
	case s.Env != "":
		return func() ([]byte, error) {
			v := st.opts.Getenv(s.Env)
			if v == "" {
				return nil, fmt.Errorf("the environment variable %s, named by %s.passphrase-env, is not set or empty", s.Env, side)
			}
			return []byte(v), nil
		}
	}
	return nil
}

// readSecretFile reads the first line of a passphrase file.
func readSecretFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("passphrase file %s: %w", path, err)
	}
	pw, _, _ := bytes.Cut(data, []byte("\n"))
	pw = bytes.TrimRight(pw, "\r")
	if len(pw) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", path)
	}
	return pw, nil
}

// loadCRL reads the CRLs of a file, or downloads them from a URL.
func (st *state) loadCRL(ctx context.Context, src string) ([]check.NamedCRL, error) {
	var crls []*x509.RevocationList
	if isURL(src) {
		data, err := st.opts.Fetch(ctx, src)
		if err == nil {
			var contents *certio.Contents
			if contents, err = certio.Decode(src, data); err == nil {
				if crls = contents.CRLs(); len(crls) == 0 {
					err = errors.New("the download holds no CRL")
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("downloading %s: %w", src, err)
		}
	} else {
		var err error
		if crls, err = (certio.Loader{}).LoadCRLs(src); err != nil {
			return nil, err
		}
	}
	out := make([]check.NamedCRL, len(crls))
	for i, crl := range crls {
		out[i] = check.NamedCRL{Name: src, CRL: crl}
	}
	return out, nil
}

// fileError says why a file could not be read, without its path (the result
// names it), and what to do.
func fileError(setting string, err error) (msg, hint string) {
	hint = certio.Hint(err)
	side, _, _ := strings.Cut(setting, ".")
	switch {
	case errors.Is(err, certio.ErrPassphraseRequired):
		hint = fmt.Sprintf("set %s.passphrase-file or %s.passphrase-env to where its passphrase is", side, side)
	case errors.Is(err, certio.ErrWrongPassphrase):
		hint = fmt.Sprintf("the file is intact: the passphrase %s.passphrase-file or %s.passphrase-env gives does not open it", side, side)
	}
	var fe *certio.FileError
	if errors.As(err, &fe) {
		err = fe.Err
	}
	return err.Error(), hint
}

// describeCerts names the certificates of a file.
func describeCerts(certs []*x509.Certificate) string {
	names := make([]string, len(certs))
	for i, c := range certs {
		names[i] = commonName(c)
	}
	if len(certs) == 1 {
		return "1 certificate: " + names[0]
	}
	return fmt.Sprintf("%d certificates: %s", len(certs), strings.Join(names, "; "))
}

func describeCRLs(crls []check.NamedCRL) string {
	parts := make([]string, len(crls))
	for i, nc := range crls {
		c := nc.CRL
		parts[i] = fmt.Sprintf("CRL of %s", nameCN(c.Issuer.CommonName, c.Issuer.String()))
		if c.Number != nil {
			parts[i] += fmt.Sprintf(" number %s", c.Number)
		}
		if !c.NextUpdate.IsZero() {
			parts[i] += ", next update " + day(c.NextUpdate)
		}
	}
	return strings.Join(parts, "; ")
}

func commonName(c *x509.Certificate) string {
	return nameCN(c.Subject.CommonName, c.Subject.String())
}

func nameCN(cn, full string) string {
	if cn != "" {
		return cn
	}
	return full
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// filesStep reports what the configuration's files hold, or why they could
// not be read.
func (st *state) filesStep() Step {
	s := Step{ID: StepFiles, Title: titleOf(StepFiles), Files: st.in.files}
	var bad []FileResult
	for _, f := range st.in.files {
		if !f.OK {
			bad = append(bad, f)
		}
	}
	switch {
	case len(st.in.files) == 0:
		s.Status, s.Reason = Skip, "the configuration names no file"
	case len(bad) == 0:
		s.Status, s.Reason = Pass, fmt.Sprintf("%d files read", len(st.in.files))
	default:
		f := bad[0]
		s.Status = Fail
		s.Reason = fmt.Sprintf("%s %s: %s", f.Setting, f.Path, f.Summary)
		if len(bad) > 1 {
			s.Reason += fmt.Sprintf(" (and %d more)", len(bad)-1)
		}
		s.Fix = f.Hint
		if s.Fix == "" {
			s.Fix = "check " + describe(f.Setting) + ": the file must exist, be readable, and hold what the setting names"
		}
		for _, b := range bad {
			s.Findings = append(s.Findings, check.Finding{Slug: "file-unreadable", Level: check.Fail, Message: fmt.Sprintf("%s %s: %s", b.Setting, b.Path, b.Summary)})
		}
	}
	return s
}
