package check_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/lab"
)

// labServer is a lab whose certificates point at a loopback server that serves its
// CRLs and answers OCSP with the lab's own handlers, counting what it is asked.
type labServer struct {
	lab  *lab.Lab
	srv  *httptest.Server
	mu   sync.Mutex
	hits map[string]int // path → requests
}

// newLabServer makes the lab (keys of the set, so labs of one set share CAs' names
// and keys) with CRLs fresh as of now.
func newLabServer(t *testing.T, set string) *labServer {
	t.Helper()
	ls := &labServer{hits: map[string]int{}}
	ls.srv = httptest.NewUnstartedServer(nil)
	l, err := lab.New(lab.Options{Now: now.AddDate(0, -1, 0), KeyCache: set, URL: "http://" + ls.srv.Listener.Addr().String() + "/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.RefreshCRLs(now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	ls.lab = l
	ls.srv.Config.Handler = lab.Handler(l, func() time.Time { return now }, func(e lab.Entry) {
		ls.mu.Lock()
		ls.hits[e.Path]++
		ls.mu.Unlock()
	})
	ls.srv.Start()
	t.Cleanup(ls.srv.Close)
	return ls
}

func (ls *labServer) count(kind string) int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	n := 0
	for p, c := range ls.hits {
		if strings.Contains(p, "/"+kind) {
			n += c
		}
	}
	return n
}

func revocationChecker(l *lab.Lab, mode check.RevocationMode, src check.RevocationChecker) *check.Checker {
	return check.NewChecker(check.Options{Warn: diapason.WarnWindow, Now: now, Revocation: mode, RevocationSources: src,
		Chains: check.NewChainBuilder(check.ChainOptions{Anchors: l.Anchors(), Intermediates: l.Intermediates()})})
}

func labCRLs(l *lab.Lab) []check.NamedCRL {
	var out []check.NamedCRL
	for i, crl := range l.CRLs() {
		out = append(out, check.NamedCRL{Name: string(lab.CANames()[i]) + ".crl", CRL: crl})
	}
	return out
}

func httpSources(cache *check.CRLCache) check.RevocationOptions {
	return check.RevocationOptions{FetchCRL: check.HTTPFetcher(check.CRLTimeout, check.CRLMaxBytes), Cache: cache,
		OCSP: check.HTTPOCSPPoster(check.OCSPTimeout, check.OCSPMaxBytes)}
}

func revocationSlugs(rep check.CertReport) map[string]check.Level {
	m := slugs(rep.Findings)
	delete(m, "lab-certificate")
	return m
}

// The lab's revoked terminal certificate is reported from a CRL file; the clean one
// is not, and its answer names the CRL.
func TestRevocationFromCRLFile(t *testing.T) {
	l := newLabServer(t, "check").lab
	k := revocationChecker(l, check.RevocationSoft, check.NewRevocationEngine(check.RevocationOptions{CRLs: labCRLs(l)}))
	rep := k.CheckCertificate(context.Background(), l.Credential(lab.RoleTPERevoked).Cert, nil)
	if got := revocationSlugs(rep); len(got) != 1 || got["revoked"] != check.Fail {
		t.Fatalf("revoked terminal: %v", rep.Findings)
	}
	if r := rep.Revocation; r == nil || r.Status != check.RevocationRevoked || r.Reason != "keyCompromise" || !strings.Contains(r.Source, "ingetrust.crl") {
		t.Errorf("answer %+v", rep.Revocation)
	}
	rep = k.CheckCertificate(context.Background(), l.Credential(lab.RoleTPEClient).Cert, nil)
	if got := revocationSlugs(rep); len(got) != 0 || rep.Revocation.Status != check.RevocationGood {
		t.Errorf("clean terminal: %v %+v", rep.Findings, rep.Revocation)
	}
}

// A GAP certificate revoked by the lab is found through its HTTP distribution point,
// and the intermediate's own status through the root's CRL; the CRL of the
// intermediate is downloaded once for all its certificates.
func TestRevocationFromDistributionPoint(t *testing.T) {
	ls := newLabServer(t, "check")
	l := ls.lab
	server := l.Credential(lab.RoleGAPServer)
	if _, err := l.Revoke(server.Cert, ocsp.KeyCompromise, now.Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	k := revocationChecker(l, check.RevocationHard, check.NewRevocationEngine(check.RevocationOptions{
		FetchCRL: check.HTTPFetcher(check.CRLTimeout, check.CRLMaxBytes)}))
	rep := k.CheckCertificate(context.Background(), server.Cert, nil)
	if got := revocationSlugs(rep); len(got) != 1 || got["revoked"] != check.Fail {
		t.Fatalf("revoked server: %v", rep.Findings)
	}
	if !strings.Contains(rep.Revocation.Source, ls.srv.URL+"/crl/igc-org.crl") {
		t.Errorf("source %q", rep.Revocation.Source)
	}
	if ca := rep.Chain.Certificates[1]; ca.Revocation == nil || ca.Revocation.Status != check.RevocationGood ||
		!strings.Contains(ca.Revocation.Source, "igc-root.crl") {
		t.Errorf("intermediate: %+v", ca.Revocation)
	}
	rep = k.CheckCertificate(context.Background(), l.Credential(lab.RoleGAPClient).Cert, nil)
	if got := revocationSlugs(rep); len(got) != 0 {
		t.Errorf("clean client: %v", rep.Findings)
	}
	if n := ls.count("crl/igc-org.crl"); n != 1 {
		t.Errorf("igc-org's CRL downloaded %d times", n)
	}
}

// OCSP answers for the certificates that name a responder: revoked, good, and the
// terminal certificate names none, which a client certificate cannot afford.
func TestRevocationFromOCSP(t *testing.T) {
	ls := newLabServer(t, "check")
	l := ls.lab
	server := l.Credential(lab.RoleGAPServer)
	if _, err := l.Revoke(server.Cert, ocsp.Superseded, now.Add(-30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	k := revocationChecker(l, check.RevocationSoft, check.NewRevocationEngine(check.RevocationOptions{
		OCSP: check.HTTPOCSPPoster(check.OCSPTimeout, check.OCSPMaxBytes)}))
	rep := k.CheckCertificate(context.Background(), server.Cert, nil)
	// The intermediate names no responder of its own: only its CRL would tell.
	if got := revocationSlugs(rep); len(got) != 2 || got["revoked"] != check.Fail || got["chain-revocation-no-source"] != check.Info || rep.Revocation.Reason != "superseded" ||
		!strings.HasPrefix(rep.Revocation.Source, "OCSP "+ls.srv.URL+"/ocsp") {
		t.Fatalf("revoked server: %v %+v", rep.Findings, rep.Revocation)
	}
	rep = k.CheckCertificate(context.Background(), l.Credential(lab.RolePSPServer).Cert, nil)
	if got := revocationSlugs(rep); len(got) != 0 || rep.Revocation.Status != check.RevocationGood ||
		rep.Chain.Certificates[1].Revocation.Status != check.RevocationGood {
		t.Errorf("provider: %v %+v", rep.Findings, rep.Revocation)
	}
	rep = k.CheckCertificate(context.Background(), l.Credential(lab.RoleTPEClient).Cert, nil)
	if got := revocationSlugs(rep); len(got) != 1 || got["revocation-no-source"] != check.Warn {
		t.Errorf("terminal without a source: %v", rep.Findings)
	}
	// The GAP server, the provider and its CA, each once.
	if n := ls.count("ocsp"); n != 3 {
		t.Errorf("%d OCSP requests", n)
	}
}

// A distribution point that serves a CRL named like the issuer but signed by another
// key: ignored, with a finding, and the status is unknown.
func TestRevocationCRLSignatureInvalid(t *testing.T) {
	ls := newLabServer(t, "check")
	forger := newLabServer(t, "check-forger").lab
	forged := forger.CA(lab.CAIGCOrg).CRL.Raw
	fetch := func(_ context.Context, url string) ([]byte, error) {
		if strings.HasSuffix(url, "igc-org.crl") {
			return forged, nil
		}
		return check.HTTPFetcher(check.CRLTimeout, check.CRLMaxBytes)(context.Background(), url)
	}
	k := revocationChecker(ls.lab, check.RevocationSoft, check.NewRevocationEngine(check.RevocationOptions{FetchCRL: fetch}))
	rep := k.CheckCertificate(context.Background(), ls.lab.Credential(lab.RoleGAPServer).Cert, nil)
	if got := revocationSlugs(rep); len(got) != 3 || got["crl-signature-invalid"] != check.Warn || got["revocation-unknown"] != check.Warn || got["crl-ldap-skipped"] != check.Info {
		t.Fatalf("forged CRL: %v", rep.Findings)
	}
	// The same CRL given as a file is ignored the same way.
	k = revocationChecker(ls.lab, check.RevocationSoft, check.NewRevocationEngine(check.RevocationOptions{
		CRLs: []check.NamedCRL{{Name: "forged.crl", CRL: forger.CA(lab.CAIGCOrg).CRL}}}))
	rep = k.CheckCertificate(context.Background(), ls.lab.Credential(lab.RoleGAPServer).Cert, nil)
	if got := revocationSlugs(rep); got["crl-signature-invalid"] != check.Warn || got["revocation-unknown"] != check.Warn {
		t.Fatalf("forged CRL file: %v", rep.Findings)
	}
}

// With the revocation server down, the status is unknown: a warning under soft, a
// failure under hard; the LDAP distribution point is skipped with a note.
func TestRevocationServerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l, err := lab.New(lab.Options{Now: now.AddDate(0, -1, 0), KeyCache: "check", URL: "http://" + addr + "/"})
	if err != nil {
		t.Fatal(err)
	}
	engine := check.NewRevocationEngine(httpSources(nil))
	for _, tc := range []struct {
		mode  check.RevocationMode
		level check.Level
	}{{check.RevocationSoft, check.Warn}, {check.RevocationHard, check.Fail}} {
		rep := revocationChecker(l, tc.mode, engine).CheckCertificate(context.Background(), l.Credential(lab.RoleGAPServer).Cert, nil)
		got := revocationSlugs(rep)
		if got["revocation-unknown"] != tc.level || got["crl-ldap-skipped"] != check.Info {
			t.Errorf("%s: %v", tc.mode, rep.Findings)
		}
		if rep.Revocation.Status != check.RevocationUnknown || !strings.Contains(rep.Revocation.Message, addr) {
			t.Errorf("%s: %+v", tc.mode, rep.Revocation)
		}
	}
}

// CRLs are kept on disk until their nextUpdate: a later run (a new engine) inside the
// CRL's period downloads nothing; one after it downloads again.
func TestRevocationCacheHonoursNextUpdate(t *testing.T) {
	ls := newLabServer(t, "check")
	l := ls.lab
	cache := &check.CRLCache{Dir: filepath.Join(t.TempDir(), "cache")}
	cert := l.Credential(lab.RoleGAPServer).Cert
	run := func(at time.Time) check.Revocation {
		t.Helper()
		k := check.NewChecker(check.Options{Warn: diapason.WarnWindow, Now: at, Revocation: check.RevocationSoft,
			RevocationSources: check.NewRevocationEngine(check.RevocationOptions{FetchCRL: check.HTTPFetcher(check.CRLTimeout, check.CRLMaxBytes), Cache: cache}),
			Chains:            check.NewChainBuilder(check.ChainOptions{Anchors: l.Anchors(), Intermediates: l.Intermediates()})})
		return *k.CheckCertificate(context.Background(), cert, nil).Revocation
	}
	next := l.CA(lab.CAIGCOrg).CRL.NextUpdate
	if r := run(now); r.Status != check.RevocationGood || ls.count("crl/igc-org") != 1 {
		t.Fatalf("first run: %d downloads, %+v", ls.count("crl/igc-org"), r)
	}
	entries, _ := os.ReadDir(cache.Dir)
	if len(entries) != 2 {
		t.Errorf("cache holds %d files, want the CRLs of igc-org and igc-root", len(entries))
	}
	if r := run(next.Add(-time.Minute)); r.Status != check.RevocationGood || ls.count("crl/igc-org") != 1 {
		t.Fatalf("inside the CRL's period: %d downloads, %+v", ls.count("crl/igc-org"), r)
	}
	if _, err := l.RefreshCRLs(next); err != nil {
		t.Fatal(err)
	}
	if r := run(next.Add(time.Minute)); r.Status != check.RevocationGood || ls.count("crl/igc-org") != 2 {
		t.Fatalf("after nextUpdate: %d downloads, %+v", ls.count("crl/igc-org"), r)
	}
	// The server gone, the stale copy still answers for revoked certificates only.
	ls.srv.Close()
	r := run(next.AddDate(0, 0, 8))
	if r.Status != check.RevocationUnknown || !strings.Contains(r.Message, "stale") {
		t.Errorf("server gone, copy stale: %+v", r)
	}
}

// --crl URL goes through the cache too.
func TestDownloadCRL(t *testing.T) {
	ls := newLabServer(t, "check")
	cache := &check.CRLCache{Dir: t.TempDir()}
	fetch := check.HTTPFetcher(check.CRLTimeout, check.CRLMaxBytes)
	url := ls.srv.URL + "/crl/ingetrust.crl.pem"
	for range 2 {
		crls, err := check.DownloadCRL(context.Background(), fetch, cache, url, now)
		if err != nil || len(crls) != 1 || crls[0].Name != url {
			t.Fatalf("%v %v", crls, err)
		}
	}
	if n := ls.count("crl/ingetrust"); n != 1 {
		t.Errorf("%d downloads", n)
	}
	if _, err := check.DownloadCRL(context.Background(), fetch, cache, ls.srv.URL+"/crl/nothing.crl", now); err == nil ||
		!strings.Contains(err.Error(), "404") {
		t.Errorf("missing CRL: %v", err)
	}
}

// Downloads stop at the size limit.
func TestRevocationSizeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 4096))
	}))
	defer srv.Close()
	_, err := check.HTTPFetcher(time.Second, 1024)(context.Background(), srv.URL)
	if err == nil || !strings.Contains(err.Error(), "limit of 1024") {
		t.Errorf("oversized CRL: %v", err)
	}
	_, err = check.HTTPOCSPPoster(time.Second, 1024)(context.Background(), srv.URL, []byte{0x30, 0})
	if err == nil || !strings.Contains(err.Error(), "limit of 1024") {
		t.Errorf("oversized OCSP answer: %v", err)
	}
	if _, err := check.HTTPOCSPPoster(time.Second, 1024)(context.Background(), "ldap://x/", nil); err == nil {
		t.Error("an LDAP responder was asked")
	}
}

// A CRL file for a CA no certificate was issued by is reported unused.
func TestUnusedCRLs(t *testing.T) {
	l := newLabServer(t, "check").lab
	engine := check.NewRevocationEngine(check.RevocationOptions{CRLs: labCRLs(l)})
	k := revocationChecker(l, check.RevocationSoft, engine)
	k.CheckCertificate(context.Background(), l.Credential(lab.RoleTPEClient).Cert, nil)
	var unused []string
	for _, c := range engine.UnusedCRLs() {
		unused = append(unused, c.Name)
	}
	if strings.Join(unused, " ") != "igc-root.crl igc-org.crl geotrust-root.crl geotrust-ca.crl" {
		t.Errorf("unused %v", unused)
	}
}

func TestParseRevocationMode(t *testing.T) {
	for in, want := range map[string]check.RevocationMode{"off": check.RevocationOff, " Soft": check.RevocationSoft, "HARD": check.RevocationHard} {
		if m, err := check.ParseRevocationMode(in); err != nil || m != want {
			t.Errorf("%q: %v %v", in, m, err)
		}
	}
	if _, err := check.ParseRevocationMode("strict"); err == nil {
		t.Error("strict accepted")
	}
}
