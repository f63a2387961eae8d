package commands

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Colour only on a terminal, never with NO_COLOR, TERM=dumb or --no-color;
// the same rule whatever the command.
func TestColourRules(t *testing.T) {
	dir := t.TempDir()
	key := writeOpenSSLKey(t, dir)
	good := filepath.Join(dir, "server.csr")
	if out, err := exec.Command("openssl", "req", "-new", "-key", key, "-subj", "/C=FR/OU=3123/CN=gap.chu.fr",
		"-addext", "subjectAltName=DNS:gap.chu.fr", "-out", good).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, tc := range []struct {
		name   string
		o      runOpts
		extra  []string
		colour bool
	}{
		{"terminal", runOpts{tty: true}, nil, true},
		{"pipe", runOpts{}, nil, false},
		{"NO_COLOR", runOpts{tty: true, env: map[string]string{"NO_COLOR": "1"}}, nil, false},
		{"empty NO_COLOR", runOpts{tty: true, env: map[string]string{"NO_COLOR": ""}}, nil, true},
		{"TERM=dumb", runOpts{tty: true, env: map[string]string{"TERM": "dumb"}}, nil, false},
		{"--no-color", runOpts{tty: true}, []string{"--no-color"}, false},
	} {
		r := runCLI(t, tc.o, append([]string{"csr", "inspect", good}, tc.extra...)...)
		if r.code != 0 {
			t.Fatalf("%s: %s", tc.name, r)
		}
		if got := strings.Contains(r.stdout, "\x1b["); got != tc.colour {
			t.Errorf("%s: colour %v, want %v\n%s", tc.name, got, tc.colour, r)
		}
	}
}

// The spinner runs only on a terminal and erases itself.
func TestSpinnerOnlyOnATerminal(t *testing.T) {
	dir := t.TempDir()
	r := runCLI(t, runOpts{tty: true}, "csr", "psp-client", "--out-dir", dir, "--no-color")
	if r.code != 0 || !strings.Contains(r.stderr, "generating an RSA 2048 key") || !strings.HasSuffix(r.stderr, "\r\x1b[K") {
		t.Errorf("terminal:\n%q", r.stderr)
	}
	r = runCLI(t, runOpts{}, "csr", "psp-client", "--out-dir", t.TempDir())
	if r.code != 0 || r.stderr != "" {
		t.Errorf("pipe: stderr %q", r.stderr)
	}
}
