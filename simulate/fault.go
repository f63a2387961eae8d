package simulate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/dn"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// Fault is a way a simulated server misbehaves on purpose, so that a peer's
// handling of that failure can be tested.
type Fault string

// The faults. Each says, in Faults, what the server does and what its peer
// should see.
const (
	FaultNone                Fault = ""
	FaultExpired             Fault = "expired"
	FaultNotYetValid         Fault = "not-yet-valid"
	FaultWrongCA             Fault = "wrong-ca"
	FaultMissingIntermediate Fault = "missing-intermediate"
	FaultRevoked             Fault = "revoked"
	FaultCNMismatch          Fault = "cn-mismatch"
	FaultSuiteMismatch       Fault = "suite-mismatch"
	FaultNoClientCertRequest Fault = "no-client-cert-request"
	FaultWrongCANames        Fault = "wrong-ca-names"
	FaultAlertAfterHello     Fault = "alert-after-hello"
	FaultStall               Fault = "stall"
)

// FaultInfo describes a fault for help texts.
type FaultInfo struct {
	Fault Fault
	// Does is what the server does.
	Does string
	// NeedsCA is set for the faults that re-issue the server's certificate:
	// they need the key of the CA that issued it.
	NeedsCA bool
}

// Faults lists every fault in a stable order.
var Faults = []FaultInfo{
	{FaultExpired, "presents its certificate re-issued by its CA with dates in the past: the client refuses it as expired (certificate_expired)", true},
	{FaultNotYetValid, "presents its certificate re-issued by its CA starting in 10 days: the client refuses it as not yet valid (certificate_expired)", true},
	{FaultWrongCA, "presents its certificate issued by a CA of its own, sent with it: the client does not trust the chain (unknown_ca)", false},
	{FaultMissingIntermediate, "sends its certificate without the intermediate: a client that holds only the root cannot build the chain (unknown_ca)", false},
	{FaultRevoked, "presents a copy of its certificate that its CA (the lab) has revoked: a client that checks revocation refuses it (certificate_revoked)", true},
	{FaultCNMismatch, "presents its certificate re-issued for another name (wrong.<name> as CN and SAN): the client refuses the name (bad_certificate)", true},
	{FaultSuiteMismatch, "accepts only AES-GCM suites (0xC030, 0xC02F), none of the Diapason ones: the client's ClientHello is refused (handshake_failure)", false},
	{FaultNoClientCertRequest, "does not ask for a client certificate: the handshake completes, but it is not mutual TLS", false},
	{FaultWrongCANames, "names an unrelated CA in its certificate request (it still trusts the right ones): clients that pick their certificate by those names send none and are refused", false},
	{FaultAlertAfterHello, "answers the ClientHello with a fatal internal_error alert", false},
	{FaultStall, "accepts the TCP connection, reads, and never answers: the client times out", false},
}

// ParseFault reads a --fault value.
func ParseFault(s string) (Fault, error) {
	f := Fault(strings.ToLower(strings.TrimSpace(s)))
	if f == FaultNone {
		return f, nil
	}
	if i := slices.IndexFunc(Faults, func(fi FaultInfo) bool { return fi.Fault == f }); i >= 0 {
		return f, nil
	}
	names := make([]string, len(Faults))
	for i, fi := range Faults {
		names[i] = string(fi.Fault)
	}
	return "", fmt.Errorf("unknown fault %q (want one of %s)", s, strings.Join(names, ", "))
}

// Info returns the fault's description; the zero FaultInfo for FaultNone.
func (f Fault) Info() FaultInfo {
	for _, fi := range Faults {
		if fi.Fault == f {
			return fi
		}
	}
	return FaultInfo{}
}

// ChangesCredential reports the faults that present another certificate or
// chain than the server's own.
func (f Fault) ChangesCredential() bool {
	return f.Info().NeedsCA || f == FaultWrongCA || f == FaultMissingIntermediate
}

