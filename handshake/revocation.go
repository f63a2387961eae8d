package handshake

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
)

// RevocationMode is the --revocation setting.
type RevocationMode string

const (
	// RevocationOff checks nothing.
	RevocationOff RevocationMode = "off"
	// RevocationSoft: an unknown status is a warning, no source at all an info
	// line (for server certificates, whose check the sheet calls optional).
	RevocationSoft RevocationMode = "soft"
	// RevocationHard: no answer refuses the certificate.
	RevocationHard RevocationMode = "hard"
)

// RevocationNotChecked is the status reported under --revocation off.
const RevocationNotChecked check.RevocationStatus = "not-checked"

// ParseRevocationMode reads a --revocation value.
func ParseRevocationMode(s string) (RevocationMode, error) {
	switch m := RevocationMode(strings.ToLower(strings.TrimSpace(s))); m {
	case RevocationOff, RevocationSoft, RevocationHard:
		return m, nil
	}
	return "", fmt.Errorf("unknown revocation mode %q (want off, soft or hard)", s)
}

// RevocationPolicy is how one side checks the revocation of its peer's certificate.
type RevocationPolicy struct {
	Mode RevocationMode
	// Required makes any missing answer a refusal, whatever the mode but off: the
	// sheet makes the check of client certificates mandatory ("obligatoire").
	Required bool
	// Checkers are asked in turn; the commands give check's revocation engine
	// (given CRLs, HTTP distribution points, OCSP).
	Checkers []check.RevocationChecker
}

type revocationOutcome struct {
	answer  check.Revocation
	finding check.Finding
}

// check asks the sources about cert and turns the answer into a finding by the
// policy: revoked always refuses; no answer refuses when the check is required
// or hard, warns when a source existed (soft), and is only said otherwise.
func (p RevocationPolicy) check(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) revocationOutcome {
	mode := p.Mode
	if mode == "" {
		mode = RevocationSoft
	}
	if mode == RevocationOff {
		msg := "revocation was not checked (--revocation off)"
		if p.Required {
			msg += ", although Diapason makes the check of client certificates mandatory"
		}
		a := check.Revocation{Status: RevocationNotChecked, Message: msg}
		return revocationOutcome{a, check.Finding{Slug: "revocation-off", Level: check.Info, Message: msg}}
	}
	a := check.CheckRevocation(ctx, p.Checkers, cert, issuer, now)
	strict := p.Required || mode == RevocationHard
	why := "--revocation hard asks for an answer"
	if p.Required {
		why = "Diapason makes the revocation check of client certificates mandatory (no answer = refused)"
	}
	wayOut := "give the CRL with --crl FILE|URL, or turn the check off explicitly with --revocation off"
	var f check.Finding
	switch a.Status {
	case check.RevocationGood:
		f = check.Finding{Slug: "revocation-good", Level: check.Info, Message: a.Message}
	case check.RevocationRevoked:
		f = check.Finding{Slug: "revoked", Level: check.Fail, Message: a.Message + ": it must not be used any more; order a new certificate"}
	case check.RevocationUnknown:
		f = check.Finding{Slug: "revocation-unknown", Level: check.Warn, Message: "revocation status unknown: " + a.Message}
		if strict {
			f.Level, f.Message = check.Fail, f.Message+"; "+why
		}
	default:
		msg := fmt.Sprintf("no revocation source for %q: %s; %s", commonName(cert), a.Message, sourcesOf(cert))
		if strict {
			f = check.Finding{Slug: "revocation-unavailable", Level: check.Fail, Message: msg + "; " + why + ": " + wayOut}
		} else {
			f = check.Finding{Slug: "revocation-no-source", Level: check.Info, Message: msg + "; the check is optional for server certificates, so this changes nothing"}
		}
	}
	return revocationOutcome{a, f}
}

// sourcesOf says why no source was found: the revocation engine queries the
// HTTP CRL distribution points and OCSP responders a certificate names, so
// only LDAP addresses, or none at all, are left.
func sourcesOf(c *x509.Certificate) string {
	var other []string
	for _, u := range c.CRLDistributionPoints {
		if !strings.HasPrefix(strings.ToLower(u), "http") {
			other = append(other, u)
		}
	}
	if len(other) > 0 {
		return "it names only LDAP CRL addresses (" + strings.Join(other, ", ") + "), which are not read"
	}
	return "the certificate names no CRL or OCSP address (IngeTrust publishes none that we know of)"
}

func commonName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return nameOf(c.RawSubject, c.Subject.String())
}
