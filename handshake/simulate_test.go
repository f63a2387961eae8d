package handshake

import (
	"context"
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// TestServerRefusesRevokedTerminalByOCSP is a GAP server checking terminals,
// whose certificates name no responder, with the lab's OCSP responder only.
func TestServerRefusesRevokedTerminalByOCSP(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	srv := httptest.NewServer(lab.Handler(p.Lab, func() time.Time { return testNow }, nil))
	t.Cleanup(srv.Close)
	gap := gapServer(p)
	gap.Peer = &PeerPolicy{Profile: diapason.TPEClient, Trust: gap.Peer.Trust,
		Revocation: RevocationPolicy{Mode: RevocationHard, Required: true, Checkers: []check.RevocationChecker{check.NewRevocationEngine(check.RevocationOptions{
			OCSP: check.HTTPOCSPPoster(check.OCSPTimeout, check.OCSPMaxBytes), OCSPResponders: []string{srv.URL + "/ocsp"}})}}}
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
