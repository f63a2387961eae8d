package check

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
)

// CRLCache keeps downloaded CRLs on disk until their nextUpdate, so that checks run
// every few minutes (a monitoring job, CI) download a CA's CRL once per CRL period.
// Entries are named by a digest of their URL. What is read back is parsed and its
// signature checked again at each use, like a download: the cache is not trusted.
type CRLCache struct {
	// Dir holds the entries; it is made (0700) at the first store.
	Dir string
}

func (c *CRLCache) path(url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(c.Dir, hex.EncodeToString(sum[:16])+".crl")
}

// Load returns the CRLs stored for url, fresh or not; ok is false when there is none
// or it cannot be read as a CRL (it is then downloaded again and replaced).
func (c *CRLCache) Load(url string) (crls []NamedCRL, ok bool) {
	if c == nil {
		return nil, false
	}
	f, err := os.Open(c.path(url))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, CRLMaxBytes+1))
	if err != nil || len(data) > CRLMaxBytes {
		return nil, false
	}
	crls, err = parseCRLs(url, data)
	return crls, err == nil
}

// Store writes the CRL downloaded from url: to a temporary file, then renamed over
// the old entry, so that a concurrent run never reads half a file.
func (c *CRLCache) Store(url string, der []byte) error {
	if c == nil {
		return nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return fmt.Errorf("the CRL cache %s: %w", c.Dir, err)
	}
	tmp, err := os.CreateTemp(c.Dir, ".crl-*")
	if err != nil {
		return fmt.Errorf("the CRL cache %s: %w", c.Dir, err)
	}
	_, werr := tmp.Write(der)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("the CRL cache %s: %w", c.Dir, err)
	}
	if err := os.Rename(tmp.Name(), c.path(url)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("the CRL cache %s: %w", c.Dir, err)
	}
	return nil
}

// fresh reports whether CRLs may be used without asking their server for newer ones:
// until their nextUpdate. A CRL without one is fetched again every time.
func fresh(crls []NamedCRL, now time.Time) bool {
	for _, c := range crls {
		if !freshCRL(c.CRL, now) {
			return false
		}
	}
	return len(crls) > 0
}

func freshCRL(crl *x509.RevocationList, now time.Time) bool {
	return !crl.NextUpdate.IsZero() && !now.Before(crl.ThisUpdate) && now.Before(crl.NextUpdate)
}

// parseCRLs reads the CRLs of a download or a cache entry: DER, as distribution
// points serve them, or PEM.
func parseCRLs(name string, data []byte) ([]NamedCRL, error) {
	contents, err := certio.Decode(name, data)
	if err != nil {
		return nil, err
	}
	crls := contents.CRLs()
	if len(crls) == 0 {
		return nil, errors.New("it holds no CRL")
	}
	out := make([]NamedCRL, len(crls))
	for i, crl := range crls {
		out[i] = NamedCRL{Name: name, CRL: crl}
	}
	return out, nil
}
