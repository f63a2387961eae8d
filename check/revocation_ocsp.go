package check

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ocspChecker asks the OCSP responders a certificate names (AIA), by POST with a SHA-1
// CertID, the one every responder understands (RFC 5019). An answer counts once its
// signature verifies (by the issuer, or by a responder certificate the issuer made for
// OCSP signing) and it is fresh: x/crypto/ocsp checks neither freshness nor the
// responder certificate's purpose.
type ocspChecker struct {
	post    OCSPPoster
	extra   []string
	mu      sync.Mutex
	answers map[string]ocspAnswer
}

type ocspAnswer struct {
	r         Revocation
	at, until time.Time
}

// Bounds of the OCSP answers remembered: the CAs of a chain are asked about once per
// scan, not once per leaf; an answer without nextUpdate is kept ocspKeep.
const (
	maxOCSPAnswers = 4096
	ocspKeep       = time.Hour
	// ocspSkew tolerates a responder clock a little ahead of ours.
	ocspSkew = 5 * time.Minute
	// ocspMaxAge is the oldest answer taken when the responder gives no nextUpdate.
	ocspMaxAge = 7 * 24 * time.Hour
)

func newOCSPChecker(post OCSPPoster, extra []string) *ocspChecker {
	return &ocspChecker{post: post, extra: extra, answers: map[string]ocspAnswer{}}
}

// CheckRevocation implements RevocationChecker.
func (o *ocspChecker) CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation {
	var urls []string
	for _, u := range append(slices.Clone(o.extra), cert.OCSPServer...) {
		scheme, _, _ := strings.Cut(u, ":")
		if s := strings.ToLower(scheme); (s == "http" || s == "https") && !slices.Contains(urls, u) {
			urls = append(urls, u)
		}
	}
	if len(urls) == 0 {
		return Revocation{Status: RevocationNoSource, Message: "the certificate names no OCSP responder"}
	}
	key := string(issuer.RawSubjectPublicKeyInfo) + "\x00" + serialKey(cert.SerialNumber)
	o.mu.Lock()
	a, ok := o.answers[key]
	o.mu.Unlock()
	if ok && !now.Before(a.at) && now.Before(a.until) {
		return a.r
	}
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return Revocation{Status: RevocationUnknown, Message: fmt.Sprintf("an OCSP request for %q cannot be made: %v", commonName(cert), err)}
	}
	var msgs []string
	var notes []Finding
	for _, u := range urls {
		der, err := o.post(ctx, u, req)
		if err != nil {
			msgs = append(msgs, fmt.Sprintf("asking the OCSP responder %s failed: %v", u, err))
			continue
		}
		resp, err := parseOCSP(der, cert, issuer, now)
		if err != nil {
			msg := fmt.Sprintf("the answer of the OCSP responder %s was ignored: %v", u, err)
			msgs = append(msgs, msg)
			var bad *ocspSignatureError
			if errors.As(err, &bad) {
				notes = appendNotes(notes, Finding{Slug: "ocsp-signature-invalid", Level: Warn, Message: msg})
			}
			continue
		}
		source := fmt.Sprintf("OCSP %s (answer of %s)", u, resp.ThisUpdate.UTC().Format(time.RFC3339))
		r, until := ocspRevocation(resp, cert, issuer, source, now)
		if r.Status == RevocationUnknown {
			msgs = append(msgs, r.Message)
			notes = appendNotes(notes, r.Notes...)
			continue
		}
		r.Notes = appendNotes(notes, r.Notes...)
		o.remember(key, ocspAnswer{r, now, until})
		return r
	}
	return Revocation{Status: RevocationUnknown, Message: strings.Join(msgs, "; "), Notes: notes}
}

func (o *ocspChecker) remember(key string, a ocspAnswer) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.answers[key]; ok || len(o.answers) < maxOCSPAnswers {
		o.answers[key] = a
	}
}

