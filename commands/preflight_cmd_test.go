package commands

import (
	"encoding/xml"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/bundle"
	"github.com/diapason-cert/diapason-cert/lab"
)

// durationRun matches the step durations of the JSON result, which vary.
var durationRun = regexp.MustCompile(`"duration_ms": [0-9.e-]+`)

// preflightLab makes a deterministic lab in ./lab (the test must have
// changed directory), its CRLs current at the test clock.
func preflightLab(t *testing.T) *lab.Lab {
	t.Helper()
	l := goldenLab(t, "lab")
	if _, err := l.RefreshCRLs(fixedNow); err != nil {
		t.Fatal(err)
	}
	return l
}

// settingSource returns where the JSON result says a setting came from, and its values.
func settingSource(t *testing.T, doc map[string]any, key string) (string, []any) {
	t.Helper()
	for _, s := range doc["settings"].([]any) {
		m := s.(map[string]any)
		if m["key"] == key {
			return m["source"].(string), m["values"].([]any)
		}
	}
	return "", nil
}

// stepOf returns a step of the JSON result.
func stepOf(t *testing.T, doc map[string]any, id string) map[string]any {
	t.Helper()
	for _, s := range doc["steps"].([]any) {
		if m := s.(map[string]any); m["id"] == id {
			return m
		}
	}
	t.Fatalf("no step %s", id)
	return nil
}

// A lab tried at once with --lab: every step passes but the live ones,
// skipped for want of addresses; text and JSON are golden.
func TestPreflightLabGolden(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	preflightLab(t)
	r := runCLI(t, runOpts{}, "preflight", "--lab", "lab")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	golden(t, "preflight-lab.txt", r.stdout)
	r = runCLI(t, runOpts{}, "preflight", "--lab", "lab", "--output", "json")
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	doc := jsonDoc(t, r)
	golden(t, "preflight-lab.json", durationRun.ReplaceAllString(r.stdout, `"duration_ms": 0`))
	if doc["status"] != "pass" || len(doc["steps"].([]any)) != 18 {
		t.Errorf("status %v, %d steps", doc["status"], len(doc["steps"].([]any)))
	}
	if src, _ := settingSource(t, doc, "client.cert"); src != "lab" {
		t.Errorf("client.cert comes from %q", src)
	}
}