// SuiteMismatchOffer is what a server under FaultSuiteMismatch accepts.
func SuiteMismatchOffer() handshake.Offer {
	return handshake.Offer{Suites: []uint16{tls12.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, tls12.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}
}

// WrongCAName is the CA a server under FaultWrongCANames names in its
// certificate request: a name no real CA has, so that no client finds its
// certificate's issuer among the CAs listed.
func WrongCAName() *x509.Certificate {
	raw, err := dn.Marshal(dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "diapason-cert simulate"},
		[2]string{"CN", "Wrong CA named on purpose (--fault wrong-ca-names)"}))
	if err != nil {
		panic(err) // a constant name always encodes
	}
	return &x509.Certificate{RawSubject: raw}
}

// CA is an authority with its key: the issuer of a server's certificate,
// which re-issues it for the faults that need it.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// ErrNeedsCA is returned for a fault that re-issues the server's certificate
// when the key of its CA is not known.
var ErrNeedsCA = errors.New("the fault re-issues the server's certificate, which needs the key of the CA that issued it")

// Credential returns the credential a server presents under a credential
// fault, made from cred (chain as sent, leaf first) and issuer, the CA that
// issued its leaf; other faults return cred unchanged. The sentence says what
// is presented. Under FaultRevoked the copy is returned unrevoked: the caller
// revokes it where its clients look (the lab's CRL and OCSP responder).
func Credential(f Fault, cred tls12.Certificate, issuer *CA, now time.Time) (tls12.Certificate, string, error) {
	leaf := cred.Chain[0]
	if f.Info().NeedsCA && issuer == nil {
		return cred, "", ErrNeedsCA
	}
	span := leaf.NotAfter.Sub(leaf.NotBefore)
	out := tls12.Certificate{Key: cred.Key, Chain: slices.Clone(cred.Chain)}
	var err error
	switch f {
	case FaultExpired:
		end := now.Add(-10 * 24 * time.Hour)
		start := later(end.Add(-span), issuer.Cert.NotBefore)
		out.Chain[0], err = reissue(leaf, issuer, func(t *x509.Certificate) { t.NotBefore, t.NotAfter = start, end })
		return out, fmt.Sprintf("a copy of %q valid from %s to %s, expired 10 days ago", leaf.Subject.CommonName, day(start), day(end)), err
	case FaultNotYetValid:
		start := now.Add(10 * 24 * time.Hour)
		end := earlier(start.Add(span), issuer.Cert.NotAfter)
		out.Chain[0], err = reissue(leaf, issuer, func(t *x509.Certificate) { t.NotBefore, t.NotAfter = start, end })
		return out, fmt.Sprintf("a copy of %q valid from %s, in 10 days, to %s", leaf.Subject.CommonName, day(start), day(end)), err
	case FaultCNMismatch:
		name := "wrong." + leaf.Subject.CommonName
		raw, err := renameCN(leaf.RawSubject, name)
		if err != nil {
			return cred, "", fmt.Errorf("renaming %q: %w", leaf.Subject.CommonName, err)
		}
		out.Chain[0], err = reissue(leaf, issuer, func(t *x509.Certificate) {
			t.RawSubject = raw
			if len(t.DNSNames) > 0 {
				t.DNSNames = []string{name}
			}
			t.IPAddresses = nil
		})
		return out, fmt.Sprintf("a copy of %q issued for the name %s (CN and SAN)", leaf.Subject.CommonName, name), err
	case FaultRevoked:
		out.Chain[0], err = reissue(leaf, issuer, func(*x509.Certificate) {})
		if err != nil {
			return out, "", err
		}
		return out, fmt.Sprintf("a copy of %q (serial %X) to be revoked by its CA", leaf.Subject.CommonName, out.Chain[0].SerialNumber), nil
	case FaultWrongCA:
		ca, err := wrongCA(now)
		if err != nil {
			return cred, "", err
		}
		out.Chain[0], err = reissue(leaf, ca, func(t *x509.Certificate) {
			t.CRLDistributionPoints, t.OCSPServer, t.IssuingCertificateURL = nil, nil, nil
		})
		out.Chain = []*x509.Certificate{out.Chain[0], ca.Cert}
		return out, fmt.Sprintf("%q issued by %q, a CA no peer trusts, sent with it", leaf.Subject.CommonName, ca.Cert.Subject.CommonName), err
	case FaultMissingIntermediate:
		if len(cred.Chain) < 2 {
			return cred, "", fmt.Errorf("the server sends %q alone already: there is no intermediate to leave out (give the chain with --chain)", leaf.Subject.CommonName)
		}
		out.Chain = out.Chain[:1]
		return out, fmt.Sprintf("%q without its intermediate %q", leaf.Subject.CommonName, cred.Chain[1].Subject.CommonName), nil
	}
	return cred, "", nil
}

