package check

import (
	"context"
	"testing"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// FuzzCheckData feeds arbitrary bytes through decoding, inspection, chain building and
// findings: whatever the input, a report comes back, never a panic, and it is coherent.
// The seeds are ECDSA-signed chains: under the fuzzer's instrumentation an RSA-4096
// verification, as the real IGC-Santé CAs need, takes seconds (certio's fuzz targets
// have the real files as seeds).
func FuzzCheckData(f *testing.F) {
	root := newRoot(f, "Root")
	inter := root.sub(f, "Inter")
	tmpl := leafTemplate("gap.chu-exemple.fr")
	tmpl.CRLDistributionPoints = []string{"http://pki.example/inter.crl", "ldap://pki.example/cn=Inter"}
	tmpl.IssuingCertificateURL = []string{"http://pki.example/inter.cer"}
	leaf := inter.issue(f, tmpl, testpki.ECKey(f).Public())
	f.Add(pemOf(leaf, inter.cert, root.cert))
	f.Add(pemOf(root.cert, leaf))
	f.Add(leaf.Raw)
	f.Add(inter.cert.Raw)
	full := pemOf(leaf)
	f.Add(full[:len(full)/2])
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte("not a certificate"))

	k := NewChecker(Options{Warn: diapason.WarnWindow, Now: testNow})
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := k.CheckData(context.Background(), "fuzz", data, true)
		if rep.File != "fuzz" {
			t.Fatalf("file %q", rep.File)
		}
		if rep.Error != "" && (len(rep.Certificates) > 0 || len(rep.Items) > 0) {
			t.Fatalf("an error report with content: %+v", rep)
		}
		for _, c := range rep.Certificates {
			if c.Findings == nil || c.SHA256 == "" || c.Cert == nil {
				t.Fatalf("incomplete certificate report: %+v", c)
			}
			if c.Chain != nil && (len(c.Chain.Certificates) == 0 || c.Chain.Certificates[0].Cert != c.Cert) {
				t.Fatalf("chain does not start at its certificate: %+v", c.Chain)
			}
		}
	})
}
