package bundle

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"strings"
	"unicode/utf8"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
)

// P12Profile names how a written PKCS#12 file is protected. Only the two that
// OpenSSL 3 (without -legacy) and Java 17 both read are offered: Modern2026's
// PBMAC1 MAC needs OpenSSL 3.4 or Java 26, and RC2-40 needs `openssl -legacy`.
type P12Profile string

const (
	// P12Modern is go-pkcs12's Modern2023: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC)
	// and an HMAC-SHA256 MAC, what OpenSSL 3 and Java 20 write by default.
	P12Modern P12Profile = "modern"
	// P12Compat is go-pkcs12's LegacyDES: 3DES and an HMAC-SHA1 MAC, for stacks that
	// predate PBES2 in PKCS#12 (Windows Server 2016, Java 8).
	P12Compat P12Profile = "compat"
)

// KeyStoreAlias is the alias keytool shows for the key entry of a PKCS#12 file
// written here: go-pkcs12 sets a localKeyId but no friendlyName, and Java then
// numbers the entries from 1.
const KeyStoreAlias = "1"

// ParseP12Profile reads a --p12-profile value.
func ParseP12Profile(s string) (P12Profile, error) {
	switch p := P12Profile(strings.ToLower(strings.TrimSpace(s))); p {
	case P12Modern, P12Compat:
		return p, nil
	}
	return "", fmt.Errorf("unknown PKCS#12 profile %q (want modern or compat)", s)
}

// Encryption describes the profile's algorithms as a user compares them with
// what a target stack reads.
func (p P12Profile) Encryption() string {
	if p == P12Compat {
		return "3DES, SHA-1 MAC"
	}
	return "AES-256-CBC, PBKDF2-SHA256, SHA-256 MAC"
}

func (p P12Profile) encoder() *pkcs12.Encoder {
	if p == P12Compat {
		return pkcs12.LegacyDES
	}
	return pkcs12.Modern2023
}

// P12Info describes a PKCS#12 file written here.
type P12Info struct {
	Profile    P12Profile `json:"profile"`
	Encryption string     `json:"encryption"`
	// Kind is "key store" (a private key with its chain) or "truststore".
	Kind string `json:"kind"`
	// Aliases are what `keytool -list` shows, in file order.
	Aliases      []string `json:"aliases"`
	Certificates int      `json:"certificates"`
	// Verified is set once the written bytes were opened again with the password
	// and gave back exactly what was put in.
	Verified bool `json:"verified"`
	// JavaPassword is false when Java's keytool will refuse the password.
	JavaPassword bool `json:"java_password"`
}

// PasswordError says a password cannot protect a PKCS#12 file.
type PasswordError struct{ Reason string }

func (e *PasswordError) Error() string { return "unusable PKCS#12 password: " + e.Reason }

// checkPassword refuses what go-pkcs12 cannot encode (PKCS#12 passwords are
// BMPStrings: UCS-2, so no character outside the Basic Multilingual Plane).
func checkPassword(password []byte) (string, error) {
	if !utf8.Valid(password) {
		return "", &PasswordError{Reason: "it is not valid UTF-8"}
	}
	s := string(password)
	if s == "" {
		return "", &PasswordError{Reason: "it is empty"}
	}
	for _, r := range s {
		if r > 0xFFFF {
			return "", &PasswordError{Reason: fmt.Sprintf("the character %q is outside the Basic Multilingual Plane, which PKCS#12 (UCS-2) cannot hold", r)}
		}
	}
	return s, nil
}

// isASCII reports whether Java 17's keytool accepts the password: it refuses
// any other ("Password is not ASCII") and cannot open the file at all.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// passwordFinding is the warning for a file that Java will not open.
func passwordFinding(info P12Info) []check.Finding {
	if info.JavaPassword {
		return nil
	}
	return []check.Finding{{Slug: "p12-password-not-ascii", Level: check.Warn,
		Message: "the PKCS#12 password is not ASCII: OpenSSL opens the file, but Java (keytool, Tomcat) cannot, and reports a wrong password; use an ASCII password for files a Java stack reads"}}
}

