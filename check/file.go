package check

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
)

// FileReport is what a check says about one input.
type FileReport struct {
	File string `json:"file"`
	// Named is set for an input named by the user, unset for one found in a scanned
	// directory: an unreadable named input means the check could not be made, an
	// unreadable file in a directory was only skipped.
	Named        bool         `json:"named"`
	Certificates []CertReport `json:"certificates"`
	Items        []Item       `json:"items,omitempty"`
	// Findings are about the file as a whole (a key that matches none of its certificates).
	Findings []Finding `json:"findings,omitempty"`
	// Error says why the input could not be read, Hint what to do; the rest is then
	// empty. A file found in a directory is then skipped; a named input is not checked.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
}

// Item is something other than a certificate found in a file.
type Item struct {
	Kind string `json:"kind"` // certio's name of the kind: "private key", "CRL", …
	// Line is the line of its PEM BEGIN line, 0 for DER.
	Line    int    `json:"line,omitempty"`
	Summary string `json:"summary"`
	// Subject is a request's subject or a CRL's issuer, as issued.
	Subject   string   `json:"subject,omitempty"`
	Key       *KeyInfo `json:"key,omitempty"`
	Encrypted bool     `json:"encrypted,omitempty"`
	// Locked is set for an encrypted key or PKCS#12 file left closed for want of a passphrase.
	Locked     bool       `json:"locked,omitempty"`
	ThisUpdate *time.Time `json:"this_update,omitempty"`
	NextUpdate *time.Time `json:"next_update,omitempty"`
	Entries    *int       `json:"entries,omitempty"`
}

// CheckFile reads the file at path ("-" for stdin) and checks everything in it.
func (k *Checker) CheckFile(ctx context.Context, path string, named bool, stdin io.Reader) FileReport {
	data, err := readInput(path, stdin)
	if err != nil {
		return errorReport(path, named, err)
	}
	return k.CheckData(ctx, path, data, named)
}

// readInput is certio.ReadInput with fewer system calls for a regular file of known
// size, the case a directory scan meets thousands of times: one read of the stated size
// instead of a growing buffer. Anything else, errors included, goes to certio.ReadInput.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path != "-" {
		if data, ok := readRegular(path); ok {
			return data, nil
		}
	}
	return certio.ReadInput(path, stdin)
}

// passphraseHint is the way out of a passphrase error.
const passphraseHint = "give the passphrase with --passphrase-file FILE or --passphrase-env NAME"

func errorReport(path string, named bool, err error) FileReport {
	rep := FileReport{File: path, Named: named, Certificates: []CertReport{}, Hint: certio.Hint(err)}
	switch {
	case errors.Is(err, certio.ErrWrongPassphrase):
		rep.Hint = "the passphrase given does not open this file; " + passphraseHint
	case errors.Is(err, certio.ErrPassphraseRequired):
		rep.Hint = passphraseHint
	}
	var fe *certio.FileError
	if errors.As(err, &fe) {
		err = fe.Err
	}
	rep.Error = err.Error()
	return rep
}