// ocspRevocation turns a verified answer into a Revocation, judging its freshness at
// now; until is how long it may be reused. Revoked stays revoked, however old.
func ocspRevocation(resp *ocsp.Response, cert, issuer *x509.Certificate, source string, now time.Time) (Revocation, time.Time) {
	until := resp.NextUpdate
	if until.IsZero() {
		until = now.Add(ocspKeep)
	}
	switch {
	case resp.Status == ocsp.Revoked:
		at := resp.RevokedAt.UTC()
		reason := reasonName(resp.RevocationReason)
		return Revocation{Status: RevocationRevoked, Source: source, RevokedAt: &at, Reason: reason,
			Message: fmt.Sprintf("%q (serial %s) is revoked since %s (%s) according to %s", commonName(cert), serialString(cert), at.Format(time.RFC3339), reason, source)}, until
	case resp.ThisUpdate.After(now.Add(ocspSkew)):
		return Revocation{Status: RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s is dated %s, in the future: check this machine's clock", source, resp.ThisUpdate.UTC().Format(time.RFC3339))}, until
	case !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate),
		resp.NextUpdate.IsZero() && now.Sub(resp.ThisUpdate) > ocspMaxAge:
		msg := fmt.Sprintf("%s is stale: the responder of %q gives out-of-date answers", source, commonName(issuer))
		return Revocation{Status: RevocationUnknown, Source: source, Message: msg,
			Notes: []Finding{{Slug: "ocsp-stale", Level: Info, Message: msg}}}, until
	case resp.Status == ocsp.Good:
		return Revocation{Status: RevocationGood, Source: source,
			Message: fmt.Sprintf("%q is not revoked according to %s", commonName(cert), source)}, until
	}
	return Revocation{Status: RevocationUnknown, Source: source,
		Message: fmt.Sprintf("%s does not know %q (serial %s): the responder does not serve its CA, or the certificate was not issued by it", source, commonName(cert), serialString(cert))}, until
}

// ocspSignatureError says that an answer is not signed by whom it must be.
type ocspSignatureError struct{ err error }

func (e *ocspSignatureError) Error() string { return e.err.Error() }

// parseOCSP verifies an answer about cert: signed by issuer, or by a responder
// certificate issuer signed for OCSP (RFC 6960 §4.2.2.2), valid at now.
func parseOCSP(der []byte, cert, issuer *x509.Certificate, now time.Time) (*ocsp.Response, error) {
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			return nil, fmt.Errorf("the responder answered %q", re.Status.String())
		}
		// x/crypto checks an embedded certificate as issued by the issuer, so an answer
		// that embeds the issuing CA's own certificate fails there: verify it directly.
		plain, perr := ocsp.ParseResponseForCert(der, cert, nil)
		if perr != nil || plain.Certificate == nil || !bytes.Equal(plain.Certificate.Raw, issuer.Raw) {
			var pe ocsp.ParseError
			if errors.As(err, &pe) && strings.Contains(string(pe), "signature") {
				return nil, &ocspSignatureError{fmt.Errorf("its signature does not verify with the key of %q or of a responder it authorised (%v)", commonName(issuer), err)}
			}
			return nil, fmt.Errorf("it cannot be read: %v", err)
		}
		if err := plain.CheckSignatureFrom(issuer); err != nil {
			return nil, &ocspSignatureError{fmt.Errorf("its signature does not verify with the key of %q (%v)", commonName(issuer), err)}
		}
		resp = plain
	}
	if rc := resp.Certificate; rc != nil && !bytes.Equal(rc.Raw, issuer.Raw) {
		switch {
		case !slices.Contains(rc.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning):
			return nil, &ocspSignatureError{fmt.Errorf("it is signed by %q, which %q did not authorise to sign OCSP answers (no OCSPSigning extendedKeyUsage)", commonName(rc), commonName(issuer))}
		case now.Before(rc.NotBefore) || now.After(rc.NotAfter):
			return nil, &ocspSignatureError{fmt.Errorf("it is signed by %q, whose certificate is not valid at %s", commonName(rc), now.UTC().Format(time.RFC3339))}
		}
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		return nil, errors.New("it is not about this certificate")
	}
	return resp, nil
}
