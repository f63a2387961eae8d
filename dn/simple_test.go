package dn

import (
	"reflect"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// The fast path and encoding/asn1 agree on every input: the same name, or the fast
// path steps aside and encoding/asn1 gives its answer.
func FuzzParseSimple(f *testing.F) {
	for _, name := range []string{"ACR-EL.cer", "ACI-EL-ORG-TEST.cer", "samples/TEST-ORG-SIGN-2021.pem"} {
		c := testpki.Reference(f, name)
		f.Add(c.RawSubject)
		f.Add(c.RawIssuer)
	}
	for _, der := range [][]byte{
		{0x30, 0x00},
		{0x30, 0x0b, 0x31, 0x09, 0x30, 0x07, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x00},                   // CN=""
		{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x33, 0x01, 0x41},             // constructed PrintableString
		{0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03, 0x55, 0x04, 0x03, 0x1e, 0x01, 0x41},             // odd BMPString
		{0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x05, 0x80, 0x81, 0x82, 0x83, 0x01, 0x0c, 0x01, 0x41}, // non-minimal OID
		{0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, 0xc3, 0x28},       // invalid UTF-8
		{0x30, 0x02, 0x31, 0x00},
	} {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		want, werr := parseASN1(der)
		got, gerr := Parse(der)
		if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) || !reflect.DeepEqual(want, got) {
			t.Fatalf("Parse(%x) = %v, %v; encoding/asn1 says %v, %v", der, got, gerr, want, werr)
		}
		if n, ok := parseSimple(der); ok && !reflect.DeepEqual(n, want) {
			t.Fatalf("fast path %v, encoding/asn1 %v", n, want)
		}
	})
}

// Real names take the fast path.
func TestParseSimpleTakesRealNames(t *testing.T) {
	for _, name := range []string{"ACR-EL.cer", "ACI-EL-ORG.cer", "ACR-EL-TEST.cer", "ACI-EL-ORG-TEST.cer", "samples/TEST-ORG-SIGN-2021.pem"} {
		c := testpki.Reference(t, name)
		for _, raw := range [][]byte{c.RawSubject, c.RawIssuer} {
			if _, ok := parseSimple(raw); !ok {
				t.Errorf("%s: %x left to encoding/asn1", name, raw)
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	c := testpki.Reference(b, "ACI-EL-ORG.cer")
	b.Run("simple", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Parse(c.RawSubject); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("asn1", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseASN1(c.RawSubject); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// escapeLoop is escape without its shortcut, as it was first written.
func escapeLoop(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case strings.ContainsRune(",+\"\\<>;", r),
			r == '#' && i == 0,
			r == ' ' && (i == 0 || i == len(v)-1):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzEscapeShortcut(f *testing.F) {
	for _, s := range []string{"", "ASIP-SANTE", " lead", "trail ", "#1", "a,b", "a+b", "\xff\xfe", "Côte-d'Or (21)", "x\\y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := escape(v), escapeLoop(v); got != want {
			t.Fatalf("escape(%q) = %q, want %q", v, got, want)
		}
	})
}
