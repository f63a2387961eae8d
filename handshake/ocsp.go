package handshake

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/diapason-cert/diapason-cert/check"
)

// OCSPResponder asks one OCSP responder, given by the user, about every
// certificate whatever its AIA names: terminal certificates (IngeTrust) name
// no responder, yet a GAP may be given its terminal CA's. It is a
// check.RevocationChecker, safe for concurrent use, and remembers definitive
// answers until their nextUpdate, so that a busy server asks once per
// certificate rather than once per handshake.
type OCSPResponder struct {
	URL string
	// Post sends a DER request and returns the DER answer; nil POSTs over
	// HTTP (RFC 6960 appendix A.1) within Timeout.
	Post func(ctx context.Context, url string, request []byte) ([]byte, error)
	// Timeout bounds one exchange with the default Post; DefaultTimeout if zero.
	Timeout time.Duration

	mu      sync.Mutex
	answers map[string]ocspAnswer
}

type ocspAnswer struct {
	rev       check.Revocation
	at, until time.Time
}

const (
	// maxOCSPAnswers bounds the answers remembered; beyond it they are all
	// forgotten at once.
	maxOCSPAnswers = 4096
	// ocspMaxResponse bounds an answer: one certificate's status with a
	// responder certificate is a few kilobytes.
	ocspMaxResponse = 64 << 10
	// ocspSkew tolerates a responder clock a little ahead of this one.
	ocspSkew = 5 * time.Minute
	// ocspKeep is how long an answer without nextUpdate is reused.
	ocspKeep = time.Hour
)

// CheckRevocation implements check.RevocationChecker.
func (o *OCSPResponder) CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) check.Revocation {
	key := string(issuer.RawSubjectPublicKeyInfo) + "\x00" + string(cert.SerialNumber.Bytes())
	o.mu.Lock()
	a, ok := o.answers[key]
	o.mu.Unlock()
	if ok && !now.Before(a.at) && now.Before(a.until) {
		return a.rev
	}
	req, err := ocsp.CreateRequest(cert, issuer, nil)
	if err != nil {
		return o.unknown(cert, fmt.Sprintf("no OCSP request can be made: %v", err))
	}
	der, err := o.post(ctx, req)
	if err != nil {
		return o.unknown(cert, fmt.Sprintf("asking the OCSP responder %s failed: %v", o.URL, err))
	}
	resp, err := ocsp.ParseResponseForCert(der, cert, issuer)
	if err != nil {
		var re ocsp.ResponseError
		if errors.As(err, &re) {
			return o.unknown(cert, fmt.Sprintf("the OCSP responder %s answered %q", o.URL, re.Status.String()))
		}
		return o.unknown(cert, fmt.Sprintf("the answer of the OCSP responder %s was ignored: %v", o.URL, err))
	}
	source := fmt.Sprintf("OCSP %s (answer of %s)", o.URL, resp.ThisUpdate.UTC().Format(time.RFC3339))
	until := resp.NextUpdate
	if until.IsZero() {
		until = now.Add(ocspKeep)
	}
	var rev check.Revocation
	switch {
	case resp.Status == ocsp.Revoked:
		at := resp.RevokedAt.UTC()
		reason := ocspReason(resp.RevocationReason)
		rev = check.Revocation{Status: check.RevocationRevoked, Source: source, RevokedAt: &at, Reason: reason,
			Message: fmt.Sprintf("%q (serial %X) is revoked since %s (%s) according to %s", commonName(cert), cert.SerialNumber, at.Format(time.RFC3339), reason, source)}
	case resp.ThisUpdate.After(now.Add(ocspSkew)):
		return check.Revocation{Status: check.RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s is dated in the future: check this machine's clock", source)}
	case !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate):
		return check.Revocation{Status: check.RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s is stale (next update %s)", source, resp.NextUpdate.UTC().Format(time.RFC3339))}
	case resp.Status == ocsp.Good:
		rev = check.Revocation{Status: check.RevocationGood, Source: source,
			Message: fmt.Sprintf("%q is not revoked according to %s", commonName(cert), source)}
	default:
		return check.Revocation{Status: check.RevocationUnknown, Source: source,
			Message: fmt.Sprintf("%s does not know %q (serial %X): the responder does not serve its CA", source, commonName(cert), cert.SerialNumber)}
	}
	o.mu.Lock()
	if o.answers == nil || len(o.answers) >= maxOCSPAnswers {
		o.answers = map[string]ocspAnswer{}
	}
	o.answers[key] = ocspAnswer{rev: rev, at: now, until: until}
	o.mu.Unlock()
	return rev
}

func (o *OCSPResponder) unknown(cert *x509.Certificate, msg string) check.Revocation {
	return check.Revocation{Status: check.RevocationUnknown, Source: "OCSP " + o.URL,
		Message: fmt.Sprintf("the revocation of %q is unknown: %s", commonName(cert), msg)}
}

func (o *OCSPResponder) post(ctx context.Context, req []byte) ([]byte, error) {
	if o.Post != nil {
		return o.Post(ctx, o.URL, req)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, o.URL, bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, ocspMaxResponse+1))
	if err != nil {
		return nil, err
	}
	if len(body) > ocspMaxResponse {
		return nil, fmt.Errorf("the answer is larger than %d bytes", ocspMaxResponse)
	}
	return body, nil
}

// ocspReason names an RFC 5280 §5.3.1 reason code.
func ocspReason(code int) string {
	names := map[int]string{
		ocsp.Unspecified: "unspecified", ocsp.KeyCompromise: "keyCompromise", ocsp.CACompromise: "cACompromise",
		ocsp.AffiliationChanged: "affiliationChanged", ocsp.Superseded: "superseded", ocsp.CessationOfOperation: "cessationOfOperation",
		ocsp.CertificateHold: "certificateHold", ocsp.RemoveFromCRL: "removeFromCRL", ocsp.PrivilegeWithdrawn: "privilegeWithdrawn",
		ocsp.AACompromise: "aACompromise",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return fmt.Sprintf("reason %d", code)
}
