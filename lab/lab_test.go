package lab

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func TestEveryCertificateIsMarkedLab(t *testing.T) {
	l := readOnlyLab(t)
	for name, c := range allCerts(l) {
		if h := diapason.HierarchyOf(c); h != diapason.HierarchyLab {
			t.Errorf("%s: HierarchyOf = %s, want lab", name, h)
		}
		n, err := dn.Parse(c.RawSubject)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(n.String(), "LAB") {
			t.Errorf("%s: no LAB marker in the DN %s", name, n)
		}
	}
}

// shape is a name's RDN structure: per RDN, its attribute types and string types.
func shape(t *testing.T, raw []byte) []string {
	t.Helper()
	n, err := dn.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rdn := range n {
		var parts []string
		for _, a := range rdn {
			parts = append(parts, a.Type+":"+a.StringType)
		}
		out = append(out, strings.Join(parts, "+"))
	}
	return out
}

// The lab IGC-Santé CAs have the real DN shape: C PrintableString, O, two
// separate OU RDNs, CN, all UTF8String, as in ACI-EL-ORG-TEST.cer.
func TestIGCNamesHaveTheRealShape(t *testing.T) {
	l := readOnlyLab(t)
	for _, tc := range []struct {
		real string
		ca   CAName
	}{{"ACI-EL-ORG-TEST.cer", CAIGCOrg}, {"ACR-EL-TEST.cer", CAIGCRoot}} {
		real, ours := testpki.Reference(t, tc.real), l.CA(tc.ca).Cert
		if got, want := shape(t, ours.RawSubject), shape(t, real.RawSubject); !slices.Equal(got, want) {
			t.Errorf("%s subject shape %v, real %s %v", tc.ca, got, tc.real, want)
		}
		if got, want := shape(t, ours.RawIssuer), shape(t, real.RawIssuer); !slices.Equal(got, want) {
			t.Errorf("%s issuer shape %v, real %v", tc.ca, got, want)
		}
		if len(shape(t, ours.RawSubject)) != 5 {
			t.Errorf("%s: expected five RDNs (two OUs apart)", tc.ca)
		}
	}
	// End-entity certificates have the shape of the real TEST sample.
	sample := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	for _, r := range []Role{RoleGAPClient, RoleGAPServer} {
		c := l.Credential(r).Cert
		if got, want := shape(t, c.RawSubject), shape(t, sample.RawSubject); !slices.Equal(got, want) {
			t.Errorf("%s subject shape %v, real sample %v", r, got, want)
		}
	}
}

// The IGC-Santé-like certificates carry the extensions of the real sample.
func TestIGCExtensionsLikeTheRealSample(t *testing.T) {
	l := readOnlyLab(t)
	sample := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	oids := func(c *x509.Certificate) []string {
		var out []string
		for _, e := range c.Extensions {
			out = append(out, e.Id.String())
		}
		slices.Sort(out)
		return out
	}
	want := oids(sample)
	if got := oids(l.Credential(RoleGAPClient).Cert); !slices.Equal(got, want) {
		t.Errorf("gap-client extensions %v, real sample %v", got, want)
	}
	// The server certificate adds its DNS name.
	if got := oids(l.Credential(RoleGAPServer).Cert); !slices.Equal(got, slices.Sorted(slices.Values(append(slices.Clone(want), "2.5.29.17")))) {
		t.Errorf("gap-server extensions %v", got)
	}
	c := l.Credential(RoleGAPClient).Cert
	for _, e := range c.Extensions {
		switch {
		case e.Id.Equal(diapason.IGCSantePrivateExtensionOID):
			if e.Critical {
				t.Error("the private extension is critical")
			}
		case e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 15}):
			if !e.Critical {
				t.Error("keyUsage is not critical")
			}
		case e.Id.Equal(oidPrivateKeyUsagePeriod):
			var pkup struct {
				NotBefore time.Time `asn1:"generalized,optional,tag:0"`
				NotAfter  time.Time `asn1:"generalized,optional,tag:1"`
			}
			if _, err := asn1.Unmarshal(e.Value, &pkup); err != nil || !pkup.NotBefore.Equal(c.NotBefore) || !pkup.NotAfter.Equal(c.NotAfter) {
				t.Errorf("private key usage period %v–%v (%v), want the validity", pkup.NotBefore, pkup.NotAfter, err)
			}
		}
	}
	if len(c.CRLDistributionPoints) != 2 || !strings.HasPrefix(c.CRLDistributionPoints[0], "http://127.0.0.1:8880/crl/igc-org.crl") ||
		!strings.HasPrefix(c.CRLDistributionPoints[1], "ldap://") {
		t.Errorf("CRL distribution points %v: want the HTTP one then an LDAP one", c.CRLDistributionPoints)
	}
	if !slices.Equal(c.OCSPServer, []string{"http://127.0.0.1:8880/ocsp"}) || !slices.Equal(c.IssuingCertificateURL, []string{"http://127.0.0.1:8880/ca/igc-org.cer"}) {
		t.Errorf("AIA OCSP %v caIssuers %v", c.OCSPServer, c.IssuingCertificateURL)
	}
}

