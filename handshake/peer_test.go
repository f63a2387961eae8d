package handshake

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
	"github.com/diapason-cert/diapason-cert/tls12"
)

func findingSlugs(fs []check.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Slug + "/" + string(f.Level)
	}
	return out
}

// TestJudgeRealTESTCertificate judges the real IGC-Santé TEST certificate of
// the reference files as a terminal judges a GAP server sending it alone.
func TestJudgeRealTESTCertificate(t *testing.T) {
	leaf := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	at := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC) // inside its validity

	p := &PeerPolicy{Profile: diapason.TPEServer, Name: leaf.Subject.CommonName, Trust: Trust{IGCSante: true}}
	rep := p.Judge(context.Background(), []*x509.Certificate{leaf}, at)
	if rep.Trust.Hierarchy != diapason.HierarchyTest || !rep.Trust.HierarchyFromPeer || !strings.Contains(rep.Trust.Source, "ACR-EL-TEST.cer") {
		t.Errorf("trust %+v", rep.Trust)
	}
	got := findingSlugs(rep.Certificate.Findings)
	// The embedded intermediate completes the chain for the report, but a
	// terminal holding only the root could not: the server must send it.
	for _, want := range []string{"chain-not-sent/fail", "eku-mismatch/fail"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %s in %v", want, got)
		}
	}
	if rep.Refusal == nil || rep.Refusal.Slug != "chain-not-sent" || rep.Refusal.Alert != "unknown_ca" {
		t.Errorf("refusal %+v", rep.Refusal)
	}
	if !strings.Contains(rep.Certificate.Findings[0].Message+rep.Refusal.Message, "ACI-EL-ORG-TEST.cer") {
		t.Errorf("the missing intermediate is not named by its file: %+v", rep.Refusal)
	}
	var ve *tls12.VerifyError
	if err := rep.VerifyError(); err == nil || !errors.As(err, &ve) || ve.Alert != tls12.AlertUnknownCA {
		t.Errorf("verify error %v", err)
	}

	// Judged today it has expired, and a production terminal refuses it.
	p = &PeerPolicy{Profile: diapason.TPEServer, Name: leaf.Subject.CommonName, Trust: Trust{IGCSante: true, Hierarchy: diapason.HierarchyProduction}}
	rep = p.Judge(context.Background(), []*x509.Certificate{leaf}, testNow)
	got = findingSlugs(rep.Certificate.Findings)
	for _, want := range []string{"expired/fail", "chain-untrusted/fail"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %s in %v", want, got)
		}
	}
	c, ok := hierarchyCause(rep, diapason.LinkTPE)
	if !ok || !strings.Contains(c.Message, "IGC-Santé TEST") || !strings.Contains(c.Message, "IGC-Santé production root") {
		t.Errorf("hierarchy cause %+v %v", c, ok)
	}
}

func TestServerName(t *testing.T) {
	withSAN := &x509.Certificate{DNSNames: []string{"psp.example.fr"}}
	withSAN.Subject.CommonName = "psp.example.fr"
	cnOnly := &x509.Certificate{}
	cnOnly.Subject.CommonName = "psp.example.fr"
	cases := []struct {
		cert       *x509.Certificate
		name, want string
		level      check.Level
	}{
		{withSAN, "psp.example.fr", "name-match", check.Info},
		{withSAN, "PSP.example.fr", "name-match", check.Info},
		{withSAN, "other.example.fr", "name-mismatch", check.Fail},
		{cnOnly, "psp.example.fr", "name-cn-only", check.Warn},
		{cnOnly, "other.example.fr", "name-mismatch", check.Fail},
		{withSAN, "", "name-not-checked", check.Warn},
	}
	for _, tc := range cases {
		if f := serverNameFinding(tc.cert, tc.name); f.Slug != tc.want || f.Level != tc.level {
			t.Errorf("%v %q: %s/%s, want %s/%s", tc.cert.DNSNames, tc.name, f.Slug, f.Level, tc.want, tc.level)
		}
	}
}

func TestNoCertificate(t *testing.T) {
	p := &PeerPolicy{Profile: diapason.TPEClient, Trust: Trust{Source: "test"}}
	rep := p.Judge(context.Background(), nil, testNow)
	if rep.Refusal == nil || rep.Refusal.Slug != "no-certificate" || rep.Refusal.Alert != "handshake_failure" {
		t.Errorf("refusal %+v", rep.Refusal)
	}
}

func TestParseOffer(t *testing.T) {
	cases := []struct {
		in    string
		want  []uint16
		alias bool
		err   string
	}{
		{"ECDHE-RSA-AES256-SHA384", []uint16{0xC028}, false, ""},
		{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256:0xc028", []uint16{0xC027, 0xC028}, false, ""},
		{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA256", []uint16{0xC028}, true, ""},
		{"diapason, ECDHE-RSA-AES256-SHA384", []uint16{0xC028, 0xC027}, false, ""},
		{"ECDHE-RSA-RC4-SHA", nil, false, "unknown cipher suite"},
		{" , ", nil, false, "empty cipher suite list"},
	}
	for _, tc := range cases {
		o, err := ParseOffer(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(o.Suites, tc.want) || o.Alias != tc.alias {
			t.Errorf("%q: %v alias=%v err=%v, want %v alias=%v", tc.in, o.Suites, o.Alias, err, tc.want, tc.alias)
		}
	}
	if !strings.Contains(AliasNote(), "0xC028") || !strings.Contains(AliasNote(), "not in the IANA registry") {
		t.Errorf("alias note %q", AliasNote())
	}
	// Every suite the tool names is one the engine speaks.
	for _, s := range diapason.Suites() {
		if !slices.Contains(tls12.CipherSuites(), s.ID) {
			t.Errorf("%s is named by diapason.Suites but not spoken by tls12", s.IANA)
		}
	}
}
