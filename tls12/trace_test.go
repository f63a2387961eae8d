package tls12

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

type traceLog struct {
	mu     sync.Mutex
	events []TraceEvent
}

func (l *traceLog) add(e TraceEvent) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *traceLog) steps() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s []string
	for _, e := range l.events {
		s = append(s, e.Direction.String()+" "+e.Step)
	}
	return s
}

var traceTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestTraceMutualHandshake(t *testing.T) {
	var clientLog, serverLog traceLog
	ccfg, scfg := mutualConfigs(t)
	ccfg.Trace, scfg.Trace = clientLog.add, serverLog.add
	ccfg.Time = func() time.Time { return traceTime }
	a, b := tcpPair(t)
	cc, sc := Client(a, ccfg), Server(b, scfg)
	if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
		t.Fatalf("client: %v\nserver: %v", cerr, serr)
	}
	exchange(t, cc, sc)

	wantClient := []string{
		"sent ClientHello",
		"received ServerHello",
		"received Certificate",
		"received ServerKeyExchange",
		"received CertificateRequest",
		"received ServerHelloDone",
		"sent Certificate",
		"sent ClientKeyExchange",
		"sent CertificateVerify",
		"sent ChangeCipherSpec",
		"sent Finished",
		"received ChangeCipherSpec",
		"received Finished",
		"sent Alert",
	}
	wantServer := []string{
		"received ClientHello",
		"sent ServerHello",
		"sent Certificate",
		"sent ServerKeyExchange",
		"sent CertificateRequest",
		"sent ServerHelloDone",
		"received Certificate",
		"received ClientKeyExchange",
		"received CertificateVerify",
		"received ChangeCipherSpec",
		"received Finished",
		"sent ChangeCipherSpec",
		"sent Finished",
		"received Alert",
	}
	if got := clientLog.steps(); !slices.Equal(got, wantClient) {
		t.Errorf("client steps:\n%s", strings.Join(got, "\n"))
	}
	if got := serverLog.steps(); !slices.Equal(got, wantServer) {
		t.Errorf("server steps:\n%s", strings.Join(got, "\n"))
	}
	for _, e := range clientLog.events {
		if !e.Time.Equal(traceTime) {
			t.Errorf("%s at %v, want Config.Time", e.Step, e.Time)
		}
		switch e.ContentType {
		case 22:
			if e.HandshakeType != e.Data[0] || e.Length != len(e.Data)-4 {
				t.Errorf("%s: type %d length %d for %d bytes", e.Step, e.HandshakeType, e.Length, len(e.Data))
			}
		case 21:
			if e.Summary != "warning close_notify" {
				t.Errorf("alert summary %q", e.Summary)
			}
		}
	}
	if s := clientLog.events[0].Summary; !strings.Contains(s, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384") || !strings.Contains(s, "server_name=localhost") {
		t.Errorf("ClientHello summary %q", s)
	}
	if s := serverLog.events[1].Summary; !strings.Contains(s, "extensions=[ec_point_formats encrypt_then_mac extended_master_secret renegotiation_info]") {
		t.Errorf("sent ServerHello summary %q", s)
	}
	if s := clientLog.events[4].Summary; !strings.Contains(s, "TEST AC RACINE") {
		t.Errorf("CertificateRequest summary %q", s)
	}
}

// TestTraceRefusal checks the trace ends with the alert the server sent.
func TestTraceRefusal(t *testing.T) {
	var serverLog traceLog
	pki := testpeer.NewPKI(t)
	ccfg, scfg := mutualConfigs(t)
	ccfg.Certificates = []Certificate{credOf(pki.ExpiredClient)}
	scfg.Trace = serverLog.add
	a, b := tcpPair(t)
	_, serr := handshakeBoth(t, Client(a, ccfg), Server(b, scfg))
	var he *HandshakeError
	if !errors.As(serr, &he) || he.Step != "verifying peer certificate" {
		t.Fatalf("server: %v", serr)
	}
	last := serverLog.events[len(serverLog.events)-1]
	if last.Direction != Sent || last.Step != "Alert" || last.Summary != "fatal certificate_expired" {
		t.Errorf("last event %+v", last)
	}
}
