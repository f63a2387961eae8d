// Package lab is an offline test PKI shaped like the real Diapason one (IGC-Santé, IngeTrust, GeoTrust), with revocation it can serve.
package lab

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
)

// Role names one of the credentials a lab holds.
type Role string

// The credentials of a lab: both IGC-Santé certificates of the GAP, two
// terminal certificates (one revoked) and the provider's server certificate.
const (
	RoleGAPClient  Role = "gap-client"
	RoleGAPServer  Role = "gap-server"
	RoleTPEClient  Role = "tpe-client"
	RoleTPERevoked Role = "tpe-revoked"
	RolePSPServer  Role = "psp-server"
)

// Roles lists every role in manifest order.
func Roles() []Role {
	return []Role{RoleGAPClient, RoleGAPServer, RoleTPEClient, RoleTPERevoked, RolePSPServer}
}

// CAName names one of the lab's certification authorities.
type CAName string

// The lab's CAs, mirroring the hierarchies of DESIGN.md §2.
const (
	CAIGCRoot      CAName = "igc-root"
	CAIGCOrg       CAName = "igc-org"
	CAIngeTrust    CAName = "ingetrust"
	CAGeoTrustRoot CAName = "geotrust-root"
	CAGeoTrustCA   CAName = "geotrust-ca"
)

// CANames lists every CA, each root before the CAs it signs.
func CANames() []CAName {
	return []CAName{CAIGCRoot, CAIGCOrg, CAIngeTrust, CAGeoTrustRoot, CAGeoTrustCA}
}

// Defaults of Options.
const (
	DefaultFQDN      = "gap.lab.test"
	DefaultURL       = "http://127.0.0.1:8880/"
	DefaultCAKeySize = 2048
	// PSPFQDN is the provider's server name, the CN and SAN of psp-server.
	PSPFQDN = "psp.lab.test"
	// LeafKeySize is the size of every end-entity key: IGC-Santé issues RSA 2048.
	LeafKeySize = 2048
)

// CAKeySizes are the accepted CA key sizes: 2048 keeps labs quick to make,
// 4096 mirrors the production IGC-Santé CAs.
var CAKeySizes = []int{2048, 4096}

// Options describe a lab to make.
type Options struct {
	// Dir, when set, is where New writes the lab; it must be empty. "" keeps the lab in memory.
	Dir string
	// Now is the lab's clock: certificates start then. Required.
	Now time.Time
	// FQDN is the GAP server's name, CN and SAN of gap-server; DefaultFQDN when empty.
	FQDN string
	// URL is the base of the CRL, OCSP and CA-certificate URLs; DefaultURL when empty.
	URL string
	// CAKeySize is the RSA size of the CA keys; DefaultCAKeySize when zero.
	CAKeySize int
	// KeyCache, when set, names a set of keys reused by every lab made with
	// the same KeyCache in this process (see CachedKey): RSA key generation
	// takes up to a second per key, and tests make many labs. Labs sharing a
	// set share CA keys and names, so a certificate of one verifies under the
	// other's CA: give two labs that must not trust each other different sets.
	KeyCache string
}

// Credential is a certificate with its key and issuing chain.
type Credential struct {
	Role    Role               `json:"role"`
	Profile diapason.ProfileID `json:"profile"`
	Cert    *x509.Certificate  `json:"-"`
	Key     crypto.Signer      `json:"-"`
	// Chain is the issuing CAs, the issuer first and the root (the trust anchor) last.
	Chain []*x509.Certificate `json:"-"`
}

// Intermediates is the chain without its root, what a TLS peer sends after its certificate.
func (c Credential) Intermediates() []*x509.Certificate {
	if len(c.Chain) == 0 {
		return nil
	}
	return c.Chain[:len(c.Chain)-1]
}

// Anchor is the root the credential chains to.
func (c Credential) Anchor() *x509.Certificate {
	if len(c.Chain) == 0 {
		return nil
	}
	return c.Chain[len(c.Chain)-1]
}

// CA is one of the lab's authorities with its current CRL.
type CA struct {
	Name CAName
	Cert *x509.Certificate
	Key  crypto.Signer
	CRL  *x509.RevocationList
	// Parent is the CA that signed this one; "" for a root.
	Parent CAName
}

// Lab is a complete test PKI. Its methods are safe for concurrent use, so HTTP
// handlers can answer while a test revokes.
type Lab struct {
	mu  sync.RWMutex
	dir string
	// files is the layout of dir, from its lab.json.
	files  *Manifest
	url    string
	fqdn   string
	cas    map[CAName]*CA
	creds  map[Role]*Credential
	issued []Issued
}

// Issued is one certificate a lab CA signed, as recorded in issued.json: it
// lets the OCSP responder tell a certificate it issued (good) from one it
// never saw (unknown).
type Issued struct {
	CA        CAName             `json:"ca"`
	Serial    string             `json:"serial"`
	Subject   string             `json:"subject"`
	Role      Role               `json:"role,omitempty"`
	Profile   diapason.ProfileID `json:"profile,omitempty"`
	NotBefore time.Time          `json:"not_before"`
	NotAfter  time.Time          `json:"not_after"`
}

