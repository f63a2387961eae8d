package certio

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// PKCS12 is the content of an unlocked PKCS#12 (PFX) file.
type PKCS12 struct {
	Key     crypto.Signer       // nil for a truststore
	Leaf    *x509.Certificate   // the certificate of Key, whatever its position; nil if none matches
	CACerts []*x509.Certificate // every other certificate, in file order
}

var oidData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}

type pfxPDU struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type macData struct {
	Mac        asn1.RawValue
	MacSalt    []byte
	Iterations int `asn1:"optional,default:1"`
}

// checkPKCS12 validates the unencrypted outer layers of a PFX (RFC 7292 §4), so that
// Decode reports BER and damage at once rather than when a passphrase is given.
func checkPKCS12(name string, der []byte) error {
	var pfx pfxPDU
	err := unmarshalAll(der, &pfx)
	if err == nil && !pfx.AuthSafe.ContentType.Equal(oidData) {
		return &UnsupportedError{Reason: "a PKCS#12 file protected by a public key (not a password), which is not read"}
	}
	var safe []byte
	if err == nil {
		err = unmarshalAll(pfx.AuthSafe.Content.Bytes, &safe)
	}
	var authenticatedSafe []contentInfo
	if err == nil {
		err = unmarshalAll(safe, &authenticatedSafe)
	}
	if err != nil {
		return pkcs12Error(name, der, err)
	}
	if pfx.MacData.Iterations > maxIterations {
		return fmt.Errorf("PKCS#12 MAC iteration count %d is over %d; refusing it, as it could stall this tool", pfx.MacData.Iterations, maxIterations)
	}
	return nil
}

// UnlockPKCS12 opens the item's PKCS#12 file. It tries the empty password first, which
// OpenSSL and Java use for unprotected files, and calls pass only if that fails; a
// wrong passphrase gives ErrWrongPassphrase. The key's certificate becomes Leaf
// wherever it sits in the file: go-pkcs12 assumes it is the first one.
func (it *Item) UnlockPKCS12(pass Passphrase) (*PKCS12, error) {
	if it.Kind != KindPKCS12 {
		return nil, &FileError{Path: it.source, Err: &UnexpectedError{Want: "a PKCS#12 file", Found: it.Describe()}}
	}
	p, err := openPFX(it.DER, "")
	if badPassword(err) {
		secret, aerr := ask(pass, "the PKCS#12 file is password-protected")
		if aerr != nil {
			return nil, &FileError{Path: it.source, Err: aerr}
		}
		p, err = openPFX(it.DER, string(secret))
		if badPassword(err) {
			why := "its integrity check failed"
			if errors.Is(err, pkcs12.ErrDecryption) {
				why = "its content does not decrypt"
			}
			return nil, &FileError{Path: it.source, Err: fmt.Errorf("cannot open the PKCS#12 file: %w (%s)", ErrWrongPassphrase, why)}
		}
	}
	if err != nil {
		return nil, &FileError{Path: it.source, Err: pkcs12Error(it.source, it.DER, err)}
	}
	return p, nil
}

func openPFX(der []byte, password string) (*PKCS12, error) {
	key, first, rest, err := pkcs12.DecodeChain(der, password)
	if err != nil {
		if badPassword(err) {
			return nil, err
		}
		// A truststore (certificates marked trusted, no key) is the other layout
		// go-pkcs12 reads, and DecodeChain refuses it.
		if certs, terr := pkcs12.DecodeTrustStore(der, password); terr == nil {
			return &PKCS12{CACerts: certs}, nil
		}
		return nil, err
	}
	signer, err := asSigner(key)
	if err != nil {
		return nil, err
	}
	p := &PKCS12{Key: signer}
	for _, c := range append([]*x509.Certificate{first}, rest...) {
		if p.Leaf == nil && KeyMatches(c, signer) {
			p.Leaf = c
		} else {
			p.CACerts = append(p.CACerts, c)
		}
	}
	return p, nil
}

// badPassword recognises go-pkcs12's two ways of saying the password is wrong: the
// MAC does not verify, or (when the MAC used another password) a bag's padding is bad.
func badPassword(err error) bool {
	return errors.Is(err, pkcs12.ErrIncorrectPassword) || errors.Is(err, pkcs12.ErrDecryption)
}

// pkcs12Error explains a PKCS#12 failure, naming BER and unsupported layouts with the
// OpenSSL commands that turn them into a file go-pkcs12 reads.
func pkcs12Error(name string, der []byte, err error) error {
	var unsupported *UnsupportedError
	var notImpl pkcs12.NotImplementedError
	fix := fmt.Sprintf("re-encode it with OpenSSL; the intermediate file holds the unencrypted key, so the last step deletes it: "+
		"(umask 077; openssl pkcs12 -in %[1]s -nodes -out %[2]s) && openssl pkcs12 -export -in %[2]s -out %[3]s && rm %[2]s "+
		"(add -legacy to the first command if OpenSSL reports an unsupported algorithm)",
		shellArg(name), derivedArg(name, ".pem"), derivedArg(name, ".der.p12"))
	switch reason := berReason(der, 0); {
	case errors.As(err, &unsupported):
		return err
	case reason != "" || notDER(err):
		if reason == "" {
			reason = "BER"
		}
		return &UnsupportedError{Reason: fmt.Sprintf("BER-encoded PKCS#12 (%s); the PKCS#12 reader used here reads only DER", reason), Fix: fix}
	case errors.As(err, &notImpl):
		return &UnsupportedError{Reason: fmt.Sprintf("unsupported PKCS#12 layout: %v", err), Fix: fix}
	}
	return fmt.Errorf("malformed PKCS#12: %w", err)
}
