// Package certio reads certificate material (PEM or DER certificates, requests, keys,
// CRLs, PKCS#7 and PKCS#12) into typed values with errors that name the file, and
// writes files without ever silently replacing one.
package certio

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind is what an Item holds.
type Kind int

// The kinds Decode recognises.
const (
	KindUnknown      Kind = iota // a PEM block of a type this package does not read
	KindCertificate              // Item.Certificate
	KindCSR                      // Item.Request
	KindPrivateKey               // Item.Key
	KindEncryptedKey             // locked until Item.UnlockKey
	KindPublicKey                // Item.PublicKey
	KindCRL                      // Item.CRL
	KindPKCS7                    // Item.Certificates and Item.CRLs
	KindPKCS12                   // locked until Item.UnlockPKCS12
)

var kindNames = [...]string{"unknown", "certificate", "certificate request", "private key",
	"encrypted private key", "public key", "CRL", "PKCS#7 bundle", "PKCS#12 file"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Item is one thing found in an input, in the order it appeared.
type Item struct {
	Kind  Kind
	Block string // the PEM block type, or "" for DER input
	Line  int    // the line of the PEM BEGIN line (1-based), or 0 for DER input
	DER   []byte // the item's DER encoding; for PKCS#12 the whole PFX

	Certificate  *x509.Certificate        // KindCertificate
	Request      *x509.CertificateRequest // KindCSR
	Key          crypto.Signer            // KindPrivateKey
	PublicKey    crypto.PublicKey         // KindPublicKey
	CRL          *x509.RevocationList     // KindCRL
	Certificates []*x509.Certificate      // KindPKCS7, in file order
	CRLs         []*x509.RevocationList   // KindPKCS7, in file order

	source string     // the input's name, for errors and warnings from the Unlock methods
	what   string     // a noun phrase for DER items, which have no block type to show
	legacy *pem.Block // a Proc-Type: 4,ENCRYPTED key, decrypted by x509.DecryptPEMBlock
}

// Describe names the item as error messages show it: "an RSA PRIVATE KEY block" for
// PEM, "a certificate (DER)" for DER.
func (it *Item) Describe() string {
	if it.Block != "" {
		if it.legacy != nil {
			return article(it.Block + " block (legacy-encrypted)")
		}
		return article(it.Block + " block")
	}
	return article(it.what + " (DER)")
}

// Contents is everything Decode found in one input.
type Contents struct {
	Name     string
	Items    []*Item
	Warnings []Warning
}

// Certificates returns every certificate, including those inside PKCS#7 bundles, in order.
func (c *Contents) Certificates() []*x509.Certificate {
	var certs []*x509.Certificate
	for _, it := range c.Items {
		switch it.Kind {
		case KindCertificate:
			certs = append(certs, it.Certificate)
		case KindPKCS7:
			certs = append(certs, it.Certificates...)
		}
	}
	return certs
}

// CRLs returns every CRL, including those inside PKCS#7 bundles, in order.
func (c *Contents) CRLs() []*x509.RevocationList {
	var crls []*x509.RevocationList
	for _, it := range c.Items {
		switch it.Kind {
		case KindCRL:
			crls = append(crls, it.CRL)
		case KindPKCS7:
			crls = append(crls, it.CRLs...)
		}
	}
	return crls
}

// describe lists what the input holds, for UnexpectedError.Found.
func (c *Contents) describe() string {
	var parts []string
	for i, it := range c.Items {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(c.Items)-i))
			break
		}
		parts = append(parts, it.Describe())
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Decode finds every item in data, PEM or DER, which it tells apart itself. Text around
// PEM blocks is ignored; unknown PEM blocks become KindUnknown items. Encrypted keys and
// PKCS#12 files are kept locked. Errors are *FileError values naming name.
func Decode(name string, data []byte) (*Contents, error) {
	c := &Contents{Name: name}
	// Windows editors start UTF-8 files with a byte order mark, which would hide the
	// first BEGIN line from encoding/pem.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var err error
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		err = emptyError(name, data)
	case bytes.Contains(data, []byte("-----BEGIN ")):
		err = c.decodePEM(data)
	case data[0] == 0x30 && !isText(data):
		err = c.decodeDER(data)
	default:
		err = junkError(data)
	}
	if err != nil {
		return nil, &FileError{Path: name, Err: err}
	}
	return c, nil
}

