package commands

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/lab"
)

// referenceDir holds the real IGC-Santé files.
var referenceDir = func() string {
	d, err := filepath.Abs(filepath.Join("..", "testdata", "reference", "igc-sante"))
	if err != nil {
		panic(err)
	}
	return d
}()

func copyReference(t *testing.T, name, to string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(referenceDir, name))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, to, data)
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func certPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// checkFindings returns the slugs and levels of one certificate of a check JSON document.
func checkFindings(t *testing.T, doc map[string]any, file, cert int) map[string]string {
	t.Helper()
	files, _ := doc["files"].([]any)
	if file >= len(files) {
		t.Fatalf("no file %d in %v", file, doc)
	}
	f := files[file].(map[string]any)
	certs, _ := f["certificates"].([]any)
	if cert >= len(certs) {
		t.Fatalf("no certificate %d in file %v", cert, f)
	}
	out := map[string]string{}
	for _, x := range certs[cert].(map[string]any)["findings"].([]any) {
		fm := x.(map[string]any)
		out[fm["slug"].(string)] = fm["level"].(string)
	}
	return out
}

// goldenLab is a lab made with seeded randomness, so that its keys, serials and
// signatures, and with them the golden files, are the same at every run. The lab makes
// its keys concurrently, which would consume the seeded randomness in any order, so
// they are made first, one after the other, into the key cache it is told to use.
func goldenLab(t *testing.T, dir string) *lab.Lab {
	t.Helper()
	cryptotest.SetGlobalRandom(t, 1)
	const cache = "check-golden"
	for _, n := range lab.CANames() {
		if _, err := lab.CachedKey(cache+"/ca-"+string(n), lab.DefaultCAKeySize); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range lab.Roles() {
		if _, err := lab.CachedKey(cache+"/role-"+string(r), lab.LeafKeySize); err != nil {
			t.Fatal(err)
		}
	}
	// Seeded again: on a second run in this process the keys come from the cache
	// without consuming randomness, and serials must not depend on that.
	cryptotest.SetGlobalRandom(t, 2)
	l, err := lab.New(lab.Options{Now: fixedNow.AddDate(0, -1, 0), Dir: dir, KeyCache: cache})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// scanFixture fills dir/certs with one of each kind of input a scan meets.
func scanFixture(t *testing.T, dir string) *lab.Lab {
	t.Helper()
	l := goldenLab(t, filepath.Join(dir, "lab"))
	certs := filepath.Join(dir, "certs")
	server := l.Credential(lab.RoleGAPServer)
	writeTestFile(t, filepath.Join(certs, "gap-server.pem"), certPEM(append([]*x509.Certificate{server.Cert}, server.Intermediates()...)...))
	writeTestFile(t, filepath.Join(certs, "gap-client.pem"), certPEM(l.Credential(lab.RoleGAPClient).Cert))
	writeTestFile(t, filepath.Join(certs, "psp.pem"), certPEM(l.Credential(lab.RolePSPServer).Cert))
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "gap2.lab.test"}, DNSNames: []string{"gap2.lab.test"}}, server.Key)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := x509.ParseCertificateRequest(csrDER)
	expiring, err := l.Sign(req, diapason.TPEServer, fixedNow.AddDate(-3, 0, 10), fixedNow.AddDate(0, 0, 10))
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(certs, "expiring.pem"), certPEM(expiring))
	writeTestFile(t, filepath.Join(certs, "gap2.csr"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	key, _ := certio.MarshalPrivateKeyPEM(server.Key)
	writeTestFile(t, filepath.Join(certs, "keys", "gap-server.key"), key)
	copyReference(t, "samples/TEST-ORG-SIGN-2021.pem", filepath.Join(certs, "igc", "TEST-ORG-SIGN-2021.pem"))
	copyReference(t, "ACI-EL-ORG.cer", filepath.Join(certs, "igc", "ACI-EL-ORG.cer"))
	writeTestFile(t, filepath.Join(certs, "README.txt"), []byte("Certificates of the GAP, renewed every 3 years.\n"))
	writeTestFile(t, filepath.Join(certs, "empty.pem"), nil)
	writeTestFile(t, filepath.Join(certs, "binary.der"), []byte{0x00, 0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01})
	whole := certPEM(l.Credential(lab.RoleTPEClient).Cert)
	writeTestFile(t, filepath.Join(certs, "truncated.pem"), whole[:len(whole)/2])
	return l
}

// The text and JSON results of a directory scan: every kind of input, each reported by
// name, none stopping the scan; FAIL (the expired TEST sample) wins over UNKNOWN (the
// missing file) and WARN (the expiring one, the skipped files).
func TestCheckScanGolden(t *testing.T) {
	dir := t.TempDir()
	scanFixture(t, dir)
	t.Chdir(dir)
	r := runCLI(t, runOpts{}, "check", "certs", "missing.pem")
	if r.code != exitFail {
		t.Errorf("exit %d\n%s", r.code, r)
	}
	golden(t, "check-scan.txt", scrub(r.stdout, dir))
	if !strings.Contains(r.stderr, "diapason-cert: error: missing.pem: no such file or directory") {
		t.Errorf("the unreadable input is not an error on stderr:\n%s", r)
	}

	r = runCLI(t, runOpts{}, "check", "certs", "missing.pem", "--output", "json")
	doc := jsonDoc(t, r)
	if r.code != exitFail || doc["status"] != "fail" {
		t.Errorf("JSON exit %d status %v", r.code, doc["status"])
	}
	golden(t, "check-scan.json", scrub(r.stdout, dir))
	// Every certificate carries the fields monitoring relies on.
	for _, f := range doc["files"].([]any) {
		for _, c := range f.(map[string]any)["certificates"].([]any) {
			cm := c.(map[string]any)
			for _, k := range []string{"subject", "issuer", "not_before", "not_after", "days_left", "role", "hierarchy", "sha256", "findings", "status"} {
				if _, ok := cm[k]; !ok {
					t.Errorf("%v: no %s", f.(map[string]any)["file"], k)
				}
			}
		}
	}
	sum := doc["summary"].(map[string]any)
	if sum["files"] != 13.0 || sum["certificates"] != 7.0 || sum["skipped"] != 4.0 || sum["unreadable"] != 1.0 {
		t.Errorf("summary %v", sum)
	}
}

func TestCheckDetailsGolden(t *testing.T) {
	t.Chdir(referenceDir)
	r := runCLI(t, runOpts{}, "check", "samples/TEST-ORG-SIGN-2021.pem", "--details", "--hierarchy", "test", "--at", "2024-12-01")
	if r.code != exitWarn {
		t.Errorf("%s", r)
	}
	golden(t, "check-details.txt", r.stdout)
}

// The real IGC-Santé files: each placed in its hierarchy with its name as issued; the
// TEST sample's chain completed offline, trusted under --hierarchy test, a mix under
// --hierarchy production, expired at the fixed now.
func TestCheckRealIGCSante(t *testing.T) {
	t.Chdir(referenceDir)
	r := runCLI(t, runOpts{}, "check", ".", "--output", "json")
	doc := jsonDoc(t, r)
	want := map[string][2]string{
		"ACI-EL-ORG-TEST.cer":            {"test", "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"},
		"ACI-EL-ORG.cer":                 {"production", "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"},
		"ACR-EL-TEST.cer":                {"test", "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC RACINE IGC-SANTE ELEMENTAIRE"},
		"ACR-EL.cer":                     {"production", "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=AC RACINE IGC-SANTE ELEMENTAIRE"},
		"samples/TEST-ORG-SIGN-2021.pem": {"test", "C=FR, ST=Côte-d'Or (21), O=MINISTERE DE TEST7708, OU=300000000077081, CN=testsign.test.asipsante.fr"},
	}
	files := doc["files"].([]any)
	if len(files) != len(want) || r.code != exitFail {
		t.Fatalf("%d files, exit %d", len(files), r.code)
	}
	for _, f := range files {
		fm := f.(map[string]any)
		c := fm["certificates"].([]any)[0].(map[string]any)
		w := want[fm["file"].(string)]
		if c["hierarchy"] != w[0] || c["subject"] != w[1] {
			t.Errorf("%s: %v %v", fm["file"], c["hierarchy"], c["subject"])
		}
	}
	for _, tc := range []struct {
		args []string
		want map[string]string
	}{
		{nil, map[string]string{"expired": "fail"}},
		{[]string{"--hierarchy", "test"}, map[string]string{"expired": "fail"}},
		{[]string{"--hierarchy", "production"}, map[string]string{"expired": "fail", "chain-untrusted": "fail", "hierarchy-mix": "fail"}},
		{[]string{"--chain", "ACI-EL-ORG.cer"}, map[string]string{"expired": "fail", "hierarchy-mix": "fail"}},
		{[]string{"--at", "2023-06-01"}, map[string]string{}},
	} {
		args := append([]string{"check", "samples/TEST-ORG-SIGN-2021.pem", "--output", "json"}, tc.args...)
		r := runCLI(t, runOpts{}, args...)
		doc := jsonDoc(t, r)
		if got := checkFindings(t, doc, 0, 0); !maps.Equal(got, tc.want) {
			t.Errorf("%v: %v", tc.args, got)
		}
		chain := doc["files"].([]any)[0].(map[string]any)["certificates"].([]any)[0].(map[string]any)["chain"].(map[string]any)
		if n := len(chain["certificates"].([]any)); n != 3 {
			t.Errorf("%v: chain of %d", tc.args, n)
		}
	}
}

// opensslPKI makes certificates with the openssl binary, as editors do today: a root, an
// intermediate, and leaves with the extensions each test asks for.
type opensslPKI struct {
	t   *testing.T
	dir string
}

func newOpenSSLPKI(t *testing.T) *opensslPKI {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	p := &opensslPKI{t: t, dir: t.TempDir()}
	writeOpenSSLKey(t, p.dir) // existing.key: the RSA 2048 leaf key
	p.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "root.key")
	p.run("req", "-x509", "-new", "-key", "root.key", "-subj", "/C=FR/O=Test PKI/CN=Test Root", "-days", "3650",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", "root.pem")
	p.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "inter.key")
	p.run("req", "-new", "-key", "inter.key", "-subj", "/C=FR/O=Test PKI/CN=Test Intermediate", "-out", "inter.csr")
	p.write("ca.ext", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
	p.run("x509", "-req", "-in", "inter.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "2", "-days", "3650",
		"-extfile", "ca.ext", "-out", "inter.pem")
	return p
}

func (p *opensslPKI) path(name string) string { return filepath.Join(p.dir, name) }

func (p *opensslPKI) write(name, content string) {
	p.t.Helper()
	if err := os.WriteFile(p.path(name), []byte(content), 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func (p *opensslPKI) run(args ...string) {
	p.t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

var serialSeq = 100

// leaf signs a certificate with the intermediate: subj as /C=FR/.../CN=..., the
// extension lines given, valid days from now, for key (a key file in the PKI's dir).
func (p *opensslPKI) leaf(name, key, subj string, days int, ext ...string) string {
	p.t.Helper()
	serialSeq++
	p.write(name+".ext", strings.Join(append([]string{"basicConstraints=CA:FALSE", "subjectKeyIdentifier=hash", "authorityKeyIdentifier=keyid"}, ext...), "\n")+"\n")
	p.run("req", "-new", "-key", key, "-subj", subj, "-out", name+".csr")
	p.run("x509", "-req", "-in", name+".csr", "-CA", "inter.pem", "-CAkey", "inter.key", "-set_serial", fmt.Sprint(serialSeq),
		"-days", fmt.Sprint(days), "-extfile", name+".ext", "-out", name+".pem")
	return p.path(name + ".pem")
}

// Every finding, triggered by a certificate openssl made for it, and absent on the clean one.
func TestCheckFindingsOnOpenSSLCertificates(t *testing.T) {
	p := newOpenSSLPKI(t)
	p.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.key")
	p.run("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "small.key")
	p.run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "other.key")
	p.run("req", "-x509", "-new", "-key", "other.key", "-subj", "/CN=Other Root", "-days", "3650", "-out", "other.pem")
	const gap = "/C=FR/O=CHU Exemple/CN=gap.chu-exemple.fr"
	server := []string{"keyUsage=critical,digitalSignature,keyEncipherment", "extendedKeyUsage=serverAuth", "subjectAltName=DNS:gap.chu-exemple.fr"}
	client := []string{"keyUsage=critical,digitalSignature", "extendedKeyUsage=clientAuth"}
	with := func(base []string, repl ...string) []string {
		out := slices.Clone(base)
		for _, r := range repl {
			k, _, _ := strings.Cut(r, "=")
			out = slices.DeleteFunc(out, func(s string) bool { return strings.HasPrefix(s, k+"=") })
			if !strings.HasSuffix(r, "=") {
				out = append(out, r)
			}
		}
		return out
	}
	// openssl starts certificates now, so they are judged an hour from now.
	soon := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	later := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	serverArgs := []string{"--profile", "tpe-server", "--fqdn", "gap.chu-exemple.fr", "--ca", p.path("root.pem"), "--chain", p.path("inter.pem"), "--at", soon}

	// A signature damaged after issuing: the last byte of the DER flipped.
	clean := p.leaf("clean", "existing.key", gap, 1000, server...)
	blk, _ := pem.Decode(checkReadFile(t, clean))
	blk.Bytes[len(blk.Bytes)-1] ^= 0xff
	p.write("tampered.pem", string(pem.EncodeToMemory(blk)))

	for _, tc := range []struct {
		name string
		file string
		args []string
		want map[string]string
	}{
		{"clean", clean, serverArgs, map[string]string{}},
		{"clean, key given", clean, append(slices.Clone(serverArgs), "--key", p.path("existing.key")), map[string]string{}},
		{"expired", p.leaf("expired", "existing.key", gap, 1, server...),
			append(slices.Clone(serverArgs), "--at", later), map[string]string{"expired": "fail"}},
		{"expiring", p.leaf("expiring", "existing.key", gap, 10, server...), serverArgs, map[string]string{"expiring": "warn"}},
		{"not yet valid", clean, append(slices.Clone(serverArgs), "--at", time.Now().Add(-48*time.Hour).UTC().Format(time.RFC3339)),
			map[string]string{"not-yet-valid": "fail", "chain-not-yet-valid": "fail"}},
		{"beyond 3 years", p.leaf("long", "existing.key", gap, 1200, server...), serverArgs, map[string]string{"term-exceeded": "warn"}},
		{"CN is not the FQDN", clean, append(slices.Clone(serverArgs), "--fqdn", "gap2.chu-exemple.fr"),
			map[string]string{"cn-mismatch": "fail", "san-mismatch": "fail"}},
		{"no SAN", p.leaf("nosan", "existing.key", gap, 1000, with(server, "subjectAltName=")...), serverArgs, map[string]string{"san-missing": "warn"}},
		{"SAN differs", p.leaf("othersan", "existing.key", gap, 1000, with(server, "subjectAltName=DNS:www.chu-exemple.fr")...),
			serverArgs, map[string]string{"san-mismatch": "fail"}},
		{"EKU without serverAuth", p.leaf("cliauth", "existing.key", gap, 1000, with(server, "extendedKeyUsage=clientAuth")...),
			serverArgs, map[string]string{"eku-mismatch": "fail"}},
		{"no EKU", p.leaf("noeku", "existing.key", gap, 1000, with(server, "extendedKeyUsage=")...), serverArgs, map[string]string{}},
		{"keyUsage without digitalSignature", p.leaf("keyenc", "existing.key", gap, 1000, with(server, "keyUsage=critical,keyEncipherment")...),
			serverArgs, map[string]string{"key-usage-mismatch": "fail"}},
		{"ECDSA key", p.leaf("ec", "ec.key", gap, 1000, with(server, "keyUsage=critical,digitalSignature")...), serverArgs,
			map[string]string{"key-not-rsa": "fail"}},
		{"RSA 1024", p.leaf("small", "small.key", gap, 1000, server...), serverArgs, map[string]string{"key-too-small": "fail"}},
		{"key mismatch", clean, append(slices.Clone(serverArgs), "--key", p.path("small.key")), map[string]string{"key-mismatch": "fail"}},
		{"client CN", p.leaf("client", "existing.key", "/C=FR/O=CHU Exemple/CN=Client Diapason PSP", 1000, client...),
			[]string{"--profile", "psp-client", "--ca", p.path("root.pem"), "--chain", p.path("inter.pem"), "--at", soon},
			map[string]string{"cn-mismatch": "fail"}},
		{"chain incomplete", clean, []string{"--profile", "tpe-server", "--ca", p.path("root.pem"), "--at", soon},
			map[string]string{"chain-incomplete": "fail"}},
		{"chain not judged without anchors", clean, []string{"--profile", "tpe-server", "--at", soon},
			map[string]string{"chain-incomplete": "info"}},
		{"chain untrusted", clean, []string{"--profile", "tpe-server", "--ca", p.path("other.pem"), "--chain", p.path("inter.pem"), "--chain", p.path("root.pem"), "--at", soon},
			map[string]string{"chain-untrusted": "fail"}},
		{"signature altered", p.path("tampered.pem"), serverArgs, map[string]string{"chain-signature-invalid": "fail"}},
	} {
		r := runCLI(t, runOpts{}, append([]string{"check", tc.file, "--output", "json"}, tc.args...)...)
		got := checkFindings(t, jsonDoc(t, r), 0, 0)
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		wantCode := exitOK
		for _, l := range tc.want {
			switch {
			case l == "fail":
				wantCode = exitFail
			case l == "warn" && wantCode == exitOK:
				wantCode = exitWarn
			}
		}
		if r.code != wantCode {
			t.Errorf("%s: exit %d, want %d", tc.name, r.code, wantCode)
		}
	}
}

func checkReadFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Exit codes follow §3's precedence: USAGE > FAIL > UNKNOWN > WARN > OK, and --exit-codes
// nagios maps them.
func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	copyReference(t, "ACI-EL-ORG.cer", filepath.Join(dir, "ok", "ACI-EL-ORG.cer"))
	copyReference(t, "samples/TEST-ORG-SIGN-2021.pem", filepath.Join(dir, "expired.pem"))
	copyReference(t, "ACI-EL-ORG.cer", filepath.Join(dir, "skip", "ACI-EL-ORG.cer"))
	writeTestFile(t, filepath.Join(dir, "skip", "notes.txt"), []byte("not a certificate\n"))
	writeTestFile(t, filepath.Join(dir, "garbage.pem"), []byte("garbage\n"))
	t.Chdir(dir)
	for _, tc := range []struct {
		args   []string
		code   int
		nagios int
	}{
		{[]string{"ok"}, exitOK, 0},
		{[]string{"ok", "--at", "2033-06-01"}, exitWarn, 1},
		{[]string{"skip"}, exitWarn, 1},
		{[]string{"ok", "garbage.pem"}, exitUnknown, 3},
		{[]string{"skip", "garbage.pem"}, exitUnknown, 3},
		{[]string{"expired.pem", "garbage.pem", "skip"}, exitFail, 2},
		{[]string{"expired.pem", "garbage.pem", "--profile", "bogus"}, exitUsage, 3},
		{[]string{"-"}, exitUnknown, 3}, // empty stdin
	} {
		for _, mode := range []string{"default", "nagios"} {
			r := runCLI(t, runOpts{}, append([]string{"check", "--exit-codes", mode}, tc.args...)...)
			want := tc.code
			if mode == "nagios" {
				want = tc.nagios
			}
			if r.code != want {
				t.Errorf("%v %s: exit %d, want %d\n%s", tc.args, mode, r.code, want, r)
			}
		}
	}
}

func TestCheckUsage(t *testing.T) {
	dir := t.TempDir()
	copyReference(t, "ACI-EL-ORG.cer", filepath.Join(dir, "ca.cer"))
	t.Chdir(dir)
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"check"}, exitUsage, "check needs at least one file or directory"},
		{[]string{"check", "ca.cer", "--timeline", "--output", "prometheus"}, exitUsage, "--timeline draws text"},
		{[]string{"check", "ca.cer", "--timeline", "--details"}, exitUsage, "--timeline draws text"},
		{[]string{"check", "ca.cer", "--revocation", "strict"}, exitUsage, `--revocation: unknown revocation mode "strict"`},
		{[]string{"check", "ca.cer", "--workers", "-1"}, exitUsage, "--workers must not be negative"},
		{[]string{"check", "ca.cer", "--crl", "ca.crl", "--revocation", "off"}, exitUsage, "--crl is not read with --revocation off"},
		{[]string{"check", "ca.cer", "--crl", "nope.crl"}, exitUnknown, "nope.crl: no such file"},
		{[]string{"check", "ca.cer", "--crl", "ca.cer"}, exitUnknown, "ca.cer"},
		{[]string{"check", "ca.cer", "--profile", "server"}, exitUsage, `invalid --profile "server"`},
		{[]string{"check", "ca.cer", "--at", "tomorrow"}, exitUsage, `invalid --at "tomorrow"`},
		{[]string{"check", "ca.cer", "--warn", "30x"}, exitUsage, "--warn: invalid duration"},
		{[]string{"check", "ca.cer", "--hierarchy", "prod"}, exitUsage, "--hierarchy: unknown hierarchy"},
		{[]string{"check", "ca.cer", "--hierarchy", "lab"}, exitUsage, "--hierarchy lab needs --lab"},
		{[]string{"check", "ca.cer", "--fqdn", "*.chu.fr"}, exitUsage, "--fqdn"},
		{[]string{"check", "ca.cer", "--ca", "nope.pem"}, exitUnknown, "nope.pem: no such file"},
		{[]string{"check", "ca.cer", "--chain", "nope.pem"}, exitUnknown, "nope.pem: no such file"},
		{[]string{"check", "ca.cer", "--lab", "nolab"}, exitUnknown, "nolab"},
		{[]string{"check", "ca.cer", "--key", "ca.cer"}, exitUnknown, "expected a private key"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) || r.stdout != "" {
			t.Errorf("%q: want exit %d and %q\n%s", tc.args, tc.code, tc.stderr, r)
		}
	}
	// With --output json a usage error is still one JSON document.
	r := runCLI(t, runOpts{}, "check", "ca.cer", "--timeline", "--output", "json")
	if doc := jsonDoc(t, r); doc["error"] == nil || r.code != exitUsage {
		t.Errorf("%s", r)
	}
	r = runCLI(t, runOpts{}, "check", "ca.cer", "--at", "x", "--output", "json")
	if doc := jsonDoc(t, r); doc["error"] == nil || r.code != exitUsage {
		t.Errorf("%s", r)
	}
}

