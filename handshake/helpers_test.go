package handshake

import (
	"context"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

var testNow = handshaketest.Now

// labCred is a lab role's credential with the chain it sends.
func labCred(l *lab.Lab, r lab.Role) *tls12.Certificate {
	c := l.Credential(r)
	return &tls12.Certificate{Chain: append([]*x509.Certificate{c.Cert}, c.Intermediates()...), Key: c.Key}
}

// fileCred reads a credential written by handshaketest, with extra chain files.
func fileCred(t *testing.T, c handshaketest.Cred, chain ...string) *tls12.Certificate {
	t.Helper()
	ld := certio.Loader{}
	certs, err := ld.LoadCertificates(c.Cert)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range chain {
		more, err := ld.LoadCertificates(f)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, more...)
	}
	key, err := ld.LoadPrivateKey(c.Key, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &tls12.Certificate{Chain: certs, Key: key.Signer}
}

func loadCerts(t *testing.T, path string) []*x509.Certificate {
	t.Helper()
	certs, err := certio.Loader{}.LoadCertificates(path)
	if err != nil {
		t.Fatal(err)
	}
	return certs
}

// labCRLs checks revocation against every CRL of the lab, as --lab does.
func labCRLs(l *lab.Lab) []check.RevocationChecker {
	var crls []check.NamedCRL
	for i, crl := range l.CRLs() {
		crls = append(crls, check.NamedCRL{Name: string(lab.CANames()[i]), CRL: crl})
	}
	return []check.RevocationChecker{check.NewCRLChecker(crls...)}
}

// pspProbe is the GAP's probe of a provider at addr, trusting the lab's GeoTrust-like root.
func pspProbe(p *handshaketest.PKI, addr string, cred *tls12.Certificate) *ProbeConfig {
	return &ProbeConfig{
		Link: diapason.LinkPSP, Address: addr, ServerName: lab.PSPFQDN, Credential: cred, KeyName: "the key",
		OwnCAs: labCAs(p.Lab), Offer: DiapasonOffer(), Timeout: 5 * time.Second, Now: testNow, Clock: time.Now,
		Peer: &PeerPolicy{Profile: diapason.PSPServer, Name: lab.PSPFQDN,
			Trust:      Trust{Anchors: []*x509.Certificate{p.Lab.CA(lab.CAGeoTrustRoot).Cert}, Source: "test"},
			Revocation: RevocationPolicy{Mode: RevocationSoft, Checkers: labCRLs(p.Lab)}},
	}
}

// tpeProbe is a terminal's probe of a GAP server at addr, trusting the lab's IGC-Santé-like root.
func tpeProbe(p *handshaketest.PKI, addr string, cred *tls12.Certificate) *ProbeConfig {
	return &ProbeConfig{
		Link: diapason.LinkTPE, Address: addr, ServerName: p.Lab.FQDN(), Credential: cred, KeyName: "the key",
		OwnCAs: labCAs(p.Lab), Offer: DiapasonOffer(), Timeout: 5 * time.Second, Now: testNow, Clock: time.Now,
		Peer: &PeerPolicy{Profile: diapason.TPEServer, Name: p.Lab.FQDN(),
			Trust:      Trust{Anchors: []*x509.Certificate{p.Lab.CA(lab.CAIGCRoot).Cert}, Source: "test", Hierarchy: diapason.HierarchyLab},
			Revocation: RevocationPolicy{Mode: RevocationSoft, Checkers: labCRLs(p.Lab)}},
	}
}

// openSSLArgs is an s_server configured per Diapason: TLS 1.2, 0xC028 only, a
// client certificate required and verified, judged at the tests' time.
func openSSLArgs(cert, key string, more ...string) []string {
	args := []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384", "-cert", cert, "-key", key, "-www"}
	return append(append(args, handshaketest.AtTime(testNow)...), more...)
}

// labCAs are every CA of the lab, as --lab gives them.
func labCAs(l *lab.Lab) []*x509.Certificate {
	return append(l.Anchors(), l.Intermediates()...)
}

func slugs(cs []Cause) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Slug
	}
	return out
}

// wantCause checks the status and that a cause with the slug names the problem.
func wantCause(t *testing.T, res *Result, status Status, slug string, words ...string) {
	t.Helper()
	if res.Status != status {
		t.Errorf("status %s, want %s; causes %v: %s", res.Status, status, slugs(res.Causes), res.Summary)
	}
	i := slices.IndexFunc(res.Causes, func(c Cause) bool { return c.Slug == slug })
	if i < 0 {
		t.Fatalf("no cause %q in %v: %s", slug, slugs(res.Causes), res.Summary)
	}
	for _, w := range words {
		if !strings.Contains(res.Causes[i].Message+" "+res.Causes[i].Fix, w) {
			t.Errorf("cause %s does not say %q: %s / %s", slug, w, res.Causes[i].Message, res.Causes[i].Fix)
		}
	}
}

func probe(t *testing.T, cfg *ProbeConfig) *Result {
	t.Helper()
	return Probe(context.Background(), cfg)
}
