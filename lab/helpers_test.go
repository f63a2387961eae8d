package lab

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/dn"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// testNow is the clock of every lab in these tests.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// sharedLab is built once per test binary, for tests that only read.
var sharedLab = sync.OnceValues(func() (*Lab, error) {
	return New(Options{Now: testNow, KeyCache: "test"})
})

func readOnlyLab(t *testing.T) *Lab {
	t.Helper()
	l, err := sharedLab()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// freshLab is a lab of its own for a test that changes it; with cached keys
// it costs only the signatures.
func freshLab(t *testing.T, opts Options) *Lab {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	if opts.KeyCache == "" {
		opts.KeyCache = "test"
	}
	l, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// allCerts returns every certificate of a lab by a name for messages.
func allCerts(l *Lab) map[string]*x509.Certificate {
	out := map[string]*x509.Certificate{}
	for _, n := range CANames() {
		out["ca "+string(n)] = l.CA(n).Cert
	}
	for _, r := range Roles() {
		out["role "+string(r)] = l.Credential(r).Cert
	}
	return out
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
}

// testCSR makes a CSR with a cached key; subject and SANs as given.
func testCSR(t *testing.T, keyName, cn string, dnsNames ...string) *x509.CertificateRequest {
	t.Helper()
	key, err := CachedKey(keyName, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return csrWith(t, key, cn, dnsNames...)
}

func csrWith(t *testing.T, key crypto.Signer, cn string, dnsNames ...string) *x509.CertificateRequest {
	t.Helper()
	raw, err := dn.Marshal(dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "Whatever the CSR says"}, [2]string{"CN", cn}))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{RawSubject: raw, DNSNames: dnsNames}, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func writePEM(t *testing.T, dir, name string, certs ...*x509.Certificate) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, certPEM(certs...), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// foreignCert is a certificate signed by a key outside the lab but with the
// same issuer name as the IngeTrust CA.
func foreignCert(t *testing.T, l *Lab) *x509.Certificate {
	t.Helper()
	key, err := CachedKey("foreign", 2048)
	if err != nil {
		t.Fatal(err)
	}
	ca := l.CA(CAIngeTrust)
	tmpl := &x509.Certificate{SerialNumber: ca.Cert.SerialNumber, Subject: pkix.Name{CommonName: "impostor"},
		NotBefore: testNow, NotAfter: testNow.AddDate(1, 0, 0)}
	parent := &x509.Certificate{RawSubject: ca.Cert.RawSubject, PublicKey: key.Public()}
	return testpki.Sign(t, tmpl, parent, key.Public(), key)
}
