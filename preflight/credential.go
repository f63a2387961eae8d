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
)

// credCheck is check's report on one credential, shared by its steps.
type credCheck struct {
	in      *credInput
	profile diapason.Profile
	// skip, when set, is why the credential's steps cannot run; blame is the
	// step that reports the cause.
	skip, blame string
	// missing is set when nothing is configured for the credential.
	missing bool
	report  check.CertReport
	// anchorsOK is unset when igc-root could not be read: the chain is then not judged.
	anchorsOK bool
}

// role names the credential in sentences.
func (c *credCheck) role() string { return "GAP " + c.in.side }

// checkCredential runs check on a credential: its profile, key, chain (to
// the IGC-Santé root of the hierarchy) and dates, as of now.
func (st *state) checkCredential(ctx context.Context, in *credInput) *credCheck {
	cc := &credCheck{in: in, profile: diapason.MustProfile(diapason.PSPClient)}
	fqdn := ""
	if in.side == "server" {
		cc.profile, fqdn = diapason.MustProfile(diapason.TPEServer), st.cfg.Server.FQDN
	}
	switch {
	case !in.cfg.configured():
		cc.missing = true
		return cc
	case in.leaf == nil:
		cc.skip, cc.blame = fmt.Sprintf("%s could not be read", strings.Join(in.unread, " and ")), string(StepFiles)
		return cc
	}
	anchors, ok := st.igcAnchors()
	cc.anchorsOK = ok
	opts := check.Options{Profile: cc.profile.ID, FQDN: fqdn, Warn: st.cfg.Warn, Now: st.opts.Now,
		Chains: check.NewChainBuilder(check.ChainOptions{Anchors: anchors})}
	if in.key != nil {
		opts.Key, opts.KeyName = in.key.Public(), in.keyName
	}
	cc.report = check.NewChecker(opts).CheckCertificate(ctx, in.leaf, in.given)
	return cc
}

// aspects sorts check's findings into the credential's steps by slug.
var aspects = map[string]StepID{
	"key-mismatch":  StepClientKey,
	"chain-expired": StepClientExpiry, "chain-not-yet-valid": StepClientExpiry, "chain-expiring": StepClientExpiry,
	"expired": StepClientExpiry, "not-yet-valid": StepClientExpiry, "expiring": StepClientExpiry,
	"hierarchy-mix": StepClientHierarchy, "lab-certificate": StepClientHierarchy,
}

// aspectOf is the client step a finding belongs to; a server finding goes to
// the server step of the same aspect. What no other step takes is about the
// certificate's content: its profile.
func aspectOf(slug string) StepID {
	if id, ok := aspects[slug]; ok {
		return id
	}
	if strings.HasPrefix(slug, "chain-") || strings.HasPrefix(slug, "aia-") {
		return StepClientChain
	}
	return StepClientProfile
}

// clientStep maps a server step to the client step of the same aspect.
func clientStep(id StepID) StepID {
	return StepID(strings.Replace(string(id), "server-", "client-", 1))
}

// credentialStep judges one aspect of a credential.
func (st *state) credentialStep(ctx context.Context, cc *credCheck, id StepID) Step {
	side := cc.in.side
	aspect := clientStep(id)
	switch {
	case cc.missing && (aspect == StepClientProfile):
		return Step{Status: Fail, Reason: fmt.Sprintf("no %s certificate is configured", cc.role()),
			Fix: fmt.Sprintf("set %s and %s, or %s", describe(side+".cert"), describe(side+".key"), describe(side+".p12"))}
	case cc.missing:
		return Step{Status: Skip, Reason: fmt.Sprintf("no %s certificate is configured (see %s-profile)", cc.role(), side)}
	case cc.skip != "":
		return Step{Status: Skip, Reason: fmt.Sprintf("not checked: %s (see %s)", cc.skip, cc.blame)}
	}
	var fs []check.Finding
	for _, f := range cc.report.Findings {
		if aspectOf(f.Slug) == aspect {
			fs = append(fs, f)
		}
	}
	switch aspect {
	case StepClientProfile:
		return st.profileStep(cc, fs)
	case StepClientKey:
		return keyStep(cc, fs)
	case StepClientChain:
		return chainStep(cc, fs)
	case StepClientHierarchy:
		return st.hierarchyStep(cc, fs)
	case StepClientExpiry:
		return st.expiryStep(cc, fs)
	}
	return st.revocationStep(ctx, cc)
}

// verdict is the status of findings: a failure fails, a warning warns.
func verdict(fs []check.Finding) Status {
	switch check.Worst(fs) {
	case check.Fail:
		return Fail
	case check.Warn:
		return Warn
	}
	return Pass
}

