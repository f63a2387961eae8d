package check_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// responder makes a certificate signed by ca for an OCSP responder, with or without
// the OCSPSigning purpose.
func (ca crlCA) responder(t *testing.T, ocspSigning bool) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(99), Subject: pkix.Name{CommonName: "OCSP responder"},
		NotBefore: crlNow.AddDate(0, -1, 0), NotAfter: crlNow.AddDate(0, 1, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	if ocspSigning {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	}
	cert := testpki.Sign(t, tmpl, ca.cert, key.Public(), ca.key)
	return cert, key
}

func (ca crlCA) ocspLeaf(t *testing.T, serial int64) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "gap.exemple.fr"},
		NotBefore: crlNow.AddDate(0, -1, 0), NotAfter: crlNow.AddDate(1, 0, 0), OCSPServer: []string{"http://ocsp.exemple.fr"}}
	return testpki.Sign(t, tmpl, ca.cert, key.Public(), ca.key)
}

// Answers are judged by their signer and freshness, which x/crypto/ocsp leaves to us.
func TestOCSPAnswers(t *testing.T) {
	ca, other := newCRLCA(t, "CA"), newCRLCA(t, "CA")
	leaf := ca.ocspLeaf(t, 42)
	delegate, delegateKey := ca.responder(t, true)
	stranger, strangerKey := ca.responder(t, false)
	answer := func(status int, this, next time.Time, signer *x509.Certificate, key crypto.Signer) []byte {
		t.Helper()
		tmpl := ocsp.Response{Status: status, SerialNumber: leaf.SerialNumber, ThisUpdate: this, NextUpdate: next,
			RevokedAt: this.Add(-time.Hour), RevocationReason: ocsp.KeyCompromise}
		if signer != nil {
			tmpl.Certificate = signer
		} else {
			signer = ca.cert
		}
		der, err := ocsp.CreateResponse(ca.cert, signer, tmpl, key)
		if err != nil {
			t.Fatal(err)
		}
		return der
	}
	hour := time.Hour
	cases := []struct {
		name   string
		der    []byte
		err    error
		want   check.RevocationStatus
		words  []string
		noteAt string
	}{
		{"good, signed by the CA", answer(ocsp.Good, crlNow.Add(-hour), crlNow.Add(hour), nil, ca.key), nil, check.RevocationGood, []string{"not revoked", "OCSP http://ocsp.exemple.fr"}, ""},
		{"revoked", answer(ocsp.Revoked, crlNow.Add(-hour), crlNow.Add(hour), nil, ca.key), nil, check.RevocationRevoked, []string{"keyCompromise"}, ""},
		{"revoked, stale: still revoked", answer(ocsp.Revoked, crlNow.Add(-48*hour), crlNow.Add(-24*hour), nil, ca.key), nil, check.RevocationRevoked, nil, ""},
		{"stale", answer(ocsp.Good, crlNow.Add(-48*hour), crlNow.Add(-24*hour), nil, ca.key), nil, check.RevocationUnknown, []string{"stale"}, "ocsp-stale"},
		{"old, without nextUpdate", answer(ocsp.Good, crlNow.AddDate(0, 0, -8), time.Time{}, nil, ca.key), nil, check.RevocationUnknown, []string{"stale"}, "ocsp-stale"},
		{"from the future", answer(ocsp.Good, crlNow.Add(hour), crlNow.Add(2*hour), nil, ca.key), nil, check.RevocationUnknown, []string{"in the future", "clock"}, ""},
		{"unknown to the responder", answer(ocsp.Unknown, crlNow.Add(-hour), crlNow.Add(hour), nil, ca.key), nil, check.RevocationUnknown, []string{"does not know"}, ""},
		{"delegated responder", answer(ocsp.Good, crlNow.Add(-hour), crlNow.Add(hour), delegate, delegateKey), nil, check.RevocationGood, nil, ""},
		{"delegate without OCSPSigning", answer(ocsp.Good, crlNow.Add(-hour), crlNow.Add(hour), stranger, strangerKey), nil, check.RevocationUnknown, []string{"did not authorise", "OCSPSigning"}, "ocsp-signature-invalid"},
		{"signed by another CA of the name", answer(ocsp.Good, crlNow.Add(-hour), crlNow.Add(hour), nil, other.key), nil, check.RevocationUnknown, []string{"does not verify"}, "ocsp-signature-invalid"},
		{"embeds the issuer itself", answer(ocsp.Good, crlNow.Add(-hour), crlNow.Add(hour), ca.cert, ca.key), nil, check.RevocationGood, nil, ""},
		{"unauthorized", ocsp.UnauthorizedErrorResponse, nil, check.RevocationUnknown, []string{"unauthorized"}, ""},
		{"junk", []byte("<html>proxy error</html>"), nil, check.RevocationUnknown, []string{"cannot be read"}, ""},
		{"server down", nil, errors.New("connection refused"), check.RevocationUnknown, []string{"http://ocsp.exemple.fr failed: connection refused"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var asked []byte
			post := func(_ context.Context, url string, req []byte) ([]byte, error) {
				asked = req
				return tc.der, tc.err
			}
			e := check.NewRevocationEngine(check.RevocationOptions{OCSP: post})
			r := e.CheckRevocation(context.Background(), leaf, ca.cert, crlNow)
			if r.Status != tc.want {
				t.Fatalf("status %s, want %s: %s", r.Status, tc.want, r.Message)
			}
			for _, w := range tc.words {
				if !strings.Contains(r.Message, w) {
					t.Errorf("message does not say %q: %s", w, r.Message)
				}
			}
			if tc.noteAt != "" && (len(r.Notes) != 1 || r.Notes[0].Slug != tc.noteAt) {
				t.Errorf("notes %v, want %s", r.Notes, tc.noteAt)
			}
			req, err := ocsp.ParseRequest(asked)
			if err != nil || req.SerialNumber.Cmp(leaf.SerialNumber) != 0 || req.HashAlgorithm != crypto.SHA1 {
				t.Errorf("request %+v %v", req, err)
			}
		})
	}
}

