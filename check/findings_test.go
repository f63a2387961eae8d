package check

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

var smallRSAKey = func() func() *rsa.PrivateKey {
	var k *rsa.PrivateKey
	return func() *rsa.PrivateKey {
		if k == nil {
			var err error
			if k, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
				panic(err)
			}
		}
		return k
	}
}()

// Each case changes the clean GAP server certificate (or the options) in one way and
// must produce exactly the findings listed; the clean certificate produces none.
func TestFindingsEachTriggeredAlone(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	other := newRoot(t, "Other Root")
	const fqdn = "gap.chu-exemple.fr"

	type tc struct {
		name   string
		mutate func(*x509.Certificate)
		pub    crypto.PublicKey
		opts   func(*Options)
		given  func() []*x509.Certificate // default: the intermediate
		want   map[string]Level
	}
	for _, c := range []tc{
		{name: "clean", want: map[string]Level{}},
		{name: "expired", mutate: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = testNow.AddDate(-3, 0, 0), testNow.AddDate(0, 0, -1)
		}, want: map[string]Level{"expired": Fail}},
		{name: "not yet valid", mutate: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = testNow.AddDate(0, 0, 1), testNow.AddDate(3, 0, 0)
		}, want: map[string]Level{"not-yet-valid": Fail}},
		{name: "expiring", mutate: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = testNow.AddDate(-2, -11, 0), testNow.AddDate(0, 0, 10)
		}, want: map[string]Level{"expiring": Warn}},
		{name: "outside a narrower window", mutate: func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = testNow.AddDate(-2, -11, 0), testNow.AddDate(0, 0, 10)
		}, opts: func(o *Options) { o.Warn = diapason.Period{Days: 7} }, want: map[string]Level{}},
		{name: "beyond the 3-year term", mutate: func(c *x509.Certificate) {
			c.NotAfter = c.NotBefore.AddDate(3, 0, 2)
		}, want: map[string]Level{"term-exceeded": Warn}},
		{name: "CN is not the FQDN", mutate: func(c *x509.Certificate) {
			c.Subject.CommonName = "gap2.chu-exemple.fr"
			c.DNSNames = []string{"gap2.chu-exemple.fr", fqdn}
		}, want: map[string]Level{"cn-mismatch": Fail}},
		{name: "no SAN", mutate: func(c *x509.Certificate) { c.DNSNames = nil }, want: map[string]Level{"san-missing": Warn}},
		{name: "SAN differs", mutate: func(c *x509.Certificate) { c.DNSNames = []string{"www.chu-exemple.fr"} },
			want: map[string]Level{"san-mismatch": Fail}},
		{name: "EKU without serverAuth", mutate: func(c *x509.Certificate) {
			c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageEmailProtection}
		}, want: map[string]Level{"eku-mismatch": Fail}},
		{name: "no EKU allows any use", mutate: func(c *x509.Certificate) { c.ExtKeyUsage = nil }, want: map[string]Level{}},
		{name: "keyUsage without digitalSignature", mutate: func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment },
			want: map[string]Level{"key-usage-mismatch": Fail}},
		{name: "no keyUsage", mutate: func(c *x509.Certificate) { c.KeyUsage = 0 }, want: map[string]Level{}},
		{name: "ECDSA key", pub: testpki.ECKey(t).Public(), opts: func(o *Options) { o.Key = nil },
			want: map[string]Level{"key-not-rsa": Fail}},
		{name: "RSA 1024", pub: smallRSAKey().Public(), opts: func(o *Options) { o.Key = nil },
			want: map[string]Level{"key-too-small": Fail}},
		{name: "key mismatch", opts: func(o *Options) { o.Key = smallRSAKey().Public() }, want: map[string]Level{"key-mismatch": Fail}},
		{name: "lab certificate", mutate: func(c *x509.Certificate) { c.Policies = []x509.OID{diapason.LabPolicyOID} },
			want: map[string]Level{"lab-certificate": Info}},
		{name: "chain incomplete, anchors asked", given: func() []*x509.Certificate { return nil },
			want: map[string]Level{"chain-incomplete": Fail}},
		{name: "chain incomplete, no trust context", given: func() []*x509.Certificate { return nil },
			opts: func(o *Options) { o.Chains = NewChainBuilder(ChainOptions{}) }, want: map[string]Level{"chain-incomplete": Info}},
		{name: "chain untrusted", opts: func(o *Options) {
			o.Chains = NewChainBuilder(ChainOptions{Anchors: []*x509.Certificate{other.cert}})
		}, given: func() []*x509.Certificate { return []*x509.Certificate{inter.cert, root.cert} },
			want: map[string]Level{"chain-untrusted": Fail}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmpl := leafTemplate(fqdn)
			if c.mutate != nil {
				c.mutate(tmpl)
			}
			leaf := inter.issue(t, tmpl, c.pub)
			opts := Options{Profile: diapason.TPEServer, FQDN: fqdn, Key: testpki.SharedRSAKey().Public(), KeyName: "gap.key",
				Warn: diapason.WarnWindow, Now: testNow,
				Chains: NewChainBuilder(ChainOptions{Anchors: []*x509.Certificate{root.cert}})}
			if c.opts != nil {
				c.opts(&opts)
			}
			given := []*x509.Certificate{inter.cert}
			if c.given != nil {
				given = c.given()
			}
			rep := NewChecker(opts).CheckCertificate(context.Background(), leaf, given)
			if got := slugs(rep.Findings); !maps.Equal(got, c.want) {
				t.Errorf("findings %v, want %v:\n%v", got, c.want, rep.Findings)
			}
			for _, f := range rep.Findings {
				if !strings.Contains(f.Message, ":") && !strings.Contains(f.Message, ";") {
					t.Errorf("%s: no fix-it part in %q", f.Slug, f.Message)
				}
			}
		})
	}
}