func TestProfileExtensionsAndValidity(t *testing.T) {
	l := readOnlyLab(t)
	for _, tc := range []struct {
		role     Role
		ku       x509.KeyUsage
		eku      x509.ExtKeyUsage
		cn, dns  string
		notAfter time.Time
	}{
		{RoleGAPClient, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth, diapason.ClientDiapasonPSP, "", testNow.AddDate(3, 0, 0)},
		{RoleGAPServer, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageServerAuth, DefaultFQDN, DefaultFQDN, testNow.AddDate(3, 0, 0)},
		{RoleTPEClient, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth, "LAB TPE 00000001", "", testNow.AddDate(10, 0, 0)},
		{RoleTPERevoked, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth, "LAB TPE 00000002", "", testNow.AddDate(10, 0, 0)},
		// Issued in November 2026: the 200-day maximum of ballot SC-081.
		{RolePSPServer, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageServerAuth, PSPFQDN, PSPFQDN, testNow.Add(200*24*time.Hour - time.Second)},
	} {
		cr := l.Credential(tc.role)
		c := cr.Cert
		if c.KeyUsage != tc.ku || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{tc.eku}) {
			t.Errorf("%s: keyUsage %b EKU %v", tc.role, c.KeyUsage, c.ExtKeyUsage)
		}
		if c.Subject.CommonName != tc.cn {
			t.Errorf("%s: CN %q, want %q", tc.role, c.Subject.CommonName, tc.cn)
		}
		if (tc.dns == "" && len(c.DNSNames) != 0) || (tc.dns != "" && !slices.Equal(c.DNSNames, []string{tc.dns})) {
			t.Errorf("%s: DNS names %v, want %q", tc.role, c.DNSNames, tc.dns)
		}
		if !c.NotBefore.Equal(testNow) || !c.NotAfter.Equal(tc.notAfter) {
			t.Errorf("%s: valid %v – %v, want %v – %v", tc.role, c.NotBefore, c.NotAfter, testNow, tc.notAfter)
		}
		if c.IsCA || !c.BasicConstraintsValid {
			t.Errorf("%s: not marked as an end entity", tc.role)
		}
		if k, ok := cr.Key.Public().(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 || !cr.Key.Public().(*rsa.PublicKey).Equal(c.PublicKey) {
			t.Errorf("%s: key is not the RSA 2048 key of the certificate", tc.role)
		}
		if c.SignatureAlgorithm != x509.SHA256WithRSA || len(c.SerialNumber.Bytes()) != 16 {
			t.Errorf("%s: %v, %d-byte serial", tc.role, c.SignatureAlgorithm, len(c.SerialNumber.Bytes()))
		}
		opts := x509.VerifyOptions{Roots: l.Roots(), Intermediates: l.IntermediatePool(), CurrentTime: testNow.Add(time.Hour),
			KeyUsages: []x509.ExtKeyUsage{tc.eku}, DNSName: tc.dns}
		chains, err := c.Verify(opts)
		if err != nil {
			t.Errorf("%s: Go does not verify it: %v", tc.role, err)
			continue
		}
		if got := chains[0][1:]; !slices.EqualFunc(got, cr.Chain, (*x509.Certificate).Equal) {
			t.Errorf("%s: the chain Go built is not Credential.Chain", tc.role)
		}
		if !cr.Anchor().Equal(chains[0][len(chains[0])-1]) {
			t.Errorf("%s: Anchor is not the root", tc.role)
		}
	}
	// Terminal certificates name no revocation source, as IngeTrust's real ones.
	if c := l.Credential(RoleTPEClient).Cert; len(c.CRLDistributionPoints)+len(c.OCSPServer) != 0 {
		t.Errorf("terminal certificate names revocation sources %v %v", c.CRLDistributionPoints, c.OCSPServer)
	}
	if c := l.Credential(RolePSPServer).Cert; len(c.CRLDistributionPoints) != 1 || len(c.OCSPServer) != 1 {
		t.Errorf("provider certificate lacks its CRL or OCSP address")
	}
}

