package commands

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/csr"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
	"github.com/diapason-cert/diapason-cert/lab"
)

func (r *run) labCommand() *cli.Command {
	return &cli.Command{
		Name:  "lab",
		Usage: "an offline test PKI shaped like the real one: make it, sign CSRs like the IGC-Santé platform, revoke, serve CRLs and OCSP",
		Subcommands: []*cli.Command{
			{
				Name:      "init",
				Usage:     "make a lab in DIR: IGC-Santé-, IngeTrust- and GeoTrust-like CAs, the GAP, terminal and provider credentials, CRLs",
				ArgsUsage: "DIR",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "fqdn", Value: lab.DefaultFQDN, Usage: "the GAP server's `FQDN`, CN and SAN of its SSL_SERVEUR certificate"},
					&cli.StringFlag{Name: "url", Value: lab.DefaultURL, Usage: "base `URL` of the CRL, OCSP and CA-certificate addresses written in the certificates (where 'lab serve' listens)"},
					&cli.IntFlag{Name: "ca-key-size", Value: lab.DefaultCAKeySize, Usage: "RSA size of the CA keys: 2048, or 4096 as the production IGC-Santé CAs"},
					&cli.BoolFlag{Name: "force", Usage: "write into a directory that is not empty, or over an existing lab (replaced files are kept as timestamped backups)"},
				},
				Action: r.labInit,
			},
			{
				Name:      "sign",
				Usage:     "issue a certificate for a CSR as the IGC-Santé platform does, for any validity (back-dated, expired, expiring soon)",
				ArgsUsage: "CSR",
				Flags: []cli.Flag{
					labFlag(),
					&cli.StringFlag{Name: "profile", Usage: "what was ordered: psp-client (ORG AUTH_CLI) or tpe-server (SSL_SERVEUR) (required)"},
					&cli.StringFlag{Name: "validity", Usage: "validity `PERIOD` (3y, 90d, 12h); the IGC-Santé term, 3y, by default"},
					&cli.StringFlag{Name: "not-before", Usage: "start `DATE` (2026-01-31 or RFC 3339); now by default, or counted back from the end"},
					&cli.StringFlag{Name: "not-after", Usage: "end `DATE`; with no --not-before the certificate starts one validity earlier (a past date makes it expired)"},
					&cli.StringFlag{Name: "expires-in", Usage: "end after `PERIOD` from now (10d rehearses the 30-day warning), starting one validity earlier"},
					&cli.StringFlag{Name: "out", Usage: "write the certificate to `FILE` (default: next to the CSR, NAME.pem)"},
					&cli.BoolFlag{Name: "force", Usage: "replace an existing output file, keeping a timestamped backup"},
				},
				Action: r.labSign,
			},
			{
				Name:      "revoke",
				Usage:     "revoke a lab certificate: its CA issues a new CRL (next number, earlier entries kept) and the OCSP responder says revoked",
				ArgsUsage: "CERT",
				Flags: []cli.Flag{
					labFlag(),
					&cli.StringFlag{Name: "reason", Value: "unspecified", Usage: "RFC 5280 `REASON`: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold, privilegeWithdrawn, aACompromise"},
				},
				Action: r.labRevoke,
			},
			{
				Name:      "serve",
				Usage:     "serve the lab's CRLs, CA certificates and OCSP responder at the URLs in its certificates, until interrupted",
				ArgsUsage: " ",
				Flags: []cli.Flag{
					labFlag(),
					&cli.StringFlag{Name: "listen", Usage: "listen on `HOST:PORT` (default: the host and port of the lab URL)"},
				},
				Action: r.labServe,
			},
		},
	}
}

// labFlag is the --lab option; every command that can take its trust
// anchors, CRLs or credentials from a lab uses it.
func labFlag() cli.Flag {
	return &cli.StringFlag{Name: "lab", Usage: "the lab `DIR` made by 'diapason-cert lab init'"}
}

