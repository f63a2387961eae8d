package check_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
)

// BenchmarkCRLLookup is one certificate checked against a CRL of 100,000 entries, as a
// scan of a CA's certificates does for each: the serials are indexed and the CRL's
// signature checked once, so the cost does not grow with the CRL.
func BenchmarkCRLLookup(b *testing.B) {
	ca := newCRLCA(b, "Bench CA")
	entries := make([]x509.RevocationListEntry, 100_000)
	for i := range entries {
		entries[i] = x509.RevocationListEntry{SerialNumber: big.NewInt(int64(1_000_000 + i)), RevocationTime: crlNow.Add(-time.Hour)}
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: crlNow.Add(-time.Hour),
		NextUpdate: crlNow.AddDate(0, 0, 7), RevokedCertificateEntries: entries}, ca.cert, ca.key)
	if err != nil {
		b.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		b.Fatal(err)
	}
	engine := check.NewRevocationEngine(check.RevocationOptions{CRLs: []check.NamedCRL{{Name: "big.crl", CRL: crl}}})
	good, revoked := ca.leaf(b, 42), ca.leaf(b, 1_050_000)
	ctx := context.Background()
	if r := engine.CheckRevocation(ctx, revoked, ca.cert, crlNow); r.Status != check.RevocationRevoked {
		b.Fatalf("%+v", r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := engine.CheckRevocation(ctx, good, ca.cert, crlNow); r.Status != check.RevocationGood {
			b.Fatalf("%+v", r)
		}
	}
}
