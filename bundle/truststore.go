package bundle

import (
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// Source is a certificate and the file it was read from.
type Source struct {
	Cert *x509.Certificate
	Path string
}

// TrustEntry is one CA of a truststore.
type TrustEntry struct {
	Alias string            `json:"alias"`
	Path  string            `json:"path"` // the file it came from
	Cert  *x509.Certificate `json:"-"`
	CertInfo
}

// TrustStore is the set of CAs a GAP trusts: IngeTrust for the terminals'
// client certificates, GeoTrust/DigiCert for the provider's server certificate.
type TrustStore struct {
	Entries  []TrustEntry    `json:"entries"`
	Findings []check.Finding `json:"findings"`
}

// NotCAError refuses a certificate that cannot issue others in a truststore: a
// leaf there is trusted by pinning, which is rarely what was meant.
type NotCAError struct {
	Path    string
	Subject string
}

func (e *NotCAError) Error() string {
	return fmt.Sprintf("%s: %q is not a CA certificate (no basicConstraints cA=TRUE)", e.Path, e.Subject)
}

// NewTrustStore collects CA certificates, in the order given and without
// duplicates, each under an alias made from its name. A certificate that is not
// a CA is refused unless allowLeaf; expired and soon-expiring CAs give findings.
func NewTrustStore(sources []Source, allowLeaf bool, now time.Time) (*TrustStore, error) {
	ts := &TrustStore{Findings: []check.Finding{}}
	seen := map[string]bool{}
	used := map[string]bool{}
	for _, s := range sources {
		info := Describe(s.Cert)
		if seen[info.SHA256] {
			continue
		}
		seen[info.SHA256] = true
		if !info.CA {
			if !allowLeaf {
				return nil, &NotCAError{Path: s.Path, Subject: info.Subject}
			}
			ts.add(check.Warn, "truststore-leaf", "%s (%s) is not a CA: it is trusted as itself only (pinned), and stops working when it is renewed", info.Subject, s.Path)
		}
		alias := uniqueAlias(aliasFor(s.Cert), used)
		ts.Entries = append(ts.Entries, TrustEntry{Alias: alias, Path: s.Path, Cert: s.Cert, CertInfo: info})
		switch {
		case now.After(s.Cert.NotAfter):
			ts.add(check.Fail, "ca-expired", "%s expired on %s: nothing it issued verifies any more; get its successor from its publisher", info.Subject, day(s.Cert.NotAfter))
		case now.Before(s.Cert.NotBefore):
			ts.add(check.Warn, "ca-not-yet-valid", "%s is valid only from %s", info.Subject, day(s.Cert.NotBefore))
		case now.After(diapason.WarnWindow.SubFrom(s.Cert.NotAfter)):
			ts.add(check.Warn, "ca-expiring", "%s expires on %s, within %s", info.Subject, day(s.Cert.NotAfter), diapason.WarnWindow)
		}
	}
	if len(ts.Entries) == 0 {
		return nil, fmt.Errorf("no certificate to put in the truststore")
	}
	return ts, nil
}

func (ts *TrustStore) add(level check.Level, slug, format string, args ...any) {
	ts.Findings = append(ts.Findings, check.Finding{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)})
}

// Certificates returns the entries' certificates in order.
func (ts *TrustStore) Certificates() []*x509.Certificate {
	out := make([]*x509.Certificate, len(ts.Entries))
	for i, e := range ts.Entries {
		out[i] = e.Cert
	}
	return out
}

// aliasFor makes a keytool-friendly alias from a CA's name: its CN (else its
// O, else its serial), lower-cased, because Java lower-cases PKCS#12 aliases
// anyway, with runs of anything but letters and digits as one hyphen.
func aliasFor(c *x509.Certificate) string {
	name := c.Subject.CommonName
	if name == "" && len(c.Subject.Organization) > 0 {
		name = c.Subject.Organization[0]
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "ca-" + c.SerialNumber.Text(16)
	}
	return b.String()
}

func uniqueAlias(alias string, used map[string]bool) string {
	name := alias
	for n := 2; used[name]; n++ {
		name = alias + "-" + strconv.Itoa(n)
	}
	used[name] = true
	return name
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02") }
