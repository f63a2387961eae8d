package certio

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
)

// PKCS#7 is read here with encoding/asn1 because the standard library has no parser
// and only the certificates and CRLs of SignedData (RFC 2315 §9.1, RFC 5652 §5.1)
// matter: a .p7b "certificate bundle" is a SignedData with no signers.

var oidSignedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,optional,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	ContentInfo      asn1.RawValue
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue
}

// parsePKCS7 returns the certificates and CRLs of a DER PKCS#7 SignedData. name and
// fromPEM only shape the conversion command suggested for BER input.
func parsePKCS7(name string, der []byte, fromPEM bool) ([]*x509.Certificate, []*x509.RevocationList, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err == nil && len(rest) > 0 {
		err = errors.New("trailing data")
	}
	if err != nil {
		return nil, nil, pkcs7Error(name, der, fromPEM, err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, nil, &UnsupportedError{
			Reason: fmt.Sprintf("a PKCS#7 message of type %s, not a certificate bundle (signedData)", ci.ContentType),
		}
	}
	var sd signedData
	if rest, err = asn1.Unmarshal(ci.Content.Bytes, &sd); err == nil && len(rest) > 0 {
		err = errors.New("trailing data")
	}
	if err != nil {
		return nil, nil, pkcs7Error(name, der, fromPEM, err)
	}
	var certs []*x509.Certificate
	if err := eachElement(sd.Certificates.Bytes, func(raw asn1.RawValue) error {
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
			return fmt.Errorf("unsupported certificate format in PKCS#7 (tag [%d]); only X.509 certificates are read", raw.Tag)
		}
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return fmt.Errorf("certificate %d in the PKCS#7 bundle: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	var crls []*x509.RevocationList
	if err := eachElement(sd.CRLs.Bytes, func(raw asn1.RawValue) error {
		crl, err := x509.ParseRevocationList(raw.FullBytes)
		if err != nil {
			return fmt.Errorf("CRL %d in the PKCS#7 bundle: %w", len(crls)+1, err)
		}
		crls = append(crls, crl)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	if len(certs) == 0 && len(crls) == 0 {
		return nil, nil, errors.New("the PKCS#7 bundle holds no certificates and no CRLs")
	}
	return certs, crls, nil
}

// eachElement calls f on each element of the content of a SET OF.
func eachElement(set []byte, f func(asn1.RawValue) error) error {
	for len(set) > 0 {
		var raw asn1.RawValue
		var err error
		if set, err = asn1.Unmarshal(set, &raw); err != nil {
			return fmt.Errorf("malformed PKCS#7: %w", err)
		}
		if err := f(raw); err != nil {
			return err
		}
	}
	return nil
}

func pkcs7Error(name string, der []byte, fromPEM bool, err error) error {
	if reason := berReason(der, 0); reason != "" || notDER(err) {
		if reason == "" {
			reason = "BER"
		}
		inform := "DER"
		if fromPEM {
			inform = "PEM"
		}
		return &UnsupportedError{
			Reason: fmt.Sprintf("BER-encoded PKCS#7 (%s); only DER is read", reason),
			Fix: fmt.Sprintf("extract its certificates with OpenSSL: openssl pkcs7 -inform %s -in %s -print_certs -out %s",
				inform, shellArg(name), derivedArg(name, ".pem")),
		}
	}
	return fmt.Errorf("malformed PKCS#7: %w", err)
}
