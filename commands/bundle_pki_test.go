package commands

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// The bundle tests' PKI: made with crypto/x509 here, and packaged into PKCS#12
// files by the openssl binary, so that intake reads what other tools write.

// bundlePKI is a root, an intermediate and two GAP certificates with their keys.
type bundlePKI struct {
	root, inter, client, server    *x509.Certificate
	rootKey, interKey              crypto.Signer
	clientKey, serverKey, otherKey crypto.Signer
}

func newBundlePKI(t testing.TB) *bundlePKI {
	t.Helper()
	p := &bundlePKI{rootKey: testpki.ECKey(t), interKey: testpki.ECKey(t),
		clientKey: testpki.RSAKey(t, "client"), serverKey: testpki.RSAKey(t, "server"), otherKey: testpki.RSAKey(t, "other")}
	p.root = testpki.Sign(t, bundleCA("Lab Root CA", 1), nil, p.rootKey.Public(), p.rootKey)
	p.inter = testpki.Sign(t, bundleCA("Lab Issuing CA", 2), p.root, p.interKey.Public(), p.rootKey)
	client := bundleLeaf(diapason.ClientDiapasonPSP, 10, x509.ExtKeyUsageClientAuth)
	p.client = testpki.Sign(t, client, p.inter, p.clientKey.Public(), p.interKey)
	server := bundleLeaf("gap.chu-exemple.fr", 11, x509.ExtKeyUsageServerAuth)
	server.DNSNames = []string{"gap.chu-exemple.fr"}
	p.server = testpki.Sign(t, server, p.inter, p.serverKey.Public(), p.interKey)
	return p
}

func bundleCA(cn string, serial int64) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"Lab PKI"}, CommonName: cn},
		NotBefore:    fixedNow.AddDate(-2, 0, 0), NotAfter: fixedNow.AddDate(8, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

// bundleLeaf is shaped like an IGC-Santé certificate, 3 years from a month
// ago, marked as a lab certificate; its AIA names where its issuer would be.
func bundleLeaf(cn string, serial int64, eku x509.ExtKeyUsage) *x509.Certificate {
	start := fixedNow.AddDate(0, -1, 0)
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject: pkix.Name{Country: []string{"FR"}, Province: []string{"Côte-d'Or (21)"}, Organization: []string{"CHU Exemple"},
			OrganizationalUnit: []string{"3123456789012345"}, CommonName: cn},
		NotBefore: start, NotAfter: start.AddDate(3, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{eku},
		BasicConstraintsValid: true,
		IssuingCertificateURL: []string{"http://127.0.0.1:1/lab-issuing-ca.cer"},
		Policies:              []x509.OID{diapason.LabPolicyOID},
	}
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func keyPEM(t testing.TB, k crypto.Signer) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// put writes a file of the test directory.
func put(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// needTool skips a test whose interop check needs a program that is absent.
func needTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed (.ci/run installs it): skipping the interop check with it", name)
	}
}

func runTool(t testing.TB, name string, args ...string) string {
	t.Helper()
	needTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// listDir names the files of dir, to show that a refused command wrote nothing.
func listDir(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