func TestFindingsClientProfile(t *testing.T) {
	root := newRoot(t, "Root")
	tmpl := leafTemplate("Client_Diapason_PS")
	tmpl.DNSNames, tmpl.ExtKeyUsage = nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	leaf := root.issue(t, tmpl, nil)
	k := NewChecker(Options{Profile: diapason.PSPClient, Warn: diapason.WarnWindow, Now: testNow})
	rep := k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{root.cert})
	if got := slugs(rep.Findings); !maps.Equal(got, map[string]Level{"cn-mismatch": Fail}) {
		t.Errorf("%v", rep.Findings)
	}
	if !strings.Contains(rep.Findings[0].Message, `"Client_Diapason_PSP"`) {
		t.Errorf("message does not say the CN to use: %s", rep.Findings[0].Message)
	}
	tmpl = leafTemplate(diapason.ClientDiapasonPSP)
	tmpl.DNSNames, tmpl.ExtKeyUsage = nil, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	leaf = root.issue(t, tmpl, nil)
	rep = k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{root.cert})
	if got := slugs(rep.Findings); !maps.Equal(got, map[string]Level{"eku-mismatch": Fail}) || rep.Role != RoleGAPClient {
		t.Errorf("%s %v", rep.Role, rep.Findings)
	}
}

func TestFindingsProviderServer(t *testing.T) {
	root := newRoot(t, "Root")
	tmpl := leafTemplate("psp.example.com")
	tmpl.NotAfter = tmpl.NotBefore.AddDate(0, 13, 0) // the 3-year term is IGC-Santé's only
	leaf := root.issue(t, tmpl, nil)
	k := NewChecker(Options{Profile: diapason.PSPServer, FQDN: "psp.example.com", Warn: diapason.WarnWindow, Now: testNow})
	if rep := k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{root.cert}); len(rep.Findings) != 0 {
		t.Errorf("clean provider certificate: %v", rep.Findings)
	}
	k = NewChecker(Options{Profile: diapason.PSPServer, FQDN: "paiement.example.com", Warn: diapason.WarnWindow, Now: testNow})
	rep := k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{root.cert})
	if got := slugs(rep.Findings); !maps.Equal(got, map[string]Level{"san-mismatch": Fail}) {
		t.Errorf("%v", rep.Findings)
	}
	// Long terms are fine outside IGC-Santé: IngeTrust terminals get 10 years.
	tmpl = leafTemplate("LAB TPE 1")
	tmpl.DNSNames, tmpl.ExtKeyUsage = nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.NotAfter = tmpl.NotBefore.AddDate(10, 0, 0)
	leaf = root.issue(t, tmpl, nil)
	rep = NewChecker(Options{Warn: diapason.WarnWindow, Now: testNow}).CheckCertificate(context.Background(), leaf, []*x509.Certificate{root.cert})
	if len(rep.Findings) != 0 || rep.Role != RoleTPEClient || rep.Profile != diapason.TPEClient {
		t.Errorf("terminal certificate: %s %s %v", rep.Role, rep.Profile, rep.Findings)
	}
}

// The warning window applies to every certificate of the chain.
func TestFindingsChainValidity(t *testing.T) {
	root := newRoot(t, "Root")
	tmpl := caTemplate("Inter")
	tmpl.NotAfter = testNow.AddDate(0, 0, 5)
	key := testpki.ECKey(t)
	inter := &testCA{cert: root.issue(t, tmpl, key.Public()), key: key}
	leaf := inter.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)
	k := NewChecker(Options{Profile: diapason.TPEServer, Warn: diapason.WarnWindow, Now: testNow})
	rep := k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{inter.cert, root.cert})
	if got := slugs(rep.Findings); !maps.Equal(got, map[string]Level{"chain-expiring": Warn}) {
		t.Errorf("%v", rep.Findings)
	}
	if !strings.Contains(rep.Findings[0].Message, `"Inter"`) {
		t.Errorf("message does not name the CA: %s", rep.Findings[0].Message)
	}
	k = NewChecker(Options{Profile: diapason.TPEServer, Warn: diapason.WarnWindow, Now: testNow.AddDate(0, 0, 6)})
	rep = k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{inter.cert, root.cert})
	if got := slugs(rep.Findings); got["chain-expired"] != Fail {
		t.Errorf("%v", rep.Findings)
	}
	k = NewChecker(Options{Profile: diapason.TPEServer, Warn: diapason.WarnWindow, Now: testNow.AddDate(-3, 0, 0)})
	rep = k.CheckCertificate(context.Background(), leaf, []*x509.Certificate{inter.cert, root.cert})
	if got := slugs(rep.Findings); got["chain-not-yet-valid"] != Fail || got["not-yet-valid"] != Fail {
		t.Errorf("%v", rep.Findings)
	}
}

