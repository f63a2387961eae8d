package handshake

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
)

// Markdown renders a result as a report to send to a provider's or a terminal
// vendor's support. It holds what was tried and what happened, with the
// certificates' public data only: a Result carries no private key, passphrase
// or session secret, so none can appear. tool names the program and version.
func Markdown(r *Result, tool string) []byte {
	var b bytes.Buffer
	client, server := r.Client, r.Server
	fmt.Fprintf(&b, "# Diapason handshake report: %s to %s\n\n", client, server)
	row := func(k, v string) { fmt.Fprintf(&b, "| %s | %s |\n", k, mdCell(v)) }
	b.WriteString("| | |\n|---|---|\n")
	row("Verdict", fmt.Sprintf("**%s**: %s", strings.ToUpper(string(r.Status)), r.Summary))
	row("Link", fmt.Sprintf("%s (%s to %s)", r.Link, client, server))
	if r.SelfTest != nil {
		row("Mode", fmt.Sprintf("self-test: GAP listener on %s, terminal %s", r.SelfTest.Listener, r.SelfTest.Terminal))
	} else {
		row("Address", r.Address)
	}
	if r.Offer.ServerName != "" {
		row("Server name (SNI)", r.Offer.ServerName)
	}
	row("Date", r.At.Format(time.RFC3339))
	row("Tool", tool)
	if r.Connect.Connected {
		row("TCP connection", fmt.Sprintf("%s in %.1f ms", r.Connect.Remote, r.Connect.DurationMS))
	} else if r.Connect.Error != "" {
		row("TCP connection", "failed: "+r.Connect.Error)
	}
	row("Offered", describeOffer(r.Offer))
	if n := r.Negotiated; n != nil {
		row("Negotiated", describeNegotiated(n))
	}
	row("Handshake", describeHandshake(&r.Exchange))
	if cr := r.CertificateRequest; cr != nil {
		row("Client certificate requested", describeRequest(cr))
	}

	b.WriteString("\n## Causes\n\n")
	if len(r.Causes) == 0 {
		b.WriteString("None: the handshake completed and both certificates fit the Diapason policy.\n")
	}
	for i, c := range r.Causes {
		fmt.Fprintf(&b, "%d. **%s** (%s): %s\n", i+1, c.Slug, c.Level, c.Message)
		if c.Fix != "" {
			fmt.Fprintf(&b, "   Fix: %s\n", c.Fix)
		}
	}
	if p := r.Peer; p != nil {
		fmt.Fprintf(&b, "\n## The %s's certificate\n\n", server)
		peerMarkdown(&b, p)
	}
	if r.Own != nil {
		fmt.Fprintf(&b, "\n## The %s's certificate\n\n", client)
		certMarkdown(&b, r.Own)
	}
	if st := r.SelfTest; st != nil && st.ServerSide != nil && st.ServerSide.Peer != nil {
		b.WriteString("\n## The terminal certificate, as the GAP listener judged it\n\n")
		peerMarkdown(&b, st.ServerSide.Peer)
	}
	if len(r.Trace) > 0 || r.Connect.Connected {
		b.WriteString("\n## Messages\n\n```\n")
		for _, l := range Ladder(r.Client+" (diapason-cert)", r.Server, &r.Exchange) {
			b.WriteString(l + "\n")
		}
		b.WriteString("```\n")
	}
	b.WriteString("\n_This report holds public certificate data only: no private key, passphrase or session secret._\n")
	return b.Bytes()
}

func peerMarkdown(b *bytes.Buffer, p *PeerReport) {
	b.WriteString("Sent, in this order:\n\n| # | Subject | Issuer | SHA-256 |\n|---|---|---|---|\n")
	for i, s := range p.Sent {
		fmt.Fprintf(b, "| %d | %s | %s | %s |\n", i, mdCell(s.Subject), mdCell(s.Issuer), s.SHA256)
	}
	anchors := strings.Join(p.Trust.Anchors, "; ")
	if anchors == "" {
		anchors = "none"
	}
	fmt.Fprintf(b, "\nTrusted anchors: %s (%s)\n", anchors, p.Trust.Source)
	if p.Revocation != nil {
		fmt.Fprintf(b, "Revocation: %s: %s\n", p.Revocation.Status, p.Revocation.Message)
	}
	if p.Certificate != nil {
		b.WriteString("\n")
		certMarkdown(b, p.Certificate)
	}
}

