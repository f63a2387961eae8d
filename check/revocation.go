package check

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"
)

// RevocationMode is how hard revocation is checked (--revocation).
type RevocationMode string

const (
	// RevocationOff checks nothing: offline runs stay offline.
	RevocationOff RevocationMode = "off"
	// RevocationSoft: revoked fails, no answer is a warning.
	RevocationSoft RevocationMode = "soft"
	// RevocationHard: revoked and no answer both fail.
	RevocationHard RevocationMode = "hard"
)

// ParseRevocationMode reads a --revocation value.
func ParseRevocationMode(s string) (RevocationMode, error) {
	switch m := RevocationMode(strings.ToLower(strings.TrimSpace(s))); m {
	case RevocationOff, RevocationSoft, RevocationHard:
		return m, nil
	}
	return "", fmt.Errorf("unknown revocation mode %q (want off, soft or hard)", s)
}

// RevocationOptions say where a RevocationEngine looks.
type RevocationOptions struct {
	// CRLs are read already: --crl files and downloads, a lab's CRLs. They are asked
	// first: what the user gave wins over what the certificate points at.
	CRLs []NamedCRL
	// FetchCRL downloads the CRLs of the certificates' HTTP distribution points; nil
	// reads none. HTTPFetcher(CRLTimeout, CRLMaxBytes) is the real one.
	FetchCRL Fetcher
	// Cache keeps downloaded CRLs on disk until their nextUpdate; nil keeps them in
	// memory for the engine's life only.
	Cache *CRLCache
	// OCSP asks the responders of the certificates' AIA; nil asks none.
	// HTTPOCSPPoster(OCSPTimeout, OCSPMaxBytes) is the real one.
	OCSP OCSPPoster
	// OCSPResponders are asked about every certificate, before its AIA's, with OCSP:
	// terminal certificates (IngeTrust) name no responder, yet their CA may run one.
	OCSPResponders []string
}

// RevocationEngine is the one revocation checker of the tool: given CRLs, then the
// CRLs of the certificate's distribution points, then its OCSP responders, until one
// answers good or revoked. A CRL counts only once its signature verifies with the
// issuer's key, an OCSP answer once it verifies and is fresh. It is safe for
// concurrent use and remembers downloads, signature checks and OCSP answers, so that
// the certificates of one CA cost one download.
type RevocationEngine struct {
	given    *CRLChecker
	checkers []RevocationChecker
}

// NewRevocationEngine prepares an engine.
func NewRevocationEngine(opts RevocationOptions) *RevocationEngine {
	e := &RevocationEngine{given: NewCRLChecker(opts.CRLs...)}
	if len(opts.CRLs) > 0 {
		e.checkers = append(e.checkers, e.given)
	}
	if opts.FetchCRL != nil {
		e.checkers = append(e.checkers, newDPChecker(opts.FetchCRL, opts.Cache))
	}
	if opts.OCSP != nil {
		e.checkers = append(e.checkers, newOCSPChecker(opts.OCSP, opts.OCSPResponders))
	}
	return e
}

// CheckRevocation implements RevocationChecker.
func (e *RevocationEngine) CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation {
	return CheckRevocation(ctx, e.checkers, cert, issuer, now)
}

// UnusedCRLs names the given CRLs that no certificate checked so far was issued by.
func (e *RevocationEngine) UnusedCRLs() []NamedCRL {
	return e.given.Unused()
}

// DownloadCRL reads the CRLs at url (--crl URL): from cache while fresh at now, else
// downloaded and stored there. A download that fails falls back to a stale cached
// copy, which still tells revoked certificates.
func DownloadCRL(ctx context.Context, fetch Fetcher, cache *CRLCache, url string, now time.Time) ([]NamedCRL, error) {
	cached, ok := cache.Load(url)
	if ok && fresh(cached, now) {
		return cached, nil
	}
	data, err := fetch(ctx, url)
	if err == nil {
		var crls []NamedCRL
		if crls, err = parseCRLs(url, data); err == nil {
			// A cache that cannot be written costs a download next time, nothing more.
			_ = cache.Store(url, data)
			return crls, nil
		}
	}
	if ok {
		return cached, nil
	}
	return nil, err
}