// The template init prints loads back as ./diapason.toml, and settings
// follow flag > environment > file > lab > default.
func TestPreflightConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	preflightLab(t)
	r := runCLI(t, runOpts{}, "preflight", "init", "--lab", "lab")
	if r.code != 0 || !strings.Contains(r.stdout, `cert = "lab/gap-client.pem"`) || !strings.Contains(r.stdout, "# address = \"\"") {
		t.Fatalf("%s", r)
	}
	put(t, dir, "diapason.toml", []byte(r.stdout))

	r = runCLI(t, runOpts{}, "preflight", "--output", "json")
	doc := jsonDoc(t, r)
	if r.code != 0 || doc["config"] != "diapason.toml" {
		t.Fatalf("the template as ./diapason.toml:\n%s", r)
	}
	if src, v := settingSource(t, doc, "client.key"); src != "file" || v[0] != "lab/gap-client.key" {
		t.Errorf("client.key from %s: %v", src, v)
	}

	// The key of the other credential, given at each level in turn, decides
	// whether client-key passes: each level wins over the ones below it.
	toml, err := os.ReadFile("diapason.toml")
	if err != nil {
		t.Fatal(err)
	}
	put(t, dir, "diapason.toml", []byte(strings.Replace(string(toml), `key = "lab/gap-client.key"`, `key = "lab/gap-server.key"`, 1)))
	for _, tc := range []struct {
		name   string
		env    map[string]string
		args   []string
		source string
		status string
	}{
		{"file over default", nil, nil, "file", "fail"},
		{"environment over file", map[string]string{"DIAPASON_CLIENT_KEY": "lab/gap-client.key"}, nil, "environment", "pass"},
		{"flag over environment", map[string]string{"DIAPASON_CLIENT_KEY": "lab/gap-client.key"}, []string{"--client-key", "lab/gap-server.key"}, "flag", "fail"},
		{"flag over file", nil, []string{"--client-key=lab/gap-client.key"}, "flag", "pass"},
	} {
		r := runCLI(t, runOpts{env: tc.env}, append([]string{"preflight", "--output", "json"}, tc.args...)...)
		doc := jsonDoc(t, r)
		src, _ := settingSource(t, doc, "client.key")
		if st := stepOf(t, doc, "client-key")["status"]; src != tc.source || st != tc.status {
			t.Errorf("%s: client.key from %s, client-key %v; want %s, %s\n%s", tc.name, src, st, tc.source, tc.status, r)
		}
	}

	// The file over the lab, and defaults under everything.
	put(t, dir, "partial.toml", []byte("warn = \"45d\"\n[client]\nkey = \"lab/gap-server.key\"\n"))
	r = runCLI(t, runOpts{env: map[string]string{"DIAPASON_REVOCATION": "hard"}}, "preflight", "--config", "partial.toml", "--lab", "lab", "--output", "json")
	doc = jsonDoc(t, r)
	for key, want := range map[string]string{"client.key": "file", "client.cert": "lab", "warn": "file", "revocation": "environment", "timeout": "default"} {
		if src, _ := settingSource(t, doc, key); src != want {
			t.Errorf("%s from %s, want %s", key, src, want)
		}
	}
	if r.code != 1 || !strings.Contains(stepOf(t, doc, "client-expiry")["reason"].(string), "beyond the 45d window") {
		t.Errorf("partial.toml over the lab:\n%s", r)
	}

	// $DIAPASON_CONFIG names the file when --config does not; lists come from
	// the environment separated by commas.
	r = runCLI(t, runOpts{env: map[string]string{"DIAPASON_CONFIG": "partial.toml", "DIAPASON_LAB": "lab",
		"DIAPASON_TRUSTSTORE_INGETRUST": "lab/ingetrust.pem, lab/geotrust-ca.pem"}}, "preflight", "--output", "json")
	doc = jsonDoc(t, r)
	if doc["config"] != "partial.toml" || !strings.HasPrefix(stepOf(t, doc, "truststore-terminals")["reason"].(string), "2 CA certificates: LAB IngeTrust Terminal CA") {
		t.Errorf("DIAPASON_CONFIG and a list from the environment:\n%s", r)
	}
}

