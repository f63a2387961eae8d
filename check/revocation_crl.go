package check

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// RevocationStatus is what the revocation sources say about one certificate.
type RevocationStatus string

const (
	RevocationGood    RevocationStatus = "good"
	RevocationRevoked RevocationStatus = "revoked"
	// RevocationUnknown: a source covers the certificate's issuer but gave no usable
	// answer (a stale CRL, one not signed by the issuer, a download that failed).
	RevocationUnknown RevocationStatus = "unknown"
	// RevocationNoSource: no source given covers the certificate's issuer.
	RevocationNoSource RevocationStatus = "no-source"
)

// Revocation is one answer about a certificate.
type Revocation struct {
	Status RevocationStatus `json:"status"`
	// Source names what answered: "CRL crl.pem (number 3, issued 2026-11-20)".
	Source    string     `json:"source,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Message   string     `json:"message"`
}

// RevocationChecker answers whether cert, issued by issuer, is revoked as of now. CRL
// files are one kind; CRLs downloaded from the distribution points and OCSP fit the
// same interface.
type RevocationChecker interface {
	CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation
}

// CheckRevocation asks every checker in turn. The first good or revoked answer wins;
// otherwise the answer is unknown when some source covered the issuer, no-source when
// none did, with the messages of all of them.
func CheckRevocation(ctx context.Context, checkers []RevocationChecker, cert, issuer *x509.Certificate, now time.Time) Revocation {
	out := Revocation{Status: RevocationNoSource}
	var msgs []string
	for _, c := range checkers {
		r := c.CheckRevocation(ctx, cert, issuer, now)
		switch r.Status {
		case RevocationGood, RevocationRevoked:
			return r
		case RevocationUnknown:
			out.Status, out.Source = RevocationUnknown, r.Source
		}
		if r.Message != "" {
			msgs = append(msgs, r.Message)
		}
	}
	if len(msgs) == 0 {
		msgs = append(msgs, "no revocation source was given")
	}
	out.Message = strings.Join(msgs, "; ")
	return out
}

// NamedCRL is a CRL with the file or URL it was read from.
type NamedCRL struct {
	Name string
	CRL  *x509.RevocationList
}

// CRLChecker answers from CRLs already read (--crl FILE, a lab's CRLs). A CRL counts
// only when it is signed by the certificate's issuer, and a stale one gives no answer:
// an attacker could otherwise replay an old CRL to hide a revocation.
type CRLChecker struct {
	crls []NamedCRL
}

// NewCRLChecker returns a checker over the given CRLs.
func NewCRLChecker(crls ...NamedCRL) *CRLChecker {
	return &CRLChecker{crls: crls}
}

// CheckRevocation implements RevocationChecker. Among the CRLs of the issuer whose
// signature verifies, the latest (by thisUpdate) decides: a serial listed there is
// revoked, even when the CRL is stale, as revocation is final.
func (k *CRLChecker) CheckRevocation(_ context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation {
	var best *NamedCRL
	var badSig []string
	for i := range k.crls {
		nc := &k.crls[i]
		if !bytes.Equal(nc.CRL.RawIssuer, issuer.RawSubject) {
			continue
		}
		if err := nc.CRL.CheckSignatureFrom(issuer); err != nil {
			badSig = append(badSig, fmt.Sprintf("%s names the issuer %q but its signature does not verify with that CA's key (%v)", nc.Name, commonName(issuer), err))
			continue
		}
		if best == nil || nc.CRL.ThisUpdate.After(best.CRL.ThisUpdate) {
			best = nc
		}
	}
	if best == nil {
		if len(badSig) > 0 {
			return Revocation{Status: RevocationUnknown, Message: strings.Join(badSig, "; ") + ": get the CRL again from the CA"}
		}
		return Revocation{Status: RevocationNoSource, Message: fmt.Sprintf("no CRL given is issued by %q", commonName(issuer))}
	}
	crl := best.CRL
	source := describeCRL(*best)
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) != 0 {
			continue
		}
		at := e.RevocationTime.UTC()
		reason := reasonName(e.ReasonCode)
		return Revocation{Status: RevocationRevoked, Source: source, RevokedAt: &at, Reason: reason,
			Message: fmt.Sprintf("%q (serial %s) is revoked since %s (%s) according to %s", commonName(cert), serialString(cert), at.Format(time.RFC3339), reason, source)}
	}
	switch {
	case now.Before(crl.ThisUpdate):
		return Revocation{Status: RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s is dated %s, in the future: check this machine's clock", source, crl.ThisUpdate.UTC().Format(time.RFC3339))}
	case !crl.NextUpdate.IsZero() && now.After(crl.NextUpdate):
		return Revocation{Status: RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s is stale: its next update was due on %s; download the current CRL of %q", source, crl.NextUpdate.UTC().Format(time.RFC3339), commonName(issuer))}
	}
	return Revocation{Status: RevocationGood, Source: source, Message: fmt.Sprintf("%q is not revoked according to %s", commonName(cert), source)}
}

func describeCRL(nc NamedCRL) string {
	s := "CRL " + nc.Name
	if nc.CRL.Number != nil {
		s += fmt.Sprintf(" (number %s, issued %s)", nc.CRL.Number, nc.CRL.ThisUpdate.UTC().Format(dateLayout))
	}
	return s
}

// reasonNames are the CRLReason values of RFC 5280 §5.3.1.
var reasonNames = map[int]string{
	0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged", 4: "superseded",
	5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn", 10: "aACompromise",
}

func reasonName(code int) string {
	if n, ok := reasonNames[code]; ok {
		return n
	}
	return fmt.Sprintf("reason %d", code)
}
