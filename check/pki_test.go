package check

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// testNow is the fixed clock of the tests, the same as the command-line tests'.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

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
	key := testpki.ECKey(t)
	tmpl := caTemplate(cn)
	return &testCA{cert: testpki.Sign(t, tmpl, tmpl, key.Public(), key), key: key}
}

// sub makes an intermediate CA under ca.
func (ca *testCA) sub(t testing.TB, cn string) *testCA {
	t.Helper()
	key := testpki.ECKey(t)
	return &testCA{cert: ca.issue(t, caTemplate(cn), key.Public()), key: key}
}

// issue signs tmpl for pub; a nil pub uses the shared RSA key.
func (ca *testCA) issue(t testing.TB, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	t.Helper()
	if pub == nil {
		pub = testpki.SharedRSAKey().Public()
	}
	return testpki.Sign(t, tmpl, ca.cert, pub, ca.key)
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
