package csr

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// Report is what `csr inspect` says about a request before it is sent.
type Report struct {
	Profile            diapason.ProfileID `json:"profile"`
	ProfileDetected    bool               `json:"profile_detected"`
	Subject            string             `json:"subject"`
	SubjectRDNs        dn.Name            `json:"subject_rdns"`
	CommonName         string             `json:"common_name"`
	DNSNames           []string           `json:"dns_names"`
	Key                check.KeyInfo      `json:"key"`
	SignatureAlgorithm string             `json:"signature_algorithm"`
	SignatureValid     bool               `json:"signature_valid"`
	// PlatformValue is what to type on the IGC-Santé platform for this request.
	PlatformValue string          `json:"platform_value"`
	Findings      []check.Finding `json:"findings"`
}

// ProfileFor picks the profile of a request when none is named: the fixed CN
// of ORG AUTH_CLI, else the server profile.
func ProfileFor(req *x509.CertificateRequest) diapason.ProfileID {
	if req.Subject.CommonName == diapason.ClientDiapasonPSP {
		return diapason.PSPClient
	}
	return diapason.TPEServer
}

// Inspect verifies a request's signature and checks it against a profile
// (profile "" picks one from the CN). fqdn, when not empty, is the server
// name the terminals will be configured with.
func Inspect(req *x509.CertificateRequest, profile diapason.ProfileID, fqdn string) (Report, error) {
	rep := Report{
		CommonName:         req.Subject.CommonName,
		DNSNames:           append([]string{}, req.DNSNames...),
		Key:                check.DescribeKey(req.PublicKey),
		SignatureAlgorithm: req.SignatureAlgorithm.String(),
		Findings:           []check.Finding{},
	}
	name, err := dn.Parse(req.RawSubject)
	if err != nil {
		return Report{}, fmt.Errorf("reading the request's subject: %w", err)
	}
	rep.SubjectRDNs, rep.Subject = name, name.String()
	if profile == "" {
		profile, rep.ProfileDetected = ProfileFor(req), true
	}
	p, err := diapason.LookupProfile(string(profile))
	if err != nil {
		return Report{}, err
	}
	if !p.IGCSante {
		return Report{}, fmt.Errorf("profile %s is not ordered from IGC-Santé: requests are checked against psp-client or tpe-server", profile)
	}
	rep.Profile = p.ID
	add := func(slug string, level check.Level, format string, args ...any) {
		rep.Findings = append(rep.Findings, check.Finding{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)})
	}

	if err := req.CheckSignature(); err != nil {
		add("signature-invalid", check.Fail, "the request's signature does not verify (%v): it was altered or signed with another key; make it again", err)
	} else {
		rep.SignatureValid = true
	}
	if k, ok := req.PublicKey.(*rsa.PublicKey); !ok {
		add("key-not-rsa", check.Fail, "the key is %s: the Diapason suites (ECDHE_RSA) need an RSA key", rep.Key)
	} else if k.N.BitLen() < p.MinRSABits {
		add("key-too-small", check.Fail, "the RSA key has %d bits; IGC-Santé certifies at least %d", k.N.BitLen(), p.MinRSABits)
	}
	if c := name.Values("C"); len(c) != 1 || c[0] != "FR" {
		add("country-not-fr", check.Warn, "the country is %q; IGC-Santé certificates say C=FR", strings.Join(c, ","))
	}
	if ou := name.Values("OU"); len(ou) == 0 {
		add("structure-id-missing", check.Info, "no OU: real IGC-Santé certificates carry the structure identifier (1+FINESS, 3+SIRET, …) there; the platform fills it in from your account")
	} else if !isAllDigits(ou[0]) {
		add("structure-id-unusual", check.Info, "the OU %q is not a structure identifier (digits: 1+FINESS, 3+SIRET, …); the platform may replace it", ou[0])
	}

	cn := req.Subject.CommonName
	switch p.ID {
	case diapason.PSPClient:
		rep.PlatformValue = diapason.ClientDiapasonPSP
		if cn != diapason.ClientDiapasonPSP {
			add("cn-mismatch", check.Fail, "the CN is %q; the ORG AUTH_CLI certificate of the provider link must be %q: make the request with 'csr psp-client'", cn, diapason.ClientDiapasonPSP)
		}
		if len(req.DNSNames) > 0 {
			add("san-unexpected", check.Warn, "the request names %s as DNS SANs; an ORG AUTH_CLI certificate identifies an organisation, not a host", strings.Join(req.DNSNames, ", "))
		}
	case diapason.TPEServer:
		rep.PlatformValue = cn
		norm, ferr := NormaliseFQDN(cn)
		if ferr != nil {
			add("cn-not-fqdn", check.Fail, "the CN cannot be the server name terminals are configured with: %v", ferr)
		} else if norm != cn {
			add("cn-not-normalised", check.Fail, "the CN %q is not in the form certificates use (%q): make the request again", cn, norm)
		}
		if fqdn != "" && cn != fqdn {
			add("cn-mismatch", check.Fail, "the CN is %q but the terminals will be configured with %q: they must be identical", cn, fqdn)
		}
		switch {
		case len(req.DNSNames) == 0:
			add("san-missing", check.Warn, "the request has no DNS SAN; terminals check the CN, but most other TLS clients check only the SAN %q", cn)
		case !slices.Equal(req.DNSNames, []string{cn}):
			add("san-mismatch", check.Fail, "the DNS SANs %s differ from the CN %q: the SSL_SERVEUR certificate names one server", strings.Join(req.DNSNames, ", "), cn)
		}
	}
	return rep, nil
}
