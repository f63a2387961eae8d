package certio

import (
	"bytes"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// The fixtures are made by the openssl binary, not by this package, so that the tests
// check what other tools really write. They are built once per test binary (one RSA
// key generation) into a directory TestMain removes.

const secret = "s3cret-pass"

var fx struct {
	once sync.Once
	dir  string
	err  string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fx.dir != "" {
		os.RemoveAll(fx.dir)
	}
	os.Exit(code)
}

// fixture returns the path of a fixture file, building them all on first use.
func fixture(t testing.TB, name string) string {
	t.Helper()
	fx.once.Do(buildFixtures)
	if fx.err != "" {
		if strings.HasPrefix(fx.err, "skip:") {
			t.Skip(fx.err)
		}
		t.Fatal(fx.err)
	}
	p := filepath.Join(fx.dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no fixture %s", name)
	}
	return p
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func passphrase(s string) Passphrase {
	return func() ([]byte, error) { return []byte(s), nil }
}

// openssl runs the openssl binary in dir and returns its standard output.
func openssl(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return out, nil
}

func runOpenSSL(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	out, err := openssl(dir, args...)
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, err.(*exec.ExitError).Stderr)
	}
	return out
}

const caConfig = `[ca]
default_ca = CA_default
[CA_default]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
`

var fixtureCommands = [][]string{
	{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"},
	{"req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=Test CA", "-days", "30", "-out", "ca.pem"},
	{"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "leaf.key"},
	{"req", "-new", "-key", "leaf.key", "-subj", "/CN=leaf.example", "-out", "leaf.csr"},
	{"x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "30", "-out", "leaf.pem"},
	{"x509", "-in", "leaf.pem", "-outform", "DER", "-out", "leaf.der"},
	{"x509", "-in", "leaf.pem", "-text", "-out", "leaf.text.pem"},
	{"x509", "-in", "ca.pem", "-addtrust", "serverAuth", "-trustout", "-out", "ca.trusted.pem"},
	{"req", "-in", "leaf.csr", "-outform", "DER", "-out", "leaf.csr.der"},
	{"rsa", "-in", "leaf.key", "-traditional", "-out", "leaf.p1.pem"},
	{"rsa", "-in", "leaf.key", "-traditional", "-outform", "DER", "-out", "leaf.p1.der"},
	{"pkcs8", "-topk8", "-nocrypt", "-in", "leaf.key", "-outform", "DER", "-out", "leaf.p8.der"},
	{"ec", "-in", "ca.key", "-out", "ca.sec1.pem"},
	{"ec", "-in", "ca.key", "-outform", "DER", "-out", "ca.sec1.der"},
	{"ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.pem"},
	{"pkey", "-in", "leaf.key", "-pubout", "-out", "leaf.pub.pem"},
	{"pkey", "-in", "leaf.key", "-pubout", "-outform", "DER", "-out", "leaf.pub.der"},
	{"rsa", "-in", "leaf.key", "-RSAPublicKey_out", "-out", "leaf.rsapub.pem"},
	{"rsa", "-in", "leaf.key", "-RSAPublicKey_out", "-outform", "DER", "-out", "leaf.rsapub.der"},
	// Two CRLs from the same CA, the second revoking the leaf.
	{"ca", "-gencrl", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl1.pem"},
	{"ca", "-revoke", "leaf.pem", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem"},
	{"ca", "-gencrl", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.pem", "-out", "crl2.pem"},
	{"crl", "-in", "crl2.pem", "-outform", "DER", "-out", "crl2.der"},
	{"crl2pkcs7", "-nocrl", "-certfile", "leaf.pem", "-certfile", "ca.pem", "-out", "chain.p7b.pem"},
	{"crl2pkcs7", "-nocrl", "-certfile", "leaf.pem", "-certfile", "ca.pem", "-outform", "DER", "-out", "chain.p7b"},
	{"crl2pkcs7", "-in", "crl2.pem", "-certfile", "ca.pem", "-out", "withcrl.p7b.pem"},
	// PKCS#12 as OpenSSL 3 writes it by default, with -legacy (RC2-40 certificates), and
	// with 3DES and a SHA-1 MAC (what Windows and older Java want), and without a password.
	{"pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile", "ca.pem", "-passout", "pass:" + secret, "-out", "default.p12"},
	{"pkcs12", "-export", "-legacy", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile", "ca.pem", "-passout", "pass:" + secret, "-out", "legacy.p12"},
	{"pkcs12", "-export", "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile", "ca.pem", "-passout", "pass:" + secret, "-out", "3des.p12"},
	{"pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile", "ca.pem", "-passout", "pass:", "-out", "nopass.p12"},
	// Encrypted PKCS#8 keys in the variants OpenSSL users make.
	{"pkcs8", "-topk8", "-v2", "aes256", "-in", "leaf.key", "-passout", "pass:" + secret, "-out", "enc-aes256.pem"},
	{"pkcs8", "-topk8", "-v2", "aes256", "-in", "leaf.key", "-passout", "pass:" + secret, "-outform", "DER", "-out", "enc-aes256.der"},
	{"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:" + secret, "-out", "enc-genpkey.pem"},
	{"pkcs8", "-topk8", "-v2", "aes256", "-v2prf", "hmacWithSHA512", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-sha512.pem"},
	{"pkcs8", "-topk8", "-v2", "aes192", "-v2prf", "hmacWithSHA384", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-sha384.pem"},
	{"pkcs8", "-topk8", "-v2", "aes128", "-v2prf", "hmacWithSHA224", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-sha224.pem"},
	{"pkcs8", "-topk8", "-v2", "aes128", "-v2prf", "hmacWithSHA1", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-sha1.pem"},
	{"pkcs8", "-topk8", "-v2", "des3", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-des3.pem"},
	{"pkcs8", "-topk8", "-scrypt", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-scrypt.pem"},
	{"pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "ca.key", "-passout", "pass:" + secret, "-out", "enc-pbes1.pem"},
	// Legacy RFC 1423 encryption, as `openssl genrsa -aes256` wrote before OpenSSL 3.
	{"rsa", "-in", "leaf.key", "-traditional", "-aes256", "-passout", "pass:" + secret, "-out", "legacy-rsa.pem"},
	{"ec", "-in", "ca.key", "-aes128", "-passout", "pass:" + secret, "-out", "legacy-ec.pem"},
}

func buildFixtures() {
	if _, err := exec.LookPath("openssl"); err != nil {
		fx.err = "skip: the openssl binary is needed for fixtures"
		return
	}
	dir, err := os.MkdirTemp("", "certio-fixtures-")
	if err != nil {
		fx.err = err.Error()
		return
	}
	fx.dir = dir
	for name, content := range map[string]string{"ca.cnf": caConfig, "index.txt": "", "crlnumber": "01\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			fx.err = err.Error()
			return
		}
	}
	for _, args := range fixtureCommands {
		if _, err := openssl(dir, args...); err != nil {
			fx.err = "openssl " + strings.Join(args, " ") + ": " + string(err.(*exec.ExitError).Stderr)
			return
		}
	}
	if err := buildDerivedFixtures(dir); err != nil {
		fx.err = err.Error()
	}
}

// buildDerivedFixtures makes the files that are concatenations of others, and the
// PKCS#12 layouts OpenSSL will not write: the CA's certificate bag first (go-pkcs12
// takes the first bag as the leaf) and a truststore.
func buildDerivedFixtures(dir string) error {
	read := func(name string) []byte {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return b
	}
	concat := map[string][]string{
		"crls.pem":  {"crl1.pem", "crl2.pem"},
		"mixed.pem": {"leaf.pem", "leaf.p1.pem", "ca.pem"},
		"chain.pem": {"leaf.pem", "ca.pem"},
	}
	for out, ins := range concat {
		var b []byte
		for _, in := range ins {
			b = append(b, read(in)...)
		}
		if err := os.WriteFile(filepath.Join(dir, out), b, 0o600); err != nil {
			return err
		}
	}
	leaf, err := x509.ParseCertificate(read("leaf.der"))
	if err != nil {
		return err
	}
	ca, err := parsePEMCert(read("ca.pem"))
	if err != nil {
		return err
	}
	key, err := x509.ParsePKCS8PrivateKey(read("leaf.p8.der"))
	if err != nil {
		return err
	}
	shuffled, err := pkcs12.Modern.Encode(key, ca, []*x509.Certificate{leaf}, secret)
	if err != nil {
		return err
	}
	truststore, err := pkcs12.Modern.EncodeTrustStore([]*x509.Certificate{ca}, secret)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "shuffled.p12"), shuffled, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "truststore.p12"), truststore, 0o600)
}

func parsePEMCert(data []byte) (*x509.Certificate, error) {
	c, err := Decode("x", data)
	if err != nil {
		return nil, err
	}
	return c.Items[0].Certificate, nil
}