// openLab reads the lab named by --lab, which the command requires.
func (r *run) openLab(c *cli.Context) (*lab.Lab, error) {
	dir := c.String("lab")
	if dir == "" {
		return nil, usageErr("make one with 'diapason-cert lab init DIR', then give --lab DIR", "--lab is required: which lab?")
	}
	l, err := lab.Open(dir)
	if err != nil {
		return nil, r.labError(err)
	}
	return l, nil
}

// labError classifies an error reading a lab: the input named on the
// command line cannot be read (UNKNOWN), with the way out.
func (r *run) labError(err error) error {
	hint := certio.Hint(err)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint = "make a lab with 'diapason-cert lab init DIR', or check the --lab path"
	case hint == "":
		hint = "the lab's files do not agree with its lab.json; make a new lab with 'diapason-cert lab init --force DIR'"
	}
	return unknownErr(err, hint)
}

// labCertInfo describes one certificate of a lab.
type labCertInfo struct {
	Name      string    `json:"name"`
	Profile   string    `json:"profile,omitempty"`
	Issuer    string    `json:"issuer,omitempty"`
	Subject   string    `json:"subject"`
	Serial    string    `json:"serial"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	SHA256    string    `json:"sha256"`
	Cert      string    `json:"cert"`
	Key       string    `json:"key"`
	Chain     string    `json:"chain,omitempty"`
	CRL       string    `json:"crl,omitempty"`
	Revoked   bool      `json:"revoked"`
}

// labInitResult is the result of `lab init`.
type labInitResult struct {
	Dir         string             `json:"dir"`
	Manifest    string             `json:"manifest"`
	URL         string             `json:"url"`
	FQDN        string             `json:"fqdn"`
	CAKeySize   int                `json:"ca_key_size"`
	Hierarchy   diapason.Hierarchy `json:"hierarchy"`
	CAs         []labCertInfo      `json:"cas"`
	Credentials []labCertInfo      `json:"credentials"`
	Backups     []string           `json:"backups,omitempty"`
	NextSteps   []string           `json:"next_steps"`
}

func (r *run) labInit(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert lab init DIR'", "lab init takes one directory, got %d arguments", c.NArg())
	}
	dir := c.Args().First()
	fqdn, err := csr.NormaliseFQDN(c.String("fqdn"))
	if err != nil {
		return usageErr("", "--fqdn: %v", err)
	}
	base, err := lab.NormaliseURL(c.String("url"))
	if err != nil {
		return usageErr("for example --url http://127.0.0.1:8880/", "--url: %v", err)
	}
	size := c.Int("ca-key-size")
	if size != 2048 && size != 4096 {
		return usageErr("use 2048 (quick) or 4096 (as the production IGC-Santé CAs)", "--ca-key-size %d is not offered", size)
	}
	force := c.Bool("force")
	// Refuse before making keys, which takes seconds with 4096-bit CAs;
	// nothing has run, so any objection is a usage error.
	if err := lab.CheckDir(dir, force); err != nil {
		hint := "choose a new or empty directory"
		if errors.Is(err, lab.ErrNotEmpty) {
			hint += ", or add --force to write over it (replaced files are kept as timestamped .bak files)"
		}
		return &cmdError{status: StatusUsage, err: err, hint: hint}
	}
	now := r.env.Now()
	stop := r.spinner("making the lab's keys and certificates")
	// A process makes one lab, so the key cache changes nothing for users;
	// it spares in-process tests a key generation per run.
	l, err := lab.New(lab.Options{Now: now, FQDN: fqdn, URL: base, CAKeySize: size, KeyCache: "cli"})
	stop()
	if err != nil {
		return failErr(err, "")
	}
	written, err := l.Write(dir, force, now)
	if err != nil {
		return r.labWriteError(err)
	}
	res := labInitResult{Dir: dir, Manifest: filepath.Join(dir, lab.ManifestFile), URL: l.URL(), FQDN: l.FQDN(),
		CAKeySize: size, Hierarchy: diapason.HierarchyLab, CAs: []labCertInfo{}, Credentials: []labCertInfo{}}
	for _, w := range written {
		if w.Backup != "" {
			res.Backups = append(res.Backups, w.Backup)
		}
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	for _, n := range lab.CANames() {
		ca := l.CA(n)
		info := describeLabCert(string(n), ca.Cert)
		info.Issuer = string(ca.Parent)
		info.Cert, info.Key, info.CRL = at(string(n)+".pem"), at(string(n)+".key"), at(string(n)+".crl.pem")
		res.CAs = append(res.CAs, info)
	}
	revoked := map[string]bool{}
	for _, crl := range l.CRLs() {
		for _, e := range crl.RevokedCertificateEntries {
			revoked[lab.SerialString(e.SerialNumber)] = true
		}
	}
	for _, role := range lab.Roles() {
		cr := l.Credential(role)
		info := describeLabCert(string(role), cr.Cert)
		issuer, _ := l.IssuerOf(cr.Cert)
		info.Profile, info.Issuer, info.Revoked = string(cr.Profile), string(issuer.Name), revoked[info.Serial]
		info.Cert, info.Key, info.Chain = at(string(role)+".pem"), at(string(role)+".key"), at(string(role)+".chain.pem")
		res.Credentials = append(res.Credentials, info)
	}
	res.NextSteps = []string{
		fmt.Sprintf("serve the CRLs and the OCSP responder at %s: diapason-cert lab serve --lab %s", l.URL(), dir),
		fmt.Sprintf("verify a credential with openssl: openssl verify -CAfile %s -untrusted %s %s", at("igc-root.pem"), at("igc-org.pem"), at("gap-server.pem")),
		fmt.Sprintf("rehearse an order: diapason-cert csr tpe-server --fqdn %s, then diapason-cert lab sign tpe-server.csr --lab %s --profile tpe-server", fqdn, dir),
		fmt.Sprintf("give --lab %s to the other commands to take trust anchors, CRLs and credentials from this lab", dir),
	}
	return r.emit(StatusOK, res, func(w io.Writer) error { return r.renderLabInit(w, res) })
}

func describeLabCert(name string, c *x509.Certificate) labCertInfo {
	sum := sha256.Sum256(c.Raw)
	return labCertInfo{Name: name, Subject: labSubject(c), Serial: lab.SerialString(c.SerialNumber),
		NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(), SHA256: diapason.Fingerprint(sum[:])}
}

// labWriteError classifies a failure to write a lab: a directory in use is a
// usage error (nothing was replaced).
func (r *run) labWriteError(err error) error {
	if errors.Is(err, lab.ErrNotEmpty) {
		return &cmdError{status: StatusUsage, err: err, hint: "choose a new or empty directory, or add --force to write over it (replaced files are kept as timestamped .bak files)"}
	}
	return r.writeError(err)
}

func (r *run) renderLabInit(w io.Writer, res labInitResult) error {
	renderPairs(w, [][2]string{
		{"lab", res.Dir + " (" + res.Hierarchy.Label() + ": LAB in every DN and the lab policy OID in every certificate)"},
		{"manifest", res.Manifest},
		{"URL", res.URL + " (CRLs, OCSP, CA certificates)"},
		{"GAP FQDN", res.FQDN},
		{"CA keys", fmt.Sprintf("RSA %d", res.CAKeySize)},
	})
	fmt.Fprintln(w)
	rows := [][]string{}
	for _, ca := range res.CAs {
		issuer := ca.Issuer
		if issuer == "" {
			issuer = "(root)"
		}
		rows = append(rows, []string{ca.Name, cnOf(ca.Subject), issuer, ca.NotAfter.Format(time.DateOnly)})
	}
	if err := renderTable(w, []string{"CA", "Common name", "Issuer", "Valid until"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w)
	rows = [][]string{}
	for _, cr := range res.Credentials {
		until := cr.NotAfter.Format(time.DateOnly)
		if cr.Revoked {
			until += " " + r.colour.warn.Sprint("(revoked)")
		}
		rows = append(rows, []string{cr.Name, cr.Profile, cnOf(cr.Subject), cr.Issuer, until})
	}
	if err := renderTable(w, []string{"Credential", "Profile", "Common name", "Issuer", "Valid until"}, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nFiles: NAME.pem (certificate), NAME.key (key, mode 0600), ROLE.chain.pem (issuing CAs, root last), CA.crl.pem, in %s\n", res.Dir)
	for _, b := range res.Backups {
		fmt.Fprintf(w, "kept the replaced %s\n", b)
	}
	fmt.Fprintln(w, "\nNext steps:")
	for i, s := range res.NextSteps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
	return nil
}

// cnOf picks the CN out of a DN as subjectAsIssued renders it.
func cnOf(subject string) string {
	if i := strings.LastIndex(subject, "CN="); i >= 0 {
		return subject[i+3:]
	}
	return subject
}

// labSignResult is the result of `lab sign`.
type labSignResult struct {
	Profile     diapason.ProfileID `json:"profile"`
	Offer       string             `json:"offer"`
	CSR         string             `json:"csr"`
	Certificate string             `json:"certificate"`
	Backup      string             `json:"backup,omitempty"`
	Subject     string             `json:"subject"`
	DNSNames    []string           `json:"dns_names"`
	Issuer      string             `json:"issuer"`
	IssuerCA    lab.CAName         `json:"issuer_ca"`
	Chain       string             `json:"chain"`
	Serial      string             `json:"serial"`
	NotBefore   time.Time          `json:"not_before"`
	NotAfter    time.Time          `json:"not_after"`
	Validity    string             `json:"validity"`
	// ExactTerm: the validity is exactly the 3 calendar years of IGC-Santé.
	ExactTerm bool     `json:"exact_term"`
	SHA256    string   `json:"sha256"`
	Notes     []string `json:"notes"`
	PEM       string   `json:"pem"`
}

func (r *run) labSign(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert lab sign CSR --lab DIR --profile psp-client|tpe-server'", "lab sign takes one CSR file, got %d arguments", c.NArg())
	}
	csrPath := c.Args().First()
	var profile diapason.Profile
	switch p := c.String("profile"); p {
	case string(diapason.PSPClient), string(diapason.TPEServer):
		profile = diapason.MustProfile(diapason.ProfileID(p))
	case "":
		return usageErr("psp-client for the ORG AUTH_CLI certificate (CN Client_Diapason_PSP), tpe-server for SSL_SERVEUR (CN = FQDN)", "--profile is required: what was ordered?")
	case string(diapason.TPEClient), string(diapason.PSPServer):
		return usageErr("'lab init' makes the lab's terminal and provider certificates (tpe-client, psp-server)",
			"--profile %s: the IGC-Santé platform issues psp-client and tpe-server only; that certificate comes from %s", p, diapason.MustProfile(diapason.ProfileID(p)).Issuer)
	default:
		return usageErr("", "--profile %q: want psp-client or tpe-server", p)
	}
	notBefore, notAfter, err := r.labValidity(c, profile)
	if err != nil {
		return err
	}
	out := c.String("out")
	switch {
	case out == "-":
		return usageErr("the certificate is printed anyway; give --out FILE for the file", "--out -: the result already goes to standard output")
	case out == "" && csrPath == "-":
		return usageErr("", "the CSR comes from stdin: give --out FILE for the certificate")
	case out == "":
		out = certPathFor(csrPath)
	}
	force := c.Bool("force")
	if err := certio.CheckWritable(force, out); err != nil {
		return r.writeError(err)
	}
	l, err := r.openLab(c)
	if err != nil {
		return err
	}
	req, err := r.loadCSR(csrPath)
	if err != nil {
		return err
	}
	cert, err := l.Sign(req, profile.ID, notBefore, notAfter)
	if err != nil {
		return failErr(fmt.Errorf("%s: refused: %w", certio.DisplayName(csrPath), err), certio.Hint(err))
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
	wr, err := certio.WriteFile(out, certPEM, certio.WriteOptions{Mode: 0o644, Force: force, Now: r.env.Now()})
	if err != nil {
		return r.writeError(err)
	}
	issuer, _ := l.IssuerOf(cert)
	sum := sha256.Sum256(cert.Raw)
	res := labSignResult{Profile: profile.ID, Offer: profile.Offer, CSR: csrPath, Certificate: out, Backup: wr.Backup,
		Subject: labSubject(cert), DNSNames: append([]string{}, cert.DNSNames...), Issuer: labIssuer(cert),
		IssuerCA: issuer.Name, Chain: filepath.Join(l.Dir(), string(issuer.Name)+".pem"), Serial: lab.SerialString(cert.SerialNumber),
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), SHA256: diapason.Fingerprint(sum[:]), PEM: string(certPEM)}
	res.ExactTerm = cert.NotAfter.Equal(profile.Term.AddTo(cert.NotBefore))
	res.Validity, res.Notes = r.validityNotes(cert, profile, res.ExactTerm)
	return r.emit(StatusOK, res, func(w io.Writer) error { return r.renderLabSign(w, res) })
}

// labValidity computes the validity from --validity, --not-before,
// --not-after and --expires-in; a missing end is one validity after the
// start, a missing start one validity before the end.
func (r *run) labValidity(c *cli.Context, p diapason.Profile) (time.Time, time.Time, error) {
	now := r.env.Now().UTC().Truncate(time.Second)
	validity := p.Term
	if c.IsSet("validity") {
		v, err := diapason.ParsePeriod(c.String("validity"))
		if err != nil || v.IsZero() {
			return time.Time{}, time.Time{}, usageErr("", "--validity: %v", orMsg(err, "a certificate needs a validity longer than zero"))
		}
		validity = v
	}
	var notBefore, notAfter time.Time
	var err error
	if c.IsSet("not-before") {
		if notBefore, err = parseLabTime(c.String("not-before")); err != nil {
			return time.Time{}, time.Time{}, usageErr("", "--not-before: %v", err)
		}
	}
	switch {
	case c.IsSet("not-after") && c.IsSet("expires-in"):
		return time.Time{}, time.Time{}, usageErr("", "--not-after and --expires-in both set: give one end")
	case c.IsSet("not-after"):
		if notAfter, err = parseLabTime(c.String("not-after")); err != nil {
			return time.Time{}, time.Time{}, usageErr("", "--not-after: %v", err)
		}
	case c.IsSet("expires-in"):
		in, err := diapason.ParsePeriod(c.String("expires-in"))
		if err != nil {
			return time.Time{}, time.Time{}, usageErr("", "--expires-in: %v", err)
		}
		notAfter = in.AddTo(now)
	}
	if !notBefore.IsZero() && !notAfter.IsZero() && c.IsSet("validity") {
		return time.Time{}, time.Time{}, usageErr("give two of start, end and --validity", "--validity conflicts with a start and an end both given")
	}
	switch {
	case notBefore.IsZero() && notAfter.IsZero():
		notBefore = now
		notAfter = validity.AddTo(notBefore)
	case notBefore.IsZero():
		notBefore = validity.SubFrom(notAfter)
	case notAfter.IsZero():
		notAfter = validity.AddTo(notBefore)
	}
	if !notAfter.After(notBefore) {
		return time.Time{}, time.Time{}, usageErr("", "the certificate would end (%s) before it starts (%s)", notAfter.Format(time.RFC3339), notBefore.Format(time.RFC3339))
	}
	return notBefore, notAfter, nil
}

func orMsg(err error, msg string) string {
	if err != nil {
		return err.Error()
	}
	return msg
}

// parseLabTime reads a date (UTC midnight) or an RFC 3339 time.
func parseLabTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: use 2026-01-31 or 2026-01-31T12:00:00Z", s)
	}
	return t.UTC(), nil
}

// certPathFor is where the certificate of a CSR goes: beside it, NAME.pem,
// or NAME.cert.pem when the CSR itself is NAME.pem.
func certPathFor(csrPath string) string {
	stem := strings.TrimSuffix(csrPath, filepath.Ext(csrPath))
	if out := stem + ".pem"; out != csrPath {
		return out
	}
	return stem + ".cert.pem"
}

// validityNotes says what the chosen validity rehearses.
func (r *run) validityNotes(cert *x509.Certificate, p diapason.Profile, exact bool) (string, []string) {
	now := r.env.Now().UTC().Truncate(time.Second)
	span := cert.NotAfter.Sub(cert.NotBefore)
	validity := fmt.Sprintf("%d days", int(span.Hours()/24))
	if span < 48*time.Hour {
		validity = fmt.Sprintf("%d hours", int(span.Hours()))
	}
	notes := []string{}
	if exact {
		validity = p.Term.String() + " (exactly the IGC-Santé term)"
	} else {
		notes = append(notes, fmt.Sprintf("the validity is not the %s term of IGC-Santé certificates: check will say so", p.Term))
	}
	left := cert.NotAfter.Sub(now)
	warn := diapason.WarnWindow.AddTo(now)
	switch {
	case cert.NotBefore.After(now):
		notes = append(notes, fmt.Sprintf("not valid yet: it starts on %s", cert.NotBefore.UTC().Format(time.RFC3339)))
	case left <= 0:
		notes = append(notes, fmt.Sprintf("already expired, on %s", cert.NotAfter.UTC().Format(time.RFC3339)))
	case cert.NotAfter.Before(warn):
		notes = append(notes, fmt.Sprintf("expires in %d days, inside the %s warning window", int(left.Hours()/24), diapason.WarnWindow))
	}
	return validity, notes
}

func (r *run) renderLabSign(w io.Writer, res labSignResult) error {
	sans := strings.Join(res.DNSNames, ", ")
	if sans == "" {
		sans = "none"
	}
	renderPairs(w, [][2]string{
		{"profile", fmt.Sprintf("%s (%s)", res.Profile, res.Offer)},
		{"subject", res.Subject},
		{"DNS SANs", sans},
		{"issuer", res.Issuer},
		{"serial", res.Serial},
		{"valid", fmt.Sprintf("%s to %s, %s", res.NotBefore.Format(time.RFC3339), res.NotAfter.Format(time.RFC3339), res.Validity)},
		{"SHA-256", res.SHA256},
		{"written", res.Certificate},
	})
	if res.Backup != "" {
		fmt.Fprintf(w, "kept the replaced file as %s\n", res.Backup)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "\nAs with an uploaded CSR on the platform, add the intermediate yourself: %s\n\n", res.Chain)
	_, err := io.WriteString(w, res.PEM)
	return err
}

// labSubject and labIssuer show names in RDN order, separate OUs apart.
func labSubject(c *x509.Certificate) string { return labName(c.RawSubject, c.Subject.String()) }
func labIssuer(c *x509.Certificate) string  { return labName(c.RawIssuer, c.Issuer.String()) }

func labName(raw []byte, fallback string) string {
	if n, err := dn.Parse(raw); err == nil {
		return n.String()
	}
	return fallback
}

// labRevokeResult is the result of `lab revoke`.
type labRevokeResult struct {
	Certificate string `json:"certificate"`
	lab.Revocation
}

func (r *run) labRevoke(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert lab revoke CERT --lab DIR'", "lab revoke takes one certificate file, got %d arguments", c.NArg())
	}
	reason, err := lab.ParseReason(c.String("reason"))
	if err != nil {
		return usageErr("", "--reason: %v", err)
	}
	l, err := r.openLab(c)
	if err != nil {
		return err
	}
	path := c.Args().First()
	certs, err := r.loader().LoadCertificates(path)
	if err != nil {
		return r.readError(err)
	}
	rev, err := l.Revoke(certs[0], reason, r.env.Now())
	if err != nil {
		return failErr(fmt.Errorf("%s: %w", certio.DisplayName(path), err), certio.Hint(err))
	}
	res := labRevokeResult{Certificate: path, Revocation: rev}
	return r.emit(StatusOK, res, func(w io.Writer) error {
		renderPairs(w, [][2]string{
			{"revoked", res.Subject},
			{"serial", res.Serial},
			{"by CA", string(res.CA)},
			{"reason", res.Reason},
			{"at", res.RevokedAt.Format(time.RFC3339)},
			{"CRL", fmt.Sprintf("%s, number %d, next update %s", res.CRLFile, res.CRLNumber, res.NextUpdate.Format(time.RFC3339))},
		})
		fmt.Fprintf(w, "\nA running 'diapason-cert lab serve --lab %s' answers revoked from now on (OCSP and CRL).\n", l.Dir())
		return nil
	})
}

// labServeResult is the result of `lab serve`, printed when it stops.
type labServeResult struct {
	Lab      string    `json:"lab"`
	Listen   string    `json:"listen"`
	URL      string    `json:"url"`
	Started  time.Time `json:"started"`
	Stopped  time.Time `json:"stopped"`
	Requests int64     `json:"requests"`
}

func (r *run) labServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("run 'diapason-cert lab serve --lab DIR'", "unexpected argument %q", c.Args().First())
	}
	l, err := r.openLab(c)
	if err != nil {
		return err
	}
	u, err := url.Parse(l.URL())
	if err != nil {
		return r.labError(err)
	}
	urlAddr := u.Host
	if u.Port() == "" {
		urlAddr = net.JoinHostPort(u.Hostname(), "80")
	}
	addr := c.String("listen")
	if addr == "" {
		addr = urlAddr
	} else if _, _, err := net.SplitHostPort(addr); err != nil {
		return usageErr("for example --listen 127.0.0.1:8880", "--listen %q: %v", addr, err)
	}
	// A real CA issues CRLs on a schedule; the lab does it when it serves.
	refreshed, err := l.RefreshCRLs(r.env.Now())
	if err != nil {
		return failErr(err, "")
	}
	for _, n := range refreshed {
		r.infof("the CRL of %s had gone stale: issued a new one", n)
	}
	src, err := lab.Watch(l.Dir())
	if err != nil {
		return r.labError(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return failErr(fmt.Errorf("cannot listen on %s: %w", addr, err), "choose another address with --listen HOST:PORT (the certificates name "+l.URL()+")")
	}
	if !listensAt(ln.Addr(), u) {
		r.warnf("listening on %s, but the lab certificates point at %s: clients that follow them will not reach this server", ln.Addr(), l.URL())
	}

	var requests atomic.Int64
	var logMu sync.Mutex
	logEntry := func(e lab.Entry) {
		requests.Add(1)
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(r.env.Stderr, "diapason-cert: %s\n", formatEntry(e))
	}
	srv := &http.Server{Handler: lab.Handler(src, r.env.Now, logEntry), ReadHeaderTimeout: 10 * time.Second}
	res := labServeResult{Lab: l.Dir(), Listen: ln.Addr().String(), URL: l.URL(), Started: r.env.Now().UTC()}
	r.infof("serving the lab %s on http://%s%s: CRLs at crl/CA.crl, CA certificates at ca/CA.cer, OCSP at ocsp; stop with Ctrl-C",
		l.Dir(), ln.Addr(), u.Path)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
		return failErr(fmt.Errorf("serving on %s: %w", ln.Addr(), err), "")
	case <-c.Context.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return failErr(fmt.Errorf("stopping the server: %w", err), "")
	}
	<-served
	res.Stopped, res.Requests = r.env.Now().UTC(), requests.Load()
	return r.emit(StatusOK, res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "stopped serving the lab %s after %d requests\n", res.Lab, res.Requests)
		return err
	})
}

// listensAt reports whether a listener answers the lab URL's port (and its
// host, when the URL names an IP address).
func listensAt(a net.Addr, u *url.URL) bool {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	if strconv.Itoa(tcp.Port) != port {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip == nil || tcp.IP.IsUnspecified() || ip.Equal(tcp.IP)
}

// formatEntry is one log line: who asked what, and what the lab answered.
func formatEntry(e lab.Entry) string {
	line := fmt.Sprintf("%s %s %s %d", e.Remote, e.Method, e.Path, e.Code)
	switch e.Kind {
	case "ocsp":
		line += " ocsp"
		if e.CA != "" {
			line += " " + string(e.CA)
		}
		if e.Serial != "" {
			line += fmt.Sprintf(" serial %s (%s)", e.Serial, e.Hash)
		}
		line += ": " + e.Answer
	case "crl", "ca":
		if e.CA != "" {
			line += fmt.Sprintf(" %s %s, %d bytes", e.Kind, e.CA, e.Bytes)
		} else {
			line += " " + e.Kind + ": " + e.Answer
		}
	default:
		line += ": " + e.Answer
	}
	return line
}
