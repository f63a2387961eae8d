package check_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

var crlNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// crlCA is a CA made for these tests, with ECDSA keys: they cost nothing to make.
type crlCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newCRLCA(t testing.TB, cn string) crlCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: crlNow.AddDate(-1, 0, 0), NotAfter: crlNow.AddDate(5, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	cert := testpki.Sign(t, tmpl, tmpl, key.Public(), key)
	return crlCA{cert, key}
}

func (ca crlCA) leaf(t testing.TB, serial int64) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "LAB TPE 0001"},
		NotBefore: crlNow.AddDate(0, -1, 0), NotAfter: crlNow.AddDate(1, 0, 0)}
	return testpki.Sign(t, tmpl, ca.cert, key.Public(), ca.key)
}

func (ca crlCA) crl(t testing.TB, number int64, this, next time.Time, revoked ...int64) *x509.RevocationList {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: big.NewInt(s), RevocationTime: this.Add(-time.Hour), ReasonCode: 1})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(number), ThisUpdate: this, NextUpdate: next,
		RevokedCertificateEntries: entries}, ca.cert, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func TestCRLChecker(t *testing.T) {
	ca, other := newCRLCA(t, "IngeTrust-like CA"), newCRLCA(t, "Other CA")
	good, revoked := ca.leaf(t, 10), ca.leaf(t, 11)
	fresh := ca.crl(t, 2, crlNow.Add(-24*time.Hour), crlNow.AddDate(0, 0, 6), 11)
	stale := ca.crl(t, 1, crlNow.AddDate(0, 0, -20), crlNow.AddDate(0, 0, -13), 11)
	future := ca.crl(t, 3, crlNow.Add(time.Hour), crlNow.AddDate(0, 0, 7))
	// A CRL named like ca's but signed by another key: a forgery, or another CA of the same name.
	forged := other.crl(t, 9, crlNow.Add(-time.Hour), crlNow.AddDate(0, 0, 7))
	forged.RawIssuer = ca.cert.RawSubject

	cases := []struct {
		name  string
		crls  []check.NamedCRL
		cert  *x509.Certificate
		want  check.RevocationStatus
		words []string
	}{
		{"good", []check.NamedCRL{{"f.crl", fresh}}, good, check.RevocationGood, []string{"not revoked", "f.crl (number 2"}},
		{"revoked", []check.NamedCRL{{"f.crl", fresh}}, revoked, check.RevocationRevoked, []string{"serial 0B", "keyCompromise"}},
		{"the latest CRL decides", []check.NamedCRL{{"old.crl", stale}, {"f.crl", fresh}}, good, check.RevocationGood, []string{"f.crl"}},
		{"stale", []check.NamedCRL{{"old.crl", stale}}, good, check.RevocationUnknown, []string{"stale", "download the current CRL"}},
		{"revoked on a stale CRL is revoked", []check.NamedCRL{{"old.crl", stale}}, revoked, check.RevocationRevoked, nil},
		{"from the future", []check.NamedCRL{{"n.crl", future}}, good, check.RevocationUnknown, []string{"in the future", "clock"}},
		{"bad signature", []check.NamedCRL{{"x.crl", forged}}, good, check.RevocationUnknown, []string{"x.crl", "does not verify"}},
		{"another CA's CRL only", []check.NamedCRL{{"o.crl", other.crl(t, 1, crlNow, crlNow.AddDate(0, 0, 7))}}, good, check.RevocationNoSource, []string{`"IngeTrust-like CA"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := check.NewCRLChecker(tc.crls...).CheckRevocation(context.Background(), tc.cert, ca.cert, crlNow)
			if r.Status != tc.want {
				t.Fatalf("status %s, want %s: %s", r.Status, tc.want, r.Message)
			}
			for _, w := range tc.words {
				if !strings.Contains(r.Message, w) {
					t.Errorf("message does not say %q: %s", w, r.Message)
				}
			}
			if tc.want == check.RevocationRevoked && (r.RevokedAt == nil || r.Reason != "keyCompromise") {
				t.Errorf("revoked at %v reason %q", r.RevokedAt, r.Reason)
			}
		})
	}
}

func TestCheckRevocationCombines(t *testing.T) {
	ca := newCRLCA(t, "CA")
	cert := ca.leaf(t, 5)
	stale := check.NewCRLChecker(check.NamedCRL{Name: "old.crl", CRL: ca.crl(t, 1, crlNow.AddDate(0, 0, -20), crlNow.AddDate(0, 0, -13))})
	fresh := check.NewCRLChecker(check.NamedCRL{Name: "new.crl", CRL: ca.crl(t, 2, crlNow.Add(-time.Hour), crlNow.AddDate(0, 0, 6))})
	none := check.NewCRLChecker()
	ctx := context.Background()
	if r := check.CheckRevocation(ctx, nil, cert, ca.cert, crlNow); r.Status != check.RevocationNoSource || r.Message != "no revocation source was given" {
		t.Errorf("no checker: %+v", r)
	}
	if r := check.CheckRevocation(ctx, []check.RevocationChecker{none, stale, fresh}, cert, ca.cert, crlNow); r.Status != check.RevocationGood {
		t.Errorf("a fresh answer after a stale one: %+v", r)
	}
	r := check.CheckRevocation(ctx, []check.RevocationChecker{none, stale}, cert, ca.cert, crlNow)
	if r.Status != check.RevocationUnknown || !strings.Contains(r.Message, "stale") || !strings.Contains(r.Message, "no CRL given") {
		t.Errorf("stale and none: %+v", r)
	}
}
