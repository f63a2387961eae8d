// Package bundle packages certificates the way a GAP installs them: ordered chains, PKCS#12 key stores and truststores, and a CA's PKCS#12 taken apart.
package bundle

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// CertInfo describes one certificate of an output.
type CertInfo struct {
	CommonName string             `json:"common_name,omitempty"`
	Subject    string             `json:"subject"`
	Issuer     string             `json:"issuer"`
	SHA256     string             `json:"sha256"`
	NotBefore  time.Time          `json:"not_before"`
	NotAfter   time.Time          `json:"not_after"`
	Hierarchy  diapason.Hierarchy `json:"hierarchy"`
	CA         bool               `json:"ca"`
}

// Describe returns what outputs say about c, names as issued (RDN order kept).
func Describe(c *x509.Certificate) CertInfo {
	sum := sha256.Sum256(c.Raw)
	return CertInfo{
		CommonName: c.Subject.CommonName, Subject: subjectOf(c), Issuer: nameOf(c.RawIssuer, c.Issuer.String()),
		SHA256: diapason.Fingerprint(sum[:]), NotBefore: c.NotBefore.UTC(), NotAfter: c.NotAfter.UTC(),
		Hierarchy: diapason.HierarchyOf(c), CA: isCA(c),
	}
}

func subjectOf(c *x509.Certificate) string { return nameOf(c.RawSubject, c.Subject.String()) }

// nameOf renders a raw DN as issued, falling back on Go's rendering for a name
// dn cannot parse (which crypto/x509 accepted).
func nameOf(raw []byte, fallback string) string {
	n, err := dn.Parse(raw)
	if err != nil {
		return fallback
	}
	return n.String()
}

// isCA reports whether c may issue certificates: basicConstraints cA, or a
// self-signed version 1 certificate (old roots predate extensions).
func isCA(c *x509.Certificate) bool {
	if c.BasicConstraintsValid {
		return c.IsCA
	}
	return c.Version == 1 && bytes.Equal(c.RawSubject, c.RawIssuer) && c.CheckSignatureFrom(c) == nil
}

// EncodePEM concatenates the certificates as CERTIFICATE blocks, in order.
func EncodePEM(certs []*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

// dedupe drops repeated certificates (same DER), keeping the first of each.
func dedupe(certs []*x509.Certificate) []*x509.Certificate {
	seen := map[[32]byte]bool{}
	var out []*x509.Certificate
	for _, c := range certs {
		k := sha256.Sum256(c.Raw)
		if !seen[k] {
			seen[k] = true
			out = append(out, c)
		}
	}
	return out
}
