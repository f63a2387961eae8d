package csr

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// KeySizes are the RSA sizes offered: IGC-Santé issues 2048-bit keys; the
// larger ones are for editors whose policy asks for them.
var KeySizes = []int{2048, 3072, 4096}

// DefaultKeySize matches the real IGC-Santé software certificates.
const DefaultKeySize = 2048

// GenerateKey makes a new RSA key of one of the offered sizes.
func GenerateKey(bits int) (*rsa.PrivateKey, error) {
	if !slices.Contains(KeySizes, bits) {
		return nil, fmt.Errorf("unsupported key size %d: use 2048 (what IGC-Santé issues), 3072 or 4096", bits)
	}
	return rsa.GenerateKey(rand.Reader, bits)
}

// Subject holds the optional name fields; the CN comes from the profile.
type Subject struct {
	Organisation string `json:"organisation,omitempty"`
	// StructureID is the OU: the national structure identifier (1+FINESS, 3+SIRET, …).
	StructureID string `json:"structure_id,omitempty"`
	State       string `json:"state,omitempty"`
	Locality    string `json:"locality,omitempty"`
}

// Request is what a CSR is made from.
type Request struct {
	Profile diapason.Profile
	// FQDN is the normalised server name; required for the server profile.
	FQDN    string
	Subject Subject
	Key     crypto.Signer
}

// CommonName is the CN the profile requires.
func (r Request) CommonName() string {
	return r.Profile.PlatformValue(r.FQDN)
}

// Name builds the subject in the order of real IGC-Santé certificates
// (C, ST, L, O, OU, CN), C as PrintableString and the rest as UTF8String.
func (r Request) Name() dn.Name {
	pairs := [][2]string{{"C", "FR"}}
	for _, p := range [][2]string{
		{"ST", r.Subject.State}, {"L", r.Subject.Locality},
		{"O", r.Subject.Organisation}, {"OU", r.Subject.StructureID},
	} {
		if strings.TrimSpace(p[1]) != "" {
			pairs = append(pairs, [2]string{p[0], strings.TrimSpace(p[1])})
		}
	}
	pairs = append(pairs, [2]string{"CN", r.CommonName()})
	return dn.Attrs(pairs...)
}

// Create signs the CSR with the request's key.
func Create(r Request) ([]byte, error) {
	if r.Profile.CNIsFQDN && r.FQDN == "" {
		return nil, fmt.Errorf("the %s profile needs the server's FQDN", r.Profile.ID)
	}
	if r.Key == nil {
		return nil, fmt.Errorf("no key to sign the request with")
	}
	if err := checkKey(r.Key.Public(), r.Profile); err != nil {
		return nil, err
	}
	raw, err := dn.Marshal(r.Name())
	if err != nil {
		return nil, fmt.Errorf("building the subject: %w", err)
	}
	tmpl := &x509.CertificateRequest{RawSubject: raw, SignatureAlgorithm: x509.SHA256WithRSA}
	if r.Profile.SANIsFQDN {
		tmpl.DNSNames = []string{r.FQDN}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, r.Key)
	if err != nil {
		return nil, fmt.Errorf("signing the request: %w", err)
	}
	return der, nil
}

// checkKey refuses keys the ECDHE_RSA suites cannot use or IGC-Santé would not certify.
func checkKey(pub crypto.PublicKey, p diapason.Profile) error {
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("the key is %s, not RSA: the Diapason suites (ECDHE_RSA) need an RSA key", check.DescribeKey(pub))
	}
	if k.N.BitLen() < p.MinRSABits {
		return fmt.Errorf("the RSA key has %d bits, the %s profile needs at least %d", k.N.BitLen(), p.ID, p.MinRSABits)
	}
	return nil
}
