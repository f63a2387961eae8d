package check_test

import (
	"context"
	"encoding/pem"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
)

// Whatever a responder sends, the engine answers without panicking, and says good or
// revoked only for an answer the CA signed.
func FuzzOCSPAnswer(f *testing.F) {
	ca := newCRLCA(f, "Fuzz CA")
	leaf := ca.leaf(f, 42)
	leaf.OCSPServer = []string{"http://ocsp.example/"}
	for _, status := range []int{ocsp.Good, ocsp.Revoked, ocsp.Unknown} {
		der, err := ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{Status: status, SerialNumber: leaf.SerialNumber,
			ThisUpdate: crlNow.Add(-time.Hour), NextUpdate: crlNow.Add(time.Hour), RevokedAt: crlNow.Add(-2 * time.Hour)}, ca.key)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(der)
	}
	f.Add(ocsp.UnauthorizedErrorResponse)
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, der []byte) {
		e := check.NewRevocationEngine(check.RevocationOptions{OCSP: func(context.Context, string, []byte) ([]byte, error) { return der, nil }})
		r := e.CheckRevocation(context.Background(), leaf, ca.cert, crlNow)
		if r.Message == "" {
			t.Fatalf("an answer without a message: %+v", r)
		}
		if r.Status == check.RevocationGood || r.Status == check.RevocationRevoked {
			if _, err := ocsp.ParseResponseForCert(der, leaf, ca.cert); err != nil {
				t.Fatalf("%s from an answer the CA did not sign: %v", r.Status, err)
			}
		}
	})
}

// Whatever a distribution point serves, the engine answers without panicking, and
// says good or revoked only from a CRL the CA signed.
func FuzzCRLDownload(f *testing.F) {
	ca := newCRLCA(f, "Fuzz CA")
	leaf := ca.leaf(f, 42)
	leaf.CRLDistributionPoints = []string{"http://crl.example/ca.crl"}
	crl := ca.crl(f, 1, crlNow.Add(-time.Hour), crlNow.AddDate(0, 0, 7), 42, 43)
	f.Add(crl.Raw)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw}))
	f.Add(ca.crl(f, 2, crlNow.Add(-time.Hour), crlNow.AddDate(0, 0, 7)).Raw)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		e := check.NewRevocationEngine(check.RevocationOptions{FetchCRL: func(context.Context, string) ([]byte, error) { return data, nil }})
		r := e.CheckRevocation(context.Background(), leaf, ca.cert, crlNow)
		if r.Status != check.RevocationGood && r.Status != check.RevocationRevoked {
			return
		}
		contents, err := certio.Decode("fuzz", data)
		if err != nil {
			t.Fatalf("%s from a download certio cannot read: %v", r.Status, err)
		}
		for _, c := range contents.CRLs() {
			if c.CheckSignatureFrom(ca.cert) == nil {
				return
			}
		}
		t.Fatalf("%s from CRLs the CA did not sign", r.Status)
	})
}
