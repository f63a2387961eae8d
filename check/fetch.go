package check

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Fetcher downloads the document at a URL. The chain builder calls it for AIA caIssuers
// URLs; tests inject one that serves fixtures.
type Fetcher func(ctx context.Context, url string) ([]byte, error)

// Limits of AIA downloads: a CA certificate or a PKCS#7 of a few is a few kilobytes, and
// a check must not hang on a dead server.
const (
	AIATimeout  = 10 * time.Second
	AIAMaxBytes = 1 << 20
)

// HTTPFetcher returns a Fetcher for http and https URLs that gives up after timeout and
// refuses documents over maxBytes. Other schemes (LDAP among them) are refused, redirects
// included. The environment's proxy settings apply.
func HTTPFetcher(timeout time.Duration, maxBytes int64) Fetcher {
	client := &http.Client{
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
	return func(ctx context.Context, rawURL string) ([]byte, error) {
		u, err := url.Parse(rawURL)
		if err != nil {
			return nil, fmt.Errorf("invalid URL: %w", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("only http and https URLs are fetched, not %q", u.Scheme)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, err
		}
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
}
