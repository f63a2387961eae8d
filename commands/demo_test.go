package commands

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

var demoStepNames = []string{"lab init", "csr psp-client", "csr tpe-server", "lab sign psp-client", "lab sign tpe-server",
	"bundle build", "check", "simulate psp", "simulate gap", "handshake psp", "handshake tpe", "revoked terminal refused",
	"expiring certificate flagged", "servers stopped"}

type demoDoc struct {
	Steps []demoStep `json:"steps"`
	OK    bool       `json:"ok"`
}

func runDemo(t *testing.T, args ...string) (runResult, demoDoc) {
	t.Helper()
	r := runCLI(t, runOpts{}, append([]string{"demo", "--output", "json"}, args...)...)
	doc := jsonDoc(t, r)
	var d demoDoc
	for _, s := range doc["steps"].([]any) {
		m := s.(map[string]any)
		d.Steps = append(d.Steps, demoStep{Name: m["name"].(string), Status: m["status"].(string), Detail: m["detail"].(string)})
	}
	d.OK, _ = doc["ok"].(bool)
	if len(doc) != 3 {
		t.Errorf("the summary has other fields than schema_version, steps and ok: %v", doc)
	}
	return r, d
}

var listenAddr = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// assertNothingLeft checks that the simulated servers no longer listen and
// the temporary directory is gone.
func assertNothingLeft(t *testing.T, d demoDoc, tmp string) {
	t.Helper()
	for _, s := range d.Steps {
		if m := listenAddr.FindStringSubmatch(s.Detail); m != nil {
			if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after the demo", m[1])
			}
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the demo left %d entries in the temporary directory: %v", len(entries), entries)
	}
}

func TestDemo(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := runtime.NumGoroutine()
	r, d := runDemo(t)
	if r.code != 0 || !d.OK {
		t.Fatalf("demo failed:\n%s", r)
	}
	var names []string
	for _, s := range d.Steps {
		names = append(names, s.Name)
		if s.Status != "pass" || s.Detail == "" {
			t.Errorf("step %q: %s %q", s.Name, s.Status, s.Detail)
		}
	}
	if !slices.Equal(names, demoStepNames) {
		t.Errorf("steps %q", names)
	}
	for _, want := range []string{"0xC028", "client-revoked", "expires on 2026-12-07, in 10 days", "Client_Diapason_PSP", "*lab.test"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the summary does not say %q", want)
		}
	}
	if !strings.Contains(r.stderr, "demo [14/14] servers stopped") {
		t.Errorf("no progress narration on stderr:\n%s", r.stderr)
	}
	assertNothingLeft(t, d, tmp)
	// The servers' goroutines are gone too (a little slack for the runtime's own).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		t.Errorf("%d goroutines after the demo, %d before", n, before)
	}
}

// One step made to fail: the summary names it and why, the exit code is 1,
// the other steps still run, and nothing is left behind.
func TestDemoStepFailure(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	demoHook = func(step string, args []string) []string {
		if step != "handshake tpe" {
			return args
		}
		out := slices.Clone(args)
		for i, a := range out {
			if a == "--fqdn" {
				out[i+1] = "tpe.lab.test"
			}
		}
		return out
	}
	t.Cleanup(func() { demoHook = nil })
	r, d := runDemo(t)
	if r.code != 1 || d.OK {
		t.Fatalf("want exit 1 and ok=false:\n%s", r)
	}
	for _, s := range d.Steps {
		want := "pass"
		if s.Name == "handshake tpe" {
			want = "fail"
			if !strings.Contains(s.Detail, "exited 1, expected 0") || !strings.Contains(s.Detail, "cn-mismatch") {
				t.Errorf("the failure does not say why: %q", s.Detail)
			}
		}
		if s.Status != want {
			t.Errorf("step %q: %s, want %s (%s)", s.Name, s.Status, want, s.Detail)
		}
	}
	if len(d.Steps) != len(demoStepNames) {
		t.Errorf("%d steps listed", len(d.Steps))
	}
	assertNothingLeft(t, d, tmp)

	// Text output names the failed step too.
	text := runCLI(t, runOpts{}, "demo")
	if text.code != 1 || !regexp.MustCompile(`handshake tpe\s+│ FAIL`).MatchString(text.stdout) || !strings.Contains(text.stderr, "handshake tpe: FAIL") {
		t.Errorf("text summary:\n%s", text)
	}
}

// A failed step skips the steps that need its result, and says so.
func TestDemoDependentSteps(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	demoHook = func(step string, args []string) []string {
		if step == "bundle build" {
			return append(args, "--bogus")
		}
		return args
	}
	t.Cleanup(func() { demoHook = nil })
	r, d := runDemo(t)
	if r.code != 1 {
		t.Fatalf("%s", r)
	}
	got := map[string]string{}
	for _, s := range d.Steps {
		got[s.Name] = s.Status + ": " + s.Detail
	}
	for name, want := range map[string]string{
		"bundle build":  "fail: 'bundle build' exited 2, expected 0: unknown flag -bogus",
		"check":         "fail: not run: bundle build failed",
		"simulate gap":  "fail: not run: bundle build failed",
		"handshake tpe": "fail: not run: simulate gap failed",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	if !strings.HasPrefix(got["handshake psp"], "pass") {
		t.Errorf("handshake psp does not need the bundle: %s", got["handshake psp"])
	}
}

func TestDemoDir(t *testing.T) {
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o600)
	if r := runCLI(t, runOpts{}, "demo", "--dir", full); r.code != 2 || !strings.Contains(r.stderr, "is not empty") {
		t.Errorf("non-empty --dir:\n%s", r)
	}
	kept := filepath.Join(t.TempDir(), "demo")
	if r := runCLI(t, runOpts{}, "demo", "--dir", kept, "--keep"); r.code != 0 {
		t.Fatalf("%s", r)
	}
	for _, f := range []string{"lab/lab.json", "gap/tpe-server.fullchain.pem", "gap/tpe-server.p12", "gap/psp-client.key"} {
		if _, err := os.Stat(filepath.Join(kept, f)); err != nil {
			t.Errorf("--keep: %v", err)
		}
	}
	empty := t.TempDir()
	if r := runCLI(t, runOpts{}, "demo", "--dir", empty); r.code != 0 {
		t.Fatalf("%s", r)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("an empty --dir given without --keep is left with %v", entries)
	}
	if _, err := os.Stat(empty); err != nil {
		t.Errorf("the user's directory itself was removed: %v", err)
	}
}
