package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The bar is drawn over one line and taken away before anything else is printed.
func TestScanProgressBar(t *testing.T) {
	var stderr strings.Builder
	r := &run{env: Env{Stderr: &stderr}}
	p := &scanProgress{r: r, total: -1, done: 7}
	p.draw()
	if got := stderr.String(); got != "\r\x1b[Kchecked 7 files" {
		t.Errorf("while counting: %q", got)
	}
	stderr.Reset()
	p.total = 20
	p.done = 10
	p.draw()
	if got := stderr.String(); got != "\r\x1b[K["+strings.Repeat("█", 15)+strings.Repeat("░", 15)+"] 10/20 files" {
		t.Errorf("half way: %q", got)
	}
	stderr.Reset()
	printed := false
	_ = p.emitted(true, func() error { printed = strings.HasSuffix(stderr.String(), "\r\x1b[K"); return nil })
	if !printed || p.done != 11 || p.shown {
		t.Errorf("the bar was not cleared before printing: %q", stderr.String())
	}
	stderr.Reset()
	_ = p.emitted(false, func() error { return nil })
	if stderr.Len() != 0 || p.done != 12 {
		t.Errorf("a quiet file touched the terminal: %q", stderr.String())
	}
}

// No bar unless stderr is a terminal; on one, a scan leaves the line clean.
func TestScanProgressOnlyOnATerminal(t *testing.T) {
	r := &run{env: Env{}}
	if p := r.startProgress(context.Background(), []string{"."}); p != nil {
		t.Error("a bar without a terminal")
	}
	dir := t.TempDir()
	data := referenceData(t)
	for i := range 40 {
		writeTestFile(t, filepath.Join(dir, fmt.Sprintf("c%02d.pem", i)), data)
	}
	res := runCLI(t, runOpts{tty: true}, "check", dir, "--output", "json")
	if s := res.stderr; s != "" && !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("stderr ends with the bar: %q", s)
	}
}

// A text scan over more than a page prints the table in pages, and counts everything.
func TestCheckTextPages(t *testing.T) {
	dir := t.TempDir()
	data := referenceData(t)
	for i := range checkPageRows + 5 {
		writeTestFile(t, filepath.Join(dir, fmt.Sprintf("c%04d.pem", i)), data)
	}
	r := runCLI(t, runOpts{}, "check", dir)
	if n := strings.Count(r.stdout, "│ File "); n != 2 {
		t.Errorf("%d tables, want 2", n)
	}
	if !strings.HasSuffix(r.stdout, fmt.Sprintf("%d certificates in %d files: %d OK, 0 WARN, 0 FAIL\n", checkPageRows+5, checkPageRows+5, checkPageRows+5)) {
		t.Errorf("summary: %s", r.stdout[strings.LastIndex(r.stdout[:len(r.stdout)-1], "\n")+1:])
	}
}

// referenceData is the real ACI-EL-ORG.cer, a certificate without findings.
func referenceData(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(referenceDir, "ACI-EL-ORG.cer"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}
