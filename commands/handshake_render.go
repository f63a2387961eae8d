package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/handshake"
)

// renderHandshake prints a handshake result: the verdict first, then what was
// offered and agreed, the certificates, the causes and, with --trace, the ladder.
func (r *run) renderHandshake(w io.Writer, sub string, res *handshake.Result, trace bool) error {
	status := map[handshake.Status]Status{handshake.StatusOK: StatusOK, handshake.StatusWarn: StatusWarn,
		handshake.StatusUnknown: StatusUnknown, handshake.StatusFail: StatusFail}[res.Status]
	where := res.Address
	if st := res.SelfTest; st != nil {
		where = "a GAP listener on " + st.Listener + " (self-test)"
		if st.Listener == "" {
			where = "no listener (self-test not started)"
		}
	}
	if res.Offer.ServerName != "" {
		where += ", server name " + res.Offer.ServerName
	}
	fmt.Fprintf(w, "handshake %s: %s to %s at %s\n", sub, res.Client, res.Server, where)
	pairs := [][2]string{{"verdict", r.colour.status(status) + ": " + res.Summary}}
	if res.Connect.Connected {
		pairs = append(pairs, [2]string{"tcp connect", fmt.Sprintf("%s in %.1f ms", res.Connect.Remote, res.Connect.DurationMS)})
	} else if res.Connect.Error != "" {
		pairs = append(pairs, [2]string{"tcp connect", r.colour.fail.Sprint("failed") + ": " + res.Connect.Error})
	}
	if len(res.Offer.Suites) > 0 {
		pairs = append(pairs, [2]string{"offered", describeOfferText(res.Offer)})
	}
	if n := res.Negotiated; n != nil {
		suite := fmt.Sprintf("%s %s", n.Suite.ID, n.Suite.IANA)
		if n.Suite.Diapason {
			suite += " (a Diapason suite)"
		} else {
			suite += " " + r.colour.warn.Sprint("(not a Diapason suite)")
		}
		pairs = append(pairs, [2]string{"negotiated", suite})
		details := fmt.Sprintf("extended master secret %s, encrypt-then-MAC %s", yesNo(n.ExtendedMasterSecret), yesNo(n.EncryptThenMAC))
		if n.Group != "" {
			details = "group " + n.Group + ", " + details
		}
		if n.ServerSignature != "" {
			details += ", server signature " + n.ServerSignature
		}
		if n.ClientSignature != "" {
			details += ", client signature " + n.ClientSignature
		}
		pairs = append(pairs, [2]string{"  parameters", details})
	}
	if res.Connect.Connected {
		pairs = append(pairs, [2]string{"handshake", handshakeLine(res)})
	}
	if cr := res.CertificateRequest; cr != nil {
		pairs = append(pairs, requestPairs(cr)...)
	}
	renderPairs(w, pairs)

	if p := res.Peer; p != nil {
		fmt.Fprintf(w, "\nThe %s's certificate (%d sent):\n", res.Server, len(p.Sent))
		r.renderPeer(w, p)
	}
	if res.Own != nil {
		fmt.Fprintf(w, "\nThis %s's certificate:\n", res.Client)
		r.renderCert(w, res.Own)
		r.renderFindings(w, res.Own.Findings)
	}
	if st := res.SelfTest; st != nil {
		r.renderSelfTest(w, st)
	}
	if len(res.Causes) > 0 {
		fmt.Fprintln(w, "\nWhy:")
		for _, c := range res.Causes {
			fmt.Fprintf(w, "  %s %s: %s\n", r.levelTag(c.Level), c.Slug, c.Message)
			if c.Fix != "" {
				fmt.Fprintf(w, "       fix: %s\n", c.Fix)
			}
		}
	}
	if trace && (len(res.Trace) > 0 || res.Connect.Connected) {
		fmt.Fprintln(w, "\nMessages:")
		for _, l := range handshake.Ladder(res.Client+" (diapason-cert)", res.Server+" "+res.Address, &res.Exchange) {
			fmt.Fprintln(w, "  "+l)
		}
		if st := res.SelfTest; st != nil && st.ServerSide != nil {
			fmt.Fprintln(w, "\nMessages, as the GAP listener saw them:")
			for _, l := range handshake.Ladder("GAP listener", "terminal", &st.ServerSide.Exchange) {
				fmt.Fprintln(w, "  "+l)
			}
		}
	}
	return nil
}

func describeOfferText(o handshake.OfferInfo) string {
	suites := make([]string, len(o.Suites))
	for i, s := range o.Suites {
		suites[i] = s.ID + " " + s.IANA
	}
	s := o.Version + ": " + strings.Join(suites, ", ") + "; groups " + strings.Join(o.Groups, ", ")
	if o.AliasNote != "" {
		s += " (" + o.AliasNote + ")"
	}
	return s
}