// judged makes a step of findings: the most serious one is the reason when
// it is not a pass.
func judged(fs []check.Finding, pass string) Step {
	s := Step{Status: verdict(fs), Findings: fs, Reason: pass}
	if s.Status != Pass {
		s.Reason = mostSerious(fs).Message
	}
	return s
}

func mostSerious(fs []check.Finding) check.Finding {
	for _, l := range []check.Level{check.Fail, handshake.LevelUnknown, check.Warn} {
		for _, f := range fs {
			if f.Level == l {
				return f
			}
		}
	}
	return check.Finding{}
}

func (st *state) profileStep(cc *credCheck, fs []check.Finding) Step {
	r := cc.report
	p := cc.profile
	if cc.in.side == "server" && st.cfg.Server.FQDN == "" {
		fs = append(fs, check.Finding{Slug: "fqdn-not-set", Level: check.Fail, Message: fmt.Sprintf(
			"server.fqdn is not set, so the CN %q cannot be compared with the name the terminals are configured with", r.CommonName)})
	}
	pass := fmt.Sprintf("fits %s: CN %s, %s", p.Offer, r.CommonName, r.Key)
	if cc.in.side == "server" {
		pass = fmt.Sprintf("fits %s: CN %s = server.fqdn, SAN %s, %s", p.Offer, r.CommonName, strings.Join(r.DNSNames, ", "), r.Key)
	}
	if len(r.ExtKeyUsage) > 0 {
		pass += ", extendedKeyUsage " + strings.Join(r.ExtKeyUsage, ", ")
	}
	s := judged(sortFindings(fs), pass)
	switch {
	case slices.ContainsFunc(fs, func(f check.Finding) bool { return f.Slug == "fqdn-not-set" }):
		s.Fix = "set " + describe("server.fqdn") + " to the name the terminals are configured with"
	case s.Status != Pass:
		s.Fix = fmt.Sprintf("order a certificate that fits %s (diapason-cert csr %s makes the request) and install it as %s",
			p.Offer, p.ID, describe(cc.in.side+".cert"))
	}
	return s
}

func keyStep(cc *credCheck, fs []check.Finding) Step {
	side := cc.in.side
	switch {
	case cc.in.key == nil && slices.Contains(cc.in.unread, side+".key"):
		return Step{Status: Skip, Reason: fmt.Sprintf("not checked: %s could not be read (see files)", side+".key")}
	case cc.in.key == nil:
		return Step{Status: Fail, Reason: fmt.Sprintf("no private key is configured for the %s certificate", cc.role()),
			Fix: "set " + describe(side+".key") + " to the key the certificate was ordered with"}
	}
	s := judged(fs, fmt.Sprintf("%s is the key pair of %s (%s)", cc.in.keyName, cc.report.CommonName, cc.report.Key))
	if s.Status == Fail {
		s.Fix = fmt.Sprintf("set %s to the key of %s, or %s to the certificate of %s", describe(side+".key"), describeFile(cc.in.cfg.Cert),
			describe(side+".cert"), cc.in.keyName)
	}
	return s
}

func chainStep(cc *credCheck, fs []check.Finding) Step {
	side := cc.in.side
	if !cc.anchorsOK {
		return Step{Status: Skip, Reason: "not checked: igc-root could not be read (see files)"}
	}
	ch := cc.report.Chain
	// What the tool completed from its embedded copies, the GAP must send itself.
	missing := ""
	if ch.Missing != nil {
		missing = ch.Missing.File
	}
	for _, c := range ch.Certificates[1:] {
		if !c.Root && (c.Source == check.SourceEmbedded || c.Source == check.SourceFetched) {
			fs = append(fs, check.Finding{Slug: "chain-not-in-files", Level: check.Fail, Message: fmt.Sprintf(
				"the intermediate %q is in none of the %s's files (the tool found it as %s): the GAP must send it, its peers hold only the root",
				c.Subject, cc.role(), c.File)})
			if missing == "" && c.Source == check.SourceEmbedded {
				missing = c.File
			}
		}
	}
	names := make([]string, len(ch.Certificates))
	for i, c := range ch.Certificates {
		names[i] = commonName(c.Cert)
	}
	s := judged(sortFindings(fs), fmt.Sprintf("%s: %s", ch.Status, strings.Join(names, " ← ")))
	if s.Status != Pass {
		s.Fix = fmt.Sprintf("put the missing intermediate in %s (or in %s after the certificate)", describe(side+".chain"), describe(side+".cert"))
		if missing != "" {
			s.Fix = fmt.Sprintf("put %s in %s", missing, describe(side+".chain"))
		}
		if ch.Missing != nil && ch.Missing.URL != "" {
			s.Fix += " (it is published at " + ch.Missing.URL + ")"
		}
	}
	return s
}

