package lab

import (
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// crlValidity is how long a lab CRL is fresh. `lab serve` issues a new one
// when it has gone stale, as a real CA does on its schedule.
const crlValidity = 7 * 24 * time.Hour

// reasons are the CRLReason names of RFC 5280 §5.3.1 a CA may give;
// removeFromCRL (8) belongs to delta CRLs only and 7 is unassigned.
var reasons = []struct {
	code int
	name string
}{
	{0, "unspecified"}, {1, "keyCompromise"}, {2, "cACompromise"}, {3, "affiliationChanged"},
	{4, "superseded"}, {5, "cessationOfOperation"}, {6, "certificateHold"},
	{9, "privilegeWithdrawn"}, {10, "aACompromise"},
}

// ParseReason reads a revocation reason by its RFC 5280 name, in any case.
func ParseReason(s string) (int, error) {
	names := make([]string, len(reasons))
	for i, r := range reasons {
		if strings.EqualFold(strings.TrimSpace(s), r.name) {
			return r.code, nil
		}
		names[i] = r.name
	}
	return 0, fmt.Errorf("unknown revocation reason %q (want one of %s)", s, strings.Join(names, ", "))
}

// ReasonName is the RFC 5280 name of a reason code.
func ReasonName(code int) string {
	if name, ok := reasonName(code); ok {
		return name
	}
	return fmt.Sprintf("reason(%d)", code)
}

func reasonName(code int) (string, bool) {
	for _, r := range reasons {
		if r.code == code {
			return r.name, true
		}
	}
	return "", false
}

// Revocation is the outcome of Revoke.
type Revocation struct {
	CA         CAName    `json:"ca"`
	Serial     string    `json:"serial"`
	Subject    string    `json:"subject"`
	RevokedAt  time.Time `json:"revoked_at"`
	Reason     string    `json:"reason"`
	CRLNumber  int64     `json:"crl_number"`
	ThisUpdate time.Time `json:"this_update"`
	NextUpdate time.Time `json:"next_update"`
	// CRLFile is the file the new CRL was written to, for a lab stored on disk.
	CRLFile string `json:"crl_file,omitempty"`
}

// Revoke puts cert on the CRL of the lab CA that issued it, as of now: the
// new CRL has the next CRL number and keeps every earlier entry. A lab stored
// on disk writes the new CRL at once, so a running `lab serve` follows.
func (l *Lab) Revoke(cert *x509.Certificate, reason int, now time.Time) (Revocation, error) {
	if _, ok := reasonName(reason); !ok {
		return Revocation{}, fmt.Errorf("revocation reason %d is not one a CA gives (RFC 5280 §5.3.1)", reason)
	}
	now = now.UTC().Truncate(time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	serial := SerialString(cert.SerialNumber)
	ca, ok := l.issuerOf(cert)
	if !ok {
		for _, c := range l.cas {
			if c.Parent == "" && cert.Equal(c.Cert) {
				return Revocation{}, refused("remove the root from the truststores that hold it instead",
					"%s is the lab root %s: a root is trusted directly, no CRL can revoke it", serial, c.Name)
			}
		}
		return Revocation{}, refused("give a certificate made by this lab (lab init or lab sign)",
			"the certificate %s (issuer %s) was not issued by this lab: no lab CA signed it", serial, nameString(cert.RawIssuer))
	}
	for _, e := range ca.CRL.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return Revocation{}, refused("",
				"the certificate %s is already revoked: on %s's CRL since %s (%s)", serial, ca.Name,
				e.RevocationTime.UTC().Format(time.RFC3339), ReasonName(e.ReasonCode))
		}
	}
	entries := append(slices.Clone(ca.CRL.RevokedCertificateEntries),
		x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: now, ReasonCode: reason})
	crl, path, err := l.reissueCRL(l.cas[ca.Name], entries, now)
	if err != nil {
		return Revocation{}, err
	}
	return Revocation{CA: ca.Name, Serial: serial, Subject: nameString(cert.RawSubject), RevokedAt: now,
		Reason: ReasonName(reason), CRLNumber: crl.Number.Int64(), ThisUpdate: crl.ThisUpdate.UTC(),
		NextUpdate: crl.NextUpdate.UTC(), CRLFile: path}, nil
}

// RefreshCRLs issues a new CRL (same entries, next number) for every CA whose
// CRL is no longer fresh at now, and returns their names.
func (l *Lab) RefreshCRLs(now time.Time) ([]CAName, error) {
	now = now.UTC().Truncate(time.Second)
	l.mu.Lock()
	defer l.mu.Unlock()
	var done []CAName
	for _, n := range CANames() {
		ca := l.cas[n]
		if now.Before(ca.CRL.NextUpdate) {
			continue
		}
		if _, _, err := l.reissueCRL(ca, ca.CRL.RevokedCertificateEntries, now); err != nil {
			return done, err
		}
		done = append(done, n)
	}
	return done, nil
}

// reissueCRL signs the CA's next CRL, stores it when the lab is on disk and
// only then makes it current. l.mu must be held.
func (l *Lab) reissueCRL(ca *CA, entries []x509.RevocationListEntry, now time.Time) (*x509.RevocationList, string, error) {
	number := new(big.Int).Add(ca.CRL.Number, big.NewInt(1))
	crl, err := issueCRL(ca, entries, number, now)
	if err != nil {
		return nil, "", err
	}
	path := ""
	if l.dir != "" {
		if path, err = l.replaceFile(l.files.CAs[ca.Name].CRL, crlPEM(crl)); err != nil {
			return nil, "", err
		}
	}
	ca.CRL = crl
	return crl, path, nil
}

// issueCRL signs a CRL of the CA.
func issueCRL(ca *CA, entries []x509.RevocationListEntry, number *big.Int, now time.Time) (*x509.RevocationList, error) {
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now,
		NextUpdate:                now.Add(crlValidity),
		RevokedCertificateEntries: entries,
		SignatureAlgorithm:        x509.SHA256WithRSA,
	}, ca.Cert, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("signing the CRL of %s: %w", ca.Name, err)
	}
	return x509.ParseRevocationList(der)
}