// VerifyError says a PKCS#12 file just written did not give back its content.
// It means a bug or a broken library, never a user mistake; nothing is written.
type VerifyError struct{ Reason string }

func (e *VerifyError) Error() string {
	return "the PKCS#12 file just encoded does not read back as written: " + e.Reason
}

// EncodeKeyStore writes key, its certificate leaf and the chain above it (in
// order) as a PKCS#12 file, then opens the bytes again with the same password
// and checks that the key, the leaf and the chain come back unchanged.
func EncodeKeyStore(key crypto.Signer, leaf *x509.Certificate, chain []*x509.Certificate, password []byte, profile P12Profile) ([]byte, P12Info, error) {
	info := P12Info{Profile: profile, Encryption: profile.Encryption(), Kind: "key store",
		Aliases: []string{KeyStoreAlias}, Certificates: 1 + len(chain)}
	pw, err := checkPassword(password)
	if err != nil {
		return nil, info, err
	}
	info.JavaPassword = isASCII(pw)
	if !certio.KeyMatches(leaf, key) {
		return nil, info, &KeyMismatchError{Leaf: leaf}
	}
	der, err := profile.encoder().Encode(key, leaf, chain, pw)
	if err != nil {
		return nil, info, fmt.Errorf("encoding the PKCS#12 file: %w", err)
	}
	gotKey, gotLeaf, gotChain, err := pkcs12.DecodeChain(der, pw)
	switch {
	case err != nil:
		return nil, info, &VerifyError{Reason: err.Error()}
	case !certio.KeyMatches(gotLeaf, gotKey) || !certio.KeyMatches(leaf, gotKey):
		return nil, info, &VerifyError{Reason: "the private key differs"}
	case !bytes.Equal(gotLeaf.Raw, leaf.Raw):
		return nil, info, &VerifyError{Reason: "the certificate differs"}
	case !sameCerts(gotChain, chain):
		return nil, info, &VerifyError{Reason: "the chain differs"}
	}
	info.Verified = true
	return der, info, nil
}

// EncodeTrustStore writes the entries as a PKCS#12 truststore (certificates
// marked trusted for Java, no key), each under its alias, then reads it back.
func EncodeTrustStore(entries []TrustEntry, password []byte, profile P12Profile) ([]byte, P12Info, error) {
	info := P12Info{Profile: profile, Encryption: profile.Encryption(), Kind: "truststore", Certificates: len(entries)}
	pw, err := checkPassword(password)
	if err != nil {
		return nil, info, err
	}
	info.JavaPassword = isASCII(pw)
	in := make([]pkcs12.TrustStoreEntry, len(entries))
	certs := make([]*x509.Certificate, len(entries))
	for i, e := range entries {
		in[i] = pkcs12.TrustStoreEntry{Cert: e.Cert, FriendlyName: e.Alias}
		certs[i] = e.Cert
		info.Aliases = append(info.Aliases, e.Alias)
	}
	der, err := profile.encoder().EncodeTrustStoreEntries(in, pw)
	if err != nil {
		return nil, info, fmt.Errorf("encoding the PKCS#12 truststore: %w", err)
	}
	got, err := pkcs12.DecodeTrustStore(der, pw)
	switch {
	case err != nil:
		return nil, info, &VerifyError{Reason: err.Error()}
	case !sameCerts(got, certs):
		return nil, info, &VerifyError{Reason: "the certificates differ"}
	}
	info.Verified = true
	return der, info, nil
}

func sameCerts(a, b []*x509.Certificate) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Raw, b[i].Raw) {
			return false
		}
	}
	return true
}

// KeyMismatchError says a private key is not the key pair of the certificate it
// is bundled with.
type KeyMismatchError struct {
	Leaf    *x509.Certificate
	KeyPath string // the key's file, when known
}

func (e *KeyMismatchError) Error() string {
	what := "the private key"
	if e.KeyPath != "" {
		what = "the private key " + certio.DisplayName(e.KeyPath)
	}
	return fmt.Sprintf("%s is not the key of the certificate %q", what, subjectOf(e.Leaf))
}
