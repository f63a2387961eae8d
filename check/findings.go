package check

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// Options say what a Checker checks certificates against.
type Options struct {
	// Profile is what every end-entity certificate is checked against; "" checks each
	// against the role it fits (RoleOf), and only for its validity when it fits none.
	Profile diapason.ProfileID
	// FQDN is the server name, normalised by the caller: the CN (and SAN) a gap-server
	// certificate must carry, a SAN of a psp-server one. "" skips the comparison.
	FQDN string
	// Key, when set, must be the key pair of every end-entity certificate (--key); KeyName
	// names it in messages.
	Key     crypto.PublicKey
	KeyName string
	// Warn is the warning window before notAfter; callers default it to diapason.WarnWindow.
	Warn diapason.Period
	// Now is the time certificates are judged at (--at).
	Now time.Time
	// Chains builds the chains; nil builds them with the embedded IGC-Santé CAs only.
	Chains *ChainBuilder
	// Passphrase opens PKCS#12 files and encrypted keys found in files; nil leaves them
	// locked. It may be called from several goroutines at once.
	Passphrase certio.Passphrase
	// Revocation is how hard revocation is checked, for the certificate and the CAs of
	// its chain; "" or off checks nothing.
	Revocation RevocationMode
	// RevocationSources answer about revocation (a RevocationEngine); nil leaves every
	// certificate without a source.
	RevocationSources RevocationChecker
}

// Checker checks certificates and files against Options. It is safe for concurrent use.
type Checker struct {
	opts  Options
	names nameCache
	// caRevocations remembers the answers about CA certificates, asked once per scan
	// rather than once per leaf.
	caRevocations revocationCache
}

// NewChecker prepares a Checker.
func NewChecker(opts Options) *Checker {
	if opts.Chains == nil {
		opts.Chains = NewChainBuilder(ChainOptions{})
	}
	return &Checker{opts: opts}
}

// CertReport is a certificate with its chain and findings.
type CertReport struct {
	Certificate
	// Profile is the profile the certificate was checked against; "" when none applied.
	Profile diapason.ProfileID `json:"profile,omitempty"`
	// Chain is built for end-entity certificates and for CAs that issued nothing else in
	// their file; nil for a CA that is part of another certificate's chain there.
	Chain *Chain `json:"chain,omitempty"`
	// Revocation is the answer about the certificate when revocation was checked.
	Revocation *Revocation `json:"revocation,omitempty"`
	Findings   []Finding   `json:"findings"`
}

// CheckCertificate inspects cert, builds its chain from given and the Checker's sources,
// and returns every finding: validity (of the chain too), the chain, the profile, the key.
func (k *Checker) CheckCertificate(ctx context.Context, cert *x509.Certificate, given []*x509.Certificate) CertReport {
	return k.certificate(ctx, cert, given, true)
}

func (k *Checker) certificate(ctx context.Context, cert *x509.Certificate, given []*x509.Certificate, withChain bool) CertReport {
	now := k.opts.Now
	rep := CertReport{Certificate: inspect(cert, now, &k.names)}
	f := &findings{}
	k.validity(f, cert, "")
	if withChain {
		chain := k.opts.Chains.build(ctx, cert, given, now, &rep.Certificate)
		rep.Chain = &chain
		f.list = append(f.list, chain.Findings...)
		for _, cc := range chain.Certificates[1:] {
			k.validity(f, cc.Cert, describeChainCert(cc))
		}
		if k.opts.Revocation == RevocationSoft || k.opts.Revocation == RevocationHard {
			k.revocation(ctx, f, &rep)
		}
	}
	if !cert.IsCA {
		profile := k.opts.Profile
		if profile == "" {
			profile = rep.Role.Profile()
		}
		if profile != "" {
			rep.Profile = profile
			k.profile(f, &rep, diapason.MustProfile(profile))
		}
		if k.opts.Key != nil && !certio.KeyMatches(cert, k.opts.Key) {
			f.add("key-mismatch", Fail, "the key %s is not the key pair of this certificate (%s): were the certificate and key files swapped, or is the key that of an older certificate?",
				k.opts.KeyName, rep.Key)
		}
	}
	if rep.Hierarchy == diapason.HierarchyLab {
		f.add("lab-certificate", Info, "made by diapason-cert lab, for tests only: no real terminal, provider or IGC-Santé service accepts it")
	}
	rep.Findings = f.sorted()
	return rep
}

