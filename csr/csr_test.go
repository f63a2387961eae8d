package csr

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := GenerateKey(2048)
	if err != nil {
		panic(err)
	}
	return k
})

func TestNormaliseFQDN(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		reason   string // a fragment of the error when want is ""
	}{
		{"gap.chu-exemple.fr", "gap.chu-exemple.fr", ""},
		{"GAP.CHU-Exemple.FR.", "gap.chu-exemple.fr", ""},
		{"gap.hôpital-exemple.fr", "gap.xn--hpital-exemple-0ob.fr", ""},
		{"  gap.lab.test ", "gap.lab.test", ""},
		{"*.chu-exemple.fr", "", "habilitation"},
		{"*chu-exemple.fr", "", "wildcard"},
		{"192.168.1.10", "", "IP address"},
		{"::1", "", "IP address"},
		{"gap", "", "single label"},
		{"", "", "empty"},
		{"gap..chu.fr", "", "empty label"},
		{"gap_1.chu.fr", "", "underscore"},
		{"gap 1.chu.fr", "", "letters, digits and hyphens"},
		{"-gap.chu.fr", "", "hyphen"},
		{"https://gap.chu.fr", "", "without scheme"},
		{"gap.chu.fr:443", "", "without scheme, port"},
		{"gap.example.123", "", "numeric"},
		{strings.Repeat("a", 64) + ".fr", "", "longer than 63"},
		{strings.Repeat("a", 31) + "." + strings.Repeat("b", 30) + ".fr", "", "at most 64"},
	} {
		got, err := NormaliseFQDN(tc.in)
		if tc.want != "" {
			if err != nil || got != tc.want {
				t.Errorf("NormaliseFQDN(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormaliseFQDN(%q) = %q, want an error about %q", tc.in, got, tc.reason)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("NormaliseFQDN(%q) error %q does not say %q", tc.in, err, tc.reason)
		}
	}
}

func TestHabilitationFor(t *testing.T) {
	for _, tc := range []struct {
		fqdn, request string
		listed        bool
	}{
		{"gap.chu-exemple.fr", "*chu-exemple.fr", true},
		{"serveurx.domaineediteur.fr", "*domaineediteur.fr", true},
		{"a.b.hopital.gouv.fr", "*hopital.gouv.fr", true},
		{"gap.chu.co.uk", "*chu.co.uk", true},
		{"gap.xn--hpital-exemple-0ob.fr", "*xn--hpital-exemple-0ob.fr", true},
		{"gap.lab.test", "*lab.test", false},
	} {
		h, err := HabilitationFor(tc.fqdn)
		if err != nil || h.Request != tc.request || h.Listed != tc.listed {
			t.Errorf("HabilitationFor(%q) = %+v, %v; want %q listed=%v", tc.fqdn, h, err, tc.request, tc.listed)
		}
	}
	if _, err := HabilitationFor("gouv.fr"); err == nil {
		t.Error("a public suffix got a habilitation domain")
	}
}

func TestGenerateKeySizes(t *testing.T) {
	if _, err := GenerateKey(1024); err == nil || !strings.Contains(err.Error(), "2048") {
		t.Errorf("1024 bits: %v", err)
	}
}

func writePEM(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "req.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// openssl, which the project did not write, verifies the requests and
// reads back the exact subject and SAN.
func TestCreateVerifiedByOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	for _, tc := range []struct {
		profile diapason.ProfileID
		fqdn    string
		subject string
		san     string
	}{
		{diapason.PSPClient, "", "C=FR, ST=Côte-d'Or (21), O=CHU Exemple, OU=3123456789012345, CN=Client_Diapason_PSP", ""},
		{diapason.TPEServer, "gap.chu-exemple.fr", "C=FR, ST=Côte-d'Or (21), O=CHU Exemple, OU=3123456789012345, CN=gap.chu-exemple.fr", "DNS:gap.chu-exemple.fr"},
	} {
		der, err := Create(Request{
			Profile: diapason.MustProfile(tc.profile), FQDN: tc.fqdn, Key: testKey(),
			Subject: Subject{Organisation: "CHU Exemple", StructureID: "3123456789012345", State: "Côte-d'Or (21)"},
		})
		if err != nil {
			t.Fatal(err)
		}
		path := writePEM(t, "CERTIFICATE REQUEST", der)
		out, err := exec.Command("openssl", "req", "-in", path, "-noout", "-verify", "-text", "-nameopt", "utf8,sep_comma_plus_space").CombinedOutput()
		if err != nil {
			t.Fatalf("openssl req -verify: %v\n%s", err, out)
		}
		text := string(out)
		if !strings.Contains(text, "verify OK") {
			t.Errorf("%s: openssl did not verify:\n%s", tc.profile, text)
		}
		if !strings.Contains(text, "Subject: "+tc.subject+"\n") {
			t.Errorf("%s: subject not %q in:\n%s", tc.profile, tc.subject, text)
		}
		hasSAN := strings.Contains(text, "Subject Alternative Name")
		if (tc.san != "") != hasSAN || (tc.san != "" && !strings.Contains(text, tc.san)) {
			t.Errorf("%s: SAN %q expected, got:\n%s", tc.profile, tc.san, text)
		}
		if !strings.Contains(text, "sha256WithRSAEncryption") || !strings.Contains(text, "(2048 bit)") {
			t.Errorf("%s: not an RSA 2048 sha256 request:\n%s", tc.profile, text)
		}
	}
}

