package simulate

import (
	"context"
	"crypto/x509"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

var testNow = handshaketest.Now

func labCred(l *lab.Lab, r lab.Role) tls12.Certificate {
	c := l.Credential(r)
	return tls12.Certificate{Chain: append([]*x509.Certificate{c.Cert}, c.Intermediates()...), Key: c.Key}
}

// labCRLs checks revocation against the lab's CRLs as they are when asked,
// so that a revocation made by a fault is seen.
type labCRLs struct{ l *lab.Lab }

func (k labCRLs) CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) check.Revocation {
	var crls []check.NamedCRL
	for i, crl := range k.l.CRLs() {
		crls = append(crls, check.NamedCRL{Name: string(lab.CANames()[i]), CRL: crl})
	}
	return check.NewCRLChecker(crls...).CheckRevocation(ctx, cert, issuer, now)
}

// tlsServer is the handshake side of a simulated server of link, with the
// lab's credential, client CAs and CRLs, as `simulate psp|gap --lab` has.
func tlsServer(p *handshaketest.PKI, link diapason.LinkID) *handshake.Server {
	cred, clientCA, profile := labCred(p.Lab, lab.RolePSPServer), p.Lab.CA(lab.CAIGCRoot).Cert, diapason.PSPClient
	if link == diapason.LinkTPE {
		cred, clientCA, profile = labCred(p.Lab, lab.RoleGAPServer), p.Lab.CA(lab.CAIngeTrust).Cert, diapason.TPEClient
	}
	return &handshake.Server{
		Link: link, Credential: cred, Offer: handshake.DiapasonOffer(), ClientCAs: []*x509.Certificate{clientCA},
		Peer: &handshake.PeerPolicy{Profile: profile, Trust: handshake.Trust{Anchors: []*x509.Certificate{clientCA}, Source: "test"}, Remember: time.Second,
			Revocation: handshake.RevocationPolicy{Mode: handshake.RevocationHard, Required: true, Checkers: []check.RevocationChecker{labCRLs{p.Lab}}}},
		Now: func() time.Time { return testNow }, Clock: time.Now, Timeout: 5 * time.Second, NoTrace: true,
		MaxHandshakeMessage: MaxHandshakeMessage,
	}
}

// probeOf is the client of link: a terminal or the GAP with the lab's
// credential, trusting the lab and checking its CRLs.
func probeOf(p *handshaketest.PKI, link diapason.LinkID, addr string) *handshake.ProbeConfig {
	cfg := &handshake.ProbeConfig{
		Link: link, Address: addr, ServerName: lab.PSPFQDN, OwnCAs: append(p.Lab.Anchors(), p.Lab.Intermediates()...),
		Offer: handshake.DiapasonOffer(), Timeout: 5 * time.Second, Now: testNow, Clock: time.Now,
	}
	anchor, profile, role := p.Lab.CA(lab.CAGeoTrustRoot).Cert, diapason.PSPServer, lab.RoleGAPClient
	if link == diapason.LinkTPE {
		cfg.ServerName, anchor, profile, role = p.Lab.FQDN(), p.Lab.CA(lab.CAIGCRoot).Cert, diapason.TPEServer, lab.RoleTPEClient
	}
	cred := labCred(p.Lab, role)
	cfg.Credential, cfg.KeyName = &cred, "the key"
	cfg.Peer = &handshake.PeerPolicy{Profile: profile, Name: cfg.ServerName, Trust: handshake.Trust{Anchors: []*x509.Certificate{anchor}, Source: "test"},
		Revocation: handshake.RevocationPolicy{Mode: handshake.RevocationSoft, Checkers: []check.RevocationChecker{labCRLs{p.Lab}}}}
	if link == diapason.LinkTPE {
		cfg.Peer.Trust.Hierarchy = diapason.HierarchyLab
	}
	return cfg
}

// running is a Server serving on loopback, with the events it logged.
type running struct {
	Addr   string
	mu     sync.Mutex
	events []Event
	added  chan struct{}
	stop   func() Stats
}

// start serves srv on 127.0.0.1:0 until the test ends or stop is called.
func start(t testing.TB, srv *Server) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{Addr: ln.Addr().String(), added: make(chan struct{}, 1)}
	srv.Log = func(e Event) {
		r.mu.Lock()
		r.events = append(r.events, e)
		r.mu.Unlock()
		select {
		case r.added <- struct{}{}:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Stats, 1)
	go func() {
		st, err := srv.Serve(ctx, ln)
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		done <- st
	}()
	var once sync.Once
	var stats Stats
	r.stop = func() Stats {
		once.Do(func() {
			cancel()
			select {
			case stats = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("Serve did not return 15 s after it was asked to stop")
			}
		})
		return stats
	}
	t.Cleanup(func() { r.stop() })
	return r
}

// wait returns the first event logged that satisfies ok, waiting up to 10 s
// for it.
func (r *running) wait(t *testing.T, what string, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		i := slices.IndexFunc(r.events, ok)
		var e Event
		if i >= 0 {
			e = r.events[i]
		}
		all := slices.Clone(r.events)
		r.mu.Unlock()
		if i >= 0 {
			return e
		}
		select {
		case <-r.added:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no event %s among %d: %+v", what, len(all), summaries(all))
		}
	}
}

// waitCount waits up to 10 s for n events.
func (r *running) waitCount(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.events)
		r.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slug matches an event whose first cause is slug.
func slug(s string) func(Event) bool {
	return func(e Event) bool { return len(e.Causes) > 0 && e.Causes[0].Slug == s }
}

func summaries(es []Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = string(e.Status) + ": " + e.Summary
	}
	return out
}

func causeSlugs(cs []handshake.Cause) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Slug
	}
	return out
}

// wantCause checks that res has a cause slug that says every word.
func wantCause(t *testing.T, res *handshake.Result, slug string, words ...string) {
	t.Helper()
	i := slices.IndexFunc(res.Causes, func(c handshake.Cause) bool { return c.Slug == slug })
	if i < 0 {
		t.Fatalf("no cause %q in %v (%s): %s", slug, causeSlugs(res.Causes), res.Status, res.Summary)
	}
	for _, w := range words {
		if !strings.Contains(res.Causes[i].Message, w) {
			t.Errorf("cause %s does not say %q: %s", slug, w, res.Causes[i].Message)
		}
	}
}

// goroutines waits for the number of goroutines to fall back to base, and
// fails with their stacks if it does not within 5 s.
func goroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
