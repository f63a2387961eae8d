package bundle

import (
	"crypto/x509"
	"fmt"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// hierarchyFindings says which PKI the certificate belongs to, which check's
// findings leave to the chain: TEST certificates work with the test platforms
// only, and a profile of IGC-Santé needs an IGC-Santé certificate. Lab
// certificates get check's own lab-certificate finding.
func hierarchyFindings(leaf *x509.Certificate, p *diapason.Profile) []check.Finding {
	cn := leaf.Subject.CommonName
	one := func(slug string, level check.Level, format string, args ...any) []check.Finding {
		return []check.Finding{{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)}}
	}
	switch h := diapason.HierarchyOf(leaf); {
	case h == diapason.HierarchyTest:
		return one("hierarchy-test", check.Info, "%q is an IGC-Santé TEST certificate: it works with the test platforms only", cn)
	case h == diapason.HierarchyProduction:
		return one("hierarchy-production", check.Info, "%q is an IGC-Santé production certificate", cn)
	case h == diapason.HierarchyLab:
		return nil
	case p != nil && p.IGCSante:
		return one("hierarchy-unknown", check.Fail, "%q was not issued by IGC-Santé (issuer %s), but %s certificates are",
			cn, nameOf(leaf.RawIssuer, leaf.Issuer.String()), p.ID)
	case p == nil:
		return one("hierarchy-unknown", check.Info, "%q was not issued by IGC-Santé (issuer %s); give --expect psp-client or tpe-server to check it against a Diapason profile",
			cn, nameOf(leaf.RawIssuer, leaf.Issuer.String()))
	}
	return nil
}
