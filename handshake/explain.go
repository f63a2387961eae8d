package handshake

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// alertMeanings say what an alert usually means in practice, beyond its name.
var alertMeanings = map[tls12.AlertDescription]string{
	tls12.AlertCloseNotify:            "the peer closed the connection",
	tls12.AlertUnexpectedMessage:      "a message came when another was expected: a TLS implementation fault or a proxy in the way",
	tls12.AlertBadRecordMAC:           "a record failed its integrity check: the two sides derived different keys, or the traffic was altered",
	tls12.AlertRecordOverflow:         "a record was longer than TLS allows",
	tls12.AlertHandshakeFailure:       "no acceptable set of parameters (cipher suite, curve, signature algorithm), or a refusal without a more precise reason, often for a missing or unacceptable client certificate",
	tls12.AlertBadCertificate:         "a certificate was refused: damaged, badly signed, or with a name or content the peer rejects",
	tls12.AlertUnsupportedCertificate: "a certificate of a type or usage the peer does not accept (key type, keyUsage, extendedKeyUsage)",
	tls12.AlertCertificateRevoked:     "a certificate revoked by its CA",
	tls12.AlertCertificateExpired:     "a certificate expired or not yet valid by the peer's clock",
	tls12.AlertCertificateUnknown:     "a certificate the peer could not accept for another reason, often because its revocation status could not be obtained",
	tls12.AlertIllegalParameter:       "a handshake field out of range or inconsistent with the rest",
	tls12.AlertUnknownCA:              "no chain from the certificate to a CA the peer trusts: an unknown issuer, or a missing intermediate",
	tls12.AlertAccessDenied:           "the certificate was accepted, but its holder is not allowed in",
	tls12.AlertDecodeError:            "a message that could not be decoded",
	tls12.AlertDecryptError:           "a signature or the Finished check failed: a key that is not the certificate's, or a faulty implementation",
	tls12.AlertProtocolVersion:        "the TLS version offered is not one the peer accepts",
	tls12.AlertInsufficientSecurity:   "the peer requires stronger cipher suites than those offered",
	tls12.AlertInternalError:          "an error inside the peer, unrelated to the protocol",
	tls12.AlertUserCanceled:           "the peer's application gave up on the handshake",
	tls12.AlertNoRenegotiation:        "the peer refuses to renegotiate",
	tls12.AlertUnsupportedExtension:   "an extension the peer did not ask for",
	tls12.AlertUnrecognizedName:       "the peer serves no site under the server name (SNI) sent",
	tls12.AlertCertificateRequired:    "the peer requires a client certificate and none was sent",
}

// AlertMeaning says what an alert usually means.
func AlertMeaning(d tls12.AlertDescription) string {
	if m, ok := alertMeanings[d]; ok {
		return m
	}
	return "an alert this tool has no explanation for"
}

func alertInfo(ae *tls12.AlertError) *AlertInfo {
	return &AlertInfo{Name: ae.Description.String(), Code: int(ae.Description), Level: ae.Level.String(), Sent: ae.Sent, Meaning: AlertMeaning(ae.Description)}
}

// failure is what is known about a handshake that did not complete.
type failure struct {
	link    diapason.LinkID
	err     error
	state   tls12.ConnectionState
	peer    *PeerReport
	offer   Offer
	timeout time.Duration
	// client side only: the chain sent (nil when none) and its check.
	sent []*x509.Certificate
	own  *check.CertReport
}

// stepOf returns the step of a handshake error.
func stepOf(err error) string {
	var he *tls12.HandshakeError
	if errors.As(err, &he) {
		return he.Step
	}
	return ""
}

// atHello reports a step before the server's first flight was read.
func atHello(step string) bool {
	return step == "" || strings.HasPrefix(step, "sending ClientHello") || strings.HasPrefix(step, "reading ServerHello") ||
		strings.HasPrefix(step, "preparing")
}

// afterClientFlight reports a step after the client sent its certificate and
// keys: where a server's verdict on the client certificate arrives.
func afterClientFlight(step string) bool {
	return strings.HasPrefix(step, "reading ChangeCipherSpec") || strings.HasPrefix(step, "reading Finished") ||
		strings.HasPrefix(step, "sending client Certificate") || strings.HasPrefix(step, "sending ClientKeyExchange") ||
		strings.HasPrefix(step, "sending CertificateVerify") || strings.HasPrefix(step, "sending Finished")
}

// notTLS recognises the engine's error for a peer that answered with something else than TLS.
func notTLS(err error) bool { return strings.Contains(err.Error(), "does not speak TLS") }

func fail(slug, msg, fix string) Cause {
	return Cause{Slug: slug, Level: check.Fail, Message: msg, Fix: fix}
}

