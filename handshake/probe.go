package handshake

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// DefaultTimeout bounds the TCP connection and, separately, the handshake.
const DefaultTimeout = 10 * time.Second

// ProbeConfig configures a probe: this tool as the client of one link, the GAP
// towards a provider or a terminal towards a GAP server.
type ProbeConfig struct {
	Link    diapason.LinkID
	Address string
	// ServerName is sent as SNI (unless an IP address); the provider link
	// checks the certificate against it.
	ServerName string
	// Credential is the client certificate (chain as sent) and key; nil sends none.
	Credential *tls12.Certificate
	// KeyName names the key in messages ("client.key").
	KeyName string
	// OwnCAs are CAs the client side knows (a lab's), which complete its own
	// chain for the report, as the embedded IGC-Santé CAs do, whether sent or not.
	OwnCAs []*x509.Certificate
	Offer  Offer
	Peer   *PeerPolicy
	// Timeout bounds the connection and the handshake, each; DefaultTimeout if zero.
	Timeout time.Duration
	// Now is when certificates are judged.
	Now time.Time
	// Clock measures durations (time.Now); nil leaves them zero.
	Clock func() time.Time
	// Dial opens the connection; nil uses a net.Dialer.
	Dial DialFunc
	// Own, when set, is OwnReport made beforehand: a fleet probing many times
	// with one credential checks it once.
	Own *check.CertReport
	// NoTrace leaves Result.Trace empty and spares the engine a summary of
	// every message.
	NoTrace bool
}

func (cfg *ProbeConfig) timeout() time.Duration {
	if cfg.Timeout <= 0 {
		return DefaultTimeout
	}
	return cfg.Timeout
}

// Probe runs one handshake as the client and judges it.
func Probe(ctx context.Context, cfg *ProbeConfig) *Result {
	client, server := sides(cfg.Link)
	res := &Result{Link: cfg.Link, Client: client, Server: server, Address: cfg.Address, At: cfg.Now.UTC(),
		Offer:    OfferInfo{Version: "TLS 1.2", Suites: cfg.Offer.Describe(), Groups: groupNames(), ExtendedMasterSecret: true, EncryptThenMAC: true},
		Exchange: Exchange{Causes: []Cause{}}}
	if cfg.Offer.Alias {
		res.Offer.AliasNote = AliasNote()
	}
	if sni := cfg.ServerName; sni != "" && !isIP(sni) {
		res.Offer.ServerName = sni
	}
	if cfg.Credential != nil {
		res.Own = cfg.Own
		if res.Own == nil {
			res.Own = OwnReport(ctx, cfg)
		}
		if c, stop := credentialStops(res.Own, "--cert", cfg.KeyName); stop {
			res.Status, res.Causes = StatusFail, []Cause{c}
			res.Summary = c.Message
			return res
		}
	}
	rec := newRecorder(cfg.Clock)
	t0 := rec.now()
	conn, cause := dial(ctx, cfg.Dial, cfg.Address, server, cfg.timeout())
	res.Connect.DurationMS = ms(rec.since(t0))
	if cause != nil {
		res.Connect.Error = cause.Message
		res.Status, res.Causes, res.Summary = StatusUnknown, []Cause{*cause}, cause.Message
		return res
	}
	res.Connect.Connected, res.Connect.Remote = true, conn.RemoteAddr().String()

	var judged *PeerReport
	tcfg := &tls12.Config{
		CipherSuites: cfg.Offer.Suites, Groups: groups, ServerName: cfg.ServerName,
		VerifyPeer: func(chain []*x509.Certificate, _ tls12.ConnectionState) error {
			judged = cfg.Peer.Judge(ctx, chain, cfg.Now)
			return judged.VerifyError()
		},
		Time: clockOrZero(cfg.Clock), Trace: rec.record,
	}
	if cfg.NoTrace {
		tcfg.Trace = nil
	}
	if cfg.Credential != nil {
		tcfg.Certificates = []tls12.Certificate{*cfg.Credential}
	}
	tc := tls12.Client(conn, tcfg)
	hctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	h0 := rec.now()
	err := tc.Handshake(hctx)
	cancel()
	res.Handshake.DurationMS = ms(rec.since(h0))
	tc.Close()
	st := tc.ConnectionState()
	res.Negotiated = negotiated(st)
	if judged == nil && len(st.PeerCertificates) > 0 {
		// The handshake stopped after the certificate arrived but before it was
		// judged: judge it anyway, for the report.
		judged = cfg.Peer.Judge(ctx, st.PeerCertificates, cfg.Now)
	}
	res.Peer = judged
	res.Trace = rec.steps
	step := stepOf(err)
	if st.CertificateRequested || err == nil || afterClientFlight(step) {
		res.CertificateRequest = certificateRequest(st, cfg.Credential, res.Own)
	}
	if err != nil {
		res.Handshake.StoppedAt, res.Handshake.Error = step, innermost(err)
		if ae := alertOf(err); ae != nil {
			res.Handshake.Alert = alertInfo(ae)
		}
		f := &failure{link: cfg.Link, err: err, state: st, peer: judged, offer: cfg.Offer, timeout: cfg.timeout(), own: res.Own}
		if cfg.Credential != nil && st.CertificateRequested {
			f.sent = cfg.Credential.Chain
		}
		res.Causes = explainClient(f)
		res.Status = StatusFail
		if cfg.Link == diapason.LinkTPE && cfg.Credential == nil && len(res.Causes) == 1 && res.Causes[0].Slug == "no-client-certificate" {
			// Without a terminal certificate, a refusal for the lack of one is
			// what a well-configured GAP server does.
			res.Causes = []Cause{{Slug: "client-certificate-required", Level: check.Warn,
				Message: "the GAP server requires a terminal certificate, as it should, so the handshake could not complete without one; its certificate was checked as a terminal checks it",
				Fix:     "give a terminal certificate with --cert and --key (or --lab) to test the whole handshake"}}
			res.Status = Worse(StatusWarn, StatusOf(judged.Findings()))
			res.Causes = append(res.Causes, findingCauses(judged.Findings(), "", "the GAP server's certificate: ")...)
		}
	} else {
		res.Handshake.Completed = true
		res.Causes = completedCauses(cfg, st, res.Own, client, server)
		res.Causes = append(res.Causes, findingCauses(judged.Findings(), "", "the "+server+"'s certificate: ")...)
		if res.Own != nil {
			res.Causes = append(res.Causes, findingCauses(res.Own.Findings, "own-", "this "+client+"'s certificate: ")...)
		}
		res.Status = causesStatus(res.Causes)
	}
	res.Summary = summary(&res.Exchange, client, server)
	return res
}

