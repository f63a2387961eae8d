package bundle

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// The checks of a certificate about to be installed. They are kept together so
// that they can give way to check's certificate findings as one piece.

// leafFindings checks leaf's dates and hierarchy and, when p is not nil, the
// profile it must fit; fqdn is the normalised server name for tpe-server.
func leafFindings(leaf *x509.Certificate, p *diapason.Profile, fqdn string, now time.Time) []check.Finding {
	var fs []check.Finding
	add := func(slug string, level check.Level, format string, args ...any) {
		fs = append(fs, check.Finding{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)})
	}
	cn := leaf.Subject.CommonName
	switch {
	case now.After(leaf.NotAfter):
		add("cert-expired", check.Fail, "%q expired on %s: order its renewal on the IGC-Santé platform", cn, day(leaf.NotAfter))
	case now.Before(leaf.NotBefore):
		add("cert-not-yet-valid", check.Fail, "%q is valid only from %s: peers refuse it until then", cn, day(leaf.NotBefore))
	case now.After(diapason.WarnWindow.SubFrom(leaf.NotAfter)):
		add("cert-expiring", check.Warn, "%q expires on %s, within %s: renew it now", cn, day(leaf.NotAfter), diapason.WarnWindow)
	}

	switch h := diapason.HierarchyOf(leaf); {
	case h == diapason.HierarchyTest:
		add("hierarchy-test", check.Info, "%q is an IGC-Santé TEST certificate: it works with the test platforms only", cn)
	case h == diapason.HierarchyProduction:
		add("hierarchy-production", check.Info, "%q is an IGC-Santé production certificate", cn)
	case h == diapason.HierarchyLab:
		add("hierarchy-lab", check.Info, "%q was made by diapason-cert lab: for tests only", cn)
	case p != nil && p.IGCSante:
		add("hierarchy-unknown", check.Fail, "%q was not issued by IGC-Santé (issuer %s), but %s certificates are", cn, nameOf(leaf.RawIssuer, leaf.Issuer.String()), p.ID)
	case p == nil:
		add("hierarchy-unknown", check.Info, "%q was not issued by IGC-Santé (issuer %s); give --expect psp-client or tpe-server to check it against a Diapason profile", cn, nameOf(leaf.RawIssuer, leaf.Issuer.String()))
	}
	if p == nil {
		return fs
	}

	switch p.ID {
	case diapason.PSPClient:
		if cn != diapason.ClientDiapasonPSP {
			add("cn-mismatch", check.Fail, "the CN is %q; the provider identifies GAPs by the ORG AUTH_CLI CN %q", cn, diapason.ClientDiapasonPSP)
		}
	case diapason.TPEServer:
		if cn != fqdn {
			add("cn-mismatch", check.Fail, "the CN is %q but the terminals are configured with %q: they must be identical", cn, fqdn)
		}
		switch {
		case len(leaf.DNSNames) == 0:
			add("san-missing", check.Warn, "no DNS SAN: terminals check the CN, but most other TLS clients check only the SAN")
		case !slices.Contains(leaf.DNSNames, fqdn):
			add("san-mismatch", check.Warn, "the DNS SANs (%s) do not name %q: TLS clients other than the terminals refuse the server", strings.Join(leaf.DNSNames, ", "), fqdn)
		}
	}
	if eku := ekuNames(leaf); len(eku) > 0 && !slices.Contains(leaf.ExtKeyUsage, p.ExtKeyUsage) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		add("eku-mismatch", check.Fail, "the extended key usage (%s) does not allow %s, which a %s certificate needs (RFC 5280 §4.2.1.12): peers refuse it; order the %s offer",
			strings.Join(eku, ", "), p.EKUName(), p.Role, p.Offer)
	}
	if leaf.KeyUsage != 0 && leaf.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		add("key-usage-mismatch", check.Fail, "the key usage does not allow digitalSignature, which the ECDHE_RSA suites of Diapason need")
	}
	info := check.DescribeKey(leaf.PublicKey)
	if k, ok := leaf.PublicKey.(*rsa.PublicKey); !ok {
		add("key-not-rsa", check.Fail, "the key is %s: the Diapason suites (ECDHE_RSA) need an RSA key", info)
	} else if k.N.BitLen() < p.MinRSABits {
		add("key-too-small", check.Fail, "the RSA key has %d bits; at least %d are needed", k.N.BitLen(), p.MinRSABits)
	}
	if !p.Term.IsZero() && !diapason.WithinTerm(leaf.NotBefore, leaf.NotAfter, p.Term) {
		add("term-too-long", check.Warn, "valid from %s to %s, longer than the %s IGC-Santé issues", day(leaf.NotBefore), day(leaf.NotAfter), p.Term)
	}
	return fs
}

// ekuNames lists a certificate's extended key usages by their RFC 5280 names.
func ekuNames(c *x509.Certificate) []string {
	var out []string
	for _, u := range c.ExtKeyUsage {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, "serverAuth")
		case x509.ExtKeyUsageClientAuth:
			out = append(out, "clientAuth")
		case x509.ExtKeyUsageEmailProtection:
			out = append(out, "emailProtection")
		case x509.ExtKeyUsageCodeSigning:
			out = append(out, "codeSigning")
		case x509.ExtKeyUsageAny:
			out = append(out, "anyExtendedKeyUsage")
		default:
			out = append(out, fmt.Sprintf("usage %d", u))
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, oid.String())
	}
	return out
}