// CheckData checks data read from the input called name.
func (k *Checker) CheckData(ctx context.Context, name string, data []byte, named bool) FileReport {
	contents, err := certio.Decode(name, data)
	if err != nil {
		return errorReport(name, named, err)
	}
	rep := FileReport{File: name, Named: named}
	f := &findings{}
	for _, w := range contents.Warnings {
		msg := w.Message
		if w.Hint != "" {
			msg += "; " + w.Hint
		}
		f.add("input-note", Info, "%s", msg)
	}
	var certs []*x509.Certificate
	var keys []fileKey
	for _, it := range contents.Items {
		switch it.Kind {
		case certio.KindCertificate:
			certs = append(certs, it.Certificate)
		case certio.KindPKCS7:
			certs = append(certs, it.Certificates...)
			rep.Items = append(rep.Items, Item{Kind: it.Kind.String(), Line: it.Line,
				Summary: fmt.Sprintf("PKCS#7 bundle of %d certificates and %d CRLs", len(it.Certificates), len(it.CRLs))})
			for _, crl := range it.CRLs {
				rep.Items = append(rep.Items, crlItem(it, crl))
			}
		case certio.KindPKCS12:
			p12, item, err := k.openPKCS12(it)
			if err != nil {
				return errorReport(name, named, err)
			}
			rep.Items = append(rep.Items, item)
			if p12 == nil && named {
				// Nothing in it could be checked: for an input the user named, that is
				// a check not made.
				return errorReport(name, named, fmt.Errorf("the PKCS#12 file is password-protected: %w", certio.ErrPassphraseRequired))
			}
			if p12 == nil {
				f.add("pkcs12-locked", Info, "the PKCS#12 file is password-protected and was not opened: give --passphrase-file or --passphrase-env to check its certificates")
				continue
			}
			if p12.Leaf != nil {
				certs = append(certs, p12.Leaf)
			}
			certs = append(certs, p12.CACerts...)
			if p12.Key != nil {
				keys = append(keys, fileKey{"the PKCS#12 file's private key", p12.Key.Public()})
			}
		case certio.KindEncryptedKey:
			item, key, err := k.openKey(it)
			if err != nil {
				return errorReport(name, named, err)
			}
			rep.Items = append(rep.Items, item)
			if key != nil {
				keys = append(keys, fileKey{describeAt(it, "private key"), key})
			}
		case certio.KindPrivateKey:
			info := DescribeKey(it.Key.Public())
			rep.Items = append(rep.Items, Item{Kind: it.Kind.String(), Line: it.Line, Key: &info, Summary: info.String() + " private key"})
			keys = append(keys, fileKey{describeAt(it, "private key"), it.Key.Public()})
		case certio.KindPublicKey:
			info := DescribeKey(it.PublicKey)
			rep.Items = append(rep.Items, Item{Kind: it.Kind.String(), Line: it.Line, Key: &info, Summary: info.String() + " public key"})
			keys = append(keys, fileKey{describeAt(it, "public key"), it.PublicKey})
		case certio.KindCSR:
			rep.Items = append(rep.Items, csrItem(it, f))
		case certio.KindCRL:
			rep.Items = append(rep.Items, crlItem(it, it.CRL))
		default:
			rep.Items = append(rep.Items, Item{Kind: it.Kind.String(), Line: it.Line, Summary: fmt.Sprintf("a %s PEM block, not read", it.Block)})
		}
	}
	rep.Certificates = k.fileCertificates(ctx, dedupe(certs))
	checkFileKeys(f, rep.Certificates, keys)
	rep.Findings = f.sorted()
	if len(rep.Findings) == 0 {
		rep.Findings = nil
	}
	return rep
}

type fileKey struct {
	what string
	pub  crypto.PublicKey
}

func describeAt(it *certio.Item, what string) string {
	if it.Line > 0 {
		return fmt.Sprintf("the %s at line %d", what, it.Line)
	}
	return "the " + what
}

