package handshake

import (
	"crypto/x509"
	"errors"
	"net"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// Status is a verdict, ordered as the exit codes are: FAIL > UNKNOWN > WARN > OK.
type Status string

const (
	StatusOK      Status = "ok"
	StatusWarn    Status = "warn"
	StatusUnknown Status = "unknown"
	StatusFail    Status = "fail"
)

func (s Status) rank() int {
	switch s {
	case StatusWarn:
		return 1
	case StatusUnknown:
		return 2
	case StatusFail:
		return 3
	}
	return 0
}

// Worse returns the more serious of two statuses.
func Worse(a, b Status) Status {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

// StatusOf maps findings to a status: a failure is FAIL, a warning WARN.
func StatusOf(fs []check.Finding) Status {
	switch check.Worst(fs) {
	case check.Fail:
		return StatusFail
	case check.Warn:
		return StatusWarn
	}
	return StatusOK
}

// Cause is one reason for a verdict, said as the problem and its fix.
type Cause struct {
	// Slug is stable: scripts may match on it.
	Slug    string      `json:"slug"`
	Level   check.Level `json:"level"`
	Message string      `json:"message"`
	Fix     string      `json:"fix,omitempty"`
}

// AlertInfo is a TLS alert sent or received.
type AlertInfo struct {
	Name  string `json:"name"`
	Code  int    `json:"code"`
	Level string `json:"level"`
	// Sent is set when this side sent it, unset when the peer did.
	Sent bool `json:"sent"`
	// Meaning is what the alert usually means.
	Meaning string `json:"meaning"`
}

// HandshakeInfo says how far the handshake went.
type HandshakeInfo struct {
	Completed  bool    `json:"completed"`
	DurationMS float64 `json:"duration_ms"`
	// StoppedAt is the step the handshake stopped at ("reading ServerHello").
	StoppedAt string     `json:"stopped_at,omitempty"`
	Alert     *AlertInfo `json:"alert,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// Negotiated is what the two sides agreed.
type Negotiated struct {
	Version              string    `json:"version"`
	Suite                SuiteInfo `json:"suite"`
	ExtendedMasterSecret bool      `json:"extended_master_secret"`
	EncryptThenMAC       bool      `json:"encrypt_then_mac"`
	SecureRenegotiation  bool      `json:"secure_renegotiation"`
	Group                string    `json:"group,omitempty"`
	ServerSignature      string    `json:"server_signature,omitempty"`
	ClientSignature      string    `json:"client_signature,omitempty"`
}

// CertificateRequest is what the server asked of the client.
type CertificateRequest struct {
	Requested bool `json:"requested"`
	// AcceptedCAs are the CA names the server listed, possibly none.
	AcceptedCAs []string `json:"accepted_cas"`
	// OurCAsListed are the CAs of the client's chain among them: information only,
	// as servers often list only roots and any listed CA may anchor the chain.
	OurCAsListed     []string `json:"our_cas_listed"`
	SignatureSchemes []string `json:"signature_schemes"`
	// CertificateSent is the subject of the certificate the client sent, "" for none.
	CertificateSent string `json:"certificate_sent,omitempty"`
}

// TraceStep is one handshake message, ChangeCipherSpec or alert.
type TraceStep struct {
	Direction string  `json:"direction"` // "sent" or "received"
	Message   string  `json:"message"`
	Summary   string  `json:"summary,omitempty"`
	Length    int     `json:"length"`
	AtMS      float64 `json:"at_ms"`
}

// Exchange is what both kinds of result say about one handshake.
type Exchange struct {
	Status Status `json:"status"`
	// Summary is the verdict in one sentence.
	Summary    string        `json:"summary"`
	Handshake  HandshakeInfo `json:"handshake"`
	Negotiated *Negotiated   `json:"negotiated,omitempty"`
	// Peer is the judgement of the certificate the peer sent.
	Peer   *PeerReport `json:"peer_certificate,omitempty"`
	Causes []Cause     `json:"causes"`
	Trace  []TraceStep `json:"trace,omitempty"`
}

// ConnectInfo is the TCP connection.
type ConnectInfo struct {
	Connected  bool    `json:"connected"`
	Remote     string  `json:"remote,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// OfferInfo is what a client offered.
type OfferInfo struct {
	Version              string      `json:"version"`
	Suites               []SuiteInfo `json:"suites"`
	AliasNote            string      `json:"alias_note,omitempty"`
	Groups               []string    `json:"groups"`
	ExtendedMasterSecret bool        `json:"extended_master_secret"`
	EncryptThenMAC       bool        `json:"encrypt_then_mac"`
	ServerName           string      `json:"server_name,omitempty"`
}

// Result is the verdict of a probe: this tool as the client of one link.
type Result struct {
	Link diapason.LinkID `json:"link"`
	// Client and Server name the two sides ("GAP", "provider").
	Client  string `json:"client"`
	Server  string `json:"server"`
	Address string `json:"address"`
	// At is when the certificates were judged.
	At      time.Time   `json:"at"`
	Connect ConnectInfo `json:"connect"`
	Offer   OfferInfo   `json:"offer"`
	// CertificateRequest is nil when the handshake stopped before the server's
	// request could have come.
	CertificateRequest *CertificateRequest `json:"certificate_request,omitempty"`
	// Own is the check of the client's own certificate and the chain it sends.
	Own *check.CertReport `json:"own_certificate,omitempty"`
	Exchange
	// SelfTest is set for a self-test: the server side's own view.
	SelfTest *SelfTestInfo `json:"self_test,omitempty"`
}

// sides names the two ends of each link in sentences.
func sides(link diapason.LinkID) (client, server string) {
	if link == diapason.LinkTPE {
		return "terminal", "GAP server"
	}
	return "GAP", "provider"
}

func negotiated(st tls12.ConnectionState) *Negotiated {
	if st.CipherSuite == 0 {
		return nil
	}
	n := &Negotiated{
		Version: "TLS 1.2", Suite: DescribeSuite(st.CipherSuite),
		ExtendedMasterSecret: st.ExtendedMasterSecret, EncryptThenMAC: st.EncryptThenMAC,
		SecureRenegotiation: st.SecureRenegotiation,
	}
	if st.Group != 0 {
		n.Group = st.Group.String()
	}
	if st.ServerSignatureScheme != 0 {
		n.ServerSignature = st.ServerSignatureScheme.String()
	}
	if st.ClientSignatureScheme != 0 {
		n.ClientSignature = st.ClientSignatureScheme.String()
	}
	return n
}

// recorder keeps the trace of one handshake.
type recorder struct {
	start time.Time
	clock func() time.Time
	steps []TraceStep
}

func newRecorder(clock func() time.Time) *recorder {
	r := &recorder{clock: clock}
	if clock != nil {
		r.start = clock()
	}
	return r
}

func (r *recorder) record(e tls12.TraceEvent) {
	s := TraceStep{Direction: e.Direction.String(), Message: e.Step, Summary: e.Summary, Length: e.Length}
	if r.clock != nil {
		s.AtMS = ms(e.Time.Sub(r.start))
	}
	r.steps = append(r.steps, s)
}

// since is the time from start, zero without a clock.
func (r *recorder) since(start time.Time) time.Duration {
	if r.clock == nil {
		return 0
	}
	return r.clock().Sub(start)
}

func (r *recorder) now() time.Time {
	if r.clock == nil {
		return time.Time{}
	}
	return r.clock()
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func alertOf(err error) *tls12.AlertError {
	var ae *tls12.AlertError
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

func isIP(s string) bool { return net.ParseIP(s) != nil }

// caNames renders DER names as issued.
func caNames(ders [][]byte) []string {
	out := make([]string, 0, len(ders))
	for _, d := range ders {
		out = append(out, nameOf(d, "(unreadable name)"))
	}
	return out
}

// listedCAs returns the certificates of chain whose subject the server listed.
func listedCAs(chain []*x509.Certificate, listed [][]byte) []string {
	out := []string{}
	for _, c := range chain {
		for _, l := range listed {
			if string(l) == string(c.RawSubject) {
				out = append(out, nameOf(c.RawSubject, c.Subject.String()))
				break
			}
		}
	}
	return out
}