type findings struct{ list []Finding }

func (f *findings) add(slug string, level Level, format string, args ...any) {
	f.list = append(f.list, Finding{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)})
}

// sorted puts the most serious findings first, keeping their order otherwise.
func (f *findings) sorted() []Finding {
	out := f.list
	if out == nil {
		return []Finding{}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return levelRank(a.Level) - levelRank(b.Level) })
	return out
}

func levelRank(l Level) int {
	switch l {
	case Fail:
		return 0
	case Warn:
		return 1
	}
	return 2
}

const dateLayout = "2006-01-02"

// validity checks the dates of cert; chainName is "" for the certificate itself, else how
// the chain certificate is named in messages (its findings take the "chain-" slugs).
func (k *Checker) validity(f *findings, cert *x509.Certificate, chainName string) {
	now := k.opts.Now
	prefix, subject, fix := "", "the certificate", renewalHint(cert)
	if chainName != "" {
		prefix, subject = "chain-", chainName
		fix = "get its current version from its CA and replace it in your chain file"
	}
	days := DaysLeft(cert.NotAfter, now)
	switch {
	case now.After(cert.NotAfter):
		f.add(prefix+"expired", Fail, "%s expired on %s (%d days ago): %s",
			subject, cert.NotAfter.UTC().Format(dateLayout), -days, fix)
	case now.Before(cert.NotBefore):
		f.add(prefix+"not-yet-valid", Fail, "%s is valid only from %s: peers refuse it until then; check this machine's clock, or wait",
			subject, cert.NotBefore.UTC().Format(time.RFC3339))
	case !cert.NotAfter.After(k.opts.Warn.AddTo(now)):
		f.add(prefix+"expiring", Warn, "%s expires on %s, in %d days (warning window %s): %s",
			subject, cert.NotAfter.UTC().Format(dateLayout), days, k.opts.Warn, fix)
	}
}

// renewalHint says how a certificate of this kind is replaced.
func renewalHint(cert *x509.Certificate) string {
	switch {
	case cert.IsCA:
		return "get the CA's current certificate from its publisher"
	case isIGCSanteIssued(cert):
		return "order its renewal on the IGC-Santé platform (diapason-cert csr makes the request)"
	}
	return "ask its issuer for a new one"
}

func describeChainCert(cc ChainCert) string {
	name := "the CA " + fmt.Sprintf("%q", commonName(cc.Cert))
	switch cc.Source {
	case SourceEmbedded:
		return name + " (embedded " + cc.File + ")"
	case SourceFetched:
		return name + " (downloaded from " + cc.File + ")"
	}
	return name + " of the chain"
}

