package handshake

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// Trust is what a side trusts its peer's chain to end at.
type Trust struct {
	// Anchors are the trust anchors; when there are none and IGCSante is set, the
	// embedded IGC-Santé root of Hierarchy is.
	Anchors []*x509.Certificate
	// Source names where the anchors come from, for reports ("--ca geotrust.pem").
	Source string
	// IGCSante trusts the embedded IGC-Santé root, as a terminal does.
	IGCSante bool
	// Hierarchy picks that root; "" picks the hierarchy of the peer certificate's
	// issuer, which the report then says.
	Hierarchy diapason.Hierarchy
}

// TrustInfo is what a report says about the anchors used for one peer.
type TrustInfo struct {
	Anchors []string `json:"anchors"`
	Source  string   `json:"source"`
	// Hierarchy is the IGC-Santé hierarchy trusted, for the terminal link.
	Hierarchy diapason.Hierarchy `json:"hierarchy,omitempty"`
	// HierarchyFromPeer is set when the hierarchy was taken from the peer
	// certificate's issuer rather than configured.
	HierarchyFromPeer bool `json:"hierarchy_from_peer,omitempty"`
}

// PeerPolicy is how one side judges the certificate its peer presents: the
// Diapason profile it must fit, the anchors, the name and the revocation rule.
// It is safe for concurrent use once in use, and must not be copied then: it
// keeps chain builders between handshakes so that a server checks its CAs'
// own signatures once.
type PeerPolicy struct {
	// Profile is the peer's role: psp-server or tpe-server for a client's
	// view of its server, tpe-client or psp-client for a server's view.
	Profile diapason.ProfileID
	Trust   Trust
	// Name is the server name: the terminal compares it with the CN exactly
	// (tpe-server); the GAP's TLS stack with the SANs, then the CN when there is
	// no SAN (psp-server). Unused for client certificates.
	Name       string
	Revocation RevocationPolicy
	// Warn is the expiry warning window; zero means diapason.WarnWindow.
	Warn diapason.Period
	// Remember, when positive, reuses the report on a chain identical to one
	// judged less than that long before (by the times given to Judge): a
	// server or a fleet under load then judges each distinct chain about once
	// per period rather than once per handshake. A revocation published
	// meanwhile is seen within that period. Remembered reports are shared
	// between callers, who must only read them.
	Remember time.Duration

	mu       sync.Mutex
	builders map[string]*check.ChainBuilder
	memo     map[string]memoEntry
}

// memoEntry is a report and the time it was judged at.
type memoEntry struct {
	at  time.Time
	rep *PeerReport
}

// maxRemembered bounds the reports a policy keeps: beyond it, they are all
// forgotten at once, which costs a judgement per chain and keeps memory flat
// whatever the number of distinct peers.
const maxRemembered = 1024

// SentCert is one certificate as the peer sent it.
type SentCert struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	SHA256  string `json:"sha256"`
}

// PeerReport is the judgement of a peer's certificate chain.
type PeerReport struct {
	// Sent is the chain in the order the peer sent it.
	Sent []SentCert `json:"sent"`
	// Certificate is the leaf with its chain and every finding, those of check
	// and the handshake's own (name, chain sent, trust, revocation).
	Certificate *check.CertReport `json:"certificate,omitempty"`
	Trust       TrustInfo         `json:"trust"`
	Revocation  *check.Revocation `json:"revocation,omitempty"`
	// Refusal is set when the side refuses the chain, as its TLS stack would.
	Refusal *Refusal `json:"refusal,omitempty"`
}

// Refusal says why a chain is refused and with which alert.
type Refusal struct {
	Alert   string `json:"alert"`
	Slug    string `json:"slug"`
	Message string `json:"message"`
	alert   tls12.AlertDescription
}

// Findings returns the findings about the peer's certificate.
func (r *PeerReport) Findings() []check.Finding {
	if r == nil || r.Certificate == nil {
		return nil
	}
	return r.Certificate.Findings
}