// A responder given is asked about a certificate that names none, as terminal
// certificates do.
func TestOCSPResponderGiven(t *testing.T) {
	ca := newCRLCA(t, "CA")
	leaf := ca.leaf(t, 8)
	der, err := ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{Status: ocsp.Revoked, SerialNumber: leaf.SerialNumber,
		ThisUpdate: crlNow.Add(-time.Hour), NextUpdate: crlNow.Add(time.Hour), RevokedAt: crlNow.Add(-2 * time.Hour)}, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	var asked []string
	e := check.NewRevocationEngine(check.RevocationOptions{OCSPResponders: []string{"http://ocsp.ingetrust.example/", "ldap://x/"},
		OCSP: func(_ context.Context, url string, _ []byte) ([]byte, error) {
			asked = append(asked, url)
			return der, nil
		}})
	r := e.CheckRevocation(context.Background(), leaf, ca.cert, crlNow)
	if r.Status != check.RevocationRevoked || strings.Join(asked, " ") != "http://ocsp.ingetrust.example/" {
		t.Errorf("%+v, asked %v", r, asked)
	}
}

// A good answer is reused until its nextUpdate, not asked for again per certificate.
func TestOCSPAnswerReused(t *testing.T) {
	ca := newCRLCA(t, "CA")
	leaf := ca.ocspLeaf(t, 7)
	der, err := ocsp.CreateResponse(ca.cert, ca.cert, ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.SerialNumber,
		ThisUpdate: crlNow.Add(-time.Hour), NextUpdate: crlNow.Add(time.Hour)}, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	asked := 0
	e := check.NewRevocationEngine(check.RevocationOptions{OCSP: func(context.Context, string, []byte) ([]byte, error) {
		asked++
		return der, nil
	}})
	for _, at := range []time.Time{crlNow, crlNow.Add(30 * time.Minute), crlNow.Add(2 * time.Hour)} {
		e.CheckRevocation(context.Background(), leaf, ca.cert, at)
	}
	if asked != 2 {
		t.Errorf("asked %d times, want 2 (once more after nextUpdate)", asked)
	}
}
