package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
)

func TestSignProfiles(t *testing.T) {
	l := freshLab(t, Options{})
	for _, tc := range []struct {
		profile diapason.ProfileID
		cn      string
		sans    []string
		ku      x509.KeyUsage
		eku     x509.ExtKeyUsage
		issuer  CAName
	}{
		{diapason.PSPClient, diapason.ClientDiapasonPSP, nil, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth, CAIGCOrg},
		{diapason.TPEServer, "gap.chu-exemple.fr", []string{"gap.chu-exemple.fr"}, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageServerAuth, CAIGCOrg},
		// A server CSR without SAN gets the FQDN as SAN all the same.
		{diapason.TPEServer, "gap2.chu-exemple.fr", nil, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageServerAuth, CAIGCOrg},
		{diapason.TPEClient, "LAB TPE 1234", nil, x509.KeyUsageDigitalSignature, x509.ExtKeyUsageClientAuth, CAIngeTrust},
		{diapason.PSPServer, "psp2.lab.test", nil, x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, x509.ExtKeyUsageServerAuth, CAGeoTrustCA},
	} {
		req := testCSR(t, "csr", tc.cn, tc.sans...)
		nb := testNow.Add(-time.Hour)
		na := NotAfter(tc.profile, nb)
		c, err := l.Sign(req, tc.profile, nb, na)
		if err != nil {
			t.Errorf("%s: %v", tc.profile, err)
			continue
		}
		if tc.profile == diapason.PSPClient || tc.profile == diapason.TPEServer {
			// Exactly 3 calendar years, as IGC-Santé issues.
			if !c.NotAfter.Equal(c.NotBefore.AddDate(3, 0, 0)) || !c.NotBefore.Equal(nb) {
				t.Errorf("%s: %v – %v is not 3 calendar years from %v", tc.profile, c.NotBefore, c.NotAfter, nb)
			}
			if got := c.Subject.Organization; !slices.Equal(got, []string{labStructure.Organisation}) {
				t.Errorf("%s: O %v; the platform writes the structure's own", tc.profile, got)
			}
		}
		if c.Subject.CommonName != tc.cn || c.KeyUsage != tc.ku || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{tc.eku}) {
			t.Errorf("%s: CN %q KU %b EKU %v", tc.profile, c.Subject.CommonName, c.KeyUsage, c.ExtKeyUsage)
		}
		wantSAN := []string(nil)
		if tc.eku == x509.ExtKeyUsageServerAuth {
			wantSAN = []string{tc.cn}
		}
		if !slices.Equal(c.DNSNames, wantSAN) {
			t.Errorf("%s: SANs %v, want %v", tc.profile, c.DNSNames, wantSAN)
		}
		if ca, ok := l.IssuerOf(c); !ok || ca.Name != tc.issuer {
			t.Errorf("%s: issued by %q, want %s", tc.profile, ca.Name, tc.issuer)
		}
		if diapason.HierarchyOf(c) != diapason.HierarchyLab {
			t.Errorf("%s: not marked lab", tc.profile)
		}
		if !c.PublicKey.(*rsa.PublicKey).Equal(req.PublicKey) {
			t.Errorf("%s: the certificate does not hold the CSR's key", tc.profile)
		}
		issued := l.IssuedCertificates()
		if last := issued[len(issued)-1]; last.Serial != SerialString(c.SerialNumber) || last.Profile != tc.profile || last.CA != tc.issuer {
			t.Errorf("%s: index entry %+v", tc.profile, last)
		}
	}
}

func TestSignBackdatedAndExpired(t *testing.T) {
	l := freshLab(t, Options{})
	req := testCSR(t, "csr", diapason.ClientDiapasonPSP)
	// Expires in 10 days with a full 3-year term: inside the 30-day warning.
	na := testNow.AddDate(0, 0, 10)
	c, err := l.Sign(req, diapason.PSPClient, diapason.CertificateTerm.SubFrom(na), na)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: l.Roots(), Intermediates: l.IntermediatePool(), CurrentTime: testNow,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("a back-dated certificate inside its CA's validity does not verify: %v", err)
	}
	// Expired yesterday.
	c, err = l.Sign(req, diapason.PSPClient, testNow.AddDate(-3, 0, -1), testNow.AddDate(0, 0, -1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: l.Roots(), Intermediates: l.IntermediatePool(), CurrentTime: testNow,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Error("an expired certificate verifies")
	}
	if _, err := l.Sign(req, diapason.PSPClient, testNow, testNow); err == nil {
		t.Error("an empty validity accepted")
	}
}

func TestSignRefusals(t *testing.T) {
	l := freshLab(t, Options{})
	good := testCSR(t, "csr", "gap.chu-exemple.fr", "gap.chu-exemple.fr")
	tampered := *good
	tampered.Signature = slices.Clone(good.Signature)
	tampered.Signature[10] ^= 0xff
	small, err := CachedKey("small", 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		req     *x509.CertificateRequest
		profile diapason.ProfileID
		want    string
	}{
		{"bad signature", &tampered, diapason.TPEServer, "signature does not verify"},
		{"server CSR as client", good, diapason.PSPClient, `requires the CN "Client_Diapason_PSP"`},
		{"client CSR as server", testCSR(t, "csr", diapason.ClientDiapasonPSP), diapason.TPEServer, "sign it with --profile psp-client"},
		{"client CSR with SANs", testCSR(t, "csr", diapason.ClientDiapasonPSP, "gap.chu-exemple.fr"), diapason.PSPClient, "identifies an organisation, not a host"},
		{"SAN differs from CN", testCSR(t, "csr", "gap.chu-exemple.fr", "www.chu-exemple.fr"), diapason.TPEServer, "differ from its CN"},
		{"CN not a host name", testCSR(t, "csr", "GAP Server"), diapason.TPEServer, "cannot be the server name"},
		{"wildcard", testCSR(t, "csr", "*.chu-exemple.fr"), diapason.TPEServer, "cannot be the server name"},
		{"small key", csrWith(t, small, "gap.chu-exemple.fr"), diapason.TPEServer, "1024 bits"},
		{"ECDSA key", csrWith(t, ec, "gap.chu-exemple.fr"), diapason.TPEServer, "not RSA"},
		{"terminal with host", testCSR(t, "csr", "TPE 1", "tpe.example.fr"), diapason.TPEClient, "names no host"},
	} {
		before := len(l.IssuedCertificates())
		_, err := l.Sign(tc.req, tc.profile, testNow, NotAfter(tc.profile, testNow))
		var re *RefusedError
		if !errors.As(err, &re) || !strings.Contains(err.Error()+" hint: "+re.Hint(), tc.want) {
			t.Errorf("%s: error %v, want a refusal saying %q", tc.name, err, tc.want)
		}
		if len(l.IssuedCertificates()) != before {
			t.Errorf("%s: a refused request was recorded", tc.name)
		}
	}
	if _, err := l.Sign(good, "nope", testNow, testNow.Add(time.Hour)); err == nil {
		t.Error("unknown profile accepted")
	}
}
