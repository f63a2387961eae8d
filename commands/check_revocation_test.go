package commands

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/diapason-cert/diapason-cert/lab"
)

// servedLab is a lab on disk whose certificates point at a loopback server answering
// with the lab's own handlers; crlDown makes its CRL addresses answer 503.
type servedLab struct {
	lab     *lab.Lab
	dir     string
	url     string
	crlDown atomic.Bool
	crls    atomic.Int64
	ocsps   atomic.Int64
	srv     *httptest.Server
}

func newServedLab(t *testing.T) *servedLab {
	t.Helper()
	sl := &servedLab{dir: t.TempDir()}
	sl.srv = httptest.NewUnstartedServer(nil)
	sl.url = "http://" + sl.srv.Listener.Addr().String() + "/"
	l, err := lab.New(lab.Options{Now: fixedNow.AddDate(0, 0, -1), KeyCache: "check", URL: sl.url, Dir: filepath.Join(sl.dir, "lab")})
	if err != nil {
		t.Fatal(err)
	}
	sl.lab = l
	handler := lab.Handler(l, func() time.Time { return fixedNow }, nil)
	sl.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/crl/"):
			sl.crls.Add(1)
			if sl.crlDown.Load() {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
		case strings.HasPrefix(r.URL.Path, "/ocsp"):
			sl.ocsps.Add(1)
		}
		handler.ServeHTTP(w, r)
	})
	sl.srv.Start()
	t.Cleanup(sl.srv.Close)
	t.Chdir(sl.dir)
	return sl
}

// cacheEnv keeps the runs' CRL cache in the test's own directory.
func cacheEnv(t *testing.T) runOpts {
	return runOpts{env: map[string]string{cacheDirEnv: t.TempDir()}}
}

// The lab's revoked terminal certificate, reported from its CRL file with --crl; the
// CRL is signed by a CA given with --ca.
func TestCheckRevokedFromCRLFile(t *testing.T) {
	newServedLab(t)
	r := runCLI(t, cacheEnv(t), "check", "lab/tpe-revoked.pem", "--ca", "lab/ingetrust.pem", "--crl", "lab/ingetrust.crl.pem", "--output", "json")
	got := checkFindings(t, jsonDoc(t, r), 0, 0)
	if r.code != exitFail || got["revoked"] != "fail" {
		t.Errorf("%v\n%s", got, r)
	}
	r = runCLI(t, cacheEnv(t), "check", "lab/tpe-client.pem", "--ca", "lab/ingetrust.pem", "--crl", "lab/ingetrust.crl.pem")
	if r.code != exitOK || !strings.Contains(r.stdout, "OK") {
		t.Errorf("clean terminal:\n%s", r)
	}
	r = runCLI(t, cacheEnv(t), "check", "lab/tpe-revoked.pem", "--ca", "lab/ingetrust.pem", "--crl", "lab/ingetrust.crl.pem", "--details")
	if !strings.Contains(r.stdout, "revocation") || !strings.Contains(r.stdout, "revoked: \"LAB TPE 00000002\"") || !strings.Contains(r.stdout, "FAIL revoked:") {
		t.Errorf("details:\n%s", r)
	}
	// A CRL of a CA no certificate checked was issued by is said to be unused.
	r = runCLI(t, cacheEnv(t), "check", "lab/tpe-client.pem", "--ca", "lab/ingetrust.pem", "--crl", "lab/igc-org.crl.pem")
	if !strings.Contains(r.stderr, "--crl lab/igc-org.crl.pem was not used: no certificate checked was issued by") {
		t.Errorf("unused CRL:\n%s", r)
	}
}

