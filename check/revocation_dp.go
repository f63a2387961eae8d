package check

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"sync"
	"time"
)

// dpChecker answers from the CRLs of a certificate's distribution points, downloaded
// over HTTP once per URL and kept until their nextUpdate (in memory, and on disk with a
// cache). LDAP addresses are skipped: IGC-Santé certificates name the same CRL over
// HTTP too, and delta CRLs, published over LDAP only, are not needed with a full CRL.
type dpChecker struct {
	fetch Fetcher
	cache *CRLCache
	mu    sync.Mutex
	urls  map[string]*dpEntry
}

// maxDPs bounds the URLs remembered in memory, so that a scan of certificates of
// thousands of CAs stays flat; past it, each lookup goes to the disk cache.
const maxDPs = 256

// dpRetry is how long a failed download is not tried again, for long-running users of
// an engine (servers): a scan uses one `now`, so it tries each URL once.
const dpRetry = time.Minute

// dpEntry is one URL's latest CRL; its lock makes concurrent lookups of one URL wait
// for one download.
type dpEntry struct {
	mu      sync.Mutex
	crls    []*crlEntry
	err     error
	tried   bool
	triedAt time.Time
}

func newDPChecker(fetch Fetcher, cache *CRLCache) *dpChecker {
	return &dpChecker{fetch: fetch, cache: cache, urls: map[string]*dpEntry{}}
}

func (d *dpChecker) entry(url string) *dpEntry {
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.urls[url]
	if e == nil {
		e = &dpEntry{}
		if len(d.urls) < maxDPs {
			d.urls[url] = e
		}
	}
	return e
}

// get returns the CRLs of url usable at now: fresh ones without a download; else
// downloaded; else, when the download fails, the last ones known (stale, they still
// tell revoked certificates), with the download's error.
func (d *dpChecker) get(ctx context.Context, url string, now time.Time) ([]*crlEntry, error) {
	e := d.entry(url)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.crls != nil && freshEntries(e.crls, now) {
		return e.crls, nil
	}
	if e.tried && !now.Before(e.triedAt) && now.Sub(e.triedAt) < dpRetry {
		return e.crls, e.err
	}
	if !e.tried {
		if cached, ok := d.cache.Load(url); ok {
			e.crls = entriesOf(cached)
			if fresh(cached, now) {
				e.tried, e.triedAt = true, now
				return e.crls, nil
			}
		}
	}
	data, err := d.fetch(ctx, url)
	var crls []NamedCRL
	if err == nil {
		crls, err = parseCRLs(url, data)
	}
	if err == nil {
		e.crls, e.err = entriesOf(crls), nil
		_ = d.cache.Store(url, data) // a cache that cannot be written costs a download, nothing more
	} else {
		e.err = err
	}
	// A cancelled check is not the URL's fault: try again next time.
	if ctx.Err() == nil {
		e.tried, e.triedAt = true, now
	}
	return e.crls, err
}

func entriesOf(crls []NamedCRL) []*crlEntry {
	out := make([]*crlEntry, len(crls))
	for i, c := range crls {
		out[i] = newCRLEntry(c)
	}
	return out
}

func freshEntries(crls []*crlEntry, now time.Time) bool {
	for _, c := range crls {
		if !freshCRL(c.CRL, now) {
			return false
		}
	}
	return len(crls) > 0
}

// CheckRevocation implements RevocationChecker.
func (d *dpChecker) CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) Revocation {
	var urls, ldap []string
	for _, u := range cert.CRLDistributionPoints {
		scheme, _, _ := strings.Cut(u, ":")
		switch strings.ToLower(scheme) {
		case "http", "https":
			urls = append(urls, u)
		case "ldap", "ldaps":
			ldap = append(ldap, u)
		}
	}
	ldapNote := func(r Revocation) Revocation {
		if len(ldap) > 0 {
			r.Notes = appendNotes(r.Notes, Finding{Slug: "crl-ldap-skipped", Level: Info,
				Message: fmt.Sprintf("the CRL distribution point %s was skipped: only HTTP ones are read", strings.Join(ldap, ", "))})
		}
		return r
	}
	if len(urls) == 0 {
		msg := "the certificate names no CRL distribution point"
		if len(ldap) > 0 {
			msg = "the certificate names only LDAP CRL distribution points, which are not read"
		}
		return ldapNote(Revocation{Status: RevocationNoSource, Message: msg})
	}
	var msgs []string
	var notes []Finding
	source := ""
	for _, u := range urls {
		crls, err := d.get(ctx, u, now)
		if len(crls) == 0 {
			msgs = append(msgs, fmt.Sprintf("downloading the CRL %s failed: %v", u, err))
			continue
		}
		if err != nil {
			notes = appendNotes(notes, Finding{Slug: "crl-download-failed", Level: Info,
				Message: fmt.Sprintf("downloading the CRL %s again failed (%v): the copy kept from before was used", u, err)})
		}
		for _, c := range crls {
			if !bytes.Equal(c.CRL.RawIssuer, issuer.RawSubject) {
				msgs = append(msgs, fmt.Sprintf("the CRL at %s is issued by %q, not by %q (indirect CRLs are not read)",
					u, nameString(c.CRL.RawIssuer, &c.CRL.Issuer), commonName(issuer)))
				continue
			}
			if err := c.verify(issuer); err != nil {
				msg := fmt.Sprintf("the CRL at %s names the issuer %q but its signature does not verify with that CA's key (%v)", u, commonName(issuer), err)
				msgs = append(msgs, msg)
				notes = appendNotes(notes, Finding{Slug: "crl-signature-invalid", Level: Warn,
					Message: msg + ": it was ignored; the download was altered, or the server publishes another CA's CRL"})
				continue
			}
			r := c.answer(cert, issuer, now)
			notes = appendNotes(notes, r.Notes...)
			if r.Status == RevocationGood || r.Status == RevocationRevoked {
				r.Notes = notes
				return r
			}
			source = r.Source
			msgs = append(msgs, r.Message)
		}
	}
	return ldapNote(Revocation{Status: RevocationUnknown, Source: source, Message: strings.Join(msgs, "; "), Notes: notes})
}
