// Package csr makes and inspects the key pair and certificate signing request of the two certificates a GAP editor orders.
package csr

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// maxCNLength is ub-common-name (RFC 5280 appendix A): the server FQDN is
// the CN, so it may not be longer.
const maxCNLength = 64

// FQDNError says why a server name cannot be the CN of an SSL_SERVEUR certificate.
type FQDNError struct {
	Input  string
	Reason string
}

func (e *FQDNError) Error() string {
	return fmt.Sprintf("invalid FQDN %q: %s", e.Input, e.Reason)
}

// NormaliseFQDN returns the name as it must appear in the certificate:
// lower-case ASCII, internationalised labels as punycode, no trailing dot.
func NormaliseFQDN(input string) (string, error) {
	s := strings.TrimSpace(input)
	bad := func(format string, args ...any) (string, error) {
		return "", &FQDNError{Input: input, Reason: fmt.Sprintf(format, args...)}
	}
	if s == "" {
		return bad("empty name")
	}
	if strings.Contains(s, "*") {
		return bad("a wildcard cannot be a certificate's CN: the terminal compares its configured FQDN with the CN exactly; the wildcard form (*domain) belongs to the habilitation request on the IGC-Santé platform, not to the certificate")
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return bad("an IP address is not a host name: the terminal is configured with the GAP server's FQDN, which must be the CN")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/:") {
		return bad("give the host name alone, without scheme, port or path")
	}
	s = strings.TrimSuffix(s, ".")
	for _, l := range strings.Split(s, ".") {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return bad("%s", labelProblem(l))
		}
	}
	ascii, err := idna.Lookup.ToASCII(s)
	if err != nil {
		return bad("%s", idnaReason(err))
	}
	labels := strings.Split(ascii, ".")
	if len(labels) < 2 {
		return bad("a single label is not a fully qualified name: add the domain (server.domain.fr)")
	}
	for _, l := range labels {
		if reason := labelProblem(l); reason != "" {
			return bad("%s", reason)
		}
	}
	if isAllDigits(labels[len(labels)-1]) {
		return bad("the top-level label %q is numeric", labels[len(labels)-1])
	}
	if len(ascii) > maxCNLength {
		return bad("%d characters once encoded, the CN holds at most %d", len(ascii), maxCNLength)
	}
	return ascii, nil
}

func idnaReason(err error) string {
	msg := err.Error()
	if strings.Contains(msg, "disallowed rune") {
		return "a label holds a character not allowed in host names (only letters, digits and hyphens; no underscore or space)"
	}
	return "not a valid internationalised host name (" + strings.TrimPrefix(msg, "idna: ") + ")"
}

func labelProblem(l string) string {
	switch {
	case l == "":
		return "empty label (two dots in a row)"
	case len(l) > 63:
		return fmt.Sprintf("label %q is longer than 63 characters", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("label %q starts or ends with a hyphen", l)
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Sprintf("label %q holds %q: only letters, digits and hyphens are allowed", l, r)
		}
	}
	return ""
}

func isAllDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Habilitation is the domain the editor's test cards must be entitled to
// before ordering the server certificate.
type Habilitation struct {
	// Domain is the registrable domain (eTLD+1) of the FQDN.
	Domain string `json:"domain"`
	// Request is the value for the habilitation form: the ASIP sheet asks for
	// the widest domain as "*domain", not the server's own name.
	Request string `json:"request"`
	// Listed is false when the FQDN's suffix is not in the public suffix
	// list (a private or test TLD): the platform checks the domain exists.
	Listed bool `json:"listed"`
}

// HabilitationFor computes the habilitation request for a normalised FQDN.
func HabilitationFor(fqdn string) (Habilitation, error) {
	_, icann := publicsuffix.PublicSuffix(fqdn)
	domain, err := publicsuffix.EffectiveTLDPlusOne(fqdn)
	if err != nil {
		return Habilitation{}, &FQDNError{Input: fqdn, Reason: "it is a public suffix, not a domain an editor can own"}
	}
	return Habilitation{Domain: domain, Request: "*" + domain, Listed: icann}, nil
}
