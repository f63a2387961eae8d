package preflight

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// usable says why a credential cannot be presented in a handshake, "" when it can.
func (cc *credCheck) usable() string {
	side := cc.in.side
	switch {
	case cc.missing:
		return fmt.Sprintf("no %s certificate is configured (see %s-profile)", cc.role(), side)
	case cc.skip != "":
		return fmt.Sprintf("%s (see %s)", cc.skip, cc.blame)
	case cc.in.key == nil:
		return fmt.Sprintf("the %s has no usable private key (see %s-key)", cc.role(), side)
	case slices.ContainsFunc(cc.report.Findings, func(f check.Finding) bool { return f.Slug == "key-mismatch" }):
		return fmt.Sprintf("the %s key is not the certificate's (see %s-key)", cc.role(), side)
	case !cc.anchorsOK:
		return "igc-root could not be read (see files)"
	}
	return ""
}

func (cc *credCheck) credential() *tls12.Certificate {
	return &tls12.Certificate{Chain: cc.sendOrder(), Key: cc.in.key}
}

// selfTestStep serves the GAP server credential on loopback and connects to
// it as a terminal configured with server.fqdn would (handshake tpe's
// self-test, with an ephemeral terminal certificate).
func (st *state) selfTestStep(ctx context.Context) Step {
	cc := st.server()
	if why := cc.usable(); why != "" {
		return Step{Status: Skip, Reason: "not tried: " + why}
	}
	if st.cfg.Server.FQDN == "" {
		return Step{Status: Skip, Reason: "not tried: server.fqdn is not set (see server-profile)"}
	}
	cfg := &handshake.SelfTestConfig{
		FQDN: st.cfg.Server.FQDN, Server: *cc.credential(), ServerKeyName: cc.in.keyName,
		ServerTrust:      st.terminalTrust(),
		ServerRevocation: handshake.RevocationPolicy{Mode: st.cfg.Revocation, Checkers: st.checkers},
		Offer:            handshake.DiapasonOffer(), Timeout: st.cfg.Timeout, Now: st.opts.Now, Clock: st.opts.Clock,
	}
	if t := st.opts.Terminal; t != nil {
		cfg.Terminal, cfg.TerminalKeyName = t, "the self-test terminal's key"
		cfg.TerminalTrust = handshake.Trust{Anchors: []*x509.Certificate{st.opts.TerminalCA}, Source: "the self-test terminal's CA"}
		cfg.TerminalRevocation = handshake.RevocationPolicy{Mode: handshake.RevocationOff}
	}
	res, err := handshake.SelfTest(ctx, cfg)
	if err != nil {
		return Step{Status: Unknown, Reason: fmt.Sprintf("the self-test could not run: %v", err)}
	}
	return fromResult(res, nil, completed(res, fmt.Sprintf("a terminal configured with %s accepts the certificate", st.cfg.Server.FQDN)))
}

// providerHandshakeStep connects to the provider as the GAP, with the client
// credential, and judges the provider's certificate against provider.ca (or
// the truststore's GeoTrust CAs).
func (st *state) providerHandshakeStep(ctx context.Context) Step {
	addr := st.cfg.Provider.Address
	if addr == "" {
		return Step{Status: Skip, Reason: "provider.address is not set: no live handshake with the provider was tried"}
	}
	cc := st.client()
	if why := cc.usable(); why != "" {
		return Step{Status: Skip, Reason: "not tried: " + why}
	}
	trust := handshake.Trust{}
	switch {
	case len(st.cfg.Provider.CA) > 0:
		trust.Source = "provider.ca " + strings.Join(st.cfg.Provider.CA, ", ")
		for _, s := range st.in.providerCA {
			trust.Anchors = append(trust.Anchors, s.Cert)
		}
	default:
		trust.Source = "truststore.geotrust " + strings.Join(st.cfg.Truststore.GeoTrust, ", ")
		for _, s := range st.in.geotrust {
			trust.Anchors = append(trust.Anchors, s.Cert)
		}
	}
	name := st.cfg.Provider.ServerName
	if name == "" {
		name = hostOf(addr)
	}
	own, _ := st.igcAnchors()
	res := handshake.Probe(ctx, &handshake.ProbeConfig{
		Link: diapason.LinkPSP, Address: addr, ServerName: name, Credential: cc.credential(), KeyName: cc.in.keyName,
		OwnCAs: own, Offer: handshake.DiapasonOffer(),
		Peer: &handshake.PeerPolicy{Profile: diapason.PSPServer, Trust: trust, Name: name, Warn: st.cfg.Warn,
			Revocation: handshake.RevocationPolicy{Mode: st.cfg.Revocation, Checkers: st.checkers}},
		Timeout: st.cfg.Timeout, Now: st.opts.Now, Clock: st.opts.Clock, Dial: st.opts.Dial,
	})
	return fromResult(res, nil, completed(res, fmt.Sprintf("the provider at %s accepts the GAP client certificate, and the GAP trusts %s's", addr, name)))
}

