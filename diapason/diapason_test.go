package diapason

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"
	"time"
)

// The fingerprints of DESIGN.md §7, pinned so a swapped embedded file fails.
func TestEmbeddedCAFingerprints(t *testing.T) {
	want := map[string]string{
		"ACR-EL.cer":          "2D:9E:22:CA:19:F7:77:C6:B7:45:25:7C:72:3E:CB:8D:F3:C3:5F:A6:F1:F6:EC:36:B8:36:00:C9:73:46:96:7F",
		"ACI-EL-ORG.cer":      "D8:34:EE:5B:40:68:6B:73:57:3F:60:54:7B:F6:05:2C:6D:40:4D:94:2A:56:65:CD:B2:C0:B9:13:7B:5D:27:B2",
		"ACR-EL-TEST.cer":     "01:32:5A:EB:19:38:71:EE:C9:0F:A8:95:56:80:4E:41:85:CB:36:2E:0C:A8:7A:3D:79:93:9C:71:18:6D:A8:05",
		"ACI-EL-ORG-TEST.cer": "DC:52:8E:37:88:69:1B:3F:79:50:16:40:76:F9:5B:02:C6:43:34:C6:86:62:BD:ED:E5:75:0B:4E:0E:53:38:F6",
	}
	cas := IGCSanteCAs()
	if len(cas) != len(want) {
		t.Fatalf("got %d embedded CAs, want %d", len(cas), len(want))
	}
	for _, ca := range cas {
		if ca.SHA256 != want[ca.File] {
			t.Errorf("%s: sha256 %s, want %s", ca.File, ca.SHA256, want[ca.File])
		}
		if !ca.Cert.IsCA {
			t.Errorf("%s: not a CA certificate", ca.File)
		}
		if got := HierarchyOf(ca.Cert); got != ca.Hierarchy {
			t.Errorf("%s: HierarchyOf = %s, want %s", ca.File, got, ca.Hierarchy)
		}
		selfSigned := ca.Cert.CheckSignatureFrom(ca.Cert) == nil
		if selfSigned != ca.Root {
			t.Errorf("%s: self-signed %v, root %v", ca.File, selfSigned, ca.Root)
		}
	}
	// Intermediates are signed by the root of their own hierarchy.
	if err := cas[1].Cert.CheckSignatureFrom(cas[0].Cert); err != nil {
		t.Errorf("production intermediate not signed by production root: %v", err)
	}
	if err := cas[3].Cert.CheckSignatureFrom(cas[2].Cert); err != nil {
		t.Errorf("TEST intermediate not signed by TEST root: %v", err)
	}
}

// The embedded copies are the reference files, byte for byte.
func TestEmbeddedMatchesReference(t *testing.T) {
	for _, e := range igcEmbedded {
		ref, err := os.ReadFile("../testdata/reference/igc-sante/" + e.file)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := igcFiles.ReadFile("igcsante/" + e.file)
		if string(got) != string(ref) {
			t.Errorf("%s differs from the reference copy", e.file)
		}
	}
}

func TestHierarchyOfRealTestSample(t *testing.T) {
	data, err := os.ReadFile("../testdata/reference/igc-sante/samples/TEST-ORG-SIGN-2021.pem")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("sample is not PEM")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if h := HierarchyOf(c); h != HierarchyTest {
		t.Errorf("TEST sample placed in %s", h)
	}
	if err := c.CheckSignatureFrom(IGCSanteCAs()[3].Cert); err != nil {
		t.Errorf("TEST sample not signed by the embedded TEST intermediate: %v", err)
	}
}