// The real IGC-Santé files: placed in their hierarchy, names as issued, the TEST sample
// expired at the fixed now and completed offline.
func TestRealIGCSanteFiles(t *testing.T) {
	k := NewChecker(Options{Warn: diapason.WarnWindow, Now: testNow})
	for _, tc := range []struct {
		file      string
		hierarchy diapason.Hierarchy
		role      Role
		subject   string
		want      []string
	}{
		{"ACR-EL.cer", diapason.HierarchyProduction, RoleCA,
			"C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=AC RACINE IGC-SANTE ELEMENTAIRE", nil},
		{"ACI-EL-ORG.cer", diapason.HierarchyProduction, RoleCA,
			"C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", nil},
		{"ACR-EL-TEST.cer", diapason.HierarchyTest, RoleCA,
			"C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC RACINE IGC-SANTE ELEMENTAIRE", nil},
		{"ACI-EL-ORG-TEST.cer", diapason.HierarchyTest, RoleCA,
			"C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", nil},
		{"samples/TEST-ORG-SIGN-2021.pem", diapason.HierarchyTest, RoleOther,
			"C=FR, ST=Côte-d'Or (21), O=MINISTERE DE TEST7708, OU=300000000077081, CN=testsign.test.asipsante.fr", []string{"expired"}},
	} {
		rep := k.CheckCertificate(context.Background(), testpki.Reference(t, tc.file), nil)
		if rep.Hierarchy != tc.hierarchy || rep.Role != tc.role || rep.Subject != tc.subject {
			t.Errorf("%s: %s %s %q", tc.file, rep.Hierarchy, rep.Role, rep.Subject)
		}
		if got := slices.Sorted(maps.Keys(slugs(rep.Findings))); !slices.Equal(got, tc.want) {
			t.Errorf("%s: findings %v", tc.file, rep.Findings)
		}
		if !rep.Chain.Complete() {
			t.Errorf("%s: chain %s", tc.file, rep.Chain.Status)
		}
		if len(rep.SubjectRDNs) != 5 {
			t.Errorf("%s: %d RDNs, want 5 (two OUs apart)", tc.file, len(rep.SubjectRDNs))
		}
	}
	sample := k.CheckCertificate(context.Background(), testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem"), nil)
	s := sample.Certificate
	if s.Serial != "1D5DE25E3DC14BDE0CE9F4FF56DC993E" || s.DaysLeft != -704 || s.Key.String() != "RSA 2048" ||
		s.SignatureAlgorithm != "SHA256-RSA" || !slices.Equal(s.KeyUsage, []string{"digitalSignature", "nonRepudiation"}) ||
		!slices.Equal(s.ExtKeyUsage, []string{"emailProtection"}) || s.OCSPURLs[0] != "http://ocsp.esante.gouv.fr" ||
		len(s.CRLURLs) != 2 || s.CAIssuerURLs[0] != "http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-EL-ORG-TEST.cer" ||
		s.AuthorityKeyID != "21:2E:84:7D:3B:1E:F5:12:DE:51:A2:21:5C:AE:93:A8:EF:5B:E3:F5" ||
		s.Issuer != "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" {
		t.Errorf("inspection of the TEST sample: %+v", s)
	}
	if st := sample.SubjectRDNs[1][0]; st.Type != "ST" || st.Value != "Côte-d'Or (21)" {
		t.Errorf("ST as issued: %+v", st)
	}
}

func TestRoleOf(t *testing.T) {
	igc := testpki.Reference(t, "ACI-EL-ORG.cer")
	for _, tc := range []struct {
		cn   string
		eku  []x509.ExtKeyUsage
		igc  bool
		want Role
	}{
		{"Client_Diapason_PSP", nil, false, RoleGAPClient},
		{"gap.chu.fr", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, true, RoleGAPServer},
		{"gap.chu.fr", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, true, RoleGAPServer},
		{"gap.chu.fr", nil, true, RoleGAPServer},
		{"Client_Diapason", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, true, RoleGAPClient},
		{"testsign.fr", []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, true, RoleOther},
		{"TPE 1", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, false, RoleTPEClient},
		{"psp.example.com", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, false, RolePSPServer},
		{"psp.example.com", nil, false, RoleOther},
	} {
		c := &x509.Certificate{ExtKeyUsage: tc.eku}
		c.Subject.CommonName = tc.cn
		if tc.igc {
			c.Issuer = igc.Subject
		}
		if got := RoleOf(c); got != tc.want {
			t.Errorf("%q %v igc=%v: %s, want %s", tc.cn, tc.eku, tc.igc, got, tc.want)
		}
	}
	if RoleGAPServer.Label() != "GAP server" || RoleCA.Label() != "CA" || RoleTPEClient.Profile() != diapason.TPEClient {
		t.Error("labels")
	}
}