// OwnReport checks the client's own certificate and the chain it sends, as
// of cfg.Now, as Probe does before connecting.
func OwnReport(ctx context.Context, cfg *ProbeConfig) *check.CertReport {
	chain := cfg.Credential.Chain
	profile := diapason.PSPClient
	if cfg.Link == diapason.LinkTPE {
		profile = diapason.TPEClient
	}
	return credentialReport(ctx, chain, cfg.Credential.Key.Public(), cfg.KeyName, profile, "", cfg.OwnCAs, cfg.Now)
}

// credentialReport checks a credential this side presents: its certificate
// against its profile, its key, and whether the chain sent is complete. cas
// are the CAs this side knows: the self-signed ones anchor its chain.
func credentialReport(ctx context.Context, chain []*x509.Certificate, key any, keyName string, profile diapason.ProfileID, fqdn string,
	cas []*x509.Certificate, now time.Time) *check.CertReport {
	var opts check.ChainOptions
	for _, c := range cas {
		if selfIssued(c) {
			opts.Anchors = append(opts.Anchors, c)
		} else {
			opts.Intermediates = append(opts.Intermediates, c)
		}
	}
	k := check.NewChecker(check.Options{Profile: profile, FQDN: fqdn, Key: key, KeyName: keyName, Warn: diapason.WarnWindow, Now: now,
		Chains: check.NewChainBuilder(opts)})
	cr := k.CheckCertificate(ctx, chain[0], chain[1:])
	// Whether the chain ends at a root is for the peer to judge; what matters
	// here is what is sent.
	fs := slices.DeleteFunc(cr.Findings, func(f check.Finding) bool {
		return f.Slug == "chain-incomplete" || f.Slug == "chain-root-missing" || f.Slug == "chain-untrusted"
	})
	if m := missingSent(&cr, chain); m != "" {
		fs = append(fs, check.Finding{Slug: "sent-chain-incomplete", Level: check.Warn, Message: fmt.Sprintf(
			"the chain sent is %q without its issuer %s: a peer that does not already hold that CA refuses the certificate (unknown_ca); add it with --chain",
			cr.CommonName, m)})
	}
	cr.Findings = sortFindings(fs)
	return &cr
}

// credentialStops says when a credential cannot be used at all: its key is not
// its certificate's, or (for a server) not an RSA key, which ECDHE_RSA needs.
func credentialStops(own *check.CertReport, certFlag, keyName string) (Cause, bool) {
	for _, f := range own.Findings {
		switch f.Slug {
		case "key-mismatch":
			return fail("key-mismatch", f.Message, fmt.Sprintf("give the key of %s's certificate (or the certificate of %s)", certFlag, keyName)), true
		}
	}
	return Cause{}, false
}