// Dir is where the lab is stored, "" for a lab in memory.
func (l *Lab) Dir() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.dir
}

// URL is the base URL of the lab's CRL, OCSP and CA-certificate addresses.
func (l *Lab) URL() string { return l.url }

// FQDN is the GAP server's name.
func (l *Lab) FQDN() string { return l.fqdn }

// Credential returns the credential of a role; the zero Credential for an unknown role.
func (l *Lab) Credential(r Role) Credential {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if c := l.creds[r]; c != nil {
		return *c
	}
	return Credential{}
}

// CA returns one authority with its current CRL; the zero CA for an unknown name.
func (l *Lab) CA(n CAName) CA {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if ca := l.cas[n]; ca != nil {
		return *ca
	}
	return CA{}
}

// Anchors are the lab's roots: what a truststore built from the lab holds.
func (l *Lab) Anchors() []*x509.Certificate {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []*x509.Certificate
	for _, n := range CANames() {
		if ca := l.cas[n]; ca.Parent == "" {
			out = append(out, ca.Cert)
		}
	}
	return out
}

// Intermediates are the lab's CAs that are not roots.
func (l *Lab) Intermediates() []*x509.Certificate {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []*x509.Certificate
	for _, n := range CANames() {
		if ca := l.cas[n]; ca.Parent != "" {
			out = append(out, ca.Cert)
		}
	}
	return out
}

// Roots returns the anchors as a pool, for x509.VerifyOptions.
func (l *Lab) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range l.Anchors() {
		p.AddCert(c)
	}
	return p
}

// IntermediatePool returns the intermediates as a pool, for x509.VerifyOptions.
func (l *Lab) IntermediatePool() *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range l.Intermediates() {
		p.AddCert(c)
	}
	return p
}

// CRLs returns the current CRL of every CA, in CANames order.
func (l *Lab) CRLs() []*x509.RevocationList {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]*x509.RevocationList, 0, len(l.cas))
	for _, n := range CANames() {
		out = append(out, l.cas[n].CRL)
	}
	return out
}

// IssuedCertificates returns the record of every certificate the lab signed, in issuing order.
func (l *Lab) IssuedCertificates() []Issued {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return append([]Issued(nil), l.issued...)
}

// IssuerOf returns the lab CA whose key signed cert.
func (l *Lab) IssuerOf(cert *x509.Certificate) (CA, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.issuerOf(cert)
}

func (l *Lab) issuerOf(cert *x509.Certificate) (CA, bool) {
	for _, n := range CANames() {
		ca := l.cas[n]
		if cert.Equal(ca.Cert) && ca.Parent == "" {
			continue // a root is not its own issuer for revocation purposes
		}
		if string(cert.RawIssuer) == string(ca.Cert.RawSubject) && cert.CheckSignatureFrom(ca.Cert) == nil {
			return *ca, true
		}
	}
	return CA{}, false
}

// SerialString is how the lab writes serial numbers: upper-case hex, as
// `openssl x509 -serial` prints them.
func SerialString(n *big.Int) string {
	s := strings.ToUpper(n.Text(16))
	if len(s)%2 == 1 {
		s = "0" + s
	}
	return s
}

// RefusedError is a request the lab declines, as the real platform or CA
// would: a CSR that does not fit its profile, a certificate it did not issue.
type RefusedError struct {
	Reason string
	Fix    string
}

func (e *RefusedError) Error() string { return e.Reason }

// Hint says what to do instead; certio.Hint finds it.
func (e *RefusedError) Hint() string { return e.Fix }

func refused(fix, format string, args ...any) error {
	return &RefusedError{Reason: fmt.Sprintf(format, args...), Fix: fix}
}

// NormaliseURL checks a base URL and gives it the trailing slash the lab's
// paths are appended to.
func NormaliseURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("invalid lab URL %q: %w", s, err)
	}
	if u.Scheme != "http" {
		return "", fmt.Errorf("invalid lab URL %q: use http://, as real CRL and OCSP addresses do (clients fetch them before any TLS can be trusted)", s)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("invalid lab URL %q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("invalid lab URL %q: give a base URL without user, query or fragment", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawPath = ""
	return u.String(), nil
}

// checkHostname accepts a lower-case LDH host name of at least two labels,
// the form of a certificate's DNS name and of the SSL_SERVEUR CN.
func checkHostname(s string) error {
	if s == "" {
		return errors.New("empty host name")
	}
	if len(s) > 64 {
		return fmt.Errorf("%q is longer than the 64 characters a CN holds", s)
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%q is a single label, not a fully qualified name", s)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%q has an empty, over-long or hyphen-edged label", s)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Errorf("%q holds %q: a certificate's host name is lower-case letters, digits and hyphens (punycode for accents)", s, r)
			}
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return fmt.Errorf("%q looks like an IP address: the name must be a host name", s)
	}
	return nil
}
