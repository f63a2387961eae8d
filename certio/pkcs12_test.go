package certio

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

func TestLoadPKCS12ReturnsTheKeysCertificate(t *testing.T) {
	for _, f := range []string{
		"default.p12",  // openssl pkcs12 -export (PBES2, AES-256, SHA-256 MAC)
		"legacy.p12",   // -legacy: RC2-40 certificates, 3DES key
		"3des.p12",     // -certpbe PBE-SHA1-3DES -keypbe PBE-SHA1-3DES -macalg sha1
		"shuffled.p12", // the CA's bag first
	} {
		t.Run(f, func(t *testing.T) {
			path := fixture(t, f)
			p, err := Loader{}.LoadPKCS12(path, passphrase(secret))
			if err != nil {
				t.Fatal(err)
			}
			if p.Leaf.Subject.CommonName != "leaf.example" || !KeyMatches(p.Leaf, p.Key) {
				t.Errorf("Leaf = %s, want the key's certificate leaf.example", p.Leaf.Subject)
			}
			if len(p.CACerts) != 1 || p.CACerts[0].Subject.CommonName != "Test CA" {
				t.Errorf("CACerts = %d certificates, want the CA", len(p.CACerts))
			}
			_, err = Loader{}.LoadPKCS12(path, passphrase("wrong"))
			if !errors.Is(err, ErrWrongPassphrase) || err.Error() != path+": cannot open the PKCS#12 file: wrong passphrase (its integrity check failed)" {
				t.Errorf("wrong passphrase: %v", err)
			}
			_, err = Loader{}.LoadPKCS12(path, nil)
			if !errors.Is(err, ErrPassphraseRequired) || err.Error() != path+": the PKCS#12 file is password-protected: a passphrase is required" {
				t.Errorf("no passphrase: %v", err)
			}
		})
	}
}

// TestShuffledFixtureDefeatsDecodeChain shows the shuffled fixture is the case
// UnlockPKCS12 exists for: go-pkcs12 alone returns the CA as the leaf.
func TestShuffledFixtureDefeatsDecodeChain(t *testing.T) {
	_, leaf, _, err := pkcs12.DecodeChain(readFixture(t, "shuffled.p12"), secret)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != "Test CA" {
		t.Fatalf("DecodeChain leaf = %s; the fixture no longer puts the CA first", leaf.Subject)
	}
}

func TestPKCS12WithoutPassword(t *testing.T) {
	p, err := Loader{}.LoadPKCS12(fixture(t, "nopass.p12"), nil)
	if err != nil || !KeyMatches(p.Leaf, p.Key) {
		t.Fatalf("nopass.p12: %v", err)
	}
}

func TestPKCS12Truststore(t *testing.T) {
	path := fixture(t, "truststore.p12")
	c, err := Loader{}.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Items[0].UnlockPKCS12(passphrase(secret))
	if err != nil || p.Key != nil || p.Leaf != nil || len(p.CACerts) != 1 {
		t.Fatalf("UnlockPKCS12: %+v, %v; want one certificate and no key", p, err)
	}
	_, err = Loader{}.LoadPKCS12(path, passphrase(secret))
	if err == nil || err.Error() != path+": expected a PKCS#12 file with a private key, found a truststore holding only certificates" {
		t.Fatalf("LoadPKCS12: %v", err)
	}
}

func TestPKCS12Damaged(t *testing.T) {
	data := readFixture(t, "default.p12")
	path := filepath.Join(t.TempDir(), "cut.p12")
	if err := os.WriteFile(path, data[:len(data)-40], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Loader{}.LoadPKCS12(path, passphrase(secret))
	if err == nil || err.Error() != path+": truncated DER: the structure declares "+strconv.Itoa(len(data))+" bytes but only "+strconv.Itoa(len(data)-40)+" are present" {
		t.Fatalf("error = %v", err)
	}
}