func TestCheckStdinAndPKCS12(t *testing.T) {
	l, err := lab.New(lab.Options{Now: fixedNow.AddDate(0, -1, 0), KeyCache: "check"})
	if err != nil {
		t.Fatal(err)
	}
	cred := l.Credential(lab.RoleGAPClient)
	dir := t.TempDir()
	t.Chdir(dir)
	r := runCLI(t, runOpts{stdin: string(certPEM(cred.Cert))}, "check", "-", "--output", "json")
	doc := jsonDoc(t, r)
	if got := checkFindings(t, doc, 0, 0); got["lab-certificate"] != "info" || r.code != exitOK {
		t.Errorf("stdin: %v\n%s", got, r)
	}

	pfx, err := pkcs12.Modern2023.Encode(cred.Key, cred.Cert, cred.Chain, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, "gap-client.p12", pfx)
	r = runCLI(t, runOpts{}, "check", "gap-client.p12")
	if r.code != exitUnknown || !strings.Contains(r.stderr, "password-protected") || !strings.Contains(r.stderr, "--passphrase-file") {
		t.Errorf("locked PKCS#12:\n%s", r)
	}
	env := map[string]string{"P12_PASS": "s3cret"}
	r = runCLI(t, runOpts{env: env}, "check", "gap-client.p12", "--passphrase-env", "P12_PASS", "--output", "json")
	doc = jsonDoc(t, r)
	certs := doc["files"].([]any)[0].(map[string]any)["certificates"].([]any)
	if r.code != exitOK || len(certs) != 3 || certs[0].(map[string]any)["role"] != "gap-client" {
		t.Errorf("opened PKCS#12: %d certificates\n%s", len(certs), r)
	}
	env["P12_PASS"] = "wrong"
	r = runCLI(t, runOpts{env: env}, "check", "gap-client.p12", "--passphrase-env", "P12_PASS")
	if r.code != exitUnknown || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Errorf("wrong passphrase:\n%s", r)
	}
}

