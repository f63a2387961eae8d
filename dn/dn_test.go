package dn

import (
	"bytes"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// The real IGC-Santé names parse with their two OUs apart and their string
// types, and re-encode byte for byte.
func TestRealIGCSanteNames(t *testing.T) {
	for _, tc := range []struct {
		file, subject string
	}{
		{"ACI-EL-ORG-TEST.cer", "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"},
		{"ACR-EL.cer", "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=AC RACINE IGC-SANTE ELEMENTAIRE"},
		{"samples/TEST-ORG-SIGN-2021.pem", "C=FR, ST=Côte-d'Or (21), O=MINISTERE DE TEST7708, OU=300000000077081, CN=testsign.test.asipsante.fr"},
	} {
		c := testpki.Reference(t, tc.file)
		n, err := Parse(c.RawSubject)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if got := n.String(); got != tc.subject {
			t.Errorf("%s: subject\n got %s\nwant %s", tc.file, got, tc.subject)
		}
		if n[0][0].StringType != PrintableString {
			t.Errorf("%s: C is a %s", tc.file, n[0][0].StringType)
		}
		for _, rdn := range n[1:] {
			if rdn[0].StringType != UTF8String {
				t.Errorf("%s: %s is a %s, want UTF8String", tc.file, rdn[0].Type, rdn[0].StringType)
			}
		}
		der, err := Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(der, c.RawSubject) {
			t.Errorf("%s: re-encoded subject differs", tc.file)
		}
		if ous := n.Values("OU"); len(ous) != 2 && tc.file != "samples/TEST-ORG-SIGN-2021.pem" {
			t.Errorf("%s: OUs %q", tc.file, ous)
		}
	}
}

// Default string types: C printable, the rest UTF-8; Go's x509 reads the
// result back with the OUs as two values.
func TestMarshalDefaults(t *testing.T) {
	n := Attrs([2]string{"C", "FR"}, [2]string{"O", "LAB"}, [2]string{"OU", "0002 1"}, [2]string{"OU", "IGC-SANTE LAB"}, [2]string{"CN", "x"})
	der, err := Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != n.String() || back[0][0].StringType != PrintableString || back[2][0].StringType != UTF8String {
		t.Errorf("round trip: %s %+v", back, back)
	}
	if _, err := Marshal(Attrs([2]string{"C", "Fé"})); err == nil {
		t.Error("non-printable country accepted")
	}
	if _, err := Marshal(Attrs([2]string{"XX", "a"})); err == nil {
		t.Error("unknown attribute type accepted")
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	for _, in := range [][]byte{nil, {0x30}, {0x30, 0x03, 0x02, 0x01, 0x00}, {0x31, 0x00}, {0x30, 0x00, 0x00},
		{0x30, 0x05, 0x31, 0x03, 0x30, 0x01, 0x00}} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%x) accepted", in)
		}
	}
}

func TestEscape(t *testing.T) {
	n := Attrs([2]string{"O", "Hôpital, Nord + Sud"}, [2]string{"CN", " a"})
	if got, want := n.String(), `O=Hôpital\, Nord \+ Sud, CN=\ a`; got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"ACR-EL.cer", "ACI-EL-ORG-TEST.cer"} {
		data, err := os.ReadFile(filepath.Join("..", "testdata", "reference", "igc-sante", name))
		if err != nil {
			f.Fatal(err)
		}
		c, err := x509.ParseCertificate(data)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.RawSubject)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		n, err := Parse(der)
		if err != nil {
			return
		}
		_ = n.String()
	})
}
