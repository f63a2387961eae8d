package lab

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// entries collects what the handlers log.
type entries struct {
	mu  sync.Mutex
	all []Entry
}

func (e *entries) log(x Entry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, x)
}

func (e *entries) last() Entry {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.all[len(e.all)-1]
}

func get(t *testing.T, u string) (int, string, []byte) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

func postOCSP(t *testing.T, u string, req []byte) []byte {
	t.Helper()
	resp, err := http.Post(u, "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	body, _ := io.ReadAll(resp.Body)
	return body
}

func TestOCSPAnswers(t *testing.T) {
	l := freshLab(t, Options{})
	var log entries
	now := testNow.Add(time.Hour)
	srv := httptest.NewServer(OCSPHandler{Source: l, Now: func() time.Time { return now }, Log: log.log})
	defer srv.Close()
	ask := func(cert *x509.Certificate, issuer CAName, h crypto.Hash) *ocsp.Response {
		t.Helper()
		req, err := ocsp.CreateRequest(cert, l.CA(issuer).Cert, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ocsp.ParseResponseForCert(postOCSP(t, srv.URL, req), cert, l.CA(issuer).Cert)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		resp := ask(l.Credential(RoleTPERevoked).Cert, CAIngeTrust, h)
		if resp.Status != ocsp.Revoked || resp.RevocationReason != ocsp.KeyCompromise || !resp.RevokedAt.Equal(testNow) {
			t.Errorf("%v: tpe-revoked status %d reason %d at %v", h, resp.Status, resp.RevocationReason, resp.RevokedAt)
		}
		// The CertID is hashed as the request was.
		if resp.IssuerHash != h {
			t.Errorf("asked with %v, answered with %v", h, resp.IssuerHash)
		}
		if e := log.last(); e.Hash != hashName(h) || e.CA != CAIngeTrust || !strings.HasPrefix(e.Answer, "revoked") {
			t.Errorf("log entry %+v", e)
		}
	}
	resp := ask(l.Credential(RoleGAPServer).Cert, CAIGCOrg, crypto.SHA256)
	if resp.Status != ocsp.Good || !resp.ThisUpdate.Equal(now) || !resp.NextUpdate.After(now) {
		t.Errorf("gap-server: status %d, this update %v, next %v", resp.Status, resp.ThisUpdate, resp.NextUpdate)
	}
	if resp := ask(l.CA(CAIGCOrg).Cert, CAIGCRoot, crypto.SHA1); resp.Status != ocsp.Good {
		t.Errorf("the intermediate, asked of the root: status %d", resp.Status)
	}
	if resp := ask(foreignCert(t, l), CAIngeTrust, crypto.SHA1); resp.Status != ocsp.Unknown {
		t.Errorf("a serial the lab never issued: status %d, want unknown", resp.Status)
	}

	// A revocation made meanwhile shows at once.
	if _, err := l.Revoke(l.Credential(RoleGAPServer).Cert, 1, now); err != nil {
		t.Fatal(err)
	}
	if resp := ask(l.Credential(RoleGAPServer).Cert, CAIGCOrg, crypto.SHA256); resp.Status != ocsp.Revoked {
		t.Errorf("after Revoke: status %d", resp.Status)
	}

	// GET, with the request in the path (RFC 6960 appendix A.1).
	req, _ := ocsp.CreateRequest(l.Credential(RoleTPERevoked).Cert, l.CA(CAIngeTrust).Cert, nil)
	code, ctype, body := get(t, srv.URL+"/"+url.PathEscape(base64.StdEncoding.EncodeToString(req)))
	if code != 200 || ctype != "application/ocsp-response" {
		t.Fatalf("GET: %d %s", code, ctype)
	}
	if r, err := ocsp.ParseResponseForCert(body, l.Credential(RoleTPERevoked).Cert, l.CA(CAIngeTrust).Cert); err != nil || r.Status != ocsp.Revoked {
		t.Errorf("GET answer: %v", err)
	}

	// Errors are OCSP error responses, as RFC 6960 wants.
	other := freshLab(t, Options{FQDN: "other.lab.test"})
	otherReq, _ := ocsp.CreateRequest(other.Credential(RoleGAPClient).Cert, foreignCert(t, other), nil)
	for name, tc := range map[string]struct {
		body []byte
		want ocsp.ResponseStatus
	}{
		"junk":           {[]byte("hello"), ocsp.Malformed},
		"empty":          {nil, ocsp.Malformed},
		"too large":      {make([]byte, maxOCSPRequest+1), ocsp.Malformed},
		"unknown issuer": {otherReq, ocsp.Unauthorized},
	} {
		_, err := ocsp.ParseResponse(postOCSP(t, srv.URL, tc.body), nil)
		if re, ok := err.(ocsp.ResponseError); !ok || re.Status != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	if code, _, body := get(t, srv.URL+"/not-base64!"); code != 200 || !bytes.Equal(body, ocsp.MalformedRequestErrorResponse) {
		t.Errorf("GET junk: %d %x", code, body)
	}
	r, _ := http.NewRequest(http.MethodPut, srv.URL, nil)
	if resp, err := http.DefaultClient.Do(r); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %v %v", resp.StatusCode, err)
	}
}

// Handler serves what the certificates point at, under the lab URL's path,
// found by following the URLs in the certificates themselves.
func TestHandlerServesTheCertificateURLs(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String() + "/pki/"
	l := freshLab(t, Options{URL: base})
	var log entries
	srv.Config.Handler = Handler(l, time.Now, log.log)
	srv.Start()
	defer srv.Close()

	leaf := l.Credential(RoleGAPClient).Cert
	code, ctype, body := get(t, leaf.CRLDistributionPoints[0])
	if code != 200 || ctype != "application/pkix-crl" {
		t.Fatalf("CRL: %d %s", code, ctype)
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil || crl.CheckSignatureFrom(l.CA(CAIGCOrg).Cert) != nil {
		t.Errorf("the CRL served does not verify: %v", err)
	}
	if e := log.last(); e.Kind != "crl" || e.CA != CAIGCOrg || e.Code != 200 || e.Bytes != len(body) || e.Path != "/pki/crl/igc-org.crl" {
		t.Errorf("log entry %+v", e)
	}
	code, ctype, body = get(t, base+"crl/ingetrust.crl.pem")
	if b, _ := pem.Decode(body); code != 200 || ctype != "application/x-pem-file" || b == nil || b.Type != "X509 CRL" {
		t.Errorf("PEM CRL: %d %s", code, ctype)
	}
	code, ctype, body = get(t, leaf.IssuingCertificateURL[0])
	if c, err := x509.ParseCertificate(body); code != 200 || ctype != "application/pkix-cert" || err != nil || !c.Equal(l.CA(CAIGCOrg).Cert) {
		t.Errorf("caIssuers: %d %s %v", code, ctype, err)
	}
	req, _ := ocsp.CreateRequest(leaf, l.CA(CAIGCOrg).Cert, nil)
	if resp, err := ocsp.ParseResponseForCert(postOCSP(t, leaf.OCSPServer[0], req), leaf, l.CA(CAIGCOrg).Cert); err != nil || resp.Status != ocsp.Good {
		t.Errorf("OCSP at the certificate's address: %v", err)
	}
	if e := log.last(); e.Path != "/pki/ocsp" || e.Kind != "ocsp" || e.Answer != "good" {
		t.Errorf("OCSP log entry %+v", e)
	}
	code, _, body = get(t, leaf.OCSPServer[0]+"/"+base64.StdEncoding.EncodeToString(req))
	if resp, err := ocsp.ParseResponse(body, l.CA(CAIGCOrg).Cert); code != 200 || err != nil || resp.Status != ocsp.Good {
		t.Errorf("OCSP GET: %d %v", code, err)
	}
	for _, p := range []string{"", "crl/nope.crl", "crl/igc-org.txt", "ca/nope.cer", "ca/igc-org.pem", "other"} {
		if code, _, _ := get(t, base+p); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, code)
		}
	}
	if code, _, _ := get(t, "http://"+srv.Listener.Addr().String()+"/crl/igc-org.crl"); code != http.StatusNotFound {
		t.Errorf("outside the lab URL path: %d", code)
	}
	if e := log.last(); e.Kind != "" || e.Code != 404 {
		t.Errorf("404 log entry %+v", e)
	}
}

// A server on Watch follows revocations written by another process.
func TestWatchFollowsTheDirectory(t *testing.T) {
	dir := t.TempDir()
	freshLab(t, Options{Dir: dir})
	src, err := Watch(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(src, time.Now, nil))
	defer srv.Close()
	first, err := src.Current()
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := src.Current(); again != first {
		t.Error("an unchanged lab was opened again")
	}
	other, err := Open(dir) // stands for `lab revoke` in another process
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Revoke(other.Credential(RolePSPServer).Cert, 1, testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, _, body := get(t, srv.URL+"/crl/geotrust-ca.crl")
	crl, err := x509.ParseRevocationList(body)
	if err != nil || crl.Number.Int64() != 2 || len(crl.RevokedCertificateEntries) != 1 {
		t.Errorf("served CRL after another process revoked: %v", err)
	}
	if _, err := Watch(t.TempDir()); err == nil {
		t.Error("Watch accepted an empty directory")
	}
}
