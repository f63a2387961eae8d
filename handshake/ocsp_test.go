package handshake

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// TestOCSPResponder asks the lab's responder, served over HTTP, about
// terminal certificates, which name no responder themselves.
func TestOCSPResponder(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	var asked atomic.Int32
	h := lab.Handler(p.Lab, func() time.Time { return testNow }, func(lab.Entry) { asked.Add(1) })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	inge := p.Lab.CA(lab.CAIngeTrust).Cert
	o := &OCSPResponder{URL: srv.URL + "/ocsp", Timeout: 5 * time.Second}
	ctx := context.Background()

	good := p.Lab.Credential(lab.RoleTPEClient).Cert
	if len(good.OCSPServer) != 0 {
		t.Fatal("the lab's terminal certificate names a responder: the test would not show the responder is asked anyway")
	}
	if r := o.CheckRevocation(ctx, good, inge, testNow); r.Status != check.RevocationGood || !strings.Contains(r.Source, srv.URL) {
		t.Fatalf("good terminal: %+v", r)
	}
	revoked := p.Lab.Credential(lab.RoleTPERevoked).Cert
	r := o.CheckRevocation(ctx, revoked, inge, testNow)
	if r.Status != check.RevocationRevoked || r.RevokedAt == nil || r.Reason != "keyCompromise" || !strings.Contains(r.Message, "revoked since") {
		t.Fatalf("revoked terminal: %+v", r)
	}
	n := asked.Load()
	if again := o.CheckRevocation(ctx, revoked, inge, testNow.Add(time.Minute)); again.Status != check.RevocationRevoked || asked.Load() != n {
		t.Errorf("a fresh answer was not reused: %+v, %d requests after %d", again, asked.Load(), n)
	}
	if later := o.CheckRevocation(ctx, revoked, inge, testNow.Add(48*time.Hour)); later.Status != check.RevocationRevoked || asked.Load() == n {
		t.Errorf("past its nextUpdate the answer must be asked again, and revoked stays revoked however old: %+v", later)
	}
	if stale := o.CheckRevocation(ctx, good, inge, testNow.Add(48*time.Hour)); stale.Status != check.RevocationUnknown || !strings.Contains(stale.Message, "stale") {
		t.Errorf("a good answer past its nextUpdate (the lab's clock is fixed) is no answer: %+v", stale)
	}

	// A certificate of a CA the lab does not have: the responder says unauthorized.
	foreign := loadCerts(t, p.ForeignClient.Cert)[0]
	if r := o.CheckRevocation(ctx, foreign, loadCerts(t, p.ForeignRoot)[0], testNow); r.Status != check.RevocationUnknown || !strings.Contains(r.Message, "unauthorized") {
		t.Errorf("foreign certificate: %+v", r)
	}
	down := &OCSPResponder{URL: "http://127.0.0.1:1/ocsp", Post: func(context.Context, string, []byte) ([]byte, error) {
		return nil, errors.New("connection refused")
	}}
	if r := down.CheckRevocation(ctx, good, inge, testNow); r.Status != check.RevocationUnknown || !strings.Contains(r.Message, "connection refused") {
		t.Errorf("responder down: %+v", r)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("not DER")) }))
	t.Cleanup(bad.Close)
	if r := (&OCSPResponder{URL: bad.URL}).CheckRevocation(ctx, good, inge, testNow); r.Status != check.RevocationUnknown || !strings.Contains(r.Message, "ignored") {
		t.Errorf("garbage answer: %+v", r)
	}
}

// TestServerRefusesRevokedTerminalByOCSP is a GAP server checking terminals
// with the lab's OCSP responder only.
func TestServerRefusesRevokedTerminalByOCSP(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	srv := httptest.NewServer(lab.Handler(p.Lab, func() time.Time { return testNow }, nil))
	t.Cleanup(srv.Close)
	gap := gapServer(p)
	gap.Peer = &PeerPolicy{Profile: diapason.TPEClient, Trust: gap.Peer.Trust,
		Revocation: RevocationPolicy{Mode: RevocationHard, Required: true, Checkers: []check.RevocationChecker{&OCSPResponder{URL: srv.URL + "/ocsp"}}}}
	addr, side := serve(t, gap)
	wantCause(t, probe(t, tpeProbe(p, addr, labCred(p.Lab, lab.RoleTPERevoked))), StatusFail, "client-revoked")
	got := <-side
	if got.Status != StatusFail || got.Causes[0].Slug != "revoked" || !strings.Contains(got.Causes[0].Message, "OCSP "+srv.URL) {
		t.Fatalf("server side %s %v: %s", got.Status, slugs(got.Causes), got.Summary)
	}
}

// TestRemember reuses a judgement within the period, and only then.
func TestRemember(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	pol := &PeerPolicy{Profile: diapason.TPEClient, Trust: Trust{Anchors: []*x509.Certificate{p.Lab.CA(lab.CAIngeTrust).Cert}},
		Revocation: RevocationPolicy{Mode: RevocationHard, Required: true, Checkers: labCRLs(p.Lab)}, Remember: time.Second}
	ctx := context.Background()
	good, revoked := labCred(p.Lab, lab.RoleTPEClient).Chain, labCred(p.Lab, lab.RoleTPERevoked).Chain
	first := pol.Judge(ctx, good, testNow)
	if again := pol.Judge(ctx, good, testNow.Add(500*time.Millisecond)); again != first {
		t.Error("the same chain within the period was judged again")
	}
	if other := pol.Judge(ctx, revoked, testNow); other == first || other.Refusal == nil || other.Refusal.Slug != "revoked" {
		t.Errorf("another chain got the first one's report: %+v", other.Refusal)
	}
	if later := pol.Judge(ctx, good, testNow.Add(time.Second)); later == first {
		t.Error("a report older than the period was reused")
	}
	if earlier := pol.Judge(ctx, good, testNow.Add(-time.Minute)); earlier == first {
		t.Error("a report judged later than now was reused")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	fresh := &PeerPolicy{Profile: pol.Profile, Trust: pol.Trust, Revocation: pol.Revocation, Remember: time.Second}
	fresh.Judge(cancelled, good, testNow)
	if len(fresh.memo) != 0 {
		t.Error("a judgement made with a cancelled context was remembered")
	}
}
