package commands

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/lab"
)

// cacheDirEnv overrides where downloaded CRLs are kept (--cache-dir does too).
const cacheDirEnv = "DIAPASON_CACHE_DIR"

// revocationFlags are the flags of the one revocation engine, for the commands that
// check revocation. check defaults to off, so that offline CI stays offline.
func revocationFlags(def check.RevocationMode, usage string) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "revocation", Value: string(def), Usage: usage},
		&cli.StringSliceFlag{Name: "crl", Usage: "a CRL `FILE` or http(s) URL to check revocation against first (repeatable); it counts once its signature verifies with the issuer's key"},
		&cli.StringFlag{Name: "cache-dir", Usage: "keep downloaded CRLs in `DIR` until their nextUpdate (default: $" + cacheDirEnv + ", else diapason-cert in the user cache directory)"},
	}
}

// revocationSources is what the revocation flags asked for.
type revocationSources struct {
	mode   check.RevocationMode
	engine *check.RevocationEngine
}

// revocationSetup reads the revocation flags: the mode (--crl alone means soft), the
// CRLs given (files, URLs, the lab's), and the engine that also follows the
// certificates' HTTP distribution points and OCSP responders. now judges the
// freshness of cached CRLs.
func (r *run) revocationSetup(c *cli.Context, l *lab.Lab, now time.Time) (*revocationSources, error) {
	mode, err := check.ParseRevocationMode(c.String("revocation"))
	if err != nil {
		return nil, usageErr("", "--revocation: %v", err)
	}
	srcs := c.StringSlice("crl")
	if len(srcs) > 0 && !c.IsSet("revocation") {
		mode = check.RevocationSoft
	}
	if mode == check.RevocationOff {
		if len(srcs) > 0 {
			return nil, usageErr("drop --crl, or check with --revocation soft or hard", "--crl is not read with --revocation off")
		}
		return &revocationSources{mode: mode}, nil
	}
	cache := r.crlCache(c)
	fetch := check.HTTPFetcher(check.CRLTimeout, check.CRLMaxBytes)
	var crls []check.NamedCRL
	if l != nil {
		for i, crl := range l.CRLs() {
			crls = append(crls, check.NamedCRL{Name: "of the lab's " + string(lab.CANames()[i]), CRL: crl})
		}
	}
	for _, src := range srcs {
		got, err := r.loadCRL(c.Context, fetch, cache, src, now)
		if err != nil {
			return nil, err
		}
		crls = append(crls, got...)
	}
	engine := check.NewRevocationEngine(check.RevocationOptions{CRLs: crls, FetchCRL: fetch, Cache: cache,
		OCSP: check.HTTPOCSPPoster(check.OCSPTimeout, check.OCSPMaxBytes)})
	return &revocationSources{mode: mode, engine: engine}, nil
}

// loadCRL reads the CRLs of a --crl file, or downloads them from a URL (through the
// cache); either failing is an input that cannot be read.
func (r *run) loadCRL(ctx context.Context, fetch check.Fetcher, cache *check.CRLCache, src string, now time.Time) ([]check.NamedCRL, error) {
	if lower := strings.ToLower(src); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		crls, err := check.DownloadCRL(ctx, fetch, cache, src, now)
		if err != nil {
			return nil, unknownErr(fmt.Errorf("--crl %s: %w", src, err), "check the URL, or download the CRL and give the file with --crl")
		}
		return crls, nil
	}
	crls, err := r.loader().LoadCRLs(src)
	if err != nil {
		return nil, r.readError(err)
	}
	out := make([]check.NamedCRL, len(crls))
	for i, crl := range crls {
		out[i] = check.NamedCRL{Name: src, CRL: crl}
	}
	return out, nil
}

// crlCache is where downloaded CRLs are kept: --cache-dir, else $DIAPASON_CACHE_DIR,
// else the user cache directory; nil (downloads kept in memory only) when there is
// none, as for a service account without a home.
func (r *run) crlCache(c *cli.Context) *check.CRLCache {
	dir := c.String("cache-dir")
	if dir == "" {
		dir = r.env.Getenv(cacheDirEnv)
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		dir = filepath.Join(base, "diapason-cert")
	}
	return &check.CRLCache{Dir: filepath.Join(dir, "crl")}
}
