// Package testpki holds the certificate helpers the tests of several packages share: keys made once, signing, and the real IGC-Santé reference files.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// rsaKeys are made once per name and test binary: RSA generation takes tens
// of milliseconds, too long to repeat in every test.
var rsaKeys sync.Map

// RSAKey returns the RSA 2048 key of that name, made on first use.
func RSAKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	if k, ok := rsaKeys.Load(name); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := rsaKeys.LoadOrStore(name, k)
	return got.(*rsa.PrivateKey)
}

// SharedRSAKey is one RSA 2048 key for a whole test binary, for package-level
// values that have no *testing.T at hand.
var SharedRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// ECKey returns a fresh P-256 key: quick enough to make one per CA.
func ECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Sign issues tmpl for pub, signed by key as parent; a nil parent self-signs.
func Sign(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ReferenceDir is testdata/reference/igc-sante of the module, wherever the
// test runs from.
func ReferenceDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "reference", "igc-sante")
}

// Reference reads one of the real IGC-Santé files (DER or PEM), e.g.
// "ACI-EL-ORG-TEST.cer" or "samples/TEST-ORG-SIGN-2021.pem".
func Reference(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ReferenceDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(data); b != nil {
		data = b.Bytes
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
