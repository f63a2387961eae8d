package certio

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
)

// decodeDER reads one DER element or several concatenated ones (as `cat *.cer` makes),
// ignoring the trailing NULs and line ends some tools append.
func (c *Contents) decodeDER(data []byte) error {
	for rest := data; len(bytes.Trim(rest, "\x00\r\n\t ")) > 0; {
		var raw asn1.RawValue
		next, err := asn1.Unmarshal(rest, &raw)
		if err != nil {
			return derError(c.Name, rest, len(rest) < len(data), err)
		}
		it, err := decodeDERItem(c.Name, raw.FullBytes)
		if err != nil {
			return err
		}
		c.Items = append(c.Items, it)
		rest = next
	}
	return nil
}

// derError explains why rest is not one DER element: BER, truncated, or garbage.
func derError(name string, rest []byte, trailing bool, err error) error {
	h, herr := readHeader(rest)
	switch {
	case herr == nil && h.indefinite:
		if isPKCS12(rest) {
			if perr := checkPKCS12(name, rest); perr != nil {
				return perr
			}
		} else if isPKCS7(rest) {
			if _, _, perr := parsePKCS7(name, rest, false); perr != nil {
				return perr
			}
		}
		return errors.New("BER encoding with indefinite lengths in a structure that is neither PKCS#7 nor PKCS#12; only DER is read")
	case herr == nil && h.end() > len(rest):
		return fmt.Errorf("truncated DER: the structure declares %d bytes but only %d are present", h.end(), len(rest))
	case trailing:
		return fmt.Errorf("trailing data after the DER structure (%d bytes): %w", len(rest), err)
	}
	return fmt.Errorf("malformed DER: %w", err)
}

// decodeDERItem identifies one DER element by trying each structure this package
// reads, most specific first: the container formats are recognised by their headers,
// then Go's strict parsers decide between the rest.
func decodeDERItem(name string, der []byte) (*Item, error) {
	it := &Item{DER: der, source: name}
	if isPKCS12(der) {
		it.Kind, it.what = KindPKCS12, "PKCS#12 file"
		return it, checkPKCS12(name, der)
	}
	if isPKCS7(der) {
		var err error
		it.Kind, it.what = KindPKCS7, "PKCS#7 bundle"
		it.Certificates, it.CRLs, err = parsePKCS7(name, der, false)
		return it, err
	}
	cert, certErr := x509.ParseCertificate(der)
	if certErr == nil {
		it.Kind, it.what, it.Certificate = KindCertificate, "certificate", cert
		return it, nil
	}
	if csr, err := x509.ParseCertificateRequest(der); err == nil {
		it.Kind, it.what, it.Request = KindCSR, "certificate request", csr
		return it, nil
	}
	if crl, err := x509.ParseRevocationList(der); err == nil {
		it.Kind, it.what, it.CRL = KindCRL, "CRL", crl
		return it, nil
	}
	if key, what, err := parsePrivateKey("", der); what != "" {
		it.Kind, it.what, it.Key = KindPrivateKey, what, key
		return it, err
	}
	if epki, err := parseEncryptedPKCS8(der); err == nil && isPBEAlgorithm(epki.Algorithm.Algorithm) {
		it.Kind, it.what = KindEncryptedKey, "encrypted PKCS#8 private key"
		return it, nil
	}
	if pub, err := x509.ParsePKIXPublicKey(der); err == nil {
		it.Kind, it.what, it.PublicKey = KindPublicKey, "public key", pub
		return it, nil
	}
	if pub, err := x509.ParsePKCS1PublicKey(der); err == nil {
		it.Kind, it.what, it.PublicKey = KindPublicKey, "PKCS#1 RSA public key", pub
		return it, nil
	}
	if isSignedShape(der) {
		return nil, fmt.Errorf("malformed certificate, certificate request or CRL: %w", certErr)
	}
	return nil, fmt.Errorf("unrecognised DER structure (%d bytes): not a certificate, request, CRL, key, PKCS#7 or PKCS#12", len(der))
}

// isSignedShape reports SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING }, the outline shared
// by certificates, requests and CRLs, so that a damaged one is reported as such.
func isSignedShape(der []byte) bool {
	var s struct {
		TBS, Alg asn1.RawValue
		Sig      asn1.BitString
	}
	rest, err := asn1.Unmarshal(der, &s)
	return err == nil && len(rest) == 0 && s.TBS.Tag == asn1.TagSequence && s.Alg.Tag == asn1.TagSequence
}
