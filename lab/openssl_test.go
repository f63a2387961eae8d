package lab

import (
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// openssl runs the openssl binary and returns its combined output and exit code.
func openssl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// attime is the lab clock as openssl's -attime wants it, an hour into the
// certificates' validity.
var attime = strconv.FormatInt(testNow.Add(time.Hour).Unix(), 10)

// Every certificate, CAs included, verifies with openssl against its root,
// the intermediates given as untrusted, with the purpose of its role and
// RFC 5280 strictness.
func TestOpenSSLVerifiesEveryCertificate(t *testing.T) {
	needOpenSSL(t)
	l := freshLab(t, Options{})
	dir := t.TempDir()
	if _, err := l.Write(dir, false, testNow); err != nil {
		t.Fatal(err)
	}
	purpose := map[Role]string{RoleGAPClient: "sslclient", RoleGAPServer: "sslserver", RoleTPEClient: "sslclient",
		RoleTPERevoked: "sslclient", RolePSPServer: "sslserver"}
	for _, r := range Roles() {
		cr := l.Credential(r)
		anchor := writePEM(t, dir, string(r)+".anchor.pem", cr.Anchor())
		args := []string{"verify", "-x509_strict", "-attime", attime, "-purpose", purpose[r], "-CAfile", anchor}
		if len(cr.Intermediates()) > 0 {
			args = append(args, "-untrusted", writePEM(t, dir, string(r)+".untrusted.pem", cr.Intermediates()...))
		}
		if r == RoleGAPServer || r == RolePSPServer {
			args = append(args, "-verify_hostname", cr.Cert.Subject.CommonName)
		}
		out, code := openssl(t, append(args, filepath.Join(dir, string(r)+".pem"))...)
		if code != 0 || !strings.Contains(out, ": OK") {
			t.Errorf("openssl verify %s: exit %d\n%s", r, code, out)
		}
	}
	for _, n := range CANames() {
		ca := l.CA(n)
		root := ca
		for root.Parent != "" {
			root = l.CA(root.Parent)
		}
		out, code := openssl(t, "verify", "-x509_strict", "-attime", attime, "-CAfile", filepath.Join(dir, string(root.Name)+".pem"),
			filepath.Join(dir, string(n)+".pem"))
		if code != 0 {
			t.Errorf("openssl verify CA %s: exit %d\n%s", n, code, out)
		}
	}
}

// The CRLs, as written in the lab directory, make openssl report the revoked
// terminal revoked and the others fine, for the whole chain.
func TestOpenSSLCRLCheck(t *testing.T) {
	needOpenSSL(t)
	l := freshLab(t, Options{})
	dir := t.TempDir()
	if _, err := l.Write(dir, false, testNow); err != nil {
		t.Fatal(err)
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	out, code := openssl(t, "verify", "-attime", attime, "-crl_check", "-CAfile", at("ingetrust.pem"),
		"-CRLfile", at("ingetrust.crl.pem"), at("tpe-revoked.pem"))
	if code == 0 || !strings.Contains(out, "certificate revoked") {
		t.Errorf("tpe-revoked not reported revoked: exit %d\n%s", code, out)
	}
	out, code = openssl(t, "verify", "-attime", attime, "-crl_check", "-CAfile", at("ingetrust.pem"),
		"-CRLfile", at("ingetrust.crl.pem"), at("tpe-client.pem"))
	if code != 0 {
		t.Errorf("tpe-client refused with the CRL: exit %d\n%s", code, out)
	}
	// Every CA has a CRL, so the whole IGC chain can be checked.
	out, code = openssl(t, "verify", "-attime", attime, "-crl_check_all", "-CAfile", at("igc-root.pem"), "-untrusted", at("igc-org.pem"),
		"-CRLfile", at("igc-org.crl.pem"), "-CRLfile", at("igc-root.crl.pem"), at("gap-server.pem"))
	if code != 0 {
		t.Errorf("gap-server with -crl_check_all: exit %d\n%s", code, out)
	}

	// After a revocation the rewritten CRL says so, with its new number.
	rev, err := l.Revoke(l.Credential(RoleGAPServer).Cert, 4, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rev.CRLFile != at("igc-org.crl.pem") || rev.CRLNumber != 2 {
		t.Errorf("revocation %+v", rev)
	}
	out, code = openssl(t, "verify", "-attime", strconv.FormatInt(testNow.Add(2*time.Hour).Unix(), 10), "-crl_check", "-CAfile", at("igc-root.pem"),
		"-untrusted", at("igc-org.pem"), "-CRLfile", at("igc-org.crl.pem"), at("gap-server.pem"))
	if code == 0 || !strings.Contains(out, "certificate revoked") {
		t.Errorf("gap-server not revoked after Revoke: exit %d\n%s", code, out)
	}
	text, _ := openssl(t, "crl", "-in", at("igc-org.crl.pem"), "-noout", "-text")
	if !strings.Contains(text, "X509v3 CRL Number: \n                2") || !strings.Contains(text, "Superseded") {
		t.Errorf("openssl crl -text:\n%s", text)
	}
}

// The OCSP responder, on an httptest server, answers openssl ocsp: revoked
// with its reason, good, and unknown for a serial the lab never issued, with
// SHA-1 (openssl's default) and SHA-256 CertIDs.
func TestOpenSSLOCSP(t *testing.T) {
	needOpenSSL(t)
	l := readOnlyLab(t)
	srv := httptest.NewServer(Handler(l, time.Now, nil))
	defer srv.Close()
	dir := t.TempDir()
	issuer := writePEM(t, dir, "ingetrust.pem", l.CA(CAIngeTrust).Cert)
	orgChain := writePEM(t, dir, "igc-org.pem", l.CA(CAIGCOrg).Cert)
	igcRoot := writePEM(t, dir, "igc-root.pem", l.CA(CAIGCRoot).Cert)
	for _, tc := range []struct {
		name, issuer, trust, cert, want string
		extra                           []string
	}{
		{"revoked", issuer, issuer, writePEM(t, dir, "tpe-revoked.pem", l.Credential(RoleTPERevoked).Cert), ": revoked", nil},
		{"revoked sha256", issuer, issuer, filepath.Join(dir, "tpe-revoked.pem"), ": revoked", []string{"-sha256"}},
		{"revoked no nonce", issuer, issuer, filepath.Join(dir, "tpe-revoked.pem"), ": revoked", []string{"-no_nonce"}},
		{"good", issuer, issuer, writePEM(t, dir, "tpe-client.pem", l.Credential(RoleTPEClient).Cert), ": good", nil},
		{"good intermediate signer sha256", orgChain, igcRoot, writePEM(t, dir, "gap-client.pem", l.Credential(RoleGAPClient).Cert), ": good", []string{"-sha256"}},
		{"unknown", issuer, issuer, writePEM(t, dir, "foreign.pem", foreignCert(t, l)), ": unknown", nil},
	} {
		// openssl wants the CertID digest before -cert.
		args := append(append([]string{"ocsp"}, tc.extra...), "-issuer", tc.issuer, "-cert", tc.cert, "-url", srv.URL+"/ocsp", "-CAfile", tc.trust)
		out, code := openssl(t, args...)
		if code != 0 || !strings.Contains(out, tc.want) {
			t.Errorf("%s: openssl ocsp exit %d, want %q\n%s", tc.name, code, tc.want, out)
		}
		if tc.name != "unknown" && !strings.Contains(out, "Response verify OK") {
			t.Errorf("%s: openssl did not verify the response\n%s", tc.name, out)
		}
		if strings.HasPrefix(tc.name, "revoked") && !strings.Contains(out, "Reason: keyCompromise") {
			t.Errorf("%s: no revocation reason\n%s", tc.name, out)
		}
	}
}
