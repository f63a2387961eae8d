package bundle

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// testNow is the clock of the tests, the same as the command-line tests'.
var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

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

// newPKI makes a root and an intermediate (ECDSA, quick) and an RSA leaf for cn.
func newPKI(t testing.TB, prefix, cn string) *testPKI {
	t.Helper()
	p := &testPKI{rootKey: testpki.ECKey(t), interKey: testpki.ECKey(t), leafKey: testpki.RSAKey(t, prefix+cn)}
	p.root = testpki.Sign(t, caTemplate(prefix+" Root CA"), nil, p.rootKey.Public(), p.rootKey)
	p.inter = testpki.Sign(t, caTemplate(prefix+" Issuing CA"), p.root, p.interKey.Public(), p.rootKey)
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
	return testpki.Sign(t, tmpl, p.inter, p.leafKey.Public(), p.interKey)
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
