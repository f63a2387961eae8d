package commands

import (
	"crypto/x509"
	"encoding/asn1"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

const p12Password = "s3cret-Pass"

// bundleDir makes a test directory holding the PKI's files, and moves into it
// so that the rendered paths are relative and the golden files stable.
func bundleDir(t *testing.T, p *bundlePKI) string {
	t.Helper()
	dir := t.TempDir()
	put(t, dir, "root.pem", certsPEM(p.root))
	put(t, dir, "chain.pem", certsPEM(p.inter))
	put(t, dir, "client.pem", certsPEM(p.client))
	put(t, dir, "client.key", keyPEM(t, p.clientKey))
	put(t, dir, "server.pem", certsPEM(p.server))
	put(t, dir, "server.key", keyPEM(t, p.serverKey))
	put(t, dir, "pw", []byte(p12Password+"\n"))
	put(t, dir, "newpw", []byte("another-Secret\n"))
	put(t, dir, "wrongpw", []byte("not-the-password\n"))
	t.Chdir(dir)
	return dir
}

// verifyFullChain has `openssl verify -untrusted` check a full chain file: its
// first certificate against the root, with the rest as the untrusted chain.
func verifyFullChain(t *testing.T, dir, fullchain string, extra ...string) {
	t.Helper()
	certs, err := certio.Loader{}.LoadCertificates(filepath.Join(dir, fullchain))
	if err != nil {
		t.Fatal(err)
	}
	leaf := put(t, dir, "verify-leaf.pem", certsPEM(certs[0]))
	defer os.Remove(leaf)
	args := append([]string{"verify", "-show_chain", "-CAfile", "root.pem", "-untrusted", fullchain}, extra...)
	out := runTool(t, "openssl", append(args, leaf)...)
	if !strings.Contains(out, "verify-leaf.pem: OK") {
		t.Fatalf("openssl verify:\n%s", out)
	}
}

// keytoolEntry is one entry of `keytool -list` in the en-US locale.
var keytoolEntry = regexp.MustCompile(`(?m)^(.+), [A-Z][a-z]{2} \d{1,2}, \d{4}, (PrivateKeyEntry|trustedCertEntry),\s*$`)

func keytoolAliases(t *testing.T, path, password string) map[string]string {
	t.Helper()
	out := runTool(t, "keytool", "-J-Duser.language=en", "-J-Duser.country=US", "-list", "-storetype", "PKCS12", "-keystore", path, "-storepass", password)
	got := map[string]string{}
	for _, m := range keytoolEntry.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	return got
}

func TestBundleBuild(t *testing.T) {
	p := newBundlePKI(t)
	dir := bundleDir(t, p)
	// The root comes before the leaf in the file: order does not matter.
	put(t, dir, "cert.pem", certsPEM(p.root, p.client))
	r := runCLI(t, runOpts{}, "bundle", "build", "--cert", "cert.pem", "--chain", "chain.pem", "--key", "client.key",
		"--p12", "client.p12", "--passphrase-file", "pw", "--expect", "psp-client")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "bundle-build.txt", scrub(r.stdout, dir))
	if !strings.Contains(r.stdout, `keytool alias "1"`) {
		t.Errorf("the output does not say which alias keytool shows:\n%s", r.stdout)
	}
	verifyFullChain(t, dir, "fullchain.pem")
	full, _ := certio.Loader{}.LoadCertificates("fullchain.pem")
	if len(full) != 2 || !full[0].Equal(p.client) || !full[1].Equal(p.inter) {
		t.Fatalf("fullchain.pem holds %d certificates, want the leaf then the intermediate", len(full))
	}
	if m := mode(t, "client.p12"); m != 0o600 {
		t.Errorf("PKCS#12 mode %o, want 600", m)
	}
	out := runTool(t, "openssl", "pkcs12", "-info", "-noout", "-in", "client.p12", "-passin", "file:pw")
	if !strings.Contains(out, "AES-256-CBC") {
		t.Errorf("modern profile, openssl says:\n%s", out)
	}
	if got := keytoolAliases(t, "client.p12", p12Password); len(got) != 1 || got["1"] != "PrivateKeyEntry" {
		t.Errorf("keytool lists %v, want the key entry under alias 1", got)
	}

	// The compat profile, as JSON, with the root included.
	r = runCLI(t, runOpts{}, "bundle", "build", "--cert", "cert.pem", "--chain", "chain.pem", "--key", "client.key", "--include-root",
		"--out", "compat-fullchain.pem", "--p12", "compat.p12", "--p12-profile", "compat", "--passphrase-file", "pw", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	doc := jsonDoc(t, r)
	golden(t, "bundle-build.json", scrub(r.stdout, dir))
	if doc["root_included"] != true || doc["pkcs12"].(map[string]any)["profile"] != "compat" {
		t.Errorf("JSON: %v", doc)
	}
	full, _ = certio.Loader{}.LoadCertificates("compat-fullchain.pem")
	if len(full) != 3 || !full[2].Equal(p.root) {
		t.Errorf("--include-root: %d certificates", len(full))
	}
	out = runTool(t, "openssl", "pkcs12", "-info", "-noout", "-in", "compat.p12", "-passin", "file:pw")
	if !strings.Contains(out, "pbeWithSHA1And3-KeyTripleDES-CBC") {
		t.Errorf("compat profile, openssl says:\n%s", out)
	}
	if got := keytoolAliases(t, "compat.p12", p12Password); got["1"] != "PrivateKeyEntry" {
		t.Errorf("keytool lists %v", got)
	}
}

// TestBundleBuildRealTESTSample completes the chain of the real IGC-Santé TEST
// certificate offline; it expired in 2024, so it is bundled with a FAIL.
func TestBundleBuildRealTESTSample(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "TEST-ORG-SIGN-2021.pem", readBytes(t, referenceFile("samples/TEST-ORG-SIGN-2021.pem")))
	root, err := x509.ParseCertificate(readBytes(t, referenceFile("ACR-EL-TEST.cer")))
	if err != nil {
		t.Fatal(err)
	}
	put(t, dir, "root.pem", certsPEM(root))
	t.Chdir(dir)
	r := runCLI(t, runOpts{}, "bundle", "build", "--cert", "TEST-ORG-SIGN-2021.pem")
	if r.code != 1 {
		t.Fatalf("an expired certificate is bundled with exit 1:\n%s", r)
	}
	golden(t, "bundle-build-test-sample.txt", r.stdout)
	for _, want := range []string{"IGC-Santé TEST", "embedded ACI-EL-ORG-TEST.cer", "FAIL expired"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	verifyFullChain(t, dir, "fullchain.pem", "-attime", "1700000000")
}

// openSSLP12 packages the client credential with `openssl pkcs12 -export`.
func openSSLP12(t *testing.T, name string, extra ...string) string {
	t.Helper()
	args := append([]string{"pkcs12", "-export", "-in", "client.pem", "-inkey", "client.key", "-certfile", "chain.pem",
		"-out", name, "-passout", "file:pw"}, extra...)
	runTool(t, "openssl", args...)
	return name
}

// referenceFile is a real IGC-Santé file of the repository's testdata/reference.
func referenceFile(name string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(testdataDir)), "testdata", "reference", "igc-sante", name)
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestBundleIntakeFilesOfOtherTools(t *testing.T) {
	p := newBundlePKI(t)
	bundleDir(t, p)
	files := map[string]string{
		"default.p12": openSSLP12(t, "default.p12"),
		"legacy.p12":  openSSLP12(t, "legacy.p12", "-legacy"),
		"3des.p12":    openSSLP12(t, "3des.p12", "-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"),
	}
	// A file whose first certificate bag is the intermediate, not the leaf.
	shuffled, err := pkcs12.LegacyDES.Encode(p.clientKey, p.inter, []*x509.Certificate{p.client}, p12Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, first, _, err := pkcs12.DecodeChain(shuffled, p12Password); err != nil || first.Equal(p.client) {
		t.Fatalf("the shuffled file does not put the intermediate first: %v", err)
	}
	files["shuffled.p12"] = put(t, ".", "shuffled.p12", shuffled)
	info := runTool(t, "openssl", "pkcs12", "-info", "-noout", "-legacy", "-in", "legacy.p12", "-passin", "file:pw")
	if !strings.Contains(info, "RC2") {
		t.Fatalf("the -legacy file is not RC2-encrypted:\n%s", info)
	}
	for name := range files {
		t.Run(name, func(t *testing.T) {
			out := strings.TrimSuffix(name, ".p12")
			r := runCLI(t, runOpts{}, "bundle", "intake", name, "--out-dir", out, "--passphrase-file", "pw", "--expect", "psp-client")
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			if got := listDir(t, out); !slices.Equal(got, []string{"cert.pem", "chain.pem", "fullchain.pem", "key.pem", "manifest.json"}) {
				t.Errorf("files %v", got)
			}
			cert, err := certio.Loader{}.LoadCertificates(filepath.Join(out, "cert.pem"))
			if err != nil || len(cert) != 1 || !cert[0].Equal(p.client) {
				t.Fatalf("cert.pem is not the leaf: %v", err)
			}
			key, err := certio.Loader{}.LoadPrivateKey(filepath.Join(out, "key.pem"), nil)
			if err != nil || !certio.KeyMatches(cert[0], key.Signer) {
				t.Fatalf("key.pem is not the leaf's key: %v", err)
			}
			if m := mode(t, filepath.Join(out, "key.pem")); m != 0o600 {
				t.Errorf("key.pem mode %o", m)
			}
			chain, err := certio.Loader{}.LoadCertificates(filepath.Join(out, "chain.pem"))
			if err != nil || len(chain) != 1 || !chain[0].Equal(p.inter) {
				t.Errorf("chain.pem: %v", err)
			}
			verifyFullChain(t, ".", filepath.Join(out, "fullchain.pem"))
		})
	}
}

func TestBundleIntakeGolden(t *testing.T) {
	p := newBundlePKI(t)
	dir := bundleDir(t, p)
	openSSLP12(t, "client.p12")
	r := runCLI(t, runOpts{}, "bundle", "intake", "client.p12", "--out-dir", "gap", "--expect", "psp-client",
		"--encrypt-key", "--passphrase-file", "pw", "--new-passphrase-file", "newpw")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "bundle-intake.txt", scrub(r.stdout, dir))
	data := readBytes(t, "gap/key.pem")
	if !strings.Contains(string(data), "ENCRYPTED PRIVATE KEY") {
		t.Fatal("--encrypt-key wrote a plain key")
	}
	runTool(t, "openssl", "pkey", "-in", "gap/key.pem", "-passin", "file:newpw", "-noout")
	manifest := readBytes(t, "gap/manifest.json")
	for _, want := range []string{`"name": "key.pem"`, `"role": "leaf"`, `"subject": "C=FR, ST=Côte-d'Or (21), O=CHU Exemple, OU=3123456789012345, CN=Client_Diapason_PSP"`,
		`"not_after": "2029-10-27T12:00:00Z"`, `"created": "2026-11-27T12:00:00Z"`} {
		if !strings.Contains(string(manifest), want) {
			t.Errorf("manifest.json lacks %s:\n%s", want, manifest)
		}
	}
	r = runCLI(t, runOpts{}, "bundle", "intake", "client.p12", "--out-dir", "json", "--passphrase-file", "pw", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	jsonDoc(t, r)
	golden(t, "bundle-intake.json", scrub(r.stdout, dir))

	// The server certificate, checked against the FQDN the terminals use.
	runTool(t, "openssl", "pkcs12", "-export", "-in", "server.pem", "-inkey", "server.key", "-certfile", "chain.pem", "-out", "server.p12", "-passout", "file:pw")
	r = runCLI(t, runOpts{}, "bundle", "intake", "server.p12", "--out-dir", "srv", "--passphrase-file", "pw", "--expect", "tpe-server", "--fqdn", "GAP2.chu-exemple.fr")
	if r.code != 1 || !strings.Contains(r.stdout, `FAIL cn-mismatch: the CN is "gap.chu-exemple.fr" but the terminals are configured with "gap2.chu-exemple.fr"`) {
		t.Errorf("a CN that is not the FQDN:\n%s", r)
	}
	if len(listDir(t, "srv")) != 5 {
		t.Errorf("a certificate with findings is still taken apart: %v", listDir(t, "srv"))
	}
}

// toBER re-encodes the outer SEQUENCE with an indefinite length, as Java and
// Windows stream PKCS#12 files.
func toBER(t *testing.T, der []byte) []byte {
	t.Helper()
	var rv asn1.RawValue
	if _, err := asn1.Unmarshal(der, &rv); err != nil {
		t.Fatal(err)
	}
	return slices.Concat([]byte{der[0], 0x80}, rv.Bytes, []byte{0, 0})
}

// TestBundleBadInputs runs every refusal: its exit code, its message, and no
// file written.
func TestBundleBadInputs(t *testing.T) {
	p := newBundlePKI(t)
	dir := bundleDir(t, p)
	openSSLP12(t, "client.p12")
	put(t, dir, "truncated.p12", readBytes(t, "client.p12")[:300])
	put(t, dir, "ber.p12", toBER(t, readBytes(t, "client.p12")))
	sample := readBytes(t, referenceFile("samples/TEST-ORG-SIGN-2021.pem"))
	put(t, dir, "test-sample.pem", sample)
	put(t, dir, "ACI-EL-ORG.cer", readBytes(t, referenceFile("ACI-EL-ORG.cer")))
	put(t, dir, "fullchain.pem", []byte("already here\n"))
	os.Mkdir("gap", 0o700)
	put(t, dir, "gap/key.pem", []byte("already here\n"))
	put(t, dir, "both.pem", certsPEM(p.client, p.server))
	before := listDir(t, dir)

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"wrong password", []string{"intake", "client.p12", "--out-dir", "out", "--passphrase-file", "wrongpw"}, 3,
			[]string{"error: client.p12: wrong password: the PKCS#12 file does not open with it; nothing was written", "hint: the file is intact"}},
		{"truncated", []string{"intake", "truncated.p12", "--out-dir", "out", "--passphrase-file", "pw"}, 3,
			[]string{"error: truncated.p12: truncated DER"}},
		{"BER", []string{"intake", "ber.p12", "--out-dir", "out", "--passphrase-file", "pw"}, 3,
			[]string{"BER-encoded PKCS#12", "hint: re-encode it with OpenSSL", "openssl pkcs12 -in ber.p12 -nodes -out ber.p12.pem"}},
		{"existing intake output", []string{"intake", "client.p12", "--out-dir", "gap", "--passphrase-file", "pw"}, 2,
			[]string{"error: gap/key.pem: already exists", "hint: add --force"}},
		{"key mismatch", []string{"build", "--cert", "client.pem", "--chain", "chain.pem", "--key", "server.key", "--out", "new.pem"}, 1,
			[]string{`error: the private key server.key is not the key of the certificate "C=FR, ST=Côte-d'Or (21), O=CHU Exemple, OU=3123456789012345, CN=Client_Diapason_PSP"; nothing was written`,
				"hint: were --cert and --key swapped"}},
		{"key as --cert", []string{"build", "--cert", "client.key", "--key", "client.pem", "--out", "new.pem"}, 3,
			[]string{"error: client.key: expected a certificate, found a PRIVATE KEY block", "hint: --cert names a private key: were --cert and --key swapped?"}},
		{"missing issuer", []string{"build", "--cert", "client.pem", "--out", "new.pem"}, 1,
			[]string{`the issuer of "Client_Diapason_PSP", "C=FR, O=Lab PKI, CN=Lab Issuing CA", was neither given nor embedded; add lab-issuing-ca.cer (http://127.0.0.1:1/lab-issuing-ca.cer) with --chain; nothing was written`,
				"hint: download http://127.0.0.1:1/lab-issuing-ca.cer and add it with --chain, or run again with --fetch"}},
		{"mixed hierarchy", []string{"build", "--cert", "test-sample.pem", "--chain", "ACI-EL-ORG.cer", "--out", "new.pem"}, 1,
			[]string{`"testsign.test.asipsante.fr"`, "IGC-Santé TEST", `"AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"`, "IGC-Santé production", "nothing was written",
				"hint: TEST and production certificates never chain to each other"}},
		{"existing build output", []string{"build", "--cert", "client.pem", "--chain", "chain.pem"}, 2,
			[]string{"error: fullchain.pem: already exists", "hint: add --force"}},
		{"CA as leaf", []string{"build", "--cert", "root.pem", "--out", "new.pem"}, 1,
			[]string{`error: root.pem: "C=FR, O=Lab PKI, CN=Lab Root CA" is a CA certificate`, "hint: --cert is the certificate of the server or client"}},
		{"two leaves", []string{"build", "--cert", "both.pem", "--out", "new.pem"}, 2, []string{"2 end-entity certificates"}},
		{"p12 without key", []string{"build", "--cert", "client.pem", "--p12", "x.p12", "--out", "new.pem"}, 2, []string{"--p12 needs the private key"}},
		{"p12 profile", []string{"build", "--cert", "client.pem", "--key", "client.key", "--p12", "x.p12", "--p12-profile", "modern2026", "--out", "new.pem"}, 2,
			[]string{`unknown PKCS#12 profile "modern2026"`}},
		{"non-BMP password", []string{"build", "--cert", "client.pem", "--chain", "chain.pem", "--key", "client.key", "--p12", "x.p12", "--passphrase-env", "PW", "--out", "new.pem"}, 2,
			[]string{"unusable PKCS#12 password", "outside the Basic Multilingual Plane"}},
		{"tpe-server without FQDN", []string{"intake", "client.p12", "--expect", "tpe-server", "--out-dir", "out"}, 2, []string{"--expect tpe-server needs --fqdn"}},
		{"leaf in truststore", []string{"truststore", "--ca", "root.pem", "--ca", "client.pem", "--out", "new.pem"}, 1,
			[]string{`error: client.pem: "C=FR, ST=Côte-d'Or (21), O=CHU Exemple, OU=3123456789012345, CN=Client_Diapason_PSP" is not a CA certificate`, "hint: a truststore holds the CAs"}},
		{"extra argument", []string{"build", "--cert", "client.pem", "extra"}, 2, []string{`unexpected argument "extra"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, runOpts{env: map[string]string{"PW": "clé 🔑"}}, append([]string{"bundle"}, tc.args...)...)
			if r.code != tc.code || r.stdout != "" {
				t.Errorf("exit %d, want %d (and nothing on stdout)\n%s", r.code, tc.code, r)
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q\n%s", want, r)
				}
			}
			if got := listDir(t, dir); !slices.Equal(got, before) {
				t.Errorf("files written: %v, before %v", got, before)
			}
			if got := listDir(t, "gap"); !slices.Equal(got, []string{"key.pem"}) {
				t.Errorf("gap/ holds %v", got)
			}
			if string(readBytes(t, "fullchain.pem")) != "already here\n" {
				t.Error("fullchain.pem was replaced")
			}
		})
	}

	// With --output json, the refusal is the one JSON document.
	r := runCLI(t, runOpts{}, "bundle", "intake", "client.p12", "--out-dir", "out", "--passphrase-file", "wrongpw", "--output", "json")
	doc := jsonDoc(t, r)
	if e, _ := doc["error"].(map[string]any); r.code != 3 || e["exit_code"] != float64(3) || !strings.Contains(e["message"].(string), "wrong password") {
		t.Errorf("JSON error document:\n%s", r)
	}
}

func TestBundleTruststore(t *testing.T) {
	p := newBundlePKI(t)
	dir := bundleDir(t, p)
	other := newBundlePKI(t) // another CA family, standing for GeoTrust beside IngeTrust
	put(t, dir, "other.pem", certsPEM(other.inter, other.root))
	r := runCLI(t, runOpts{}, "bundle", "truststore", "--ca", "root.pem", "--ca", "other.pem", "--ca", "root.pem", "--p12", "trust.p12", "--passphrase-file", "pw")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "bundle-truststore.txt", scrub(r.stdout, dir))
	certs, err := certio.Loader{}.LoadCertificates("trust.pem")
	if err != nil || len(certs) != 3 {
		t.Fatalf("trust.pem: %d certificates, %v", len(certs), err)
	}
	runTool(t, "openssl", "pkcs12", "-info", "-noout", "-in", "trust.p12", "-passin", "file:pw")
	got := keytoolAliases(t, "trust.p12", p12Password)
	want := map[string]string{"lab-root-ca": "trustedCertEntry", "lab-issuing-ca": "trustedCertEntry", "lab-root-ca-2": "trustedCertEntry"}
	if len(got) != len(want) {
		t.Errorf("keytool lists %v, want %v", got, want)
	}
	for a, kind := range want {
		if got[a] != kind {
			t.Errorf("keytool lists %v, want %v", got, want)
		}
	}
	r = runCLI(t, runOpts{}, "bundle", "truststore", "--ca", "root.pem", "--ca", "server.pem", "--allow-leaf", "--out", "pinned.pem", "--output", "json")
	doc := jsonDoc(t, r)
	golden(t, "bundle-truststore.json", scrub(r.stdout, dir))
	if r.code != 4 || doc["status"] != "warn" {
		t.Errorf("--allow-leaf pins with a warning:\n%s", r)
	}
}

// TestBundleBuildFetch follows the AIA caIssuers URL over HTTP with --fetch.
func TestBundleBuildFetch(t *testing.T) {
	p := newBundlePKI(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/issuing.cer" {
			http.NotFound(w, r)
			return
		}
		w.Write(p.inter.Raw)
	}))
	defer srv.Close()
	tmpl := bundleLeaf("gap.chu-exemple.fr", 20, x509.ExtKeyUsageServerAuth)
	tmpl.DNSNames = []string{"gap.chu-exemple.fr"}
	tmpl.IssuingCertificateURL = []string{srv.URL + "/issuing.cer"}
	leaf := testpki.Sign(t, tmpl, p.inter, p.serverKey.Public(), p.interKey)
	dir := bundleDir(t, p)
	put(t, dir, "aia.pem", certsPEM(leaf))
	r := runCLI(t, runOpts{}, "bundle", "build", "--cert", "aia.pem", "--out", "no-fetch.pem")
	if r.code != 1 || !strings.Contains(r.stderr, "or run again with --fetch") {
		t.Errorf("without --fetch:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "bundle", "build", "--cert", "aia.pem", "--fetch", "--expect", "tpe-server", "--fqdn", "gap.chu-exemple.fr")
	if r.code != 0 || !strings.Contains(r.stdout, "downloaded from "+srv.URL+"/issuing.cer") || !strings.Contains(r.stdout, "aia-fetched") {
		t.Fatalf("--fetch:\n%s", r)
	}
	verifyFullChain(t, dir, "fullchain.pem")
}

// An encrypted key is unlocked by --passphrase-*; the PKCS#12 file is then
// protected by --new-passphrase-*, as DESIGN §3 says.
func TestBundleBuildEncryptedKey(t *testing.T) {
	p := newBundlePKI(t)
	dir := bundleDir(t, p)
	runTool(t, "openssl", "pkcs8", "-topk8", "-v2", "aes256", "-in", "client.key", "-out", "client-enc.key", "-passout", "file:pw")
	r := runCLI(t, runOpts{}, "bundle", "build", "--cert", "client.pem", "--chain", "chain.pem", "--key", "client-enc.key", "--p12", "c.p12", "--passphrase-file", "pw")
	if r.code != 2 || !strings.Contains(r.stderr, "a passphrase is needed for the PKCS#12 file c.p12") || !strings.Contains(r.stderr, "--new-passphrase-file") {
		t.Errorf("no secret for the PKCS#12 file:\n%s", r)
	}
	if got := listDir(t, dir); slices.Contains(got, "fullchain.pem") || slices.Contains(got, "c.p12") {
		t.Errorf("files written: %v", got)
	}
	r = runCLI(t, runOpts{}, "bundle", "build", "--cert", "client.pem", "--chain", "chain.pem", "--key", "client-enc.key", "--p12", "c.p12",
		"--passphrase-file", "pw", "--new-passphrase-file", "newpw")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	runTool(t, "openssl", "pkcs12", "-info", "-noout", "-in", "c.p12", "-passin", "file:newpw")
}