func dedupe(certs []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, o := range out {
			if bytes.Equal(o.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

// fileCertificates checks the certificates of one file. Each is the others' given
// certificates, so that a full chain in one file is checked as such. Chains are built
// for end-entity certificates and for CAs that issued none of the others; a CA inside
// another's chain is checked for itself only, its chain being that certificate's.
func (k *Checker) fileCertificates(ctx context.Context, certs []*x509.Certificate) []CertReport {
	out := make([]CertReport, 0, len(certs))
	for i, c := range certs {
		var given []*x509.Certificate
		if len(certs) > 1 {
			given = make([]*x509.Certificate, 0, len(certs)-1)
			given = append(append(given, certs[:i]...), certs[i+1:]...)
		}
		out = append(out, k.certificate(ctx, c, given, !c.IsCA || !issuesAnother(c, certs)))
	}
	return out
}

func issuesAnother(ca *x509.Certificate, certs []*x509.Certificate) bool {
	for _, c := range certs {
		if c != ca && bytes.Equal(c.RawIssuer, ca.RawSubject) {
			return true
		}
	}
	return false
}

// checkFileKeys checks that each key in a file is the key of one of its end-entity
// certificates, as in a combined certificate-and-key file for a web server.
func checkFileKeys(f *findings, certs []CertReport, keys []fileKey) {
	var leaves []*x509.Certificate
	for _, c := range certs {
		if !c.IsCA {
			leaves = append(leaves, c.Cert)
		}
	}
	if len(leaves) == 0 {
		return
	}
	for _, key := range keys {
		matched := false
		for _, l := range leaves {
			if certio.KeyMatches(l, key.pub) {
				matched = true
				break
			}
		}
		if !matched {
			f.add("key-mismatch", Fail, "%s is not the key pair of any certificate in the file: a server given this file cannot use it; put the certificate's own key with it", key.what)
		}
	}
}

// openPKCS12 opens a PKCS#12 item when a passphrase was given (or none is needed); it
// returns nil and a locked item when it stays closed.
func (k *Checker) openPKCS12(it *certio.Item) (*certio.PKCS12, Item, error) {
	item := Item{Kind: it.Kind.String(), Line: it.Line, Encrypted: true}
	p, err := it.UnlockPKCS12(k.opts.Passphrase)
	switch {
	case errors.Is(err, certio.ErrPassphraseRequired):
		item.Locked, item.Summary = true, "PKCS#12 file, password-protected, not opened"
		return nil, item, nil
	case err != nil:
		return nil, item, err
	}
	if p.Key != nil {
		info := DescribeKey(p.Key.Public())
		item.Key = &info
		item.Summary = fmt.Sprintf("PKCS#12 file: %s private key and %d certificates", info, len(p.CACerts)+btoi(p.Leaf != nil))
	} else {
		item.Summary = fmt.Sprintf("PKCS#12 truststore of %d certificates", len(p.CACerts))
	}
	return p, item, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// openKey reports an encrypted key, opened when a passphrase was given.
func (k *Checker) openKey(it *certio.Item) (Item, crypto.PublicKey, error) {
	item := Item{Kind: it.Kind.String(), Line: it.Line, Encrypted: true}
	if k.opts.Passphrase == nil {
		item.Locked, item.Summary = true, "encrypted private key, not opened (no passphrase given)"
		return item, nil, nil
	}
	key, err := it.UnlockKey(k.opts.Passphrase)
	if err != nil {
		return item, nil, err
	}
	info := DescribeKey(key.Signer.Public())
	item.Key, item.Summary = &info, info.String()+" private key, encrypted"
	return item, key.Signer.Public(), nil
}

func csrItem(it *certio.Item, f *findings) Item {
	req := it.Request
	info := DescribeKey(req.PublicKey)
	subject := nameString(req.RawSubject, &req.Subject)
	item := Item{Kind: it.Kind.String(), Line: it.Line, Subject: subject, Key: &info,
		Summary: fmt.Sprintf("certificate request for %s, %s", subject, info)}
	if err := req.CheckSignature(); err != nil {
		f.add("signature-invalid", Fail, "%s: the request's signature does not verify (%v): it was altered or signed with another key; make it again",
			describeAt(it, "certificate request"), err)
	}
	return item
}

func crlItem(it *certio.Item, crl *x509.RevocationList) Item {
	issuer := nameString(crl.RawIssuer, &crl.Issuer)
	n := len(crl.RevokedCertificateEntries)
	this := crl.ThisUpdate.UTC()
	item := Item{Kind: certio.KindCRL.String(), Line: it.Line, Subject: issuer, ThisUpdate: &this, Entries: &n,
		Summary: fmt.Sprintf("CRL of %s, %d revoked, issued %s", issuer, n, this.Format(dateLayout))}
	if !crl.NextUpdate.IsZero() {
		next := crl.NextUpdate.UTC()
		item.NextUpdate = &next
		item.Summary += ", next update " + next.Format(dateLayout)
	}
	return item
}