// refusalAlerts are the findings a peer's TLS stack refuses a chain for, with the
// alert it sends, in the order a refusal names them. Other failures (a key too
// small, a SAN that does not repeat the CN) are defects to report, but the
// emulated peer would not stop the handshake for them.
var refusalAlerts = []refusalRule{
	{"no-certificate", tls12.AlertHandshakeFailure},
	{"chain-signature-invalid", tls12.AlertBadCertificate},
	{"no-trust-anchor", tls12.AlertUnknownCA},
	{"chain-not-sent", tls12.AlertUnknownCA},
	{"chain-incomplete", tls12.AlertUnknownCA},
	{"chain-untrusted", tls12.AlertUnknownCA},
	{"expired", tls12.AlertCertificateExpired},
	{"not-yet-valid", tls12.AlertCertificateExpired},
	{"chain-expired", tls12.AlertCertificateExpired},
	{"chain-not-yet-valid", tls12.AlertCertificateExpired},
	{"revoked", tls12.AlertCertificateRevoked},
	{"revocation-unavailable", tls12.AlertCertificateUnknown},
	{"revocation-unknown", tls12.AlertCertificateUnknown},
	{"cn-mismatch", tls12.AlertBadCertificate},
	{"name-mismatch", tls12.AlertBadCertificate},
	{"eku-mismatch", tls12.AlertUnsupportedCertificate},
	{"key-usage-mismatch", tls12.AlertUnsupportedCertificate},
}

type refusalRule struct {
	slug  string
	alert tls12.AlertDescription
}

// Judge checks the chain a peer sent, as of now.
func (p *PeerPolicy) Judge(ctx context.Context, chain []*x509.Certificate, now time.Time) *PeerReport {
	if p.Remember <= 0 {
		return p.judge(ctx, chain, now)
	}
	var key []byte
	for _, c := range chain {
		key = binary.BigEndian.AppendUint32(key, uint32(len(c.Raw)))
		key = append(key, c.Raw...)
	}
	k := string(key)
	p.mu.Lock()
	e, ok := p.memo[k]
	p.mu.Unlock()
	if ok && !now.Before(e.at) && now.Sub(e.at) < p.Remember {
		return e.rep
	}
	rep := p.judge(ctx, chain, now)
	if ctx.Err() != nil {
		// A judgement cut short (its revocation source interrupted) is not
		// the verdict on the chain.
		return rep
	}
	p.mu.Lock()
	if p.memo == nil || len(p.memo) >= maxRemembered {
		p.memo = map[string]memoEntry{}
	}
	p.memo[k] = memoEntry{at: now, rep: rep}
	p.mu.Unlock()
	return rep
}

func (p *PeerPolicy) judge(ctx context.Context, chain []*x509.Certificate, now time.Time) *PeerReport {
	rep := &PeerReport{Sent: []SentCert{}}
	for _, c := range chain {
		rep.Sent = append(rep.Sent, sentCert(c))
	}
	if len(chain) == 0 {
		rep.Trust = TrustInfo{Anchors: []string{}, Source: p.Trust.Source}
		rep.Refusal = &Refusal{Alert: tls12.AlertHandshakeFailure.String(), Slug: "no-certificate", alert: tls12.AlertHandshakeFailure,
			Message: "the client sent no certificate, and Diapason links are mutual TLS"}
		return rep
	}
	leaf := chain[0]
	anchors, info, trustFinding := p.Trust.resolve(leaf, p.Profile)
	rep.Trust = info
	prof := diapason.MustProfile(p.Profile)
	fqdn := ""
	if prof.CNIsFQDN {
		fqdn = p.Name
	}
	warn := p.Warn
	if warn == (diapason.Period{}) {
		warn = diapason.WarnWindow
	}
	k := check.NewChecker(check.Options{Profile: p.Profile, FQDN: fqdn, Warn: warn, Now: now, Chains: p.builder(info, anchors)})
	cr := k.CheckCertificate(ctx, leaf, chain[1:])
	fs := cr.Findings
	if trustFinding != nil {
		fs = append(fs, *trustFinding)
	}
	if p.Profile == diapason.PSPServer {
		// The name is judged here, SAN then CN, rather than by the profile's
		// SAN-only rule.
		fs = slices.DeleteFunc(fs, func(f check.Finding) bool { return f.Slug == "san-missing" || f.Slug == "san-mismatch" })
		fs = append(fs, serverNameFinding(leaf, p.Name))
	}
	if cr.Chain != nil {
		fs = append(fs, notSentFindings(cr.Chain, p.Profile)...)
		if issuer := chainIssuer(cr.Chain); issuer != nil {
			rev := p.Revocation.check(ctx, leaf, issuer, now)
			rep.Revocation = &rev.answer
			fs = append(fs, rev.finding)
		}
	}
	cr.Findings = sortFindings(fs)
	rep.Certificate = &cr
	rep.decide()
	return rep
}

