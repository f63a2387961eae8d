package bundle

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
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
)

// testNow is the clock of the tests, the same as the command-line tests'.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// rsaKeys are made once per name: RSA generation takes tens of milliseconds.
var rsaKeys sync.Map

func rsaKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	if k, ok := rsaKeys.Load(name); ok {
		return k.(*rsa.PrivateKey)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	actual, _ := rsaKeys.LoadOrStore(name, k)
	return actual.(*rsa.PrivateKey)
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var serial atomic.Int64

// testPKI is a root, an intermediate and a leaf with their keys.
type testPKI struct {
	root, inter, leaf          *x509.Certificate
	rootKey, interKey, leafKey crypto.Signer
}

func caTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(1000 + serial.Add(1)),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"CHU Exemple"}, CommonName: cn},
		NotBefore:    testNow.AddDate(-2, 0, 0), NotAfter: testNow.AddDate(8, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
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

// newPKI makes a root and an intermediate (ECDSA, quick) and an RSA leaf for cn.
func newPKI(t testing.TB, prefix, cn string) *testPKI {
	t.Helper()
	p := &testPKI{rootKey: ecKey(t), interKey: ecKey(t), leafKey: rsaKey(t, prefix+cn)}
	p.root = sign(t, caTemplate(prefix+" Root CA"), nil, p.rootKey.Public(), p.rootKey)
	p.inter = sign(t, caTemplate(prefix+" Issuing CA"), p.root, p.interKey.Public(), p.rootKey)
	p.leaf = p.issue(t, leafTemplate(cn))
	return p
}

func leafTemplate(cn string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(5000 + serial.Add(1)),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"CHU Exemple"}, OrganizationalUnit: []string{"3123456789012345"}, CommonName: cn},
		NotBefore:    testNow.AddDate(0, -1, 0), NotAfter: testNow.AddDate(0, -1, 0).AddDate(3, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
}

// issue signs tmpl with the intermediate, for the leaf key.
func (p *testPKI) issue(t testing.TB, tmpl *x509.Certificate) *x509.Certificate {
	return sign(t, tmpl, p.inter, p.leafKey.Public(), p.interKey)
}

// refCert reads one of the real IGC-Santé files of testdata/reference.
func refCert(t testing.TB, name string) *x509.Certificate {
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

func embedded(t testing.TB, file string) *x509.Certificate {
	t.Helper()
	for _, ca := range diapason.IGCSanteCAs() {
		if ca.File == file {
			return ca.Cert
		}
	}
	t.Fatalf("no embedded %s", file)
	return nil
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tool returns the path of an external program, skipping the test when it is absent.
func tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (.ci/run installs it): the interop check with it is skipped", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(tool(t, name), args...).CombinedOutput()
	return string(out), err
}

// parsePEM reads the CERTIFICATE blocks of data.
func parsePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}