// --lab takes the anchors from a lab on disk; --fetch follows the AIA caIssuers URL
// to the lab's CA handler on loopback.
func TestCheckLabAndFetch(t *testing.T) {
	var l *lab.Lab
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lab.Handler(l, func() time.Time { return fixedNow }, nil).ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	var err error
	l, err = lab.New(lab.Options{Now: fixedNow.AddDate(0, -1, 0), KeyCache: "check", URL: srv.URL + "/", Dir: filepath.Join(dir, "lab")})
	if err != nil {
		t.Fatal(err)
	}
	cred := l.Credential(lab.RoleGAPServer)
	writeTestFile(t, filepath.Join(dir, "gap.pem"), certPEM(cred.Cert))
	key, _ := certio.MarshalPrivateKeyPEM(cred.Key)
	writeTestFile(t, filepath.Join(dir, "gap.key"), key)
	t.Chdir(dir)

	r := runCLI(t, runOpts{}, "check", "gap.pem", "--lab", "lab", "--key", "gap.key", "--fqdn", l.FQDN(), "--output", "json")
	if got := checkFindings(t, jsonDoc(t, r), 0, 0); !maps.Equal(got, map[string]string{"lab-certificate": "info"}) || r.code != exitOK {
		t.Errorf("--lab: %v\n%s", got, r)
	}
	r = runCLI(t, runOpts{}, "check", "gap.pem", "--lab", "lab", "--hierarchy", "production", "--output", "json")
	if got := checkFindings(t, jsonDoc(t, r), 0, 0); got["hierarchy-mix"] != "fail" || got["chain-untrusted"] != "fail" {
		t.Errorf("--hierarchy production: %v", got)
	}
	r = runCLI(t, runOpts{}, "check", "gap.pem", "--lab", "lab", "--hierarchy", "lab", "--output", "json")
	if got := checkFindings(t, jsonDoc(t, r), 0, 0); !maps.Equal(got, map[string]string{"lab-certificate": "info"}) {
		t.Errorf("--hierarchy lab: %v", got)
	}

	root := l.CA(lab.CAIGCRoot).Cert
	writeTestFile(t, filepath.Join(dir, "root.pem"), certPEM(root))
	r = runCLI(t, runOpts{}, "check", "gap.pem", "--ca", "root.pem", "--output", "json")
	if got := checkFindings(t, jsonDoc(t, r), 0, 0); got["chain-incomplete"] != "fail" {
		t.Errorf("without --fetch: %v", got)
	}
	r = runCLI(t, runOpts{}, "check", "gap.pem", "--ca", "root.pem", "--fetch", "--output", "json")
	got := checkFindings(t, jsonDoc(t, r), 0, 0)
	if got["aia-fetched"] != "info" || got["chain-incomplete"] != "" || r.code != exitOK {
		t.Errorf("--fetch: %v\n%s", got, r)
	}
}

// Info lines said in the same words of several certificates are printed once,
// with their count; warnings and failures never are.
func TestFindingTextCollapsesRepeatedInfos(t *testing.T) {
	info := "  INFO lab-certificate: made by the lab"
	warn := "  WARN expiring: soon"
	got := findingText([]findingBlock{
		{header: "a.pem: a", infos: []string{info}},
		{header: "b.pem: b", lines: []string{warn}, infos: []string{info, "  INFO chain-root-missing: no root"}},
		{header: "c.pem: c", lines: []string{warn}, infos: []string{info}},
	})
	want := []string{"b.pem: b", warn, "  INFO chain-root-missing: no root", "c.pem: c", warn,
		"several certificates:", "  INFO lab-certificate (3 certificates): made by the lab"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := findingText([]findingBlock{{header: "a.pem: a", infos: []string{info}}}); len(got) != 2 || got[1] != info {
		t.Errorf("a single info stays with its certificate: %q", got)
	}
}