// decide picks the refusal among the failure findings, if any.
func (r *PeerReport) decide() {
	fs := r.Certificate.Findings
	for _, ra := range refusalAlerts {
		for _, f := range fs {
			if f.Level == check.Fail && f.Slug == ra.slug {
				r.Refusal = &Refusal{Alert: ra.alert.String(), Slug: f.Slug, Message: f.Message, alert: ra.alert}
				return
			}
		}
	}
}

// VerifyError is the error a VerifyPeer callback returns to refuse the chain
// with the report's alert; nil when the report accepts it.
func (r *PeerReport) VerifyError() error {
	if r.Refusal == nil {
		return nil
	}
	return &tls12.VerifyError{Alert: r.Refusal.alert, Err: errors.New(r.Refusal.Message)}
}

// builder returns the chain builder for one set of anchors, made once.
func (p *PeerPolicy) builder(info TrustInfo, anchors []*x509.Certificate) *check.ChainBuilder {
	key := string(info.Hierarchy) + "\x00" + strings.Join(info.Anchors, "\x00")
	p.mu.Lock()
	defer p.mu.Unlock()
	if b := p.builders[key]; b != nil {
		return b
	}
	if p.builders == nil {
		p.builders = map[string]*check.ChainBuilder{}
	}
	b := check.NewChainBuilder(check.ChainOptions{Anchors: anchors})
	p.builders[key] = b
	return b
}

// resolve returns the anchors for a peer whose leaf is given. A terminal trusts one
// IGC-Santé root: the configured hierarchy's, or that of the leaf's issuer.
func (t Trust) resolve(leaf *x509.Certificate, profile diapason.ProfileID) ([]*x509.Certificate, TrustInfo, *check.Finding) {
	info := TrustInfo{Source: t.Source, Hierarchy: t.Hierarchy}
	if len(t.Anchors) > 0 || !t.IGCSante {
		for _, a := range t.Anchors {
			info.Anchors = append(info.Anchors, nameOf(a.RawSubject, a.Subject.String()))
		}
		if info.Anchors == nil {
			info.Anchors = []string{}
			role := diapason.MustProfile(profile).Role
			return nil, info, &check.Finding{Slug: "no-trust-anchor", Level: check.Fail,
				Message: fmt.Sprintf("no trust anchor is configured for the %s certificate, so it cannot be trusted: give its CA with --ca", role)}
		}
		return t.Anchors, info, nil
	}
	h := t.Hierarchy
	if h == "" {
		h, info.Hierarchy, info.HierarchyFromPeer = diapason.HierarchyOf(leaf), diapason.HierarchyOf(leaf), true
	}
	for _, ca := range diapason.IGCSanteCAs() {
		if ca.Root && ca.Hierarchy == h {
			info.Anchors = []string{nameOf(ca.Cert.RawSubject, ca.Cert.Subject.String())}
			info.Source = fmt.Sprintf("embedded %s (%s root, SHA-256 %s)", ca.File, h.Label(), ca.SHA256)
			return []*x509.Certificate{ca.Cert}, info, nil
		}
	}
	info.Anchors = []string{}
	issuer := nameOf(leaf.RawIssuer, leaf.Issuer.String())
	msg := fmt.Sprintf("the certificate's issuer %q is not an IGC-Santé CA: terminals trust only the IGC-Santé root, so they refuse it; "+
		"a GAP server certificate is an IGC-Santé SSL_SERVEUR certificate (give another anchor with --ca only for a test PKI)", issuer)
	if h == diapason.HierarchyLab {
		msg = fmt.Sprintf("the certificate was made by diapason-cert lab (issuer %q), which has no embedded root: give the lab with --lab DIR or its root with --ca", issuer)
	}
	return nil, info, &check.Finding{Slug: "no-trust-anchor", Level: check.Fail, Message: msg}
}

