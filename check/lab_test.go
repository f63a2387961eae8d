package check_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
	"github.com/diapason-cert/diapason-cert/lab"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// testLab is made once: a lab holds ten RSA keys.
var testLab = sync.OnceValues(func() (*lab.Lab, error) {
	return lab.New(lab.Options{Now: now.AddDate(0, -1, 0), KeyCache: "check"})
})

func getLab(t *testing.T) *lab.Lab {
	t.Helper()
	l, err := testLab()
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func labChecker(l *lab.Lab, profile diapason.ProfileID, fqdn string) *check.Checker {
	return check.NewChecker(check.Options{Profile: profile, FQDN: fqdn, Warn: diapason.WarnWindow, Now: now,
		Chains: check.NewChainBuilder(check.ChainOptions{Anchors: l.Anchors(), Intermediates: l.Intermediates()})})
}

func slugs(fs []check.Finding) map[string]check.Level {
	m := map[string]check.Level{}
	for _, f := range fs {
		m[f.Slug] = f.Level
	}
	return m
}

// Every lab credential is recognised in its role and, checked against the lab's
// anchors, is clean but for the lab info.
func TestLabCredentialsClean(t *testing.T) {
	l := getLab(t)
	for _, tc := range []struct {
		role lab.Role
		want check.Role
		fqdn string
	}{
		{lab.RoleGAPClient, check.RoleGAPClient, ""},
		{lab.RoleGAPServer, check.RoleGAPServer, l.FQDN()},
		{lab.RoleTPEClient, check.RoleTPEClient, ""},
		{lab.RolePSPServer, check.RolePSPServer, lab.PSPFQDN},
	} {
		cred := l.Credential(tc.role)
		rep := labChecker(l, "", tc.fqdn).CheckCertificate(context.Background(), cred.Cert, nil)
		if rep.Role != tc.want || rep.Profile != cred.Profile || rep.Hierarchy != diapason.HierarchyLab {
			t.Errorf("%s: role %s profile %s hierarchy %s", tc.role, rep.Role, rep.Profile, rep.Hierarchy)
		}
		if got := slugs(rep.Findings); !maps.Equal(got, map[string]check.Level{"lab-certificate": check.Info}) {
			t.Errorf("%s: %v", tc.role, rep.Findings)
		}
		if rep.Chain.Status != check.ChainTrusted || len(rep.Chain.Certificates) != len(cred.Chain)+1 {
			t.Errorf("%s: chain %s of %d", tc.role, rep.Chain.Status, len(rep.Chain.Certificates))
		}
	}
}

// Defective certificates issued by the lab's own CAs trigger their findings.
func TestLabDefects(t *testing.T) {
	l := getLab(t)
	org := l.CA(lab.CAIGCOrg)
	gapServer := l.Credential(lab.RoleGAPServer)
	issue := func(mutate func(*x509.Certificate)) *x509.Certificate {
		t.Helper()
		tmpl := &x509.Certificate{
			SerialNumber: gapServer.Cert.SerialNumber, RawSubject: gapServer.Cert.RawSubject,
			DNSNames: gapServer.Cert.DNSNames, NotBefore: gapServer.Cert.NotBefore, NotAfter: gapServer.Cert.NotAfter,
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			Policies: []x509.OID{diapason.LabPolicyOID},
		}
		mutate(tmpl)
		return testpki.Sign(t, tmpl, org.Cert, gapServer.Key.Public(), org.Key)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*x509.Certificate)
		want   string
		level  check.Level
	}{
		{"expired", func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(-3, 0, -2), now.AddDate(0, 0, -2) }, "expired", check.Fail},
		{"expiring", func(c *x509.Certificate) { c.NotBefore, c.NotAfter = now.AddDate(-3, 0, 20), now.AddDate(0, 0, 20) }, "expiring", check.Warn},
		{"longer than 3 years", func(c *x509.Certificate) { c.NotAfter = c.NotBefore.AddDate(5, 0, 0) }, "term-exceeded", check.Warn},
		{"client EKU", func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth} }, "eku-mismatch", check.Fail},
		{"no digitalSignature", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment }, "key-usage-mismatch", check.Fail},
		{"SAN of another host", func(c *x509.Certificate) { c.DNSNames = []string{"autre.lab.test"} }, "san-mismatch", check.Fail},
		{"no SAN", func(c *x509.Certificate) { c.DNSNames = nil }, "san-missing", check.Warn},
	} {
		rep := labChecker(l, diapason.TPEServer, l.FQDN()).CheckCertificate(context.Background(), issue(tc.mutate), nil)
		want := map[string]check.Level{tc.want: tc.level, "lab-certificate": check.Info}
		if got := slugs(rep.Findings); !maps.Equal(got, want) {
			t.Errorf("%s: %v", tc.name, rep.Findings)
		}
	}
	// The GAP server certificate checked for another FQDN.
	rep := labChecker(l, diapason.TPEServer, "gap.autre.test").CheckCertificate(context.Background(), gapServer.Cert, nil)
	if got := slugs(rep.Findings); got["cn-mismatch"] != check.Fail || got["san-mismatch"] != check.Fail {
		t.Errorf("other FQDN: %v", rep.Findings)
	}
	// The GAP client certificate checked against the production hierarchy.
	prodRoot := diapason.IGCSanteCAs()[0].Cert
	k := check.NewChecker(check.Options{Warn: diapason.WarnWindow, Now: now,
		Chains: check.NewChainBuilder(check.ChainOptions{Anchors: []*x509.Certificate{prodRoot}})})
	rep = k.CheckCertificate(context.Background(), l.Credential(lab.RoleGAPClient).Cert, l.Credential(lab.RoleGAPClient).Chain)
	if got := slugs(rep.Findings); got["hierarchy-mix"] != check.Fail || got["chain-untrusted"] != check.Fail {
		t.Errorf("lab certificate against production: %v", rep.Findings)
	}
	// A lab CSR signed with a wrong CN for the client profile.
	client := l.Credential(lab.RoleGAPClient)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "gap.lab.test"}, DNSNames: []string{"gap.lab.test"}}, client.Key)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := x509.ParseCertificateRequest(csrDER)
	cert, err := l.Sign(req, diapason.TPEServer, now.AddDate(0, -1, 0), now.AddDate(2, 11, 0))
	if err != nil {
		t.Fatal(err)
	}
	rep = labChecker(l, diapason.PSPClient, "").CheckCertificate(context.Background(), cert, nil)
	if got := slugs(rep.Findings); got["cn-mismatch"] != check.Fail || got["eku-mismatch"] != check.Fail {
		t.Errorf("server certificate checked as the client one: %v", rep.Findings)
	}
}
