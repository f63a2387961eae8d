package commands

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/diapason-cert/diapason-cert/certio"
)

// A key made once by openssl, the tool editors use today, reused by the
// tests so they do not each wait for RSA key generation.
var opensslKey = sync.OnceValues(func() ([]byte, error) {
	return exec.Command("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048").Output()
})

func writeOpenSSLKey(t *testing.T, dir string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	pemKey, err := opensslKey()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "existing.key")
	if err := os.WriteFile(p, pemKey, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readCSR(t *testing.T, path string) *x509.CertificateRequest {
	t.Helper()
	req, err := certio.Loader{}.LoadCSR(path)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCSRTPEServerGolden(t *testing.T) {
	dir := t.TempDir()
	writeOpenSSLKey(t, dir)
	t.Chdir(dir) // relative paths keep the golden files stable
	args := []string{"csr", "tpe-server", "--fqdn", "GAP.Hôpital-Exemple.fr", "--key", "existing.key", "--org", "CHU Exemple",
		"--ou", "3123456789012345", "--state", "Côte-d'Or (21)"}
	r := runCLI(t, runOpts{}, args...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "csr-tpe-server.txt", scrub(r.stdout, dir))
	if !strings.Contains(r.stderr, "written gap.xn--hpital-exemple-0ob.fr in the certificate") {
		t.Errorf("no note about the normalised FQDN:\n%s", r)
	}
	req := readCSR(t, filepath.Join(dir, "tpe-server.csr"))
	if req.Subject.CommonName != "gap.xn--hpital-exemple-0ob.fr" || len(req.DNSNames) != 1 || req.DNSNames[0] != req.Subject.CommonName {
		t.Errorf("CSR subject %v SANs %v", req.Subject, req.DNSNames)
	}
	if _, err := os.Stat(filepath.Join(dir, "tpe-server.key")); !os.IsNotExist(err) {
		t.Errorf("a reused key was written again: %v", err)
	}

	os.Remove(filepath.Join(dir, "tpe-server.csr"))
	r = runCLI(t, runOpts{}, append(args, "--output", "json")...)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	jsonDoc(t, r)
	golden(t, "csr-tpe-server.json", scrub(r.stdout, dir))
}

func TestCSRGeneratesKeyAndRefusesToReplace(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	r := runCLI(t, runOpts{}, "csr", "psp-client", "--out-dir", dir)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	keyPath, csrPath := filepath.Join(dir, "psp-client.key"), filepath.Join(dir, "psp-client.csr")
	if m := mode(t, keyPath); m != 0o600 {
		t.Errorf("key mode %o, want 600", m)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("created output directory mode %o, want 700", m)
	}
	k, err := certio.Loader{}.LoadPrivateKey(keyPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := readCSR(t, csrPath)
	if !k.Signer.Public().(*rsa.PublicKey).Equal(req.PublicKey) || req.Subject.CommonName != "Client_Diapason_PSP" || len(req.DNSNames) != 0 {
		t.Fatalf("CSR does not match its key or profile: %v", req.Subject)
	}
	if !strings.Contains(r.stdout, "value to enter: Client_Diapason_PSP") {
		t.Errorf("the platform value is not on stdout:\n%s", r)
	}
	before, _ := os.ReadFile(keyPath)

	// A second run must not touch the key, and must say so before generating anything.
	r = runCLI(t, runOpts{}, "csr", "psp-client", "--out-dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "already exists") || !strings.Contains(r.stderr, "hint: add --force") {
		t.Errorf("existing output:\n%s", r)
	}
	if after, _ := os.ReadFile(keyPath); string(after) != string(before) {
		t.Fatal("the existing key was modified")
	}

	// --force keeps the old key as a timestamped backup.
	r = runCLI(t, runOpts{}, "csr", "psp-client", "--out-dir", dir, "--force")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	backup := keyPath + ".20261127T120000Z.bak"
	if got, err := os.ReadFile(backup); err != nil || string(got) != string(before) {
		t.Errorf("backup %s missing or different: %v", backup, err)
	}
	if m := mode(t, backup); m != 0o600 {
		t.Errorf("backup mode %o, want 600", m)
	}
	if after, _ := os.ReadFile(keyPath); string(after) == string(before) {
		t.Error("--force did not write a new key")
	}
}

// --encrypt writes a PKCS#8 key that openssl opens with the same passphrase.
func TestCSREncryptReadableByOpenSSL(t *testing.T) {
	dir := t.TempDir()
	key := writeOpenSSLKey(t, dir)
	pwFile := filepath.Join(dir, "pw")
	os.WriteFile(pwFile, []byte("correct horse battery\n"), 0o600)
	r := runCLI(t, runOpts{}, "csr", "psp-client", "--key", key, "--encrypt", "--passphrase-file", pwFile, "--out-dir", dir)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	out := filepath.Join(dir, "psp-client.key")
	data, _ := os.ReadFile(out)
	if !strings.Contains(string(data), "BEGIN ENCRYPTED PRIVATE KEY") || mode(t, out) != 0o600 {
		t.Fatalf("not an encrypted 0600 key:\n%s", data)
	}
	cmd := exec.Command("openssl", "pkey", "-in", out, "-passin", "file:"+pwFile, "-pubout")
	pub, err := cmd.Output()
	if err != nil {
		t.Fatalf("openssl pkey: %v", err)
	}
	want, _ := exec.Command("openssl", "pkey", "-in", key, "-pubout").Output()
	if string(pub) != string(want) {
		t.Error("the encrypted key is not the reused key")
	}

	// The encrypted key now needs its passphrase to be reused; a wrong one is UNKNOWN.
	os.Remove(filepath.Join(dir, "psp-client.csr"))
	r = runCLI(t, runOpts{env: map[string]string{"PW": "wrong"}}, "csr", "psp-client", "--key", out, "--passphrase-env", "PW", "--out-dir", dir)
	if r.code != 3 || !strings.Contains(r.stderr, "wrong passphrase") || !strings.Contains(r.stderr, out) {
		t.Errorf("wrong passphrase:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "csr", "psp-client", "--key", out, "--out-dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "a passphrase is needed") || !strings.Contains(r.stderr, "--passphrase-file") {
		t.Errorf("no passphrase source, no terminal:\n%s", r)
	}
	r = runCLI(t, runOpts{env: map[string]string{"PW": "correct horse battery"}}, "csr", "psp-client", "--key", out, "--passphrase-env", "PW", "--out-dir", dir)
	if r.code != 0 {
		t.Errorf("right passphrase from the environment:\n%s", r)
	}

	// Re-encrypting an encrypted key: --passphrase-* unlocks, --new-passphrase-* protects.
	sub := filepath.Join(dir, "re")
	os.Mkdir(sub, 0o755)
	r = runCLI(t, runOpts{env: map[string]string{"PW": "correct horse battery", "NEW": "new secret"}},
		"csr", "psp-client", "--key", out, "--encrypt", "--passphrase-env", "PW", "--new-passphrase-env", "NEW", "--out-dir", sub)
	if r.code != 0 {
		t.Fatalf("re-encrypt:\n%s", r)
	}
	if _, err := exec.Command("openssl", "pkey", "-in", filepath.Join(sub, "psp-client.key"), "-passin", "pass:new secret", "-noout").CombinedOutput(); err != nil {
		t.Errorf("re-encrypted key not opened with the new passphrase: %v", err)
	}
}

func TestCSRPassphrasePrompt(t *testing.T) {
	dir := t.TempDir()
	key := writeOpenSSLKey(t, dir)
	answers := []string{"one", "two"}
	prompt := func(string) ([]byte, error) {
		a := answers[0]
		answers = answers[1:]
		return []byte(a), nil
	}
	r := runCLI(t, runOpts{prompt: prompt}, "csr", "psp-client", "--key", key, "--encrypt", "--out-dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "passphrases for the new key") || !strings.Contains(r.stderr, "differ") {
		t.Errorf("mismatched confirmation:\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "psp-client.key")); !os.IsNotExist(err) {
		t.Error("a key was written after a failed confirmation")
	}
	r = runCLI(t, runOpts{env: map[string]string{}}, "csr", "psp-client", "--key", key, "--encrypt", "--passphrase-env", "UNSET", "--out-dir", dir)
	if r.code != 2 || !strings.Contains(r.stderr, "UNSET") {
		t.Errorf("unset variable:\n%s", r)
	}
}

func TestCSRUnreadableKey(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "cert.pem")
	os.WriteFile(cert, []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"), 0o644)
	for _, tc := range []struct {
		key, msg string
	}{
		{filepath.Join(dir, "missing.key"), "missing.key: no such file"},
		{cert, "cert.pem"},
	} {
		r := runCLI(t, runOpts{}, "csr", "psp-client", "--key", tc.key, "--out-dir", dir)
		if r.code != 3 || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("--key %s:\n%s", tc.key, r)
		}
	}
}

func TestCSRInspectCommand(t *testing.T) {
	dir := t.TempDir()
	key := writeOpenSSLKey(t, dir)
	// A request made by openssl, with the CN users get wrong most often.
	wrong := filepath.Join(dir, "-odd.csr")
	out, err := exec.Command("openssl", "req", "-new", "-key", key, "-subj", "/C=FR/O=CHU/CN=client_diapason_psp", "-out", wrong).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	r := runCLI(t, runOpts{}, "csr", "inspect", "--profile", "psp-client", "--", wrong)
	if r.code != 1 || !strings.Contains(r.stdout, "cn-mismatch") || !strings.Contains(r.stdout, "Client_Diapason_PSP") {
		t.Errorf("wrong CN:\n%s", r)
	}
	good := filepath.Join(dir, "server.csr")
	exec.Command("openssl", "req", "-new", "-key", key, "-subj", "/C=FR/OU=3123/CN=gap.chu.fr", "-addext", "subjectAltName=DNS:gap.chu.fr", "-out", good).Run()
	r = runCLI(t, runOpts{}, "csr", "inspect", good)
	if r.code != 0 || !strings.Contains(r.stdout, "tpe-server (detected from the CN)") {
		t.Errorf("good server CSR:\n%s", r)
	}
	// The flag after the file is still read.
	r = runCLI(t, runOpts{}, "csr", "inspect", good, "--fqdn", "tpe.chu.fr", "--output", "json")
	doc := jsonDoc(t, r)
	if r.code != 1 || doc["status"] != "fail" || !strings.Contains(r.stdout, `"slug": "cn-mismatch"`) {
		t.Errorf("fqdn after the positional:\n%s", r)
	}
	garbage := filepath.Join(dir, "garbage.csr")
	os.WriteFile(garbage, []byte("hello\x00\x01 world"), 0o644)
	r = runCLI(t, runOpts{}, "csr", "inspect", garbage)
	if r.code != 3 || !strings.Contains(r.stderr, "garbage.csr") {
		t.Errorf("garbage:\n%s", r)
	}
	r = runCLI(t, runOpts{stdin: mustRead(t, good)}, "csr", "inspect", "-")
	if r.code != 0 || !strings.Contains(r.stdout, "file:           stdin") {
		t.Errorf("stdin:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "csr", "inspect", key)
	if r.code != 3 || !strings.Contains(r.stderr, "expected a certificate request, found") {
		t.Errorf("a key given as a CSR:\n%s", r)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := pem.Decode(b); p == nil {
		t.Fatalf("%s is not PEM", path)
	}
	return string(b)
}