func TestCreateRefusesWrongKeys(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := Create(Request{Profile: diapason.MustProfile(diapason.PSPClient), Key: ec}); err == nil || !strings.Contains(err.Error(), "not RSA") {
		t.Errorf("ECDSA key: %v", err)
	}
	if _, err := Create(Request{Profile: diapason.MustProfile(diapason.TPEServer), Key: testKey()}); err == nil || !strings.Contains(err.Error(), "FQDN") {
		t.Errorf("server profile without FQDN: %v", err)
	}
}

func slugs(fs []check.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.Slug+":"+string(f.Level))
	}
	return strings.Join(s, " ")
}

func TestInspect(t *testing.T) {
	mk := func(cn string, sans []string) *x509.CertificateRequest {
		tmpl := &x509.CertificateRequest{DNSNames: sans}
		tmpl.Subject.Country = []string{"FR"}
		tmpl.Subject.OrganizationalUnit = []string{"3123"}
		tmpl.Subject.CommonName = cn
		der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, testKey())
		if err != nil {
			t.Fatal(err)
		}
		r, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		req     *x509.CertificateRequest
		profile diapason.ProfileID
		fqdn    string
		want    string
	}{
		{"clean client, detected", mk("Client_Diapason_PSP", nil), "", "", ""},
		{"clean server", mk("gap.chu.fr", []string{"gap.chu.fr"}), diapason.TPEServer, "gap.chu.fr", ""},
		{"client with wrong CN", mk("client_diapason_psp", nil), diapason.PSPClient, "", "cn-mismatch:fail"},
		{"client with SAN", mk("Client_Diapason_PSP", []string{"x.fr"}), "", "", "san-unexpected:warn"},
		{"server CN differs from fqdn", mk("gap.chu.fr", []string{"gap.chu.fr"}), diapason.TPEServer, "tpe.chu.fr", "cn-mismatch:fail"},
		{"server without SAN", mk("gap.chu.fr", nil), "", "", "san-missing:warn"},
		{"server SAN differs", mk("gap.chu.fr", []string{"www.chu.fr"}), "", "", "san-mismatch:fail"},
		{"server CN upper case", mk("GAP.chu.fr", []string{"GAP.chu.fr"}), "", "", "cn-not-normalised:fail"},
		{"server CN wildcard", mk("*.chu.fr", []string{"*.chu.fr"}), "", "", "cn-not-fqdn:fail"},
	} {
		rep, err := Inspect(tc.req, tc.profile, tc.fqdn)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := slugs(rep.Findings); got != tc.want {
			t.Errorf("%s: findings %q, want %q", tc.name, got, tc.want)
		}
		if !rep.SignatureValid || rep.Key.String() != "RSA 2048" {
			t.Errorf("%s: signature %v key %s", tc.name, rep.SignatureValid, rep.Key)
		}
	}
	// A tampered request: the signature no longer covers the subject.
	r := mk("Client_Diapason_PSP", nil)
	r.Signature[len(r.Signature)-1] ^= 1
	rep, err := Inspect(r, "", "")
	if err != nil || rep.SignatureValid || !strings.Contains(slugs(rep.Findings), "signature-invalid:fail") {
		t.Errorf("tampered request: %+v %v", rep.Findings, err)
	}
	if _, err := Inspect(r, diapason.TPEClient, ""); err == nil {
		t.Error("a terminal profile accepted for a request")
	}
}
