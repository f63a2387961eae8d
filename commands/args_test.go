package commands

import (
	"slices"
	"strings"
	"testing"
)

func TestNormaliseArgs(t *testing.T) {
	app := NewApp()
	for _, tc := range []struct {
		in, want string
		out      string
		noColor  bool
	}{
		{"csr inspect a.csr --fqdn x.fr", "csr inspect --fqdn x.fr -- a.csr", "text", false},
		{"csr inspect --fqdn=x.fr a.csr", "csr inspect --fqdn=x.fr -- a.csr", "text", false},
		{"csr inspect a.csr --output json", "--output json csr inspect -- a.csr", "json", false},
		{"--output=json csr inspect a.csr --no-color", "--output=json --no-color csr inspect -- a.csr", "json", true},
		{"csr inspect -- --odd.csr -x", "csr inspect -- --odd.csr -x", "text", false},
		{"csr inspect - --profile auto", "csr inspect --profile auto -- -", "text", false},
		{"csr tpe-server --fqdn gap.x.fr --encrypt --out-dir d", "csr tpe-server --fqdn gap.x.fr --encrypt --out-dir d", "text", false},
		{"csr --fqdn gap.x.fr tpe-server", "csr tpe-server --fqdn gap.x.fr", "text", false},
		{"csr tpe-server --bogus x", "csr tpe-server --bogus -- x", "text", false},
		{"nope csr", "-- nope csr", "text", false},
		{"csr tpe-server --fqdn", "csr tpe-server --fqdn", "text", false},
		{"--exit-codes nagios csr", "--exit-codes nagios csr", "text", false},
	} {
		args := append([]string{"diapason-cert"}, strings.Fields(tc.in)...)
		got, g := normaliseArgs(app, args)
		want := append([]string{"diapason-cert"}, strings.Fields(tc.want)...)
		if !slices.Equal(got, want) {
			t.Errorf("normaliseArgs(%q)\n got %q\nwant %q", tc.in, got[1:], want[1:])
		}
		if g.output != tc.out || g.noColor != tc.noColor {
			t.Errorf("normaliseArgs(%q): globals %+v", tc.in, g)
		}
	}
	// The completion flag must stay last and untouched.
	in := []string{"diapason-cert", "csr", "--generate-bash-completion"}
	if got, _ := normaliseArgs(app, in); !slices.Equal(got, in) {
		t.Errorf("completion args rewritten: %q", got)
	}
}

func TestExitCodeMapping(t *testing.T) {
	for _, tc := range []struct {
		s               Status
		def, nagiosCode int
	}{
		{StatusOK, 0, 0}, {StatusWarn, 4, 1}, {StatusUnknown, 3, 3}, {StatusFail, 1, 2}, {StatusUsage, 2, 3},
	} {
		if got := exitCode(tc.s, exitModeDefault); got != tc.def {
			t.Errorf("%s: default %d, want %d", tc.s, got, tc.def)
		}
		if got := exitCode(tc.s, exitModeNagios); got != tc.nagiosCode {
			t.Errorf("%s: nagios %d, want %d", tc.s, got, tc.nagiosCode)
		}
	}
	// Precedence: USAGE > FAIL > UNKNOWN > WARN > OK.
	order := []Status{StatusOK, StatusWarn, StatusUnknown, StatusFail, StatusUsage}
	for i, a := range order {
		for j, b := range order {
			want := order[max(i, j)]
			if got := worst(a, b); got != want {
				t.Errorf("worst(%s, %s) = %s, want %s", a, b, got, want)
			}
		}
	}
}