func certMarkdown(b *bytes.Buffer, c *check.CertReport) {
	fmt.Fprintf(b, "- Subject: %s\n- Issuer: %s\n- Valid: %s to %s\n- Key: %s\n- SHA-256: %s\n",
		c.Subject, c.Issuer, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339), c.Key, c.SHA256)
	if c.Chain != nil {
		var names []string
		for _, cc := range c.Chain.Certificates {
			names = append(names, fmt.Sprintf("%s [%s]", commonNameOf(cc), cc.Source))
		}
		fmt.Fprintf(b, "- Chain (%s): %s\n", c.Chain.Status, strings.Join(names, " <- "))
	}
	if len(c.Findings) > 0 {
		b.WriteString("\nFindings:\n\n")
		for _, f := range c.Findings {
			fmt.Fprintf(b, "- %s %s: %s\n", strings.ToUpper(string(f.Level)), f.Slug, f.Message)
		}
	}
}

func commonNameOf(cc check.ChainCert) string {
	if cc.Cert != nil {
		return commonName(cc.Cert)
	}
	return cc.Subject
}

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// describeOffer, describeNegotiated, describeHandshake and describeRequest say
// in one line what the text and Markdown reports show.
func describeOffer(o OfferInfo) string {
	suites := make([]string, len(o.Suites))
	for i, s := range o.Suites {
		suites[i] = s.ID + " " + s.IANA
	}
	s := o.Version + "; " + strings.Join(suites, ", ") + "; groups " + strings.Join(o.Groups, ", ")
	if o.ExtendedMasterSecret {
		s += "; extended master secret"
	}
	if o.EncryptThenMAC {
		s += "; encrypt-then-MAC"
	}
	return s
}

func describeNegotiated(n *Negotiated) string {
	diap := "not a Diapason suite"
	if n.Suite.Diapason {
		diap = "a Diapason suite"
	}
	s := fmt.Sprintf("%s %s (%s, %s)", n.Suite.ID, n.Suite.IANA, n.Suite.OpenSSL, diap)
	if n.Group != "" {
		s += "; group " + n.Group
	}
	s += "; extended master secret " + yesNo(n.ExtendedMasterSecret) + "; encrypt-then-MAC " + yesNo(n.EncryptThenMAC)
	if n.ServerSignature != "" {
		s += "; server signature " + n.ServerSignature
	}
	if n.ClientSignature != "" {
		s += "; client signature " + n.ClientSignature
	}
	return s
}

func describeHandshake(x *Exchange) string {
	if x.Handshake.Completed {
		return fmt.Sprintf("completed in %.1f ms", x.Handshake.DurationMS)
	}
	if x.Handshake.StoppedAt == "" && x.Handshake.Error == "" {
		return "not attempted"
	}
	s := "stopped while " + x.Handshake.StoppedAt
	if a := x.Handshake.Alert; a != nil {
		dir := "received from the peer"
		if a.Sent {
			dir = "sent by this side"
		}
		s += fmt.Sprintf(": alert %s (%d) %s", a.Name, a.Code, dir)
	} else if x.Handshake.Error != "" {
		s += ": " + x.Handshake.Error
	}
	return s
}

func describeRequest(cr *CertificateRequest) string {
	if !cr.Requested {
		return "no"
	}
	cas := "no CA names"
	if len(cr.AcceptedCAs) > 0 {
		cas = "CA names: " + strings.Join(cr.AcceptedCAs, "; ")
	}
	ours := "none of the client chain's CAs is listed"
	if len(cr.OurCAsListed) > 0 {
		ours = "listed from the client chain: " + strings.Join(cr.OurCAsListed, "; ")
	}
	sent := "no certificate sent"
	if cr.CertificateSent != "" {
		sent = "sent " + cr.CertificateSent
	}
	return fmt.Sprintf("yes; %s; %s; signature algorithms %s; %s", cas, ours, strings.Join(cr.SignatureSchemes, ", "), sent)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