func TestCAs(t *testing.T) {
	l := readOnlyLab(t)
	if got := len(l.Anchors()); got != 3 {
		t.Errorf("%d anchors, want 3 roots (IGC, IngeTrust, GeoTrust)", got)
	}
	if got := len(l.Intermediates()); got != 2 {
		t.Errorf("%d intermediates, want 2", got)
	}
	for _, n := range CANames() {
		ca := l.CA(n)
		if !ca.Cert.IsCA || ca.Cert.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
			t.Errorf("%s: not a CA with certSign and cRLSign", n)
		}
		if k := ca.Key.Public().(*rsa.PublicKey); k.N.BitLen() != DefaultCAKeySize {
			t.Errorf("%s: %d-bit key", n, k.N.BitLen())
		}
		if ca.CRL.Number.Int64() != 1 || ca.CRL.CheckSignatureFrom(ca.Cert) != nil || !ca.CRL.ThisUpdate.Equal(testNow) {
			t.Errorf("%s: first CRL wrong: number %v this update %v", n, ca.CRL.Number, ca.CRL.ThisUpdate)
		}
		if !ca.Cert.NotBefore.Before(testNow.AddDate(-3, 0, -30)) {
			t.Errorf("%s: starts %v, too late for back-dated 3-year certificates", n, ca.Cert.NotBefore)
		}
		if (ca.Parent == "") != (n == CAIGCRoot || n == CAIngeTrust || n == CAGeoTrustRoot) {
			t.Errorf("%s: parent %q", n, ca.Parent)
		}
	}
	if got := l.CA(CAIngeTrust).CRL.RevokedCertificateEntries; len(got) != 1 ||
		got[0].SerialNumber.Cmp(l.Credential(RoleTPERevoked).Cert.SerialNumber) != 0 || got[0].ReasonCode != 1 {
		t.Errorf("IngeTrust CRL entries %+v: want tpe-revoked, keyCompromise", got)
	}
	if l.CA("nope").Cert != nil || l.Credential("nope").Cert != nil {
		t.Error("unknown names answer")
	}
}

func TestNewOptions(t *testing.T) {
	l := freshLab(t, Options{FQDN: "gap.chu-exemple.fr", URL: "http://127.0.0.1:9/pki"})
	if l.URL() != "http://127.0.0.1:9/pki/" || l.FQDN() != "gap.chu-exemple.fr" {
		t.Errorf("url %q fqdn %q", l.URL(), l.FQDN())
	}
	c := l.Credential(RoleGAPServer).Cert
	if c.Subject.CommonName != "gap.chu-exemple.fr" || c.CRLDistributionPoints[0] != "http://127.0.0.1:9/pki/crl/igc-org.crl" {
		t.Errorf("CN %q CDP %v", c.Subject.CommonName, c.CRLDistributionPoints)
	}
	for _, o := range []Options{
		{Now: testNow, FQDN: "GAP.example.fr"},
		{Now: testNow, FQDN: "gap"},
		{Now: testNow, URL: "https://127.0.0.1/"},
		{Now: testNow, URL: "http:///x"},
		{Now: testNow, CAKeySize: 3072},
		{},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestCAKeySize4096(t *testing.T) {
	if testing.Short() {
		t.Skip("4096-bit keys take seconds to make")
	}
	l := freshLab(t, Options{CAKeySize: 4096})
	for _, n := range CANames() {
		if bits := l.CA(n).Key.Public().(*rsa.PublicKey).N.BitLen(); bits != 4096 {
			t.Errorf("%s: %d bits", n, bits)
		}
	}
	if bits := l.Credential(RoleGAPClient).Cert.PublicKey.(*rsa.PublicKey).N.BitLen(); bits != 2048 {
		t.Errorf("leaf key %d bits: IGC-Santé issues RSA 2048", bits)
	}
}

func TestNotAfterRules(t *testing.T) {
	leap := time.Date(2028, 2, 29, 10, 0, 0, 0, time.UTC)
	if got := NotAfter(diapason.TPEServer, leap); !got.Equal(leap.AddDate(3, 0, 0)) || !diapason.WithinTerm(leap, got, diapason.CertificateTerm) {
		t.Errorf("3 calendar years from %v: %v", leap, got)
	}
	for _, tc := range []struct {
		at   time.Time
		days int
	}{
		{time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), 398},
		{time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 200},
		{time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC), 100},
		{time.Date(2029, 3, 15, 0, 0, 0, 0, time.UTC), 47},
	} {
		if got := NotAfter(diapason.PSPServer, tc.at).Sub(tc.at) + time.Second; got != time.Duration(tc.days)*24*time.Hour {
			t.Errorf("public TLS validity at %v: %v, want %d days", tc.at, got, tc.days)
		}
	}
}
