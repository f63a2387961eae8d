package man

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// The committed page must be what the command tree renders today.
func TestPageIsFresh(t *testing.T) {
	want, err := Page()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(File)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run 'go generate ./man'", File)
	}
}

func TestPageSections(t *testing.T) {
	page, err := Page()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`.TH diapason-cert 1`, `.SH NAME`, `.SH EXIT STATUS`, `.SH ENVIRONMENT`, `NO_COLOR`, `csr`} {
		if !strings.Contains(string(page), s) {
			t.Errorf("page lacks %q", s)
		}
	}
}
