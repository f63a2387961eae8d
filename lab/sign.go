package lab

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// Sign does what the IGC-Santé platform does with an uploaded CSR: it checks
// the request's signature, its key and that its CN and SANs fit the profile,
// then issues a certificate from the lab ORGANISATIONS CA with the profile's
// extensions, for any validity (back-dated, expired, expiring soon) so the
// warnings can be rehearsed. Like the platform, it takes the key and the CN
// from the request and writes ST, O and OU from the structure's account.
// tpe-client and psp-server requests are signed by the IngeTrust-like and
// GeoTrust-like CAs. Refusals are *RefusedError values.
func (l *Lab) Sign(req *x509.CertificateRequest, profile diapason.ProfileID, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	p, err := diapason.LookupProfile(string(profile))
	if err != nil {
		return nil, err
	}
	notBefore, notAfter = notBefore.UTC().Truncate(time.Second), notAfter.UTC().Truncate(time.Second)
	if !notAfter.After(notBefore) {
		return nil, fmt.Errorf("the certificate would end (%s) before it starts (%s)", notAfter.Format(time.RFC3339), notBefore.Format(time.RFC3339))
	}
	if err := req.CheckSignature(); err != nil {
		return nil, refused("make the CSR again from its key (diapason-cert csr …), and upload the file unchanged",
			"the CSR's signature does not verify (%v): it was altered after signing, or signed with another key than the one it holds", err)
	}
	if k, ok := req.PublicKey.(*rsa.PublicKey); !ok {
		return nil, refused("make an RSA 2048 key", "the CSR's key is not RSA: the Diapason suites (ECDHE_RSA) need an RSA key, and IGC-Santé certifies RSA")
	} else if k.N.BitLen() < p.MinRSABits {
		return nil, refused("make an RSA 2048 key", "the CSR's RSA key has %d bits; the %s profile needs at least %d", k.N.BitLen(), p.ID, p.MinRSABits)
	}
	cn := req.Subject.CommonName
	if err := fitProfile(req, p); err != nil {
		return nil, err
	}
	var name dn.Name
	dnsName := ""
	switch p.ID {
	case diapason.TPEClient:
		name = terminalName(cn)
	case diapason.PSPServer:
		name, dnsName = providerName(cn), cn
	default:
		name = structureName(cn)
		if p.SANIsFQDN {
			dnsName = cn
		}
	}
	raw, err := dn.Marshal(name)
	if err != nil {
		return nil, fmt.Errorf("building the subject: %w", err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	ca := l.cas[issuerFor(p.ID)]
	cert, err := issueLeaf(ca, leafRequest{profile: p, subject: raw, dnsName: dnsName, pub: req.PublicKey,
		notBefore: notBefore, notAfter: notAfter}, l.url)
	if err != nil {
		return nil, err
	}
	l.record(ca.Name, cert, "", p.ID)
	if err := l.saveIndex(); err != nil {
		l.issued = l.issued[:len(l.issued)-1]
		return nil, err
	}
	return cert, nil
}

// fitProfile refuses a request whose names do not fit the profile, saying
// which profile they would fit.
func fitProfile(req *x509.CertificateRequest, p diapason.Profile) error {
	cn := req.Subject.CommonName
	if len(req.IPAddresses) > 0 || len(req.EmailAddresses) > 0 || len(req.URIs) > 0 {
		return refused("make the CSR again with diapason-cert csr", "the CSR asks for IP, e-mail or URI names; Diapason certificates name a host (DNS) or nothing")
	}
	sans := strings.Join(req.DNSNames, ", ")
	switch p.ID {
	case diapason.PSPClient:
		if cn != diapason.ClientDiapasonPSP {
			fix := "make the request with 'diapason-cert csr psp-client'"
			if checkHostname(cn) == nil {
				fix = "this looks like a server CSR: sign it with --profile tpe-server, or make the client one with 'diapason-cert csr psp-client'"
			}
			return refused(fix, "the CSR's CN is %q; the psp-client profile (ORG AUTH_CLI) requires the CN %q", cn, diapason.ClientDiapasonPSP)
		}
		if len(req.DNSNames) > 0 {
			return refused("make the request with 'diapason-cert csr psp-client'",
				"the CSR names the hosts %s; an ORG AUTH_CLI certificate identifies an organisation, not a host", sans)
		}
	case diapason.TPEServer, diapason.PSPServer:
		if cn == diapason.ClientDiapasonPSP {
			return refused("sign it with --profile psp-client",
				"the CSR's CN is %q, the client certificate's; the %s profile requires the server's FQDN as CN", cn, p.ID)
		}
		if err := checkHostname(cn); err != nil {
			return refused("make the request with 'diapason-cert csr tpe-server --fqdn NAME'",
				"the CSR's CN cannot be the server name the terminals are configured with: %v", err)
		}
		if len(req.DNSNames) > 0 && (len(req.DNSNames) != 1 || req.DNSNames[0] != cn) {
			return refused("make the request again with the FQDN as its only DNS name",
				"the CSR's DNS names (%s) differ from its CN %q: the %s certificate names one server, CN = SAN", sans, cn, p.ID)
		}
	case diapason.TPEClient:
		if cn == "" {
			return refused("", "the CSR has no CN: a terminal certificate names the terminal")
		}
		if len(req.DNSNames) > 0 {
			return refused("", "the CSR names the hosts %s; a terminal certificate names no host", sans)
		}
	}
	return nil
}
