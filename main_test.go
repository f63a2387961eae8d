package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The built binary, not only the in-process runner: exit codes reach the
// shell, and bash completion (which reads os.Args) works.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "diapason-cert")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp := t.TempDir()
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "NO_COLOR=1", "TMPDIR="+tmp)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}
	if out, _, code := run("--version"); code != 0 || !strings.HasPrefix(out, "diapason-cert version ") {
		t.Errorf("--version: %d %q", code, out)
	}
	if _, errOut, code := run("bogus"); code != 2 || !strings.Contains(errOut, `unknown command "bogus"`) {
		t.Errorf("bogus: %d %q", code, errOut)
	}
	if _, _, code := run("--exit-codes", "nagios", "csr", "inspect", "/nonexistent"); code != 3 {
		t.Errorf("nagios unknown: %d", code)
	}
	out, _, code := run("csr", "--generate-bash-completion")
	if code != 0 || !strings.Contains(out, "psp-client") || !strings.Contains(out, "tpe-server") {
		t.Errorf("completion: %d %q", code, out)
	}

	// The whole lifecycle as a user runs it first: every step listed and
	// passed, nothing left in the temporary directory.
	out, errOut, code := run("demo")
	if code != 0 || !strings.Contains(out, "Every step passed") {
		t.Errorf("demo: %d\n%s\n%s", code, out, errOut)
	}
	for _, step := range []string{"lab init", "csr psp-client", "csr tpe-server", "lab sign psp-client", "lab sign tpe-server",
		"bundle build", "check", "simulate psp", "simulate gap", "handshake psp", "handshake tpe", "revoked terminal refused",
		"expiring certificate flagged", "servers stopped"} {
		if !strings.Contains(out, "│ "+step+" ") {
			t.Errorf("demo summary lacks %q", step)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("demo left %v in the temporary directory", entries)
	}

	// SIGTERM stops a long-running command gracefully: the simulated server
	// says it stopped and exits 0.
	labDir := filepath.Join(tmp, "lab")
	if _, errOut, code := run("lab", "init", labDir); code != 0 {
		t.Fatalf("lab init: %d %s", code, errOut)
	}
	cmd := exec.Command(bin, "simulate", "psp", "--listen", "127.0.0.1:0", "--lab", labDir, "--output", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), `"event":"listening"`) {
		cmd.Process.Kill()
		t.Fatalf("simulate psp did not start: %q", lines.Text())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text())
	}
	if err := cmd.Wait(); err != nil || !strings.Contains(rest.String(), `"event":"stopped"`) {
		t.Errorf("after SIGTERM: %v, %q", err, rest.String())
	}
}