// serverHandshakeStep connects to the GAP server as a terminal configured
// with server.fqdn does. Without a terminal certificate the handshake cannot
// complete: a server that refuses to go on without one does what it should.
func (st *state) serverHandshakeStep(ctx context.Context) Step {
	addr := st.cfg.Server.Address
	switch {
	case addr == "":
		return Step{Status: Skip, Reason: "server.address is not set: no live handshake with the GAP server was tried"}
	case st.cfg.Server.FQDN == "":
		return Step{Status: Skip, Reason: "not tried: server.fqdn is not set (see server-profile)"}
	}
	if _, ok := st.igcAnchors(); !ok {
		return Step{Status: Skip, Reason: "not tried: igc-root could not be read (see files)"}
	}
	fqdn := st.cfg.Server.FQDN
	res := handshake.Probe(ctx, &handshake.ProbeConfig{
		Link: diapason.LinkTPE, Address: addr, ServerName: fqdn, Offer: handshake.DiapasonOffer(),
		Peer: &handshake.PeerPolicy{Profile: diapason.TPEServer, Trust: st.terminalTrust(), Name: fqdn, Warn: st.cfg.Warn,
			Revocation: handshake.RevocationPolicy{Mode: st.cfg.Revocation, Checkers: st.checkers}},
		Timeout: st.cfg.Timeout, Now: st.opts.Now, Clock: st.opts.Clock, Dial: st.opts.Dial,
	})
	return fromResult(res, []string{"client-certificate-required"}, fmt.Sprintf(
		"the GAP server at %s presented a certificate a terminal configured with %s accepts, and asked for the terminal's certificate, as it should", addr, fqdn))
}

// completed says what a handshake that passed proved, and with which suite.
func completed(res *handshake.Result, what string) string {
	if n := res.Negotiated; n != nil && res.Handshake.Completed {
		return fmt.Sprintf("%s: mutual TLS 1.2 handshake with %s (%s)", what, n.Suite.ID, n.Suite.OpenSSL)
	}
	return what
}

// fromResult makes a step of a handshake verdict; passReason is its reason
// when it passes. The causes named in expected are what a correct peer does
// in this test: they are dropped before the verdict is taken again.
func fromResult(res *handshake.Result, expected []string, passReason string) Step {
	status := res.Status
	causes := res.Causes
	if len(expected) > 0 {
		kept := slices.DeleteFunc(slices.Clone(causes), func(c handshake.Cause) bool { return slices.Contains(expected, c.Slug) })
		if len(kept) < len(causes) {
			status = handshake.StatusOK
			for _, c := range kept {
				status = handshake.Worse(status, causeStatus(c.Level))
			}
			causes = kept
		}
	}
	s := Step{Status: map[handshake.Status]Status{handshake.StatusOK: Pass, handshake.StatusWarn: Warn,
		handshake.StatusUnknown: Unknown, handshake.StatusFail: Fail}[status]}
	for _, c := range causes {
		s.Findings = append(s.Findings, check.Finding{Slug: c.Slug, Level: c.Level, Message: c.Message})
	}
	switch {
	case s.Status == Pass:
		s.Reason = passReason
	default:
		for _, c := range causes {
			if causeStatus(c.Level) == status {
				s.Reason, s.Fix = c.Message, c.Fix
				break
			}
		}
		if s.Reason == "" {
			s.Reason = res.Summary
		}
	}
	return s
}

func causeStatus(l check.Level) handshake.Status {
	switch l {
	case check.Fail:
		return handshake.StatusFail
	case check.Warn:
		return handshake.StatusWarn
	case handshake.LevelUnknown:
		return handshake.StatusUnknown
	}
	return handshake.StatusOK
}