// Defects show in the table with their fix, the exit code is the worst step's,
// and --junit writes one test case per step, never replacing a file unasked.
func TestPreflightDefectsAndJUnit(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	preflightLab(t)
	r := runCLI(t, runOpts{}, "preflight", "--lab", "lab", "--client-key", "lab/gap-server.key", "--junit", "report.xml")
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL client-key: the key lab/gap-server.key is not the key pair") ||
		!strings.Contains(r.stdout, "fix: set client.key (--client-key, DIAPASON_CLIENT_KEY) to the key of lab/gap-client.pem") ||
		!strings.Contains(r.stdout, "result: FAIL (18 steps: 15 passed, 1 failed, 2 skipped)") ||
		!strings.Contains(r.stderr, "JUnit report written to report.xml") {
		t.Fatalf("%s", r)
	}
	data, err := os.ReadFile("report.xml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Suites []struct {
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil || doc.Tests != 18 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 18 {
		t.Fatalf("%v: %+v\n%s", err, doc, data)
	}
	failed := 0
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failed++
			if !strings.HasPrefix(c.Name, "client-key: ") {
				t.Errorf("failed case %s", c.Name)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed cases", failed)
	}

	// The JUnit file exists: nothing runs without --force.
	r = runCLI(t, runOpts{}, "preflight", "--lab", "lab", "--junit", "report.xml")
	if r.code != 2 || !strings.Contains(r.stderr, "--force") || r.stdout != "" {
		t.Errorf("existing --junit file:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "preflight", "--lab", "lab", "--junit", "report.xml", "--force")
	if r.code != 0 {
		t.Errorf("--force:\n%s", r)
	}
	if backups, _ := filepath.Glob("report.xml.*.bak"); len(backups) != 1 {
		t.Errorf("backups %v", backups)
	}

	// An unreachable provider: UNKNOWN (3), the others unchanged.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	r = runCLI(t, runOpts{}, "preflight", "--lab", "lab", "--provider-address", closed, "--output", "json")
	jd := jsonDoc(t, r)
	if s := stepOf(t, jd, "provider-handshake"); r.code != 3 || s["status"] != "unknown" || !strings.Contains(s["reason"].(string), "refused") {
		t.Errorf("unreachable provider:\n%s", r)
	}
	if c := jd["counts"].(map[string]any); c["pass"] != float64(16) {
		t.Errorf("counts %v", c)
	}
}

// Passphrases, from a variable or a file, appear in no output, JSON, JUnit
// file or error message.
func TestPreflightSecretsNeverShown(t *testing.T) {
	const secret = "Sesame-0uvre-T0i"
	dir := t.TempDir()
	t.Chdir(dir)
	l := preflightLab(t)
	client := l.Credential(lab.RoleGAPClient)
	p12, _, err := bundle.EncodeKeyStore(client.Key, client.Cert, client.Intermediates(), []byte(secret), bundle.P12Modern)
	if err != nil {
		t.Fatal(err)
	}
	put(t, dir, "client.p12", p12)
	put(t, dir, "diapason.toml", []byte("[client]\ncert = \"\"\nkey = \"\"\nchain = \"\"\np12 = \"client.p12\"\npassphrase-env = \"GAP_P12_PASS\"\n"))
	env := map[string]string{"GAP_P12_PASS": secret, "DIAPASON_LAB": "lab"}
	var outputs []string
	for _, args := range [][]string{{"preflight"}, {"preflight", "--output", "json"}, {"preflight", "--junit", "p.xml"}} {
		r := runCLI(t, runOpts{env: env}, args...)
		if r.code != 0 {
			t.Fatalf("%v:\n%s", args, r)
		}
		outputs = append(outputs, r.stdout, r.stderr)
	}
	junit, err := os.ReadFile("p.xml")
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(junit))

	// A wrong passphrase, then the passphrase put in the file by mistake.
	env["GAP_P12_PASS"] = secret + "x"
	r := runCLI(t, runOpts{env: env}, "preflight")
	if r.code != 1 || !strings.Contains(r.stdout, "client.p12 client.p12: ") {
		t.Errorf("wrong passphrase:\n%s", r)
	}
	outputs = append(outputs, r.stdout, r.stderr)
	put(t, dir, "bad.toml", []byte("[client]\npassphrase = \""+secret+"\"\n"))
	r = runCLI(t, runOpts{}, "preflight", "--config", "bad.toml")
	if r.code != 2 || !strings.Contains(r.stderr, "secrets are never read from the configuration file") {
		t.Errorf("passphrase in the file:\n%s", r)
	}
	outputs = append(outputs, r.stdout, r.stderr)
	r = runCLI(t, runOpts{env: map[string]string{"DIAPASON_SERVER_PASSPHRASE_ENV": secret}}, "preflight", "--lab", "lab")
	if r.code != 2 {
		t.Errorf("passphrase as a variable name:\n%s", r)
	}
	outputs = append(outputs, r.stdout, r.stderr)
	for _, out := range outputs {
		if strings.Contains(out, "Sesame") {
			t.Fatalf("the passphrase was shown:\n%s", out)
		}
	}
}

func TestPreflightUsage(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	put(t, dir, "broken.toml", []byte("[client\n"))
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"preflight"}, 2, "nothing to check: no diapason.toml here"},
		{[]string{"preflight", "check"}, 2, `preflight takes no argument but init, got "check"`},
		{[]string{"preflight", "--config", "none.toml"}, 2, "--config none.toml: no such file or directory"},
		{[]string{"preflight", "--config", "broken.toml"}, 2, "broken.toml: not valid TOML"},
		{[]string{"preflight", "--hierarchy", "prod", "--server-fqdn", "gap.example.fr"}, 2, `hierarchy: unknown hierarchy "prod"`},
		{[]string{"preflight", "--lab", "nolab"}, 3, "nolab"},
		{[]string{"preflight", "init", "--output", "json"}, 2, "preflight init prints a TOML configuration"},
		{[]string{"preflight", "init", "--junit", "x.xml"}, 2, "--junit is for a run"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q\n%s", tc.args, r.code, tc.code, tc.want, r)
		}
	}
}
