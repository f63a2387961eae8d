package handshake

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// Server is one side of a link as a TLS server: a GAP server facing terminals
// (tpe) or a provider facing GAPs (psp). It requires a client certificate and
// judges it with Peer. A Server may handle many connections at once.
type Server struct {
	Link       diapason.LinkID
	Credential tls12.Certificate
	Offer      Offer
	// ClientCAs are the CAs named in the CertificateRequest.
	ClientCAs []*x509.Certificate
	Peer      *PeerPolicy
	// Now is when each handshake's client certificate is judged.
	Now func() time.Time
	// Clock measures durations; nil leaves them zero.
	Clock func() time.Time
	// Timeout bounds each handshake; DefaultTimeout if zero.
	Timeout time.Duration
	// NoClientCertRequest leaves the CertificateRequest out, as a server
	// misconfigured for one-way TLS does: the link is then not mutual.
	NoClientCertRequest bool
	// NoTrace leaves Exchange.Trace empty, which spares the engine a summary
	// of every message: a busy server logs verdicts, not ladders.
	NoTrace bool
	// MaxHandshakeMessage bounds what one client can make the server buffer;
	// zero is the engine's default (tls12.DefaultMaxHandshakeMessage).
	MaxHandshakeMessage int

	namesOnce sync.Once
	names     [][]byte
}

// ServerResult is what a server saw of one connection.
type ServerResult struct {
	Remote string `json:"remote"`
	Exchange
}

// Handshake runs the server side of one handshake on conn and judges it. The
// connection is returned open when the handshake completed, for the caller to
// use and close; otherwise it is closed.
func (s *Server) Handshake(ctx context.Context, conn net.Conn) (*tls12.Conn, *ServerResult) {
	client, server := sides(s.Link)
	res := &ServerResult{Remote: conn.RemoteAddr().String(), Exchange: Exchange{Causes: []Cause{}}}
	rec := newRecorder(s.Clock)
	s.namesOnce.Do(func() {
		for _, c := range s.ClientCAs {
			s.names = append(s.names, c.RawSubject)
		}
	})
	now := s.Now()
	var judged *PeerReport
	cfg := &tls12.Config{
		Certificates: []tls12.Certificate{s.Credential}, CipherSuites: s.Offer.Suites, Groups: groups,
		ClientAuth: tls12.RequireClientCert, ClientCAs: s.names, MaxHandshakeMessage: s.MaxHandshakeMessage,
		VerifyPeer: func(chain []*x509.Certificate, _ tls12.ConnectionState) error {
			judged = s.Peer.Judge(ctx, chain, now)
			return judged.VerifyError()
		},
		Time: clockOrZero(s.Clock), Trace: rec.record,
	}
	if s.NoClientCertRequest {
		cfg.ClientAuth = tls12.NoClientCert
	}
	if s.NoTrace {
		cfg.Trace = nil
	}
	tc := tls12.Server(conn, cfg)
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	h0 := rec.now()
	err := tc.Handshake(hctx)
	cancel()
	res.Handshake.DurationMS = ms(rec.since(h0))
	st := tc.ConnectionState()
	res.Negotiated = negotiated(st)
	res.Peer = judged
	res.Trace = rec.steps
	if err != nil {
		tc.Close()
		res.Handshake.StoppedAt, res.Handshake.Error = stepOf(err), innermost(err)
		if ae := alertOf(err); ae != nil {
			res.Handshake.Alert = alertInfo(ae)
		}
		res.Causes = explainServer(err, judged, us{server, client}, timeout, s.Link)
		res.Status = StatusFail
		res.Summary = res.Causes[0].Message
		return nil, res
	}
	res.Handshake.Completed = true
	if s.NoClientCertRequest {
		res.Causes = []Cause{{Slug: "no-client-certificate-request", Level: check.Warn, Message: fmt.Sprintf(
			"TLS 1.2 handshake completed with %s without asking the %s for a certificate: the link is not mutual TLS", res.Negotiated.Suite.ID, client)}}
		res.Status, res.Summary = StatusWarn, res.Causes[0].Message
		return tc, res
	}
	res.Causes = findingCauses(judged.Findings(), "", "the "+client+"'s certificate: ")
	res.Status = causesStatus(res.Causes)
	res.Summary = fmt.Sprintf("mutual TLS 1.2 handshake completed with %s (%s); the %s's certificate is accepted", res.Negotiated.Suite.ID, res.Negotiated.Suite.IANA, client)
	if res.Status != StatusOK {
		res.Summary = res.Causes[0].Message
	}
	return tc, res
}