// explainClient turns a failed handshake, seen from the client, into causes.
func explainClient(f *failure) []Cause {
	client, server := sides(f.link)
	step := stepOf(f.err)
	var ae *tls12.AlertError
	switch {
	case errors.Is(f.err, context.DeadlineExceeded):
		what := "did not answer the ClientHello"
		if !atHello(step) {
			what = "stopped answering (while " + step + ")"
		}
		return []Cause{fail("stalled", fmt.Sprintf("the %s accepted the TCP connection but %s within %s", server, what, f.timeout),
			"check that this port is the TLS service of the "+server+" (a stalled or overloaded service, or one waiting for something else than TLS); raise --timeout for a slow link")}
	case errors.Is(f.err, context.Canceled):
		return []Cause{fail("interrupted", "the handshake was interrupted before it completed", "")}
	case notTLS(f.err):
		return []Cause{fail("not-tls", fmt.Sprintf("the %s does not speak TLS on this port: %s", server, why(f.err)),
			"check the port: it answers with another protocol (HTTP, SSH, …), not TLS")}
	case errors.As(f.err, &ae) && ae.Sent:
		if f.peer != nil && f.peer.Refusal != nil {
			return refusalCauses(f.peer, client, server, f.link)
		}
		return []Cause{fail("protocol-error", fmt.Sprintf("the %s's message broke the protocol while %s, so this %s stopped with %s: %v", server, step, client, ae.Description, ae.Err),
			"send this report to the "+server+"'s support: its TLS stack does something TLS 1.2 does not allow")}
	case errors.As(f.err, &ae):
		return receivedAlertCauses(f, ae, step, client, server)
	case peerClosed(f.err):
		return closedCauses(f, step, client, server)
	}
	return []Cause{fail("handshake-error", fmt.Sprintf("the handshake stopped while %s: %v", step, innermost(f.err)), "")}
}

// peerClosed recognises a peer that closed or reset the connection without an alert.
func peerClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func closedCauses(f *failure, step, client, server string) []Cause {
	switch {
	case atHello(step):
		return []Cause{fail("closed-after-hello", fmt.Sprintf("the %s closed the connection without an alert right after the ClientHello", server),
			"it may speak only TLS 1.3 or an old version, accept no suite offered ("+offerList(f.offer)+"), or filter this address; ask the "+server+" which TLS 1.2 suites it accepts")}
	case afterClientFlight(step) && f.sent == nil:
		return []Cause{noClientCertCause(client, server, "closed the connection without an alert")}
	case afterClientFlight(step):
		return []Cause{fail("closed-after-certificate", fmt.Sprintf("the %s closed the connection without an alert after receiving this %s's certificate and keys: it most likely refused the certificate without saying why", server, client),
			"ask the "+server+" for its log of this connection; check the certificate's issuer against the CAs it accepts")}
	}
	return []Cause{fail("closed", fmt.Sprintf("the %s closed the connection without an alert while %s", server, step), "")}
}

func noClientCertCause(client, server, how string) Cause {
	return fail("no-client-certificate", fmt.Sprintf("the %s requires a client certificate and %s: this %s sent none", server, how, client),
		"give the "+client+"'s certificate and key with --cert and --key (or --p12, or --lab)")
}

func receivedAlertCauses(f *failure, ae *tls12.AlertError, step, client, server string) []Cause {
	d := ae.Description
	if atHello(step) {
		switch d {
		case tls12.AlertProtocolVersion:
			return []Cause{fail("tls-version", fmt.Sprintf("the %s does not accept TLS 1.2 (it answered protocol_version): it speaks only TLS 1.3, or only older versions", server),
				"Diapason links are TLS 1.2: the "+server+" must enable TLS 1.2 with the Diapason suites")}
		case tls12.AlertHandshakeFailure, tls12.AlertInsufficientSecurity, tls12.AlertIllegalParameter:
			return []Cause{fail("suite-mismatch", fmt.Sprintf("the %s refused the ClientHello (%s): no cipher suite in common with the offer %s", server, d, offerList(f.offer)),
				"the Diapason suites are 0xC028 (ECDHE-RSA-AES256-SHA384) and 0xC027 (ECDHE-RSA-AES128-SHA256); the "+server+" must accept one of them with an RSA certificate "+
					"(an ECDSA certificate cannot serve ECDHE_RSA suites); --cipher can try others to find what it accepts")}
		case tls12.AlertUnrecognizedName:
			return []Cause{fail("unrecognized-name", fmt.Sprintf("the %s serves nothing under the server name %q", server, f.state.ServerName),
				"check --servername (or --fqdn): it must be the name the "+server+" is configured for")}
		}
	}
	if afterClientFlight(step) {
		if f.sent == nil && (d == tls12.AlertHandshakeFailure || d == tls12.AlertCertificateRequired || d == tls12.AlertBadCertificate) {
			return []Cause{noClientCertCause(client, server, "refused the handshake ("+d.String()+")")}
		}
		if c, ok := clientCertAlertCause(f, d, client, server); ok {
			return append([]Cause{c}, ownFailures(f.own)...)
		}
	}
	return []Cause{fail("peer-alert", fmt.Sprintf("the %s sent the alert %s while this %s was %s: %s", server, d, client, step, AlertMeaning(d)),
		"send this report to the "+server+"'s support with the time of the attempt, so it can find the reason in its log")}
}