func emptyError(name string, data []byte) error {
	switch {
	case len(data) > 0:
		return errors.New("contains only whitespace, no certificate material")
	case name == "-":
		return errors.New("nothing was read from standard input")
	}
	return errors.New("the file is empty")
}

func junkError(data []byte) error {
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return errors.New("the file is UTF-16 text (as Windows Notepad saves \"Unicode\"); save it as UTF-8 or ANSI")
	}
	if !isText(data) {
		n := min(len(data), 8)
		return fmt.Errorf("neither PEM nor DER: found %d bytes of binary data starting with % x", len(data), data[:n])
	}
	if isBase64(data) {
		return errors.New("found base64 text without the PEM BEGIN and END lines around it")
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(data)), "\n")
	if len(first) > 40 {
		first = first[:40] + "…"
	}
	return fmt.Errorf("no PEM block found in this text (it starts %q)", strings.TrimSpace(first))
}

// isText reports whether data looks like text, so that a text file starting with "0"
// (0x30, a DER SEQUENCE tag) is not taken for DER.
func isText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	for _, b := range data {
		if b < 0x20 && b != '\n' && b != '\r' && b != '\t' {
			return false
		}
	}
	return true
}

func isBase64(data []byte) bool {
	for _, b := range bytes.TrimSpace(data) {
		switch {
		case 'A' <= b && b <= 'Z', 'a' <= b && b <= 'z', '0' <= b && b <= '9',
			b == '+', b == '/', b == '=', b == '\n', b == '\r':
		default:
			return false
		}
	}
	return true
}

func (c *Contents) decodePEM(data []byte) error {
	begin := []byte("-----BEGIN ")
	line := 1 // counted incrementally: a CA bundle can hold thousands of blocks
	for pos := 0; ; {
		i := indexLineStart(data[pos:], begin)
		if i < 0 {
			break
		}
		start := pos + i
		line += bytes.Count(data[pos:start], []byte("\n"))
		head, _, _ := bytes.Cut(data[start+len(begin):], []byte("\n"))
		typ, ok := strings.CutSuffix(strings.TrimRight(string(head), "\r \t"), "-----")
		if !ok {
			return fmt.Errorf("malformed PEM BEGIN line at line %d", line)
		}
		bodyStart := start + len(begin) + len(head)
		end := []byte("-----END " + typ + "-----")
		j := bytes.Index(data[bodyStart:], end)
		if j < 0 || indexLineStart(data[bodyStart:bodyStart+j], begin) >= 0 {
			return fmt.Errorf("truncated PEM: the %s block at line %d has no END line", typ, line)
		}
		pos = bodyStart + j + len(end)
		block, _ := pem.Decode(data[start:pos])
		if block == nil {
			return fmt.Errorf("malformed PEM: the %s block at line %d is not valid base64", typ, line)
		}
		if err := c.addPEM(block, line); err != nil {
			return fmt.Errorf("the %s block at line %d: %w", typ, line, err)
		}
		line += bytes.Count(data[start:pos], []byte("\n"))
	}
	if len(c.Items) == 0 {
		return errors.New("no PEM block found: \"-----BEGIN \" appears only inside a line")
	}
	return nil
}

// indexLineStart finds sep at the start of a line, where encoding/pem looks for it.
func indexLineStart(data, sep []byte) int {
	for off := 0; ; {
		i := bytes.Index(data[off:], sep)
		if i < 0 {
			return -1
		}
		if at := off + i; at == 0 || data[at-1] == '\n' {
			return at
		}
		off += i + 1
	}
}

