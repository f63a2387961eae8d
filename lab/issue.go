package lab

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// caBackdate is how long before the lab's creation its CAs start, so that
// back-dated certificates (a 3-year certificate that expires in 10 days
// started almost 3 years ago) fall inside their issuer's validity.
const caBackdateYears = 5

var (
	oidAnyPolicy = mustOID("2.5.29.32.0")
	// oidOVPolicy is the CA/Browser Forum organisation-validated TLS policy
	// that a GeoTrust server certificate carries.
	oidOVPolicy                  = mustOID("2.23.140.1.2.2")
	oidPrivateKeyUsagePeriod     = asn1.ObjectIdentifier{2, 5, 29, 16}
	oidFreshestCRL               = asn1.ObjectIdentifier{2, 5, 29, 46}
	igcSantePrivateExtensionBody = []byte{0x04, 0x01, 0x83}
)

func mustOID(s string) x509.OID {
	oid, err := x509.ParseOID(s)
	if err != nil {
		panic(err)
	}
	return oid
}

// newSerial draws a positive 16-byte serial number, the size IGC-Santé uses;
// 127 random bits make collisions irrelevant, as RFC 5280 §4.1.2.2 wants.
func newSerial() (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("drawing a serial number: %w", err)
	}
	b[0] = b[0]&0x7f | 0x10 // positive, and always 16 bytes long
	return new(big.Int).SetBytes(b), nil
}

// subjectKeyID is RFC 5280 §4.2.1.2 method 1, the SHA-1 of the public key
// bits, which real IGC-Santé certificates use; Go generates one only for CAs.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, err
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:], nil
}