// reissue signs a copy of leaf (same subject, key and extensions, a new
// serial) by ca after edit changes the template.
func reissue(leaf *x509.Certificate, ca *CA, edit func(*x509.Certificate)) (*x509.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(), RawSubject: leaf.RawSubject,
		NotBefore: leaf.NotBefore, NotAfter: leaf.NotAfter,
		KeyUsage: leaf.KeyUsage, ExtKeyUsage: leaf.ExtKeyUsage, UnknownExtKeyUsage: leaf.UnknownExtKeyUsage,
		BasicConstraintsValid: leaf.BasicConstraintsValid,
		DNSNames:              leaf.DNSNames, IPAddresses: leaf.IPAddresses, EmailAddresses: leaf.EmailAddresses, URIs: leaf.URIs,
		CRLDistributionPoints: leaf.CRLDistributionPoints, OCSPServer: leaf.OCSPServer, IssuingCertificateURL: leaf.IssuingCertificateURL,
		Policies: leaf.Policies, SubjectKeyId: leaf.SubjectKeyId,
	}
	for _, e := range leaf.Extensions {
		if !generated(e.Id) {
			tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, e)
		}
	}
	edit(tmpl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, leaf.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("re-issuing %q: %w", leaf.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

// generated reports the extensions x509.CreateCertificate makes from the
// template's fields, and the private key usage period, which would state the
// original dates.
func generated(id asn1.ObjectIdentifier) bool {
	for _, g := range [][]int{
		{2, 5, 29, 14}, {2, 5, 29, 15}, {2, 5, 29, 16}, {2, 5, 29, 17}, {2, 5, 29, 19}, {2, 5, 29, 30},
		{2, 5, 29, 31}, {2, 5, 29, 32}, {2, 5, 29, 35}, {2, 5, 29, 37}, {1, 3, 6, 1, 5, 5, 7, 1, 1},
	} {
		if id.Equal(g) {
			return true
		}
	}
	return false
}

// renameCN replaces the CN of a DER name, keeping the rest as issued.
func renameCN(raw []byte, cn string) ([]byte, error) {
	n, err := dn.Parse(raw)
	if err != nil {
		return nil, err
	}
	found := false
	for _, rdn := range n {
		for i := range rdn {
			if rdn[i].Type == "CN" {
				rdn[i].Value, found = cn, true
			}
		}
	}
	if !found {
		n = append(n, dn.RDN{{Type: "CN", Value: cn}})
	}
	return dn.Marshal(n)
}

// wrongCA makes a root no peer trusts. Its key is ECDSA P-256, which is made
// at once, where an RSA key takes up to a second; it signs RSA certificates
// all the same.
func wrongCA(now time.Time) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Country: []string{"FR"}, Organization: []string{"diapason-cert simulate"}, CommonName: "Wrong CA (--fault wrong-ca)"},
		NotBefore:    now.Add(-24 * time.Hour), NotAfter: now.AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("making the wrong CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
