package commands

import (
	"strings"
	"testing"
)

func TestVersionHelpAndNoArguments(t *testing.T) {
	r := runCLI(t, runOpts{}, "--version")
	if r.code != 0 || r.stdout != "diapason-cert version dev\n" || r.stderr != "" {
		t.Errorf("--version:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "COMMANDS:") || r.stderr != "" {
		t.Errorf("--help:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "csr", "tpe-server", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--fqdn") {
		t.Errorf("csr tpe-server --help:\n%s", r)
	}
	// Nothing ran: help goes to stderr, the exit code says usage.
	r = runCLI(t, runOpts{})
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "COMMANDS:") {
		t.Errorf("no arguments:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "csr")
	if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "csr needs a subcommand") {
		t.Errorf("csr alone:\n%s", r)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"bogus"}, 2, `error: unknown command "bogus"`},
		{[]string{"crs", "psp-client"}, 2, "did you mean 'csr'?"},
		{[]string{"csr", "bogus"}, 2, `unknown subcommand "bogus"`},
		{[]string{"csr", "tpe-server", "--bogus"}, 2, "unknown flag -bogus"},
		{[]string{"csr", "tpe-server", "-x", "--fqdn", "a.fr"}, 2, "unknown flag -x"},
		{[]string{"csr", "tpe-server", "--out-dir", dir}, 2, "--fqdn is required"},
		{[]string{"csr", "tpe-server", "--out-dir", dir, "--fqdn"}, 2, "flag needs an argument"},
		{[]string{"csr", "tpe-server", "--out-dir", dir, "--fqdn", "*.chu.fr"}, 2, "habilitation request"},
		{[]string{"csr", "tpe-server", "--out-dir", dir, "--fqdn", "10.1.2.3"}, 2, "IP address"},
		{[]string{"csr", "tpe-server", "--out-dir", dir, "--fqdn", "gap_1.chu.fr"}, 2, "no underscore"},
		{[]string{"csr", "psp-client", "--out-dir", dir, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"csr", "psp-client", "--out-dir", dir, "--key-size", "1024"}, 2, "unsupported key size 1024"},
		{[]string{"csr", "psp-client", "--out-dir", dir, "--key-size", "big"}, 2, "invalid value"},
		{[]string{"--output", "yaml", "csr", "psp-client"}, 2, `invalid --output "yaml"`},
		{[]string{"csr", "psp-client", "--output", "prometheus", "--out-dir", dir}, 2, "--output prometheus"},
		{[]string{"--exit-codes", "sometimes", "csr"}, 2, `invalid --exit-codes "sometimes"`},
		{[]string{"csr", "inspect"}, 2, "takes one CSR file"},
		{[]string{"csr", "inspect", "a", "b"}, 2, "takes one CSR file, got 2"},
	} {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) || r.stdout != "" {
			t.Errorf("%q: want exit %d and %q on stderr\n%s", tc.args, tc.code, tc.stderr, r)
		}
		if !strings.HasPrefix(r.stderr, "diapason-cert: error: ") {
			t.Errorf("%q: stderr does not start with the error prefix\n%s", tc.args, r)
		}
	}
}

// With --output json a failure is still exactly one JSON document.
func TestUsageErrorAsJSON(t *testing.T) {
	r := runCLI(t, runOpts{}, "csr", "tpe-server", "--bogus", "--output", "json")
	doc := jsonDoc(t, r)
	e, _ := doc["error"].(map[string]any)
	if r.code != 2 || e == nil || e["status"] != "usage" || e["exit_code"] != 2.0 || !strings.Contains(e["message"].(string), "bogus") || e["hint"] == "" {
		t.Errorf("JSON usage error:\n%s", r)
	}
	r = runCLI(t, runOpts{}, "--output", "json", "nope")
	if doc := jsonDoc(t, r); r.code != 2 || doc["ok"] != false {
		t.Errorf("JSON unknown command:\n%s", r)
	}
}

func TestNagiosExitCodes(t *testing.T) {
	if r := runCLI(t, runOpts{}, "--exit-codes", "nagios", "bogus"); r.code != 3 {
		t.Errorf("nagios usage error: %s", r)
	}
	if r := runCLI(t, runOpts{}, "bogus", "--exit-codes=nagios"); r.code != 3 {
		t.Errorf("nagios flag after the command: %s", r)
	}
	if r := runCLI(t, runOpts{}, "csr", "inspect", "/nonexistent.csr", "--exit-codes", "nagios"); r.code != 3 {
		t.Errorf("nagios unknown: %s", r)
	}
}