func (st *state) hierarchyStep(cc *credCheck, fs []check.Finding) Step {
	want := st.cfg.Hierarchy
	r := cc.report
	if r.Hierarchy != want {
		// First: it says the most directly what is wrong.
		fs = append([]check.Finding{{Slug: "hierarchy-mismatch", Level: check.Fail, Message: fmt.Sprintf(
			"the certificate belongs to %s, but the installation is configured for %s: set hierarchy = %q, or install the %s certificate",
			r.Hierarchy.Label(), want.Label(), r.Hierarchy, want.Label())}}, fs...)
	}
	for _, c := range r.Chain.Certificates[1:] {
		if c.Hierarchy != want && c.Hierarchy != diapason.HierarchyOther {
			fs = append(fs, check.Finding{Slug: "hierarchy-chain-mismatch", Level: check.Fail, Message: fmt.Sprintf(
				"its chain holds %q, a CA of %s, where %s was configured", commonName(c.Cert), c.Hierarchy.Label(), want.Label())})
		}
	}
	s := judged(sortFindings(fs), fmt.Sprintf("%s, like its chain", want.Label()))
	if s.Status != Pass {
		s.Fix = "use the certificate and the CA certificates of one hierarchy: IGC-Santé TEST for the test platforms, production for live use"
	}
	return s
}

func (st *state) expiryStep(cc *credCheck, fs []check.Finding) Step {
	r := cc.report
	s := judged(fs, fmt.Sprintf("valid until %s (%d days left), and its chain, beyond the %s window", day(r.NotAfter), r.DaysLeft, st.cfg.Warn))
	if s.Status != Pass {
		s.Fix = fmt.Sprintf("renew it in time: order its renewal on the IGC-Santé platform (diapason-cert csr %s makes the request), "+
			"then install it as %s, and the current CA certificates as %s", cc.profile.ID, describe(cc.in.side+".cert"), describe(cc.in.side+".chain"))
	}
	return s
}

// revocationStep asks the CRLs about the certificate, by the configured
// mode: revoked fails; no answer warns (soft) or fails (hard); no CRL of its
// issuer at all is a skip under soft, a failure under hard.
func (st *state) revocationStep(ctx context.Context, cc *credCheck) Step {
	mode := st.cfg.Revocation
	if mode == handshake.RevocationOff {
		return Step{Status: Skip, Reason: "revocation = off: not checked"}
	}
	ch := cc.report.Chain
	if len(ch.Certificates) < 2 || !ch.Certificates[0].SignatureVerified {
		return Step{Status: Skip, Reason: fmt.Sprintf("not checked: the issuer of the certificate is not known (see %s-chain)", cc.in.side)}
	}
	a := check.CheckRevocation(ctx, st.checkers, cc.in.leaf, ch.Certificates[1].Cert, st.opts.Now)
	fix := "give the current CRL of the certificate's issuer in " + describe("crl")
	switch a.Status {
	case check.RevocationGood:
		return Step{Status: Pass, Reason: a.Message}
	case check.RevocationRevoked:
		return Step{Status: Fail, Reason: a.Message, Fix: fmt.Sprintf("order a new %s certificate: a revoked one is refused by every peer", cc.profile.Offer)}
	case check.RevocationUnknown:
		s := Step{Status: Warn, Reason: "revocation status unknown: " + a.Message, Fix: fix}
		if mode == handshake.RevocationHard {
			s.Status = Fail
		}
		return s
	}
	if mode == handshake.RevocationHard {
		return Step{Status: Fail, Reason: "revocation = hard, and " + a.Message, Fix: fix}
	}
	return Step{Status: Skip, Reason: "not checked: " + a.Message}
}

// sortFindings puts failures first, then warnings, keeping their order.
func sortFindings(fs []check.Finding) []check.Finding {
	rank := map[check.Level]int{check.Fail: 0, check.Warn: 1}
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b check.Finding) int {
		ra, ok := rank[a.Level]
		if !ok {
			ra = 2
		}
		rb, ok := rank[b.Level]
		if !ok {
			rb = 2
		}
		return ra - rb
	})
	return out
}

// describe names a setting the three ways it can be given.
func describe(key string) string {
	s, ok := LookupSetting(key)
	if !ok {
		return key
	}
	return s.Describe()
}

func describeFile(p string) string {
	if p == "" {
		return "the certificate"
	}
	return p
}

// sendOrder is the chain the credential is sent with: its certificate, then
// the CAs of its chain found in its files, in issuing order.
func (cc *credCheck) sendOrder() []*x509.Certificate {
	out := []*x509.Certificate{cc.in.leaf}
	for _, c := range cc.report.Chain.Certificates[1:] {
		if c.Source == check.SourceGiven {
			out = append(out, c.Cert)
		}
	}
	return out
}