func TestHierarchyOfOther(t *testing.T) {
	c := &x509.Certificate{}
	c.Issuer.Organization = []string{"ASIP-SANTE"}
	c.Issuer.OrganizationalUnit = []string{"SOMETHING"}
	if h := HierarchyOf(c); h != HierarchyOther {
		t.Errorf("got %s, want other", h)
	}
	c.Policies = []x509.OID{LabPolicyOID}
	if h := HierarchyOf(c); h != HierarchyLab {
		t.Errorf("lab marker: got %s, want lab", h)
	}
}

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Period
		ok   bool
	}{
		{"30d", Period{Days: 30}, true},
		{"3y", Period{Years: 3}, true},
		{"12h", Period{Hours: 12}, true},
		{"2w", Period{Days: 14}, true},
		{" 30D ", Period{Days: 30}, true},
		{"0d", Period{}, true},
		{"90m", Period{}, false},
		{"120m", Period{Hours: 2}, true},
		{"", Period{}, false},
		{"d", Period{}, false},
		{"-3d", Period{}, false},
		{"3x", Period{}, false},
		{"1.5y", Period{}, false},
	} {
		got, err := ParsePeriod(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePeriod(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && tc.want != (Period{}) {
			back, _ := ParsePeriod(got.String())
			if back != got {
				t.Errorf("%v does not round-trip through %q", got, got.String())
			}
		}
	}
}

func TestWithinTerm(t *testing.T) {
	nb := time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		notAfter time.Time
		want     bool
	}{
		{nb.AddDate(3, 0, 0), true},
		{nb.AddDate(3, 0, 1), true},
		{nb.AddDate(3, 0, 1).Add(time.Second), false},
		{nb.AddDate(10, 0, 0), false},
	} {
		if got := WithinTerm(nb, tc.notAfter, CertificateTerm); got != tc.want {
			t.Errorf("WithinTerm(%v, %v) = %v", nb, tc.notAfter, got)
		}
	}
}

func TestLookupSuite(t *testing.T) {
	for _, tc := range []struct {
		in    string
		id    uint16
		alias bool
		ok    bool
	}{
		{"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA256", 0xC028, true, true},
		{"tls_ecdhe_rsa_with_aes_256_cbc_sha384", 0xC028, false, true},
		{"ECDHE-RSA-AES256-SHA384", 0xC028, false, true},
		{"ECDHE-RSA-AES128-SHA256", 0xC027, false, true},
		{"0xc027", 0xC027, false, true},
		{"0xC030", 0xC030, false, true},
		{"ECDHE-RSA-AES128-SHA", 0xC013, false, true},
		{"0x1301", 0, false, false},
		{"AES256-SHA", 0, false, false},
	} {
		s, alias, err := LookupSuite(tc.in)
		if (err == nil) != tc.ok || s.ID != tc.id || alias != tc.alias {
			t.Errorf("LookupSuite(%q) = %#04x alias=%v err=%v", tc.in, s.ID, alias, err)
		}
	}
	if DiapasonSuites[0] != 0xC028 || DiapasonSuites[1] != 0xC027 || len(DiapasonSuites) != 2 {
		t.Errorf("Diapason policy changed: %#v", DiapasonSuites)
	}
}

func TestProfilesAndLinks(t *testing.T) {
	p := MustProfile(PSPClient)
	if p.PlatformValue("ignored.example.fr") != "Client_Diapason_PSP" || !p.IGCSante || p.Term != CertificateTerm {
		t.Errorf("psp-client profile wrong: %+v", p)
	}
	s := MustProfile(TPEServer)
	if s.PlatformValue("gap.chu-exemple.fr") != "gap.chu-exemple.fr" || !s.CNIsFQDN || s.EKUName() != "serverAuth" {
		t.Errorf("tpe-server profile wrong: %+v", s)
	}
	if _, err := LookupProfile("nope"); err == nil {
		t.Error("unknown profile accepted")
	}
	for _, l := range Links() {
		if !l.ClientRevocationRequired || l.ServerRevocationRequired || l.Version != VersionTLS12 {
			t.Errorf("link %s policy wrong: %+v", l.ID, l)
		}
	}
	if l := LookupLink(LinkTPE); l.Server != TPEServer || l.Client != TPEClient {
		t.Errorf("tpe link wrong: %+v", l)
	}
}