// us names this side and its peer in sentences.
type us struct{ self, peer string }

// explainServer turns a failed handshake, seen from the server, into causes.
func explainServer(err error, peer *PeerReport, u us, timeout time.Duration, link diapason.LinkID) []Cause {
	step := stepOf(err)
	var ae *tls12.AlertError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		what := "sent no ClientHello"
		if step != "reading ClientHello" {
			what = "stopped sending (while " + step + ")"
		}
		return []Cause{fail("stalled", fmt.Sprintf("the %s connected but %s within %s", u.peer, what, timeout), "")}
	case errors.Is(err, context.Canceled):
		return []Cause{fail("interrupted", "the handshake was interrupted before it completed", "")}
	case notTLS(err):
		return []Cause{fail("not-tls", fmt.Sprintf("the %s does not speak TLS: %s", u.peer, why(err)), "")}
	case errors.As(err, &ae) && ae.Sent:
		msg := innermost(err)
		switch {
		case peer != nil && peer.Refusal != nil:
			return refusalCauses(peer, u.self, u.peer, link)
		case strings.Contains(msg, "sent no certificate"):
			return []Cause{fail("no-client-certificate", fmt.Sprintf("the %s sent no certificate, and Diapason requires one", u.peer),
				"configure the "+u.peer+" with its client certificate")}
		case strings.Contains(msg, "no cipher suite in common"):
			return []Cause{fail("suite-mismatch", fmt.Sprintf("no cipher suite in common with the %s: %s", u.peer, ae.Err),
				"Diapason uses 0xC028 (ECDHE-RSA-AES256-SHA384) and 0xC027 (ECDHE-RSA-AES128-SHA256): configure the "+u.peer+" to offer them")}
		}
		return []Cause{fail("protocol-error", fmt.Sprintf("the %s's message broke the protocol while %s, so this %s stopped with %s: %v", u.peer, step, u.self, ae.Description, ae.Err), "")}
	case errors.As(err, &ae):
		if strings.HasPrefix(step, "reading client Certificate") || strings.HasPrefix(step, "reading ClientKeyExchange") {
			return []Cause{fail("server-certificate-refused", fmt.Sprintf("the %s refused this %s's certificate (%s): %s", u.peer, u.self, ae.Description, AlertMeaning(ae.Description)),
				"check this server's certificate and chain as the "+u.peer+" does (diapason-cert handshake tpe, or check)")}
		}
		return []Cause{fail("peer-alert", fmt.Sprintf("the %s sent the alert %s while this %s was %s: %s", u.peer, ae.Description, u.self, step, AlertMeaning(ae.Description)), "")}
	case peerClosed(err):
		if step == "reading ClientHello" {
			return []Cause{fail("closed-before-hello", fmt.Sprintf("the %s connected and closed without a ClientHello (a port check or health probe?)", u.peer), "")}
		}
		return []Cause{fail("closed", fmt.Sprintf("the %s closed the connection without an alert while this %s was %s: it most likely refused this %s's certificate silently", u.peer, u.self, step, u.self), "")}
	}
	return []Cause{fail("handshake-error", fmt.Sprintf("the handshake stopped while %s: %v", step, innermost(err)), "")}
}

// ServerCredentialReport checks a credential a server presents, against its
// profile (fqdn is the name the server is known by), its key, and whether the
// chain it sends is complete; cas are CAs known besides the embedded ones.
func ServerCredentialReport(ctx context.Context, cred tls12.Certificate, keyName string, profile diapason.ProfileID, fqdn string,
	cas []*x509.Certificate, now time.Time) *check.CertReport {
	return credentialReport(ctx, cred.Chain, cred.Key.Public(), keyName, profile, fqdn, cas, now)
}