// profile checks an end-entity certificate against the profile of its role.
func (k *Checker) profile(f *findings, rep *CertReport, p diapason.Profile) {
	c := rep.Cert
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		f.add("key-not-rsa", Fail, "the key is %s: the Diapason suites (ECDHE_RSA) need an RSA key; make a new request with an RSA %d key", rep.Key, p.MinRSABits)
	} else if bits := pub.N.BitLen(); bits < p.MinRSABits {
		f.add("key-too-small", Fail, "the RSA key has %d bits, fewer than the %d the %s profile requires: make a new request with an RSA %d key", bits, p.MinRSABits, p.ID, p.MinRSABits)
	}
	if !allowsEKU(c, p.ExtKeyUsage) {
		f.add("eku-mismatch", Fail, "the extendedKeyUsage lists %s but not %s, so peers refuse it as a %s certificate: it was ordered for another use; order a %s certificate",
			strings.Join(rep.ExtKeyUsage, ", "), p.EKUName(), p.Role, orderName(p))
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		f.add("key-usage-mismatch", Fail, "the keyUsage (%s) lacks digitalSignature, which ECDHE_RSA needs to sign the handshake: order a %s certificate",
			strings.Join(rep.KeyUsage, ", "), orderName(p))
	}
	if p.IGCSante && !diapason.WithinTerm(c.NotBefore, c.NotAfter, p.Term) {
		f.add("term-exceeded", Warn, "valid from %s to %s, longer than the %s term of IGC-Santé certificates: it was not issued as a real %s would be",
			c.NotBefore.UTC().Format(dateLayout), c.NotAfter.UTC().Format(dateLayout), p.Term, p.Offer)
	}
	cn := c.Subject.CommonName
	switch {
	case p.FixedCN != "" && cn != p.FixedCN:
		f.add("cn-mismatch", Fail, "the CN is %q but the %s certificate must say %q, the value to enter on the IGC-Santé platform: order it again (diapason-cert csr %s)",
			cn, p.Offer, p.FixedCN, p.ID)
	case p.CNIsFQDN:
		k.serverCN(f, c, p)
	case p.SANIsFQDN:
		k.serverSAN(f, c)
	}
}

func orderName(p diapason.Profile) string {
	if p.Offer != "" {
		return p.Offer
	}
	return p.Role
}

// serverCN checks a GAP server certificate: terminals compare their configured FQDN with
// the CN (not the SANs, which Go's VerifyHostname alone would check), and most other TLS
// clients check the SAN, so both must name the server.
func (k *Checker) serverCN(f *findings, c *x509.Certificate, p diapason.Profile) {
	cn, fqdn := c.Subject.CommonName, k.opts.FQDN
	if fqdn != "" && cn != fqdn {
		f.add("cn-mismatch", Fail, "the CN is %q but the terminals are configured with %q: they must be identical; order a certificate for %s (diapason-cert csr %s --fqdn %s) or configure the terminals with %q",
			cn, fqdn, fqdn, p.ID, fqdn, cn)
	}
	switch {
	case len(c.DNSNames) == 0:
		f.add("san-missing", Warn, "no DNS name in the subjectAltName: terminals check the CN, but most other TLS clients check only the SAN, which should be %q", cn)
	case !slices.Contains(c.DNSNames, cn):
		f.add("san-mismatch", Fail, "the DNS names %s do not include the CN %q: the SSL_SERVEUR certificate names one server, in both", strings.Join(c.DNSNames, ", "), cn)
	case fqdn != "" && !slices.Contains(c.DNSNames, fqdn):
		f.add("san-mismatch", Fail, "the DNS names %s do not include %q, the name the terminals use", strings.Join(c.DNSNames, ", "), fqdn)
	}
}

// serverSAN checks the provider's certificate the way the GAP's TLS stack will: by the
// subjectAltName.
func (k *Checker) serverSAN(f *findings, c *x509.Certificate) {
	fqdn := k.opts.FQDN
	switch {
	case len(c.DNSNames) == 0 && len(c.IPAddresses) == 0:
		level := Warn
		if fqdn != "" {
			level = Fail
		}
		f.add("san-missing", level, "no subjectAltName: TLS clients check the server name there only, so the GAP will refuse this certificate; ask the provider for a certificate naming its server")
	case fqdn != "" && c.VerifyHostname(fqdn) != nil:
		f.add("san-mismatch", Fail, "the certificate names %s, not %q: the GAP will refuse it for that server; check the provider's address, or ask the provider for the right certificate",
			strings.Join(append(slices.Clone(c.DNSNames), ipStrings(c)...), ", "), fqdn)
	}
}

func ipStrings(c *x509.Certificate) []string {
	var out []string
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
