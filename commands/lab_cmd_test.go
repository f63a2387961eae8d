package commands

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/csr"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/lab"
)

// serialRun matches the lab's 16-byte serial numbers.
var serialRun = regexp.MustCompile(`\b[0-9A-F]{32}\b`)

// scrubLab replaces what changes from one lab to the next.
func scrubLab(s, dir string) string {
	return serialRun.ReplaceAllString(scrub(s, dir), "$$SERIAL")
}

// labDir makes a lab with `lab init` in a new temporary directory.
func labDir(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	if r := runCLI(t, runOpts{}, append([]string{"lab", "init", dir}, args...)...); r.code != 0 {
		t.Fatalf("lab init: %s", r)
	}
	return dir
}

// labCSR writes a CSR for the profile, made by the csr package as `csr` makes them.
func labCSR(t *testing.T, dir, name string, profile diapason.ProfileID, fqdn string) string {
	t.Helper()
	key, err := lab.CachedKey("cmd-csr", 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := csr.Create(csr.Request{Profile: diapason.MustProfile(profile), FQDN: fqdn, Key: key,
		Subject: csr.Subject{Organisation: "CHU Exemple", StructureID: "3123456789012345"}})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func loadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	certs, err := certio.Loader{}.LoadCertificates(path)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func runOpenSSL(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// labAttime is the test clock as openssl's -attime wants it.
var labAttime = strconv.FormatInt(fixedNow.Add(time.Hour).Unix(), 10)

func TestLabInitGolden(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // relative paths keep the golden files stable
	r := runCLI(t, runOpts{}, "lab", "init", "lab")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "lab-init.txt", scrubLab(r.stdout, dir))

	r = runCLI(t, runOpts{}, "lab", "init", "lab2", "--output", "json", "--fqdn", "GAP.Hôpital-Exemple.fr", "--url", "http://127.0.0.1:9999/pki")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	doc := jsonDoc(t, r)
	golden(t, "lab-init.json", scrubLab(r.stdout, dir))
	if doc["fqdn"] != "gap.xn--hpital-exemple-0ob.fr" || doc["url"] != "http://127.0.0.1:9999/pki/" {
		t.Errorf("fqdn %v url %v", doc["fqdn"], doc["url"])
	}

	l, err := lab.Open("lab2")
	if err != nil {
		t.Fatal(err)
	}
	if c := l.Credential(lab.RoleGAPServer).Cert; c.Subject.CommonName != "gap.xn--hpital-exemple-0ob.fr" ||
		!strings.HasPrefix(c.OCSPServer[0], "http://127.0.0.1:9999/pki/") {
		t.Errorf("gap-server CN %q OCSP %v", c.Subject.CommonName, c.OCSPServer)
	}
	for _, n := range lab.CANames() {
		if diapason.HierarchyOf(l.CA(n).Cert) != diapason.HierarchyLab {
			t.Errorf("%s is not marked lab", n)
		}
	}
	for _, role := range lab.Roles() {
		if diapason.HierarchyOf(l.Credential(role).Cert) != diapason.HierarchyLab {
			t.Errorf("%s is not marked lab", role)
		}
		if m := mode(t, filepath.Join("lab2", string(role)+".key")); m != 0o600 {
			t.Errorf("%s key mode %o", role, m)
		}
	}
}

func TestLabInitRefusals(t *testing.T) {
	base := t.TempDir()
	t.Chdir(base)
	existing := labDir(t)
	notes := filepath.Join(base, "notes")
	if err := os.MkdirAll(notes, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notes, "todo.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lab", "init", existing}, 2, "already holds a lab"},
		{[]string{"lab", "init", notes}, 2, "not empty"},
		{[]string{"lab", "init", filepath.Join(notes, "todo.txt")}, 2, "is a file"},
		{[]string{"lab", "init"}, 2, "one directory"},
		{[]string{"lab", "init", "x", "--url", "https://127.0.0.1/"}, 2, "use http://"},
		{[]string{"lab", "init", "x", "--ca-key-size", "3072"}, 2, "--ca-key-size 3072"},
		{[]string{"lab", "init", "x", "--fqdn", "*.chu.fr"}, 2, "wildcard"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit %d and %q\n%s", tc.args, tc.code, tc.want, r)
		}
	}
	if !strings.Contains(runCLI(t, runOpts{}, "lab", "init", notes).stderr, "hint: choose a new or empty directory, or add --force") {
		t.Error("no --force hint")
	}
	before, _ := os.ReadFile(filepath.Join(existing, "igc-root.key"))
	r := runCLI(t, runOpts{}, "lab", "init", existing, "--force", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	doc := jsonDoc(t, r)
	backups, _ := doc["backups"].([]any)
	if len(backups) != 32 {
		t.Errorf("%d backups, want one per replaced file (32)", len(backups))
	}
	if got, _ := os.ReadFile(filepath.Join(existing, "igc-root.key.20261127T120000Z.bak")); !bytes.Equal(got, before) {
		t.Error("the replaced CA key was not kept")
	}
}

func TestLabSign(t *testing.T) {
	dir := labDir(t)
	work := t.TempDir()
	server := labCSR(t, work, "tpe-server.csr", diapason.TPEServer, "gap.chu-exemple.fr")
	r := runCLI(t, runOpts{}, "lab", "sign", server, "--lab", dir, "--profile", "tpe-server", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	doc := jsonDoc(t, r)
	out := filepath.Join(work, "tpe-server.pem")
	if doc["certificate"] != out || doc["exact_term"] != true || doc["issuer_ca"] != "igc-org" {
		t.Errorf("result %v", doc)
	}
	c := loadCert(t, out)
	if !strings.Contains(doc["pem"].(string), "BEGIN CERTIFICATE") {
		t.Error("the certificate is not printed")
	}
	// Exactly 3 calendar years, from now.
	if !c.NotBefore.Equal(fixedNow) || !c.NotAfter.Equal(fixedNow.AddDate(3, 0, 0)) {
		t.Errorf("validity %v – %v", c.NotBefore, c.NotAfter)
	}
	// The profile's extensions, and the IGC-Santé ones.
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) ||
		!slices.Equal(c.DNSNames, []string{"gap.chu-exemple.fr"}) || c.Subject.CommonName != "gap.chu-exemple.fr" {
		t.Errorf("KU %b EKU %v SAN %v CN %q", c.KeyUsage, c.ExtKeyUsage, c.DNSNames, c.Subject.CommonName)
	}
	hasExt := func(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
		return slices.ContainsFunc(c.Extensions, func(e pkix.Extension) bool { return e.Id.Equal(oid) })
	}
	for _, oid := range []asn1.ObjectIdentifier{diapason.IGCSantePrivateExtensionOID, {2, 5, 29, 16}, {2, 5, 29, 31}, {1, 3, 6, 1, 5, 5, 7, 1, 1}, {2, 5, 29, 32}} {
		if !hasExt(c, oid) {
			t.Errorf("extension %v missing", oid)
		}
	}
	if diapason.HierarchyOf(c) != diapason.HierarchyLab {
		t.Error("not marked lab")
	}
	out2, code := runOpenSSL(t, "verify", "-attime", labAttime, "-purpose", "sslserver", "-CAfile", filepath.Join(dir, "igc-root.pem"),
		"-untrusted", filepath.Join(dir, "igc-org.pem"), out)
	if code != 0 {
		t.Errorf("openssl verify: %s", out2)
	}

	client := labCSR(t, work, "client.csr", diapason.PSPClient, "")
	r = runCLI(t, runOpts{}, "lab", "sign", client, "--lab", dir, "--profile", "psp-client")
	if r.code != 0 || !strings.Contains(r.stdout, "3y (exactly the IGC-Santé term)") {
		t.Fatalf("%s", r)
	}
	if c := loadCert(t, filepath.Join(work, "client.pem")); !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) ||
		c.KeyUsage != x509.KeyUsageDigitalSignature || len(c.DNSNames) != 0 || !c.NotAfter.Equal(c.NotBefore.AddDate(3, 0, 0)) {
		t.Errorf("psp-client certificate: KU %b EKU %v SAN %v", c.KeyUsage, c.ExtKeyUsage, c.DNSNames)
	}

	// Never replaced without --force; with it, the old one is kept.
	r = runCLI(t, runOpts{}, "lab", "sign", server, "--lab", dir, "--profile", "tpe-server")
	if r.code != 2 || !strings.Contains(r.stderr, "already exists") {
		t.Errorf("existing output:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "lab", "sign", server, "--lab", dir, "--profile", "tpe-server", "--force")
	if r.code != 0 || !strings.Contains(r.stdout, "kept the replaced file as "+out+".20261127T120000Z.bak") {
		t.Errorf("--force:\n%s", r)
	}
	// The lab records what it signed: its OCSP answers good for them.
	l, err := lab.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(l.IssuedCertificates()); n != 10 {
		t.Errorf("%d certificates in the lab index, want 7 + 3 signed", n)
	}
}

func TestLabSignValidity(t *testing.T) {
	dir := labDir(t)
	work := t.TempDir()
	req := labCSR(t, work, "c.csr", diapason.PSPClient, "")
	day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	for _, tc := range []struct {
		name      string
		args      []string
		nb, na    time.Time
		exact     bool
		wantNotes string
	}{
		{"expiring in 10 days", []string{"--expires-in", "10d"}, fixedNow.AddDate(-3, 0, 10), fixedNow.AddDate(0, 0, 10), true, "expires in 10 days, inside the 30d warning window"},
		{"ending on a date", []string{"--not-after", "2026-12-01"}, day("2023-12-01"), day("2026-12-01"), true, "inside the 30d warning window"},
		{"expired", []string{"--not-before", "2020-01-01", "--not-after", "2021-01-01T00:00:00Z"}, day("2020-01-01"), day("2021-01-01"), false, "already expired"},
		{"short", []string{"--validity", "90d"}, fixedNow, fixedNow.AddDate(0, 0, 90), false, "not the 3y term"},
		{"future", []string{"--not-before", "2027-01-01"}, day("2027-01-01"), day("2030-01-01"), true, "not valid yet"},
	} {
		out := filepath.Join(work, strings.ReplaceAll(tc.name, " ", "-")+".pem")
		r := runCLI(t, runOpts{}, append([]string{"lab", "sign", req, "--lab", dir, "--profile", "psp-client", "--out", out, "--output", "json"}, tc.args...)...)
		if r.code != 0 {
			t.Errorf("%s: %s", tc.name, r)
			continue
		}
		doc := jsonDoc(t, r)
		c := loadCert(t, out)
		if !c.NotBefore.Equal(tc.nb) || !c.NotAfter.Equal(tc.na) {
			t.Errorf("%s: %v – %v, want %v – %v", tc.name, c.NotBefore, c.NotAfter, tc.nb, tc.na)
		}
		if doc["exact_term"] != tc.exact || !strings.Contains(r.stdout, tc.wantNotes) {
			t.Errorf("%s: exact_term %v notes %v", tc.name, doc["exact_term"], doc["notes"])
		}
	}
}

func TestLabSignBadInputs(t *testing.T) {
	dir := labDir(t)
	work := t.TempDir()
	server := labCSR(t, work, "server.csr", diapason.TPEServer, "gap.chu-exemple.fr")
	// A CSR whose signature was altered: the last byte is in the signature.
	data, _ := os.ReadFile(server)
	b, _ := pem.Decode(data)
	b.Bytes[len(b.Bytes)-1] ^= 0xff
	tampered := filepath.Join(work, "tampered.csr")
	if err := os.WriteFile(tampered, pem.EncodeToMemory(b), 0o644); err != nil {
		t.Fatal(err)
	}
	badLab := filepath.Join(t.TempDir(), "bad")
	if err := os.CopyFS(badLab, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(badLab, "lab.json"), []byte(`{"schema_version": 1, "url": `), 0o644); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(work, "junk.csr")
	if err := os.WriteFile(junk, []byte("not a CSR\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sign := func(csrPath string, extra ...string) []string {
		return append([]string{"lab", "sign", csrPath, "--out", filepath.Join(work, "out.pem")}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad signature", sign(tampered, "--lab", dir, "--profile", "tpe-server"), 1, "signature does not verify"},
		{"wrong profile", sign(server, "--lab", dir, "--profile", "psp-client"), 1, `the CSR's CN is "gap.chu-exemple.fr"; the psp-client profile (ORG AUTH_CLI) requires the CN "Client_Diapason_PSP"`},
		{"missing lab", sign(server, "--lab", filepath.Join(work, "nolab"), "--profile", "tpe-server"), 3, "no such file or directory"},
		{"bad lab.json", sign(server, "--lab", badLab, "--profile", "tpe-server"), 3, "lab.json: not a lab manifest"},
		{"no --lab", sign(server, "--profile", "tpe-server"), 2, "--lab is required"},
		{"no --profile", sign(server, "--lab", dir), 2, "--profile is required"},
		{"terminal profile", sign(server, "--lab", dir, "--profile", "tpe-client"), 2, "issues psp-client and tpe-server only"},
		{"missing CSR", sign(filepath.Join(work, "none.csr"), "--lab", dir, "--profile", "tpe-server"), 3, "none.csr: no such file"},
		{"not a CSR", sign(junk, "--lab", dir, "--profile", "tpe-server"), 3, "junk.csr"},
		{"two ends", sign(server, "--lab", dir, "--profile", "tpe-server", "--not-after", "2027-01-01", "--expires-in", "3d"), 2, "give one end"},
		{"bad date", sign(server, "--lab", dir, "--profile", "tpe-server", "--not-after", "tomorrow"), 2, "is not a date"},
		{"end before start", sign(server, "--lab", dir, "--profile", "tpe-server", "--not-before", "2027-01-01", "--not-after", "2026-01-01"), 2, "before it starts"},
		{"stdout", sign(server, "--lab", dir, "--profile", "tpe-server", "--out", "-"), 2, "--out -"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: want exit %d and %q\n%s", tc.name, tc.code, tc.want, r)
		}
		if _, err := os.Stat(filepath.Join(work, "out.pem")); err == nil {
			t.Fatalf("%s: a certificate was written", tc.name)
		}
	}
	// The refusal is one JSON document with --output json, too.
	r := runCLI(t, runOpts{}, append(sign(tampered, "--lab", dir, "--profile", "tpe-server"), "--output", "json")...)
	if doc := jsonDoc(t, r); r.code != 1 || doc["error"].(map[string]any)["hint"] == "" {
		t.Errorf("JSON refusal:\n%s", r)
	}
}

func TestLabRevoke(t *testing.T) {
	dir := labDir(t)
	gapClient := filepath.Join(dir, "gap-client.pem")
	r := runCLI(t, runOpts{}, "lab", "revoke", gapClient, "--lab", dir, "--reason", "keyCompromise", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	doc := jsonDoc(t, r)
	if doc["ca"] != "igc-org" || doc["crl_number"] != 2.0 || doc["reason"] != "keyCompromise" || doc["crl_file"] != filepath.Join(dir, "igc-org.crl.pem") {
		t.Errorf("result %v", doc)
	}
	out, code := runOpenSSL(t, "verify", "-attime", labAttime, "-crl_check", "-CAfile", filepath.Join(dir, "igc-root.pem"),
		"-untrusted", filepath.Join(dir, "igc-org.pem"), "-CRLfile", filepath.Join(dir, "igc-org.crl.pem"), gapClient)
	if code == 0 || !strings.Contains(out, "certificate revoked") {
		t.Errorf("openssl does not see the revocation: %s", out)
	}
	// A second revocation on the same CA keeps the first entry.
	r = runCLI(t, runOpts{}, "lab", "revoke", filepath.Join(dir, "gap-server.pem"), "--lab", dir)
	if r.code != 0 || !strings.Contains(r.stdout, "number 3") {
		t.Fatalf("%s", r)
	}
	crls, err := certio.Loader{}.LoadCRLs(filepath.Join(dir, "igc-org.crl.pem"))
	if err != nil || len(crls[0].RevokedCertificateEntries) != 2 {
		t.Errorf("CRL after two revocations: %v", err)
	}

	// Labs made in one process share keys (the CLI's key cache), so the
	// foreign certificate is a real IGC-Santé one.
	foreign := filepath.Join("..", "testdata", "reference", "igc-sante", "samples", "TEST-ORG-SIGN-2021.pem")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lab", "revoke", gapClient, "--lab", dir}, 1, "already revoked"},
		{[]string{"lab", "revoke", foreign, "--lab", dir}, 1, "not issued by this lab"},
		{[]string{"lab", "revoke", filepath.Join(dir, "igc-root.pem"), "--lab", dir}, 1, "a root is trusted directly"},
		{[]string{"lab", "revoke", gapClient, "--lab", dir, "--reason", "lost"}, 2, "unknown revocation reason"},
		{[]string{"lab", "revoke", filepath.Join(dir, "nope.pem"), "--lab", dir}, 3, "nope.pem"},
		{[]string{"lab", "revoke", gapClient}, 2, "--lab is required"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit %d and %q\n%s", tc.args, tc.code, tc.want, r)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingOn = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)/`)

// `lab serve` answers openssl ocsp (SHA-1 and SHA-256 CertIDs) and CRL
// fetches, logs one line per request, and stops cleanly when its context ends.
func TestLabServe(t *testing.T) {
	dir := labDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	// A real clock: openssl checks the OCSP answer's times against its own.
	env := Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Now: time.Now}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, env, []string{"diapason-cert", "lab", "serve", "--lab", dir, "--listen", "127.0.0.1:0", "--output", "json"})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := servingOn.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		select {
		case code := <-done:
			t.Fatalf("lab serve stopped: exit %d\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("lab serve did not start:\n%s", stderr.String())
		}
	}
	if !strings.Contains(stderr.String(), "but the lab certificates point at http://127.0.0.1:8880/") {
		t.Errorf("no warning about the port the certificates name:\n%s", stderr.String())
	}
	at := func(n string) string { return filepath.Join(dir, n) }
	for _, digest := range []string{"-sha1", "-sha256"} {
		for cert, want := range map[string]string{"tpe-revoked.pem": ": revoked", "tpe-client.pem": ": good"} {
			out, code := runOpenSSL(t, "ocsp", digest, "-issuer", at("ingetrust.pem"), "-cert", at(cert),
				"-url", base+"/ocsp", "-CAfile", at("ingetrust.pem"))
			if code != 0 || !strings.Contains(out, cert+want) || !strings.Contains(out, "Response verify OK") ||
				(cert == "tpe-revoked.pem" && !strings.Contains(out, "Reason: keyCompromise")) {
				t.Errorf("openssl ocsp %s %s: exit %d\n%s", digest, cert, code, out)
			}
		}
	}
	// A revocation made while serving shows at once.
	if r := runCLI(t, runOpts{}, "lab", "revoke", at("gap-server.pem"), "--lab", dir); r.code != 0 {
		t.Fatalf("%s", r)
	}
	out, code := runOpenSSL(t, "ocsp", "-sha256", "-issuer", at("igc-org.pem"), "-cert", at("gap-server.pem"),
		"-url", base+"/ocsp", "-CAfile", at("igc-root.pem"))
	if code != 0 || !strings.Contains(out, "gap-server.pem: revoked") {
		t.Errorf("after lab revoke: exit %d\n%s", code, out)
	}
	resp, err := http.Get(base + "/crl/ingetrust.crl")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if crl, err := x509.ParseRevocationList(body); err != nil || len(crl.RevokedCertificateEntries) != 1 {
		t.Errorf("served CRL: %v", err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d after stop\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("lab serve did not stop")
	}
	logs := stderr.String()
	for _, want := range []string{"POST /ocsp 200 ocsp ingetrust serial", "(sha1): revoked (keyCompromise)", "(sha256): good",
		"ocsp igc-org serial", "GET /crl/ingetrust.crl 200 crl ingetrust"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	res := jsonDoc(t, runResult{stdout: stdout.String()})
	// One log line per request: four OCSP, one after the revocation, one CRL.
	if res["requests"] != 6.0 || strings.Count(logs, "\ndiapason-cert: 127.0.0.1:") != 6 {
		t.Errorf("requests %v, want 6\n%s", res["requests"], logs)
	}
}

func TestLabServeRefusals(t *testing.T) {
	dir := labDir(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lab", "serve", "--lab", dir, "--listen", busy.Addr().String()}, 1, "cannot listen on " + busy.Addr().String()},
		{[]string{"lab", "serve", "--lab", dir, "--listen", "8880"}, 2, "--listen \"8880\""},
		{[]string{"lab", "serve"}, 2, "--lab is required"},
		{[]string{"lab", "serve", "--lab", filepath.Join(dir, "nope")}, 3, "make a lab with 'diapason-cert lab init DIR'"},
		{[]string{"lab", "serve", "--lab", dir, "extra"}, 2, "unexpected argument"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit %d and %q\n%s", tc.args, tc.code, tc.want, r)
		}
	}
}
