package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Fetcher downloads the document at a URL. The chain builder calls it for AIA caIssuers
// URLs, revocation for CRL distribution points; tests inject one that serves fixtures.
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// OCSPPoster sends a DER OCSP request to a responder and returns its DER answer.
type OCSPPoster func(ctx context.Context, url string, request []byte) ([]byte, error)

// Limits of downloads: a CA certificate or a PKCS#7 of a few is a few kilobytes, an
// IGC-Santé CRL a few megabytes, an OCSP answer (with a responder certificate) a few
// kilobytes; and a check must not hang on a dead server.
const (
	AIATimeout   = 10 * time.Second
	AIAMaxBytes  = 1 << 20
	CRLTimeout   = 10 * time.Second
	CRLMaxBytes  = 64 << 20
	OCSPTimeout  = 10 * time.Second
	OCSPMaxBytes = 256 << 10
)

// httpClient gives up after timeout and follows at most 5 redirects, to http or https
// only. The environment's proxy settings apply.
func httpClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirected to a %s URL, which is not followed", req.URL.Scheme)
			}
			return nil
		},
	}
}

func httpURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("only http and https URLs are fetched, not %q", u.Scheme)
	}
	return u, nil
}

// do sends req and reads an answer of at most maxBytes.
func do(client *http.Client, req *http.Request, maxBytes int64) ([]byte, error) {
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the server answered %s", resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("the document is %d bytes, over the limit of %d", resp.ContentLength, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("the document is over the limit of %d bytes", maxBytes)
	}
	return data, nil
}

// HTTPFetcher returns a Fetcher for http and https URLs that gives up after timeout and
// refuses documents over maxBytes. Other schemes (LDAP among them) are refused, redirects
// included. The environment's proxy settings apply.
func HTTPFetcher(timeout time.Duration, maxBytes int64) Fetcher {
	client := httpClient(timeout)
	return func(ctx context.Context, rawURL string) ([]byte, error) {
		u, err := httpURL(rawURL)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
		return do(client, req, maxBytes)
	}
}

// HTTPOCSPPoster returns an OCSPPoster that POSTs requests (RFC 6960 appendix A.1) to
// http and https responders, with HTTPFetcher's limits.
func HTTPOCSPPoster(timeout time.Duration, maxBytes int64) OCSPPoster {
	client := httpClient(timeout)
	return func(ctx context.Context, rawURL string, request []byte) ([]byte, error) {
		u, err := httpURL(rawURL)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(request))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/ocsp-request")
		req.Header.Set("Accept", "application/ocsp-response")
		return do(client, req, maxBytes)
	}
}