func handshakeLine(res *handshake.Result) string {
	h := res.Handshake
	if h.Completed {
		return fmt.Sprintf("completed in %.1f ms", h.DurationMS)
	}
	if h.StoppedAt == "" && h.Error == "" {
		return "not attempted"
	}
	s := "stopped while " + h.StoppedAt
	if a := h.Alert; a != nil {
		who := "received from the " + res.Server
		if a.Sent {
			who = "sent by this " + res.Client
		}
		s += fmt.Sprintf(": alert %s (%d) %s", a.Name, a.Code, who)
	} else if h.Error != "" {
		s += ": " + h.Error
	}
	return s
}

func requestPairs(cr *handshake.CertificateRequest) [][2]string {
	if !cr.Requested {
		return [][2]string{{"client cert", "not requested"}}
	}
	out := [][2]string{{"client cert", "requested"}}
	if len(cr.AcceptedCAs) == 0 {
		out = append(out, [2]string{"  CA names", "none (any CA the server trusts)"})
	}
	for i, ca := range cr.AcceptedCAs {
		out = append(out, [2]string{fmt.Sprintf("  CA name %d", i+1), ca})
	}
	if len(cr.AcceptedCAs) > 0 {
		ours := "none of this chain's CAs is listed (information: servers often list only roots)"
		if len(cr.OurCAsListed) > 0 {
			ours = strings.Join(cr.OurCAsListed, "; ")
		}
		out = append(out, [2]string{"  ours listed", ours})
	}
	if len(cr.SignatureSchemes) > 0 {
		out = append(out, [2]string{"  signatures", strings.Join(cr.SignatureSchemes, ", ")})
	}
	sent := "none"
	if cr.CertificateSent != "" {
		sent = cr.CertificateSent
	}
	return append(out, [2]string{"  sent", sent})
}

func (r *run) renderPeer(w io.Writer, p *handshake.PeerReport) {
	var pairs [][2]string
	for i, s := range p.Sent {
		pairs = append(pairs, [2]string{fmt.Sprintf("  sent %d", i), s.Subject})
	}
	if p.Certificate != nil {
		pairs = append(pairs, certPairs(p.Certificate)...)
	}
	anchors := strings.Join(p.Trust.Anchors, "; ")
	if anchors == "" {
		anchors = "none"
	}
	pairs = append(pairs, [2]string{"  trusted", anchors + " (" + p.Trust.Source + ")"})
	if p.Trust.HierarchyFromPeer {
		pairs = append(pairs, [2]string{"  hierarchy", p.Trust.Hierarchy.Label() + ", the hierarchy of the certificate's issuer (--hierarchy sets it)"})
	}
	if rv := p.Revocation; rv != nil {
		pairs = append(pairs, [2]string{"  revocation", string(rv.Status)})
	}
	renderPairs(w, pairs)
	if p.Certificate != nil {
		r.renderFindings(w, p.Certificate.Findings)
	}
}

func (r *run) renderCert(w io.Writer, c *check.CertReport) {
	renderPairs(w, certPairs(c))
}

func certPairs(c *check.CertReport) [][2]string {
	pairs := [][2]string{
		{"  subject", c.Subject},
		{"  issuer", c.Issuer},
		{"  valid", fmt.Sprintf("%s to %s (%d days left)", c.NotBefore.Format("2006-01-02"), c.NotAfter.Format("2006-01-02"), c.DaysLeft)},
		{"  key", c.Key.String()},
		{"  sha256", c.SHA256},
	}
	if c.Chain != nil {
		var names []string
		for _, cc := range c.Chain.Certificates {
			n := cc.Subject
			if cc.Cert != nil && cc.Cert.Subject.CommonName != "" {
				n = cc.Cert.Subject.CommonName
			}
			names = append(names, fmt.Sprintf("%s [%s]", n, cc.Source))
		}
		pairs = append(pairs, [2]string{"  chain", fmt.Sprintf("%s (%s)", strings.Join(names, " <- "), c.Chain.Status)})
	}
	return pairs
}

func (r *run) renderSelfTest(w io.Writer, st *handshake.SelfTestInfo) {
	fmt.Fprintln(w, "\nSelf-test:")
	terminal := st.Terminal
	if st.Ephemeral {
		terminal += " (made for this test)"
	}
	pairs := [][2]string{{"  listener", st.Listener}, {"  terminal", terminal}}
	if ss := st.ServerSide; ss != nil {
		pairs = append(pairs, [2]string{"  GAP listener", string(ss.Status) + ": " + ss.Summary})
	}
	renderPairs(w, pairs)
	if ss := st.ServerSide; ss != nil && ss.Peer != nil && ss.Peer.Certificate != nil && !st.Ephemeral {
		fmt.Fprintln(w, "\nThe terminal's certificate, as the GAP listener judged it:")
		r.renderPeer(w, ss.Peer)
	}
}

func (r *run) levelTag(l check.Level) string {
	switch l {
	case check.Fail:
		return r.colour.fail.Sprint("FAIL")
	case check.Warn:
		return r.colour.warn.Sprint("WARN")
	case handshake.LevelUnknown:
		return r.colour.dim.Sprint("UNKNOWN")
	}
	return r.colour.dim.Sprint("INFO")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