// serverNameFinding checks a provider's certificate as the GAP's TLS stack does:
// the server name against the subjectAltName, or the CN when there is no SAN,
// as older stacks still do.
func serverNameFinding(leaf *x509.Certificate, name string) check.Finding {
	if name == "" {
		return check.Finding{Slug: "name-not-checked", Level: check.Warn,
			Message: "no server name to check the provider's certificate against: give the name the GAP uses with --servername"}
	}
	hasSAN := len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0
	switch {
	case hasSAN && leaf.VerifyHostname(name) == nil:
		return check.Finding{Slug: "name-match", Level: check.Info, Message: fmt.Sprintf("the certificate's subjectAltName covers %s", name)}
	case hasSAN:
		names := slices.Clone(leaf.DNSNames)
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		return check.Finding{Slug: "name-mismatch", Level: check.Fail, Message: fmt.Sprintf(
			"the certificate names %s, not %s: the GAP refuses it for that name; check the address and --servername, or ask the provider for the right certificate",
			strings.Join(names, ", "), name)}
	case strings.EqualFold(leaf.Subject.CommonName, name):
		return check.Finding{Slug: "name-cn-only", Level: check.Warn, Message: fmt.Sprintf(
			"the certificate has no subjectAltName; only its CN names %s, which current TLS stacks (Java, Go, browsers) no longer accept: ask the provider for a certificate with a SAN", name)}
	}
	return check.Finding{Slug: "name-mismatch", Level: check.Fail, Message: fmt.Sprintf(
		"the certificate has no subjectAltName and its CN is %q, not %s: the GAP refuses it for that name", leaf.Subject.CommonName, name)}
}

// notSentFindings flags the CAs below the top of the chain that the peer did not
// send and that were completed from the tool's embedded copies: its real
// counterparts hold only the roots, so they cannot build the chain.
func notSentFindings(c *check.Chain, profile diapason.ProfileID) []check.Finding {
	var out []check.Finding
	for _, cc := range c.Certificates[1:] {
		if cc.Root || (cc.Source != check.SourceEmbedded && cc.Source != check.SourceFetched) {
			continue
		}
		side := "server"
		if profile == diapason.TPEClient || profile == diapason.PSPClient {
			side = "client"
		}
		out = append(out, check.Finding{Slug: "chain-not-sent", Level: check.Fail, Message: fmt.Sprintf(
			"the %s did not send the intermediate %q (%s was used to identify it): a peer that holds only the root cannot build the chain; add %s to the %s's chain file",
			side, cc.Subject, cc.File, cc.File, side)})
	}
	return out
}

// chainIssuer is the issuer of the chain's leaf, when it is known and verified.
func chainIssuer(c *check.Chain) *x509.Certificate {
	if len(c.Certificates) < 2 || !c.Certificates[0].SignatureVerified {
		return nil
	}
	return c.Certificates[1].Cert
}

func sortFindings(fs []check.Finding) []check.Finding {
	rank := func(l check.Level) int {
		switch l {
		case check.Fail:
			return 0
		case check.Warn:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(fs, func(a, b check.Finding) int { return rank(a.Level) - rank(b.Level) })
	if fs == nil {
		fs = []check.Finding{}
	}
	return fs
}

func sentCert(c *x509.Certificate) SentCert {
	sum := sha256.Sum256(c.Raw)
	return SentCert{Subject: nameOf(c.RawSubject, c.Subject.String()), Issuer: nameOf(c.RawIssuer, c.Issuer.String()), SHA256: diapason.Fingerprint(sum[:])}
}

// nameOf shows a DER name as issued, falling back to Go's rendering.
func nameOf(raw []byte, fallback string) string {
	if n, err := dn.Parse(raw); err == nil {
		return n.String()
	}
	return fallback
}
