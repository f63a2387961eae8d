package lab

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRevokeKeepsEntriesAndNumbers(t *testing.T) {
	l := freshLab(t, Options{})
	at := testNow.Add(time.Hour)
	r1, err := l.Revoke(l.Credential(RoleTPEClient).Cert, 0, at)
	if err != nil {
		t.Fatal(err)
	}
	if r1.CA != CAIngeTrust || r1.CRLNumber != 2 || r1.Reason != "unspecified" || !r1.RevokedAt.Equal(at) || r1.CRLFile != "" {
		t.Errorf("first revocation %+v", r1)
	}
	crl := l.CA(CAIngeTrust).CRL
	if len(crl.RevokedCertificateEntries) != 2 || crl.CheckSignatureFrom(l.CA(CAIngeTrust).Cert) != nil {
		t.Fatalf("CRL after revocation: %d entries", len(crl.RevokedCertificateEntries))
	}
	// The earlier entry, tpe-revoked, is kept with its own time and reason.
	first := crl.RevokedCertificateEntries[0]
	if first.SerialNumber.Cmp(l.Credential(RoleTPERevoked).Cert.SerialNumber) != 0 || first.ReasonCode != 1 || !first.RevocationTime.Equal(testNow) {
		t.Errorf("earlier entry changed: %+v", first)
	}
	if _, err := l.Revoke(l.Credential(RoleTPEClient).Cert, 1, at); err == nil || !strings.Contains(err.Error(), "already revoked") {
		t.Errorf("second revocation: %v", err)
	}
	r2, err := l.Revoke(l.CA(CAIGCOrg).Cert, 2, at)
	if err != nil || r2.CA != CAIGCRoot || r2.CRLNumber != 2 || r2.Reason != "cACompromise" {
		t.Errorf("revoking the intermediate: %+v %v", r2, err)
	}
	var re *RefusedError
	if _, err := l.Revoke(l.CA(CAIGCRoot).Cert, 1, at); !errors.As(err, &re) || !strings.Contains(err.Error(), "root") {
		t.Errorf("revoking a root: %v", err)
	}
	if _, err := l.Revoke(foreignCert(t, l), 1, at); !errors.As(err, &re) || !strings.Contains(err.Error(), "not issued by this lab") {
		t.Errorf("revoking a foreign certificate: %v", err)
	}
	if _, err := l.Revoke(l.Credential(RoleGAPClient).Cert, 7, at); err == nil {
		t.Error("reason 7 accepted")
	}
}

func TestParseReason(t *testing.T) {
	for in, want := range map[string]int{"keyCompromise": 1, "KEYCOMPROMISE": 1, " superseded ": 4, "unspecified": 0, "aACompromise": 10} {
		if got, err := ParseReason(in); err != nil || got != want {
			t.Errorf("ParseReason(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"removeFromCRL", "lost", ""} {
		if _, err := ParseReason(in); err == nil {
			t.Errorf("ParseReason(%q) accepted", in)
		}
	}
	if ReasonName(1) != "keyCompromise" || ReasonName(8) != "reason(8)" {
		t.Error("ReasonName")
	}
}

func TestRefreshCRLs(t *testing.T) {
	l := freshLab(t, Options{})
	if done, err := l.RefreshCRLs(testNow.Add(time.Hour)); err != nil || len(done) != 0 {
		t.Errorf("fresh CRLs refreshed: %v %v", done, err)
	}
	later := testNow.Add(crlValidity + time.Minute)
	done, err := l.RefreshCRLs(later)
	if err != nil || len(done) != len(CANames()) {
		t.Fatalf("stale CRLs: refreshed %v, %v", done, err)
	}
	crl := l.CA(CAIngeTrust).CRL
	if crl.Number.Int64() != 2 || !crl.ThisUpdate.Equal(later.Truncate(time.Second)) || len(crl.RevokedCertificateEntries) != 1 {
		t.Errorf("refreshed CRL: number %v this update %v entries %d", crl.Number, crl.ThisUpdate, len(crl.RevokedCertificateEntries))
	}
}
