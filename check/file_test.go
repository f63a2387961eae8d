package check

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func testChecker(opts Options) *Checker {
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	if opts.Warn.IsZero() {
		opts.Warn = diapason.WarnWindow
	}
	return NewChecker(opts)
}

// A full chain in one file, in any order: one report per certificate, the chain built
// for the leaf from the file's own CAs, and none for the CAs inside that chain.
func TestFileWithChain(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	leaf := inter.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)
	data := pemOf(root.cert, leaf, inter.cert, leaf)
	rep := testChecker(Options{}).CheckData(context.Background(), "fullchain.pem", data, true)
	if rep.Error != "" || len(rep.Certificates) != 3 {
		t.Fatalf("%+v", rep)
	}
	for _, c := range rep.Certificates {
		switch c.CommonName {
		case "gap.chu-exemple.fr":
			if c.Chain == nil || c.Chain.Status != ChainComplete || len(c.Chain.Certificates) != 3 || c.Role != RolePSPServer {
				t.Errorf("leaf: %+v", c)
			}
		default:
			if c.Chain != nil || c.Role != RoleCA {
				t.Errorf("%s: chain built for a CA inside the leaf's chain", c.CommonName)
			}
		}
	}
}

func TestFileKeyMatch(t *testing.T) {
	root := newRoot(t, "Root")
	leaf := root.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)
	good, _ := certio.MarshalPrivateKeyPEM(testpki.SharedRSAKey())
	bad, _ := certio.MarshalPrivateKeyPEM(smallRSAKey())
	k := testChecker(Options{})
	rep := k.CheckData(context.Background(), "combined.pem", append(pemOf(leaf), good...), true)
	if len(rep.Findings) != 0 || len(rep.Items) != 1 || rep.Items[0].Summary != "RSA 2048 private key" {
		t.Errorf("matching key: %+v", rep)
	}
	rep = k.CheckData(context.Background(), "combined.pem", append(pemOf(leaf), bad...), true)
	if f := slugs(rep.Findings); f["key-mismatch"] != Fail || !strings.Contains(rep.Findings[0].Message, "private key at line 17") {
		t.Errorf("wrong key: %+v", rep.Findings)
	}
}

func TestFileItems(t *testing.T) {
	root := newRoot(t, "Root")
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: leafTemplate("gap.chu-exemple.fr").Subject}, testpki.SharedRSAKey())
	if err != nil {
		t.Fatal(err)
	}
	crlDER, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: testNow,
		NextUpdate: testNow.AddDate(0, 0, 7), RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: big.NewInt(9), RevocationTime: testNow}}},
		root.cert, root.key)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := certio.EncryptPrivateKeyPEM(testpki.SharedRSAKey(), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER})...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER})...)
	data = append(data, enc...)
	data = append(data, pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte{1}})...)

	rep := testChecker(Options{}).CheckData(context.Background(), "mixed.pem", data, true)
	if rep.Error != "" || len(rep.Items) != 4 || len(rep.Certificates) != 0 {
		t.Fatalf("%+v", rep)
	}
	want := []string{
		"certificate request for C=FR, O=CHU Exemple, CN=gap.chu-exemple.fr, RSA 2048",
		"CRL of C=FR, O=Test PKI, CN=Root, 1 revoked, issued 2026-11-27, next update 2026-12-04",
		"encrypted private key, not opened (no passphrase given)",
		"a OPENSSH PRIVATE KEY PEM block, not read",
	}
	for i, it := range rep.Items {
		if it.Summary != want[i] {
			t.Errorf("item %d: %q, want %q", i, it.Summary, want[i])
		}
	}
	if !rep.Items[2].Locked || rep.Items[2].Line == 0 {
		t.Errorf("encrypted key: %+v", rep.Items[2])
	}
	// With the passphrase the key is opened and described.
	pass := func() ([]byte, error) { return []byte("secret"), nil }
	rep = testChecker(Options{Passphrase: pass}).CheckData(context.Background(), "mixed.pem", data, true)
	if it := rep.Items[2]; it.Locked || it.Summary != "RSA 2048 private key, encrypted" {
		t.Errorf("opened key: %+v", it)
	}
	wrong := func() ([]byte, error) { return []byte("nope"), nil }
	rep = testChecker(Options{Passphrase: wrong}).CheckData(context.Background(), "mixed.pem", data, true)
	if !strings.Contains(rep.Error, "wrong passphrase") || !strings.Contains(rep.Hint, "--passphrase-file") {
		t.Errorf("wrong passphrase: %+v", rep)
	}
}