// issueCA makes the certificate of a CA; parent is nil for a root.
func issueCA(spec caSpec, key crypto.Signer, parent *CA, start time.Time, base string) (*x509.Certificate, error) {
	raw, err := dn.Marshal(spec.subject)
	if err != nil {
		return nil, fmt.Errorf("CA %s subject: %w", spec.name, err)
	}
	tmpl := &x509.Certificate{
		RawSubject:            raw,
		NotBefore:             start,
		NotAfter:              start.AddDate(spec.years, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            spec.maxPathLen,
		MaxPathLenZero:        spec.maxPathLen == 0,
		// Real CAs carry anyPolicy; the lab marker rides beside it.
		Policies:           []x509.OID{diapason.LabPolicyOID, oidAnyPolicy},
		SignatureAlgorithm: x509.SHA256WithRSA,
	}
	if spec.maxPathLen < 0 {
		tmpl.MaxPathLen = -1
	}
	signer, parentCert := key, (*x509.Certificate)(nil)
	if parent != nil {
		// Intermediates expire a day before their root, as ACI-EL-ORG does.
		tmpl.NotAfter = tmpl.NotAfter.AddDate(0, 0, -1)
		signer, parentCert = parent.Key, parent.Cert
		tmpl.CRLDistributionPoints = []string{crlURL(base, parent.Name)}
		if parent.Name == CAIGCRoot {
			tmpl.CRLDistributionPoints = append(tmpl.CRLDistributionPoints, ldapURL(base, specOf(parent.Name).subject, "certificaterevocationlist"))
		}
		if spec.aia {
			tmpl.OCSPServer = []string{ocspURL(base)}
			tmpl.IssuingCertificateURL = []string{caURL(base, parent.Name)}
		}
	}
	return sign(tmpl, parentCert, key.Public(), signer)
}

// leafRequest is what an end-entity certificate is made from.
type leafRequest struct {
	profile   diapason.Profile
	subject   []byte
	dnsName   string
	pub       crypto.PublicKey
	notBefore time.Time
	notAfter  time.Time
}

// issueLeaf makes an end-entity certificate with the extensions its issuer
// family puts in real ones.
func issueLeaf(ca *CA, req leafRequest, base string) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		RawSubject:            req.subject,
		NotBefore:             req.notBefore,
		NotAfter:              req.notAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{req.profile.ExtKeyUsage},
		Policies:              []x509.OID{diapason.LabPolicyOID},
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	if req.profile.ExtKeyUsage == x509.ExtKeyUsageServerAuth {
		// RSA key exchange needs keyEncipherment; ECDHE_RSA only digitalSignature.
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if req.dnsName != "" {
		tmpl.DNSNames = []string{req.dnsName}
	}
	switch ca.Name {
	case CAIGCOrg:
		if err := igcSanteExtensions(tmpl, ca, base); err != nil {
			return nil, err
		}
	case CAGeoTrustCA:
		tmpl.Policies = append(tmpl.Policies, oidOVPolicy)
		tmpl.CRLDistributionPoints = []string{crlURL(base, ca.Name)}
		tmpl.OCSPServer = []string{ocspURL(base)}
		tmpl.IssuingCertificateURL = []string{caURL(base, ca.Name)}
	}
	// IngeTrust terminal certificates name no CRL or OCSP address: none is
	// public that we know of, and the checks must meet that case (DESIGN.md §2).
	return sign(tmpl, ca.Cert, req.pub, ca.Key)
}

// igcSanteExtensions adds what the real TEST sample (TEST-ORG-SIGN-2021)
// carries: HTTP and LDAP CRL addresses, a delta CRL over LDAP only, OCSP and
// caIssuers, the Private Key Usage Period and the private 1.2.250.1.71.1.2.5.
func igcSanteExtensions(tmpl *x509.Certificate, ca *CA, base string) error {
	issuer := specOf(ca.Name).subject
	tmpl.CRLDistributionPoints = []string{crlURL(base, ca.Name), ldapURL(base, issuer, "certificaterevocationlist")}
	tmpl.OCSPServer = []string{ocspURL(base)}
	tmpl.IssuingCertificateURL = []string{caURL(base, ca.Name)}

	pkup, err := asn1.Marshal(struct {
		NotBefore time.Time `asn1:"generalized,optional,tag:0"`
		NotAfter  time.Time `asn1:"generalized,optional,tag:1"`
	}{tmpl.NotBefore.UTC(), tmpl.NotAfter.UTC()})
	if err != nil {
		return fmt.Errorf("private key usage period: %w", err)
	}
	type dpName struct {
		FullName []asn1.RawValue `asn1:"optional,tag:0"`
	}
	type distributionPoint struct {
		DistributionPoint dpName `asn1:"optional,tag:0"`
	}
	delta := ldapURL(base, issuer, "deltarevocationlist")
	freshest, err := asn1.Marshal([]distributionPoint{{DistributionPoint: dpName{
		FullName: []asn1.RawValue{{Tag: 6, Class: asn1.ClassContextSpecific, Bytes: []byte(delta)}}}}})
	if err != nil {
		return fmt.Errorf("freshest CRL: %w", err)
	}
	tmpl.ExtraExtensions = []pkix.Extension{
		{Id: oidPrivateKeyUsagePeriod, Value: pkup},
		{Id: oidFreshestCRL, Value: freshest},
		// The value of the real sample; its meaning is not published, so
		// parsers meet the same bytes as in a real certificate.
		{Id: diapason.IGCSantePrivateExtensionOID, Value: igcSantePrivateExtensionBody},
	}
	return nil
}

// sign completes a template (serial, key identifier) and signs it; parent
// nil means self-signed.
func sign(tmpl *x509.Certificate, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	var err error
	if tmpl.SerialNumber, err = newSerial(); err != nil {
		return nil, err
	}
	if tmpl.SubjectKeyId, err = subjectKeyID(pub); err != nil {
		return nil, fmt.Errorf("subject key identifier: %w", err)
	}
	if parent == nil {
		// A self-signed root names its own key, as the real IGC-Santé root does.
		parent, tmpl.AuthorityKeyId = tmpl, tmpl.SubjectKeyId
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("signing the certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}
