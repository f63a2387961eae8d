package lab

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
	"golang.org/x/crypto/ocsp"
)

// New makes a lab: the five CAs, the five credentials (tpe-revoked already on
// its CA's CRL) and a first CRL per CA. With opts.Dir set it also writes the
// lab there, refusing a directory that is not empty.
func New(opts Options) (*Lab, error) {
	if opts.Now.IsZero() {
		return nil, errors.New("lab: Options.Now is required: the lab takes its clock from the caller")
	}
	now := opts.Now.UTC().Truncate(time.Second)
	fqdn := opts.FQDN
	if fqdn == "" {
		fqdn = DefaultFQDN
	}
	if err := checkHostname(fqdn); err != nil {
		return nil, fmt.Errorf("the GAP server FQDN: %w", err)
	}
	rawURL := opts.URL
	if rawURL == "" {
		rawURL = DefaultURL
	}
	base, err := NormaliseURL(rawURL)
	if err != nil {
		return nil, err
	}
	size := opts.CAKeySize
	if size == 0 {
		size = DefaultCAKeySize
	}
	if !slices.Contains(CAKeySizes, size) {
		return nil, fmt.Errorf("unsupported CA key size %d: use 2048 (quick) or 4096 (as the production IGC-Santé CAs)", size)
	}

	var reqs []keyRequest
	for _, s := range caSpecs {
		reqs = append(reqs, keyRequest{name: "ca-" + string(s.name), bits: size})
	}
	for _, s := range roleSpecs {
		reqs = append(reqs, keyRequest{name: "role-" + string(s.role), bits: LeafKeySize})
	}
	keys, err := makeKeys(reqs, opts.KeyCache)
	if err != nil {
		return nil, err
	}

	l := &Lab{url: base, fqdn: fqdn, cas: map[CAName]*CA{}, creds: map[Role]*Credential{}}
	start := now.AddDate(-caBackdateYears, 0, 0)
	for _, spec := range caSpecs {
		key := keys["ca-"+string(spec.name)]
		parent := l.cas[spec.parent]
		cert, err := issueCA(spec, key, parent, start, base)
		if err != nil {
			return nil, err
		}
		l.cas[spec.name] = &CA{Name: spec.name, Cert: cert, Key: key, Parent: spec.parent}
		if parent != nil {
			l.record(parent.Name, cert, "", "")
		}
	}
	for _, spec := range roleSpecs {
		profile := diapason.MustProfile(spec.profile)
		raw, err := dn.Marshal(spec.subject(fqdn))
		if err != nil {
			return nil, fmt.Errorf("%s subject: %w", spec.role, err)
		}
		req := leafRequest{profile: profile, subject: raw, pub: keys["role-"+string(spec.role)].Public(),
			notBefore: now, notAfter: NotAfter(spec.profile, now)}
		if spec.dnsName != nil {
			req.dnsName = spec.dnsName(fqdn)
		}
		ca := l.cas[spec.issuer]
		cert, err := issueLeaf(ca, req, base)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", spec.role, err)
		}
		l.creds[spec.role] = &Credential{Role: spec.role, Profile: spec.profile, Cert: cert,
			Key: keys["role-"+string(spec.role)], Chain: l.chainFrom(spec.issuer)}
		l.record(spec.issuer, cert, spec.role, spec.profile)
	}
	for _, n := range CANames() {
		var entries []x509.RevocationListEntry
		if n == CAIngeTrust {
			entries = append(entries, x509.RevocationListEntry{
				SerialNumber: l.creds[RoleTPERevoked].Cert.SerialNumber, RevocationTime: now, ReasonCode: ocsp.KeyCompromise})
		}
		if l.cas[n].CRL, err = issueCRL(l.cas[n], entries, big.NewInt(1), now); err != nil {
			return nil, err
		}
	}
	if opts.Dir != "" {
		if _, err := l.Write(opts.Dir, false, now); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// chainFrom is the issuing chain starting at CA n, up to its root.
func (l *Lab) chainFrom(n CAName) []*x509.Certificate {
	var chain []*x509.Certificate
	for n != "" {
		ca := l.cas[n]
		chain = append(chain, ca.Cert)
		n = ca.Parent
	}
	return chain
}

// record adds a certificate to the issued index.
func (l *Lab) record(ca CAName, cert *x509.Certificate, role Role, profile diapason.ProfileID) {
	l.issued = append(l.issued, Issued{CA: ca, Serial: SerialString(cert.SerialNumber), Subject: nameString(cert.RawSubject),
		Role: role, Profile: profile, NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC()})
}

// nameString shows a DN as issued, separate OUs kept separate.
func nameString(raw []byte) string {
	n, err := dn.Parse(raw)
	if err != nil {
		return fmt.Sprintf("(unreadable name: %v)", err)
	}
	return n.String()
}

// NotAfter is when a certificate of the profile that starts at notBefore
// ends, by the rules of its real issuer: 3 calendar years for the IGC-Santé
// profiles, 10 years for IngeTrust terminals, and the CA/Browser Forum
// maximum in force at notBefore for a public (GeoTrust) server certificate.
func NotAfter(p diapason.ProfileID, notBefore time.Time) time.Time {
	switch p {
	case diapason.TPEClient:
		return notBefore.AddDate(10, 0, 0)
	case diapason.PSPServer:
		return notBefore.Add(publicTLSMaxValidity(notBefore) - time.Second)
	}
	return diapason.MustProfile(p).Term.AddTo(notBefore)
}

// publicTLSMaxValidity is the longest validity the Baseline Requirements
// (§6.3.2, ballot SC-081) allow a TLS certificate issued at t. The BR count
// both ends inclusively, hence the second NotAfter takes off.
func publicTLSMaxValidity(t time.Time) time.Duration {
	day := 24 * time.Hour
	switch {
	case t.Before(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 398 * day
	case t.Before(time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 200 * day
	case t.Before(time.Date(2029, 3, 15, 0, 0, 0, 0, time.UTC)):
		return 100 * day
	}
	return 47 * day
}