// clientCertAlertCause explains the alerts a server sends about the client's certificate.
func clientCertAlertCause(f *failure, d tls12.AlertDescription, client, server string) (Cause, bool) {
	own := f.own
	leafDesc := "this " + client + "'s certificate"
	switch d {
	case tls12.AlertUnknownCA:
		// A missing intermediate is the cause when the server names a CA of
		// the client's known chain, or names none; otherwise the chain leads
		// to a CA it does not accept, sent whole or not.
		missing, listed := missingSent(own, f.sent), listedCAs(ownCAs(own), f.state.RequestedCAs)
		if missing != "" && (len(f.state.RequestedCAs) == 0 || len(listed) > 0) {
			return fail("client-chain-incomplete", fmt.Sprintf("the %s cannot build the chain of %s: it was sent without its intermediate %s", server, leafDesc, missing),
				"add the intermediate to the chain sent, with --chain (for IGC-Santé: ACI-EL-ORG.cer, or ACI-EL-ORG-TEST.cer for a TEST certificate)"), true
		}
		accepts := "it names no CA in its certificate request"
		if cas := caNames(f.state.RequestedCAs); len(cas) > 0 {
			accepts = "it accepts: " + strings.Join(cas, "; ")
		}
		issuer := ""
		if own != nil {
			issuer = fmt.Sprintf(", %q", own.Issuer)
		}
		msg := fmt.Sprintf("the %s does not trust the issuer of %s%s; %s", server, leafDesc, issuer, accepts)
		if missing != "" {
			msg += fmt.Sprintf(" (its issuer %s was not sent either: if it is an intermediate rather than a root, add it with --chain)", missing)
		}
		return fail("client-ca-not-accepted", msg,
			"present a certificate from a CA the "+server+" accepts, or ask it to install the issuer's CA (and check TEST vs production)"), true
	case tls12.AlertCertificateExpired:
		msg := fmt.Sprintf("the %s refused %s as expired or not yet valid", server, leafDesc)
		if own != nil {
			msg += fmt.Sprintf(" (valid %s to %s)", own.NotBefore.Format(time.DateOnly), own.NotAfter.Format(time.DateOnly))
			if !hasFinding(own, "expired") && !hasFinding(own, "not-yet-valid") {
				msg += ", although it is valid by this machine's clock: one of the two clocks is wrong"
			}
		}
		return fail("client-expired", msg, "renew the certificate (diapason-cert csr makes the request), or fix the clock that is wrong"), true
	case tls12.AlertCertificateRevoked:
		return fail("client-revoked", fmt.Sprintf("the %s says %s is revoked by its CA", server, leafDesc),
			"a revoked certificate cannot be used again: order a new one (diapason-cert csr makes the request)"), true
	case tls12.AlertCertificateUnknown:
		return fail("client-certificate-unknown", fmt.Sprintf("the %s could not accept %s (certificate_unknown): most often it could not get its revocation status (no CRL or OCSP answer)", server, leafDesc),
			"ask the "+server+" which check failed; if it is revocation, it must reach the CA's CRL or OCSP responder"), true
	case tls12.AlertBadCertificate, tls12.AlertUnsupportedCertificate:
		return fail("client-certificate-refused", fmt.Sprintf("the %s refused %s (%s): %s", server, leafDesc, d, AlertMeaning(d)),
			"check the certificate's key (RSA 2048), keyUsage and extendedKeyUsage (clientAuth) below, and that it is the certificate of the right profile"), true
	case tls12.AlertDecryptError:
		return fail("client-signature-refused", fmt.Sprintf("the %s could not verify the signature made with this %s's key: the key does not belong to the certificate sent", server, client),
			"give the key that matches --cert"), true
	case tls12.AlertAccessDenied:
		return fail("client-access-denied", fmt.Sprintf("the %s accepted %s but denies its holder access", server, leafDesc),
			"ask the "+server+" to register the certificate (its subject and fingerprint are below)"), true
	case tls12.AlertHandshakeFailure:
		return fail("client-certificate-refused", fmt.Sprintf("the %s refused the handshake after receiving %s (handshake_failure), without a precise reason", server, leafDesc),
			"check the certificate's issuer against the CAs the "+server+" accepts, and its key type (RSA)"), true
	}
	return Cause{}, false
}

