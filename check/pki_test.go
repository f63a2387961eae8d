package check

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
)

// testNow is the fixed clock of the tests, the same as the command-line tests'.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// rsaKey is generated once: RSA generation takes tens of milliseconds.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial atomic.Int64

// testCA is a CA made for a test: its certificate and its key.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(1000 + serial.Add(1)),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"Test PKI"}, CommonName: cn},
		NotBefore:    testNow.AddDate(-2, 0, 0), NotAfter: testNow.AddDate(8, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func newRoot(t testing.TB, cn string) *testCA {
	t.Helper()
	key := ecKey(t)
	tmpl := caTemplate(cn)
	return &testCA{cert: create(t, tmpl, tmpl, key.Public(), key), key: key}
}

// sub makes an intermediate CA under ca.
func (ca *testCA) sub(t testing.TB, cn string) *testCA {
	t.Helper()
	key := ecKey(t)
	return &testCA{cert: ca.issue(t, caTemplate(cn), key.Public()), key: key}
}

// issue signs tmpl for pub; a nil pub uses the shared RSA key.
func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if pub == nil {
		pub = rsaKey().Public()
	}
	return create(t, tmpl, ca.cert, pub, ca.key)
}

func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
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

// leafTemplate is a clean GAP server certificate: RSA 2048 (the shared key), 3 years,
// CN = SAN, serverAuth, digitalSignature.
func leafTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(5000 + serial.Add(1)),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"CHU Exemple"}, CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    testNow.AddDate(0, -6, 0), NotAfter: testNow.AddDate(0, -6, 0).AddDate(3, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
}

// reference loads a file of ../testdata/reference/igc-sante.
func reference(t testing.TB, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "reference", "igc-sante", name))
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

func embedded(file string) *x509.Certificate {
	for _, ca := range diapason.IGCSanteCAs() {
		if ca.File == file {
			return ca.Cert
		}
	}
	panic(file + " is not embedded")
}

func slugs(fs []Finding) map[string]Level {
	m := map[string]Level{}
	for _, f := range fs {
		m[f.Slug] = f.Level
	}
	return m
}