func (c *Contents) addPEM(b *pem.Block, line int) error {
	it := &Item{Block: b.Type, Line: line, DER: b.Bytes, source: c.Name}
	var err error
	switch b.Type {
	case "CERTIFICATE", "X509 CERTIFICATE":
		it.Kind = KindCertificate
		it.Certificate, err = x509.ParseCertificate(b.Bytes)
	case "TRUSTED CERTIFICATE":
		err = c.trustedCertificate(it)
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		it.Kind = KindCSR
		it.Request, err = x509.ParseCertificateRequest(b.Bytes)
	case "X509 CRL":
		it.Kind = KindCRL
		it.CRL, err = x509.ParseRevocationList(b.Bytes)
	case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
		//lint:ignore SA1019 recognising legacy encryption is how we can warn about it.
		if x509.IsEncryptedPEMBlock(b) {
			it.Kind, it.legacy = KindEncryptedKey, b
			break
		}
		it.Kind = KindPrivateKey
		it.Key, _, err = parsePrivateKey(b.Type, b.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		it.Kind = KindEncryptedKey
		_, err = parseEncryptedPKCS8(b.Bytes)
	case "PUBLIC KEY":
		it.Kind = KindPublicKey
		it.PublicKey, err = x509.ParsePKIXPublicKey(b.Bytes)
	case "RSA PUBLIC KEY":
		it.Kind = KindPublicKey
		it.PublicKey, err = x509.ParsePKCS1PublicKey(b.Bytes)
	case "PKCS7", "PKCS #7 SIGNED DATA", "CMS":
		it.Kind = KindPKCS7
		it.Certificates, it.CRLs, err = parsePKCS7(c.Name, b.Bytes, true)
	default:
		it.Kind = KindUnknown
	}
	if err != nil {
		return err
	}
	c.Items = append(c.Items, it)
	return nil
}

// trustedCertificate reads OpenSSL's TRUSTED CERTIFICATE, a certificate followed by
// OpenSSL-specific trust settings. Those settings may restrict what the certificate
// is trusted for, and nothing here honours them, so the user is told.
func (c *Contents) trustedCertificate(it *Item) error {
	var raw asn1.RawValue
	aux, err := asn1.Unmarshal(it.DER, &raw)
	if err != nil {
		return fmt.Errorf("malformed certificate: %w", err)
	}
	it.Kind, it.DER = KindCertificate, raw.FullBytes
	if it.Certificate, err = x509.ParseCertificate(raw.FullBytes); err != nil {
		return err
	}
	if len(aux) > 0 {
		c.Warnings = append(c.Warnings, Warning{Path: c.Name,
			Message: fmt.Sprintf("the TRUSTED CERTIFICATE block at line %d carries OpenSSL trust settings, which are ignored", it.Line),
			Hint: fmt.Sprintf("see them under \"Trusted Uses\" and \"Rejected Uses\" in: openssl x509 -in %s -noout -text",
				shellArg(c.Name))})
	}
	return nil
}

// keyFormats are the unencrypted private key encodings, with their PEM types.
var keyFormats = []struct {
	block, what string
	parse       func([]byte) (any, error)
}{
	{"PRIVATE KEY", "PKCS#8 private key", x509.ParsePKCS8PrivateKey},
	{"RSA PRIVATE KEY", "PKCS#1 RSA private key", func(b []byte) (any, error) { return x509.ParsePKCS1PrivateKey(b) }},
	{"EC PRIVATE KEY", "SEC1 EC private key", func(b []byte) (any, error) { return x509.ParseECPrivateKey(b) }},
}

// parsePrivateKey reads an unencrypted key, trying the encoding its PEM type names
// first ("" for DER) and then the others, since mislabelled blocks exist and the key
// inside is what matters. It returns the encoding found, or "" when none parses.
func parsePrivateKey(typ string, der []byte) (crypto.Signer, string, error) {
	var firstErr error
	for _, labelled := range []bool{true, false} {
		for _, f := range keyFormats {
			if (f.block == typ) != labelled {
				continue
			}
			key, err := f.parse(der)
			if err == nil {
				signer, err := asSigner(key)
				return signer, f.what, err
			}
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return nil, "", firstErr
}

// asSigner rejects keys that cannot sign (X25519), which nothing in a PKI can use.
func asSigner(key any) (crypto.Signer, error) {
	s, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("a %T cannot sign, so it cannot be a certificate key", key)
	}
	return s, nil
}