// A GAP server certificate revoked by the lab: found from its HTTP distribution point,
// then, with the CRL server down, from OCSP; the intermediate's own status is checked too.
func TestCheckRevokedOverHTTP(t *testing.T) {
	sl := newServedLab(t)
	if _, err := sl.lab.Revoke(sl.lab.Credential(lab.RoleGAPServer).Cert, ocsp.KeyCompromise, fixedNow.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	args := []string{"check", "lab/gap-server.pem", "--ca", "lab/igc-root.pem", "--chain", "lab/igc-org.pem", "--revocation", "hard", "--output", "json"}
	r := runCLI(t, cacheEnv(t), args...)
	doc := jsonDoc(t, r)
	if got := checkFindings(t, doc, 0, 0); r.code != exitFail || got["revoked"] != "fail" {
		t.Fatalf("HTTP CRL: %v\n%s", got, r)
	}
	cert := doc["files"].([]any)[0].(map[string]any)["certificates"].([]any)[0].(map[string]any)
	rev := cert["revocation"].(map[string]any)
	if rev["status"] != "revoked" || rev["reason"] != "keyCompromise" || !strings.Contains(rev["source"].(string), sl.url+"crl/igc-org.crl") {
		t.Errorf("answer %v", rev)
	}
	ca := cert["chain"].(map[string]any)["certificates"].([]any)[1].(map[string]any)
	if ca["revocation"].(map[string]any)["status"] != "good" {
		t.Errorf("intermediate: %v", ca["revocation"])
	}
	sl.crlDown.Store(true)
	r = runCLI(t, cacheEnv(t), args...)
	doc = jsonDoc(t, r)
	rev = doc["files"].([]any)[0].(map[string]any)["certificates"].([]any)[0].(map[string]any)["revocation"].(map[string]any)
	if r.code != exitFail || rev["status"] != "revoked" || !strings.HasPrefix(rev["source"].(string), "OCSP "+sl.url+"ocsp") {
		t.Errorf("OCSP: %v\n%s", rev, r)
	}
	if sl.ocsps.Load() == 0 {
		t.Error("no OCSP request reached the server")
	}
}

// With every revocation server down, the status is unknown: WARN under soft, FAIL under
// hard; with a cache of a fresh CRL, the check needs no server.
func TestCheckRevocationServerDown(t *testing.T) {
	sl := newServedLab(t)
	opts := cacheEnv(t)
	args := []string{"check", "lab/gap-server.pem", "--ca", "lab/igc-root.pem", "--chain", "lab/igc-org.pem", "--output", "json"}
	// Filled while the server answers.
	if r := runCLI(t, opts, append(args, "--revocation", "soft")...); r.code != exitOK {
		t.Fatalf("server up:\n%s", r)
	}
	downloads := sl.crls.Load()
	entries, _ := os.ReadDir(filepath.Join(opts.env[cacheDirEnv], "crl"))
	if len(entries) != 2 {
		t.Errorf("cache holds %d files, want igc-org's and igc-root's CRLs", len(entries))
	}
	sl.srv.Close()
	if r := runCLI(t, opts, append(args, "--revocation", "hard")...); r.code != exitOK || sl.crls.Load() != downloads {
		t.Errorf("from the cache:\n%s", r)
	}
	// Without the cache, nothing answers.
	for _, tc := range []struct {
		mode  string
		code  int
		level string
	}{{"soft", exitWarn, "warn"}, {"hard", exitFail, "fail"}} {
		r := runCLI(t, cacheEnv(t), append(args, "--revocation", tc.mode)...)
		got := checkFindings(t, jsonDoc(t, r), 0, 0)
		if r.code != tc.code || got["revocation-unknown"] != tc.level || got["chain-revocation-unknown"] != tc.level {
			t.Errorf("%s: %v\n%s", tc.mode, got, r)
		}
	}
}

// --crl URL is downloaded once, then read from the cache; a URL that does not answer
// is an input that cannot be read.
func TestCheckCRLURL(t *testing.T) {
	sl := newServedLab(t)
	opts := cacheEnv(t)
	for range 2 {
		r := runCLI(t, opts, "check", "lab/tpe-revoked.pem", "--ca", "lab/ingetrust.pem", "--crl", sl.url+"crl/ingetrust.crl")
		if r.code != exitFail || !strings.Contains(r.stdout, "revoked") {
			t.Fatalf("%s", r)
		}
	}
	if n := sl.crls.Load(); n != 1 {
		t.Errorf("%d downloads", n)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/x.crl"
	ln.Close()
	r := runCLI(t, opts, "check", "lab/tpe-client.pem", "--crl", dead)
	if r.code != exitUnknown || !strings.Contains(r.stderr, "--crl "+dead) {
		t.Errorf("dead URL:\n%s", r)
	}
}