func TestFilePKCS12(t *testing.T) {
	root := newRoot(t, "Root")
	leaf := root.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)
	pfx, err := pkcs12.Modern2023.Encode(testpki.SharedRSAKey(), leaf, []*x509.Certificate{root.cert}, "secret")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Named without a passphrase: nothing could be checked.
	rep := testChecker(Options{}).CheckData(ctx, "gap.p12", pfx, true)
	if !strings.Contains(rep.Error, "password-protected") || !strings.Contains(rep.Hint, "--passphrase-file") {
		t.Errorf("named, locked: %+v", rep)
	}
	// Found in a directory: reported as locked, not an error.
	rep = testChecker(Options{}).CheckData(ctx, "dir/gap.p12", pfx, false)
	if rep.Error != "" || !rep.Items[0].Locked || slugs(rep.Findings)["pkcs12-locked"] != Info {
		t.Errorf("in a directory, locked: %+v", rep)
	}
	pass := func() ([]byte, error) { return []byte("secret"), nil }
	rep = testChecker(Options{Passphrase: pass}).CheckData(ctx, "gap.p12", pfx, true)
	if rep.Error != "" || len(rep.Certificates) != 2 || len(rep.Findings) != 0 ||
		rep.Items[0].Summary != "PKCS#12 file: RSA 2048 private key and 2 certificates" {
		t.Errorf("opened: %+v", rep)
	}
	if c := rep.Certificates[0]; c.CommonName != "gap.chu-exemple.fr" || c.Chain.Status != ChainComplete {
		t.Errorf("leaf of the PKCS#12: %+v", c)
	}
	wrong := func() ([]byte, error) { return []byte("nope"), nil }
	rep = testChecker(Options{Passphrase: wrong}).CheckData(ctx, "dir/gap.p12", pfx, false)
	if rep.Named || !strings.Contains(rep.Error, "wrong passphrase") {
		t.Errorf("wrong passphrase in a directory: %+v", rep)
	}
}

// A certificates-only PKCS#7 made by openssl, the form the CA publishes chains in.
func TestFilePKCS7FromOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(src, pemOf(testpki.Reference(t, "ACI-EL-ORG-TEST.cer"), testpki.Reference(t, "ACR-EL-TEST.cer")), 0o644); err != nil {
		t.Fatal(err)
	}
	p7b := filepath.Join(dir, "chain.p7b")
	if out, err := exec.Command("openssl", "crl2pkcs7", "-nocrl", "-certfile", src, "-outform", "DER", "-out", p7b).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	rep := testChecker(Options{}).CheckFile(context.Background(), p7b, true, nil)
	if rep.Error != "" || len(rep.Certificates) != 2 || rep.Items[0].Summary != "PKCS#7 bundle of 2 certificates and 0 CRLs" {
		t.Fatalf("%+v", rep)
	}
	for _, c := range rep.Certificates {
		if c.Hierarchy != diapason.HierarchyTest || len(c.Findings) != 0 {
			t.Errorf("%s: %s %v", c.CommonName, c.Hierarchy, c.Findings)
		}
	}
}

func TestFileUnreadable(t *testing.T) {
	k := testChecker(Options{})
	good := pemOf(testpki.Reference(t, "ACI-EL-ORG.cer"))
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty.pem", "", "the file is empty"},
		{"garbage.txt", "hello, world\n", "no PEM block found"},
		{"binary.bin", "\x00\x01\x02\xff\xfe", "binary data"},
		{"truncated.pem", string(good[:len(good)/2]), "truncated PEM"},
	} {
		named := k.CheckData(context.Background(), tc.name, []byte(tc.data), true)
		if !strings.Contains(named.Error, tc.want) || strings.HasPrefix(named.Error, "skipped") || named.File != tc.name {
			t.Errorf("%s named: %+v", tc.name, named)
		}
		found := k.CheckData(context.Background(), tc.name, []byte(tc.data), false)
		if found.Named || found.Error != named.Error {
			t.Errorf("%s in a directory: %+v", tc.name, found)
		}
	}
	rep := k.CheckFile(context.Background(), filepath.Join(t.TempDir(), "nope.pem"), true, nil)
	if !strings.Contains(rep.Error, "no such file") {
		t.Errorf("missing file: %+v", rep)
	}
}