// completedCauses judges a handshake that completed against the Diapason policy.
func completedCauses(cfg *ProbeConfig, st tls12.ConnectionState, own *check.CertReport, client, server string) []Cause {
	var out []Cause
	switch {
	case !st.CertificateRequested:
		out = append(out, fail("no-client-certificate-request", fmt.Sprintf("the %s did not ask for a client certificate: the link is not mutual TLS, which Diapason requires", server),
			"the "+server+" must require client certificates (nginx: ssl_verify_client on; Apache: SSLVerifyClient require; openssl s_server: -Verify)"))
	case cfg.Credential == nil:
		out = append(out, fail("client-certificate-optional", fmt.Sprintf("the %s asked for a client certificate but completed the handshake without one: it does not require it, which Diapason does", server),
			"the "+server+" must refuse clients without a certificate (nginx: ssl_verify_client on, not optional)"))
	case len(st.RequestedCAs) > 0 && !namesChain(st.RequestedCAs, cfg.Credential.Chain, ownCAs(own)):
		out = append(out, Cause{Slug: "client-ca-not-listed", Level: check.Warn, Message: fmt.Sprintf(
			"the %s's certificate request names only CAs that this %s's certificate does not chain to (%s): a %s that chooses its certificate by those names, "+
				"as Java, browsers and Go's crypto/tls do, sends none and is refused; this one sent it anyway and the %s accepted it",
			server, client, strings.Join(caNames(st.RequestedCAs), "; "), client, server),
			Fix: "the " + server + " must name in its certificate request the CAs it accepts client certificates from"})
	}
	if !slices.Contains(diapason.DiapasonSuites, st.CipherSuite) {
		out = append(out, Cause{Slug: "suite-not-diapason", Level: check.Warn, Message: fmt.Sprintf(
			"the %s chose %s (0x%04X), which is not a Diapason suite; it was offered only because of --cipher", server, DescribeSuite(st.CipherSuite).IANA, st.CipherSuite),
			Fix: "the Diapason suites are 0xC028 and 0xC027: run again without --cipher to see whether the " + server + " accepts them"})
	}
	return out
}

// namesChain reports whether one of the names a server listed is the subject
// or the issuer of a certificate of the client's chain, sent or known: then a
// client that picks its certificate by those names picks it.
func namesChain(names [][]byte, sent, known []*x509.Certificate) bool {
	for _, c := range slices.Concat(sent, known) {
		for _, n := range names {
			if bytes.Equal(n, c.RawIssuer) || bytes.Equal(n, c.RawSubject) {
				return true
			}
		}
	}
	return false
}

// findingCauses turns the warnings and failures of a report into causes; infos
// stay in the report.
func findingCauses(fs []check.Finding, prefix, what string) []Cause {
	var out []Cause
	for _, f := range fs {
		if f.Level == check.Fail || f.Level == check.Warn {
			out = append(out, Cause{Slug: prefix + f.Slug, Level: f.Level, Message: what + f.Message})
		}
	}
	return out
}

func causesStatus(cs []Cause) Status {
	s := StatusOK
	for _, c := range cs {
		switch c.Level {
		case check.Fail:
			s = Worse(s, StatusFail)
		case check.Warn:
			s = Worse(s, StatusWarn)
		case LevelUnknown:
			s = Worse(s, StatusUnknown)
		}
	}
	return s
}

func summary(x *Exchange, client, server string) string {
	if len(x.Causes) > 0 && x.Status != StatusOK {
		return x.Causes[0].Message
	}
	if x.Handshake.Completed && x.Negotiated != nil {
		return fmt.Sprintf("mutual TLS 1.2 handshake completed with %s (%s); the %s accepted this %s's certificate and this %s accepts the %s's",
			x.Negotiated.Suite.ID, x.Negotiated.Suite.IANA, server, client, client, server)
	}
	return "handshake completed"
}

func certificateRequest(st tls12.ConnectionState, cred *tls12.Certificate, own *check.CertReport) *CertificateRequest {
	cr := &CertificateRequest{Requested: st.CertificateRequested, AcceptedCAs: caNames(st.RequestedCAs), OurCAsListed: []string{}, SignatureSchemes: []string{}}
	for _, s := range st.RequestedSignatureSchemes {
		cr.SignatureSchemes = append(cr.SignatureSchemes, s.String())
	}
	cr.OurCAsListed = listedCAs(ownCAs(own), st.RequestedCAs)
	if cred != nil && st.CertificateRequested {
		cr.CertificateSent = nameOf(cred.Chain[0].RawSubject, cred.Chain[0].Subject.String())
	}
	return cr
}

func clockOrZero(clock func() time.Time) func() time.Time {
	if clock != nil {
		return clock
	}
	return func() time.Time { return time.Time{} }
}