// refusalCauses are the reasons this side refused the peer's certificate, the
// one its alert stands for first.
func refusalCauses(p *PeerReport, us, peer string, link diapason.LinkID) []Cause {
	var out []Cause
	for _, r := range refusalAlerts {
		for _, f := range p.Findings() {
			if f.Level == check.Fail && f.Slug == r.slug {
				out = append(out, Cause{Slug: f.Slug, Level: check.Fail, Message: fmt.Sprintf("this %s refuses the %s's certificate: %s", us, peer, f.Message)})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, Cause{Slug: p.Refusal.Slug, Level: check.Fail, Message: p.Refusal.Message})
	}
	if c, ok := hierarchyCause(p, link); ok {
		out = append([]Cause{c}, out...)
	}
	return out
}

// hierarchyCause names the most common real-world mistake: a certificate of one
// IGC-Santé hierarchy (TEST, production, a lab) checked against another's root.
func hierarchyCause(p *PeerReport, link diapason.LinkID) (Cause, bool) {
	if link != diapason.LinkTPE || p.Certificate == nil || p.Trust.Hierarchy == "" || p.Trust.HierarchyFromPeer {
		return Cause{}, false
	}
	got, want := p.Certificate.Hierarchy, p.Trust.Hierarchy
	if got == want || len(p.Trust.Anchors) == 0 {
		return Cause{}, false
	}
	return fail("hierarchy-mismatch", fmt.Sprintf("the GAP server's certificate belongs to %s, but the terminal trusts the %s root", got.Label(), want.Label()),
		fmt.Sprintf("a %s terminal needs a %s SSL_SERVEUR certificate on the GAP server; check --hierarchy and which certificate the server presents", want, want)), true
}

// ownFailures are the failures found on the client's own certificate, which
// usually explain a server's refusal.
func ownFailures(own *check.CertReport) []Cause {
	if own == nil {
		return nil
	}
	var out []Cause
	for _, f := range own.Findings {
		if f.Level == check.Fail {
			out = append(out, Cause{Slug: "own-" + f.Slug, Level: check.Fail, Message: "this side's certificate: " + f.Message})
		}
	}
	return out
}

// missingSent names the first CA of the client's chain, below its root, that
// was not sent: "" when the chain sent lacks none. The chain is as far as the
// client knows it (the embedded IGC-Santé CAs, a lab's CAs).
func missingSent(own *check.CertReport, sent []*x509.Certificate) string {
	if own == nil || own.Chain == nil {
		return ""
	}
	c := own.Chain
	for _, cc := range c.Certificates[1:] {
		if selfIssued(cc.Cert) || slices.ContainsFunc(sent, cc.Cert.Equal) {
			continue
		}
		if cc.File != "" {
			return fmt.Sprintf("%q (%s)", cc.Subject, cc.File)
		}
		return fmt.Sprintf("%q", cc.Subject)
	}
	if c.Status == check.ChainIncomplete && c.Missing != nil {
		return fmt.Sprintf("%q", c.Missing.Subject)
	}
	return ""
}

// selfIssued recognises a root: peers hold roots, nobody needs to send them.
func selfIssued(c *x509.Certificate) bool { return string(c.RawSubject) == string(c.RawIssuer) }

// ownCAs are the CAs of the client's chain as far as it is known.
func ownCAs(own *check.CertReport) []*x509.Certificate {
	if own == nil || own.Chain == nil {
		return nil
	}
	var out []*x509.Certificate
	for _, cc := range own.Chain.Certificates[1:] {
		out = append(out, cc.Cert)
	}
	return out
}

func hasFinding(r *check.CertReport, slug string) bool {
	for _, f := range r.Findings {
		if f.Slug == slug {
			return true
		}
	}
	return false
}

func offerList(o Offer) string {
	names := make([]string, len(o.Suites))
	for i, id := range o.Suites {
		names[i] = fmt.Sprintf("0x%04X", id)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// why is the reason of a handshake error without the step and the alert,
// which the report says separately.
func why(err error) string {
	if ae := alertOf(err); ae != nil && ae.Err != nil {
		return ae.Err.Error()
	}
	return innermost(err)
}

// innermost is the message of the deepest wrapped error, without the engine's
// "handshake failed while …" prefix, which the report says separately.
func innermost(err error) string {
	var he *tls12.HandshakeError
	if errors.As(err, &he) {
		return he.Err.Error()
	}
	return err.Error()
}
