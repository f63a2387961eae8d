package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedNow is the clock of every in-process run.
var fixedNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type runOpts struct {
	env    map[string]string
	stdin  string
	prompt func(string) ([]byte, error)
	tty    bool
}

type runResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs a whole command line in-process.
func runCLI(t *testing.T, o runOpts, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{
		Stdin: strings.NewReader(o.stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return o.env[k] },
		Now:    func() time.Time { return fixedNow },
		Prompt: o.prompt, StdoutIsTerminal: o.tty, StderrIsTerminal: o.tty,
	}
	code := Run(context.Background(), env, append([]string{"diapason-cert"}, args...))
	return runResult{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

func (r runResult) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

// jsonDoc parses stdout as exactly one JSON object.
func jsonDoc(t *testing.T, r runResult) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, r)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document\n%s", r)
	}
	if v, ok := doc["schema_version"].(float64); !ok || v != 1 {
		t.Fatalf("schema_version missing or not 1\n%s", r)
	}
	return doc
}

// golden compares got with testdata/NAME, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testdataDir, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// testdataDir is absolute so that tests which change directory still find it.
var testdataDir = func() string {
	d, err := filepath.Abs("testdata")
	if err != nil {
		panic(err)
	}
	return d
}()

var hexRun = regexp.MustCompile(`([0-9A-F]{2}:){31}[0-9A-F]{2}`)

// scrub replaces what changes between runs (temp dirs, digests of random keys).
func scrub(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	return hexRun.ReplaceAllString(s, "$$SHA256")
}
