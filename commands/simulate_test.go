package commands

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// lockedBuffer is a buffer written by a running command and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// liveRun is a long-running command in-process.
type liveRun struct {
	stdout, stderr lockedBuffer
	cancel         context.CancelFunc
	done           chan int
	addr           string
}

// startSimulate runs `simulate ARGS…` until stop, and returns once it
// listens, with its address.
func startSimulate(t *testing.T, args ...string) *liveRun {
	t.Helper()
	l := &liveRun{done: make(chan int, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	env := Env{Stdin: strings.NewReader(""), Stdout: &l.stdout, Stderr: &l.stderr, Getenv: func(string) string { return "" },
		Now: func() time.Time { return fixedNow }}
	go func() { l.done <- Run(ctx, env, append([]string{"diapason-cert", "simulate"}, args...)) }()
	deadline := time.After(20 * time.Second)
	for l.addr == "" {
		line, _, _ := strings.Cut(l.stdout.String(), "\n")
		if a, ok := strings.CutPrefix(line, "listening on "); ok {
			l.addr, _, _ = strings.Cut(a, " ")
		} else if strings.HasPrefix(line, "{") && strings.Contains(l.stdout.String(), "\n") {
			var ev struct{ Event, Address string }
			if json.Unmarshal([]byte(line), &ev) != nil || ev.Event != "listening" {
				t.Fatalf("first line %q", line)
			}
			l.addr = ev.Address
		}
		select {
		case code := <-l.done:
			t.Fatalf("simulate exited (%d) before listening\n%s\n%s", code, l.stdout.String(), l.stderr.String())
		case <-deadline:
			t.Fatalf("simulate did not listen\n%s", l.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Cleanup(func() { l.stop(t) })
	return l
}

// stop cancels the command, as SIGINT does, and returns its run.
func (l *liveRun) stop(t *testing.T) runResult {
	t.Helper()
	l.cancel()
	select {
	case code := <-l.done:
		l.done <- code
		return runResult{stdout: l.stdout.String(), stderr: l.stderr.String(), code: code}
	case <-time.After(15 * time.Second):
		t.Fatal("simulate did not stop 15 s after it was interrupted")
	}
	return runResult{}
}

// waitLog waits up to 10 s for the log to hold s.
func (l *liveRun) waitLog(t *testing.T, s string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(l.stdout.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("the log does not say %q:\n%s\n%s", s, l.stdout.String(), l.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return l.stdout.String()
}

// link is what the clients of one simulated server use.
type link struct {
	sub, name, root string
	// cert is the client certificate with its chain, key its key; chain
	// is the chain alone, for s_client.
	cert, key, chain, cn string
	probe                string
}

func links(t *testing.T, dir string) []link {
	t.Helper()
	full := filepath.Join(t.TempDir(), "gap-client-full.pem")
	data := slices.Concat(read(t, filepath.Join(dir, "gap-client.pem")), read(t, filepath.Join(dir, "igc-org.pem")))
	if err := os.WriteFile(full, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return []link{
		{sub: "psp", name: lab.PSPFQDN, root: filepath.Join(dir, "geotrust-root.pem"), cert: full, key: filepath.Join(dir, "gap-client.key"),
			chain: filepath.Join(dir, "igc-org.pem"), cn: "CN=Client_Diapason_PSP", probe: "psp"},
		{sub: "gap", name: lab.DefaultFQDN, root: filepath.Join(dir, "igc-root.pem"), cert: filepath.Join(dir, "tpe-client.pem"),
			key: filepath.Join(dir, "tpe-client.key"), cn: "CN=LAB TPE", probe: "tpe"},
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSimulateClients has openssl s_client, curl, Go's crypto/tls (0xC027)
// and our own probe talk to both simulated servers and read the status page.
func TestSimulateClients(t *testing.T) {
	t.Parallel()
	handshaketest.NeedOpenSSL(t)
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (.ci/run installs it)")
	}
	dir := labDir(t)
	for _, lk := range links(t, dir) {
		t.Run(lk.sub, func(t *testing.T) {
			t.Parallel()
			l := startSimulate(t, lk.sub, "--listen", "127.0.0.1:0", "--lab", dir)
			_, port, _ := net.SplitHostPort(l.addr)

			args := []string{"-tls1_2", "-crlf", "-ign_eof", "-cert", lk.cert, "-key", lk.key, "-CAfile", lk.root,
				"-servername", lk.name, "-verify_hostname", lk.name, "-verify_return_error"}
			if lk.chain != "" {
				args = append(args, "-cert_chain", lk.chain)
			}
			out, err := handshaketest.RunClient(t, l.addr, "GET /from-openssl HTTP/1.0\n\n", 20*time.Second, args...)
			if err != nil || !strings.Contains(out, "HTTP/1.0 200 OK") || !strings.Contains(out, lk.cn) || !strings.Contains(out, "Cipher is ECDHE-RSA-AES256-SHA384") {
				t.Fatalf("openssl s_client (%v):\n%s", err, out)
			}

			curl, err := exec.Command("curl", "-sS", "--tlsv1.2", "--tls-max", "1.2", "--cacert", lk.root, "--cert", lk.cert, "--key", lk.key,
				"--resolve", lk.name+":"+port+":127.0.0.1", "https://"+lk.name+":"+port+"/from-curl").CombinedOutput()
			if err != nil || !strings.Contains(string(curl), lk.cn) || !strings.Contains(string(curl), "verdict:            OK") {
				t.Fatalf("curl (%v):\n%s", err, curl)
			}

			pair, err := tls.LoadX509KeyPair(lk.cert, lk.key)
			if err != nil {
				t.Fatal(err)
			}
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(read(t, lk.root))
			client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
				TLSClientConfig: &tls.Config{ServerName: lk.name, RootCAs: roots, Certificates: []tls.Certificate{pair}, MaxVersion: tls.VersionTLS12,
					CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}},
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, l.addr)
				}}}
			resp, err := client.Get("https://" + lk.name + "/from-go")
			if err != nil {
				t.Fatalf("crypto/tls: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			client.CloseIdleConnections()
			if resp.StatusCode != 200 || !strings.Contains(string(body), lk.cn) || !strings.Contains(string(body), "0xC027") {
				t.Fatalf("crypto/tls: %d\n%s", resp.StatusCode, body)
			}

			if r := runCLI(t, runOpts{}, "handshake", lk.probe, l.addr, "--lab", dir); r.code != 0 {
				t.Fatalf("handshake %s: %s", lk.probe, r)
			}
			l.waitLog(t, "GET /from-go HTTP/1.1 200")
			r := l.stop(t)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r)
			}
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 6 || !strings.HasPrefix(lines[5], "stopped after 4 connections: 4 OK, 0 WARN, 0 FAIL; 3 HTTP requests answered") {
				t.Fatalf("log:\n%s", r.stdout)
			}
			for _, want := range []string{"GET /from-openssl HTTP/1.0 200", "GET /from-curl HTTP/1.1 200", " OK 0xC028 ", " OK 0xC027 "} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the log does not say %q:\n%s", want, r.stdout)
				}
			}
		})
	}
}

// TestSimulateJSONLines: one JSON object per line and per event.
func TestSimulateJSONLines(t *testing.T) {
	t.Parallel()
	dir := labDir(t)
	l := startSimulate(t, "gap", "--listen", "127.0.0.1:0", "--lab", dir, "--output", "json")
	runCLI(t, runOpts{}, "handshake", "tpe", l.addr, "--lab", dir)
	runCLI(t, runOpts{}, "handshake", "tpe", l.addr, "--lab", dir, "--cert", filepath.Join(dir, "tpe-revoked.pem"), "--key", filepath.Join(dir, "tpe-revoked.key"))
	l.waitLog(t, `"status":"fail"`)
	r := l.stop(t)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var events []string
	for _, line := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev["schema_version"] != 1.0 {
			t.Fatalf("not a JSON object with schema_version: %q (%v)", line, err)
		}
		events = append(events, ev["event"].(string))
		if c, ok := ev["causes"]; ev["event"] == "connection" && (!ok || c == nil) {
			t.Errorf("causes not a list: %s", line)
		}
		if ev["event"] == "connection" && ev["status"] == "fail" {
			causes := ev["causes"].([]any)
			if causes[0].(map[string]any)["slug"] != "revoked" || ev["client_certificate"] == nil || ev["revocation"].(map[string]any)["status"] != "revoked" {
				t.Errorf("refusal event %s", line)
			}
		}
	}
	if !slices.Equal(events, []string{"listening", "connection", "connection", "stopped"}) {
		t.Fatalf("events %v\n%s", events, r.stdout)
	}
}

// TestSimulateRevocation: the GAP server refuses a revoked terminal by a CRL
// file and by the lab's OCSP responder, and one whose revocation nothing
// answers, naming the way out.
func TestSimulateRevocation(t *testing.T) {
	t.Parallel()
	dir := labDir(t)
	at := func(f string) string { return filepath.Join(dir, f) }
	server := []string{"gap", "--listen", "127.0.0.1:0", "--cert", at("gap-server.pem"), "--chain", at("igc-org.pem"), "--key", at("gap-server.key"),
		"--client-ca", at("ingetrust.pem")}
	terminal := func(addr, role string) runResult {
		return runCLI(t, runOpts{}, "handshake", "tpe", addr, "--lab", dir, "--cert", at(role+".pem"), "--key", at(role+".key"), "--output", "json")
	}
	t.Run("CRL file", func(t *testing.T) {
		t.Parallel()
		l := startSimulate(t, append(server, "--crl", at("ingetrust.crl.pem"))...)
		if r := terminal(l.addr, "tpe-revoked"); r.code != 1 || !slices.Contains(causeSlugs(t, r), "client-revoked") {
			t.Fatalf("revoked terminal: %s", r)
		}
		l.waitLog(t, "FAIL revoked:")
		if r := terminal(l.addr, "tpe-client"); r.code != 0 {
			t.Fatalf("good terminal: %s", r)
		}
		l.waitLog(t, "OK 0xC028")
	})
	t.Run("OCSP", func(t *testing.T) {
		t.Parallel()
		src, err := lab.Watch(dir)
		if err != nil {
			t.Fatal(err)
		}
		ocsp := httptest.NewServer(lab.Handler(src, func() time.Time { return fixedNow }, nil))
		t.Cleanup(ocsp.Close)
		l := startSimulate(t, append(server, "--ocsp", ocsp.URL+"/ocsp")...)
		if r := terminal(l.addr, "tpe-revoked"); r.code != 1 {
			t.Fatalf("revoked terminal: %s", r)
		}
		log := l.waitLog(t, "FAIL revoked:")
		if !strings.Contains(log, "OCSP "+ocsp.URL) {
			t.Errorf("the refusal does not name the responder:\n%s", log)
		}
	})
	t.Run("no source", func(t *testing.T) {
		t.Parallel()
		l := startSimulate(t, server...)
		if r := terminal(l.addr, "tpe-client"); r.code != 1 || !slices.Contains(causeSlugs(t, r), "client-certificate-unknown") {
			t.Fatalf("terminal without revocation source: %s", r)
		}
		log := l.waitLog(t, "FAIL revocation-unavailable:")
		for _, w := range []string{"--crl FILE|URL", "--revocation off", "names no CRL or OCSP"} {
			if !strings.Contains(log, w) {
				t.Errorf("the refusal does not name the way out %q:\n%s", w, log)
			}
		}
	})
	t.Run("off", func(t *testing.T) {
		t.Parallel()
		l := startSimulate(t, append(server, "--revocation", "off")...)
		if r := terminal(l.addr, "tpe-revoked"); r.code != 0 {
			t.Fatalf("revocation off: %s", r)
		}
		if r := l.stop(t); !strings.Contains(r.stderr, "warning: --revocation off") {
			t.Errorf("no warning:\n%s", r)
		}
	})
}

// TestSimulatePSPDistributionPoint: the simulated provider, given nothing but
// the IGC-Santé-like root, checks a GAP certificate's revocation at the CRL
// address the certificate names.
func TestSimulatePSPDistributionPoint(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(nil)
	dir := labDir(t, "--url", "http://"+srv.Listener.Addr().String()+"/")
	src, err := lab.Watch(dir)
	if err != nil {
		t.Fatal(err)
	}
	var fetched []string
	var mu sync.Mutex
	srv.Config.Handler = lab.Handler(src, func() time.Time { return fixedNow }, func(e lab.Entry) {
		mu.Lock()
		fetched = append(fetched, e.Path)
		mu.Unlock()
	})
	srv.Start()
	t.Cleanup(srv.Close)
	at := func(f string) string { return filepath.Join(dir, f) }
	l := startSimulate(t, "psp", "--listen", "127.0.0.1:0", "--cert", at("psp-server.pem"), "--chain", at("geotrust-ca.pem"), "--key", at("psp-server.key"),
		"--client-ca", at("igc-root.pem"), "--output", "json")
	if r := runCLI(t, runOpts{}, "handshake", "psp", l.addr, "--lab", dir); r.code != 0 {
		t.Fatalf("handshake psp: %s", r)
	}
	log := l.waitLog(t, `"event":"connection"`)
	if !strings.Contains(log, `"status":"good"`) || !strings.Contains(log, "/crl/igc-org.crl") {
		t.Errorf("the revocation was not answered by the distribution point:\n%s", log)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(fetched, "/crl/igc-org.crl") {
		t.Errorf("the CRL was not fetched: %v", fetched)
	}
}

// TestSimulateFaultCommand runs a fault that changes the lab (revoked) and
// the refusals of faults that cannot be made.
func TestSimulateFaultCommand(t *testing.T) {
	t.Parallel()
	dir := labDir(t)
	l := startSimulate(t, "gap", "--listen", "127.0.0.1:0", "--lab", dir, "--fault", "revoked")
	if !strings.Contains(l.stderr.String(), "revoked in the lab") {
		t.Errorf("stderr does not say the copy was revoked in the lab:\n%s", l.stderr.String())
	}
	r := runCLI(t, runOpts{}, "handshake", "tpe", l.addr, "--lab", dir, "--output", "json")
	if r.code != 1 || !slices.Contains(causeSlugs(t, r), "revoked") {
		t.Fatalf("the terminal does not see the revocation: %s", r)
	}
	l.waitLog(t, "FAIL server-certificate-refused:")

	at := func(f string) string { return filepath.Join(dir, f) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"psp", "--listen", "127.0.0.1:0", "--cert", at("psp-server.pem"), "--key", at("psp-server.key"), "--fault", "expired"}, "--lab DIR"},
		{[]string{"psp", "--listen", "127.0.0.1:0", "--lab", dir, "--cert", at("psp-server.pem"), "--key", at("psp-server.key"), "--fault", "missing-intermediate"}, "no intermediate"},
		{[]string{"psp", "--listen", "127.0.0.1:0", "--lab", dir, "--fault", "suite-mismatch", "--cipher", "diapason"}, "--cipher and --fault"},
		{[]string{"psp", "--listen", "127.0.0.1:0", "--lab", dir, "--fault", "late"}, "alert-after-hello"},
		{[]string{"psp", "--lab", dir}, "--listen is required"},
		{[]string{"psp", "--listen", "nowhere", "--lab", dir}, "--listen"},
		{[]string{"gap", "--listen", "127.0.0.1:0", "--cert", at("gap-server.pem"), "--key", at("gap-server.key")}, "--client-ca is required"},
		{[]string{"gap", "--listen", "127.0.0.1:0", "--cert", at("gap-server.pem"), "--key", at("psp-server.key"), "--client-ca", at("ingetrust.pem")}, "key"},
		{[]string{"gap", "--listen", "127.0.0.1:0", "--lab", dir, "--ocsp", "ldap://x"}, "--ocsp"},
		{[]string{"gap", "--listen", "127.0.0.1:0", "--lab", dir, "--idle-timeout", "0s"}, "--idle-timeout must be positive, like 10s"},
		{[]string{"psp", "--listen", "127.0.0.1:0", "--lab", dir, "--grace", "-1s"}, "--grace must be positive, like 2s"},
		{[]string{"tpe", "--lab", dir}, "HOST:PORT"},
		{[]string{"tpe", "127.0.0.1:1", "--lab", dir, "--count", "0"}, "--count"},
		{[]string{"tpe", "127.0.0.1:1", "--fqdn", "gap.lab.test"}, "terminal certificate is required"},
	} {
		r := runCLI(t, runOpts{}, append([]string{"simulate"}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("simulate %v: want usage error saying %q\n%s", tc.args, tc.want, r)
		}
	}
	busy := runCLI(t, runOpts{}, "simulate", "gap", "--listen", l.addr, "--lab", dir)
	if busy.code != 1 || !strings.Contains(busy.stderr, "cannot listen") {
		t.Errorf("busy port: %s", busy)
	}
}

// TestSimulateIdleTimeout checks that --idle-timeout is what closes a
// client that completes its handshake and never sends a request.
func TestSimulateIdleTimeout(t *testing.T) {
	t.Parallel()
	dir := labDir(t)
	lk := links(t, dir)[1]
	l := startSimulate(t, "gap", "--listen", "127.0.0.1:0", "--lab", dir, "--idle-timeout", "200ms")
	pair, err := tls.LoadX509KeyPair(lk.cert, lk.key)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(read(t, lk.root))
	conn, err := tls.Dial("tcp", l.addr, &tls.Config{ServerName: lk.name, RootCAs: roots, Certificates: []tls.Certificate{pair},
		MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Far below the 10 s default: only --idle-timeout can close it in time.
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read %d bytes, %v; want the server to close the idle connection", n, err)
	}
	l.waitLog(t, "OK 0xC027")
}

// TestSimulateTPECommand loads a simulated GAP server with a fleet.
func TestSimulateTPECommand(t *testing.T) {
	t.Parallel()
	dir := labDir(t)
	l := startSimulate(t, "gap", "--listen", "127.0.0.1:0", "--lab", dir)
	r := runCLI(t, runOpts{}, "simulate", "tpe", l.addr, "--lab", dir, "--count", "24", "--concurrency", "6")
	if r.code != 0 || !strings.Contains(r.stdout, "24 handshakes by 6 terminals") || !strings.Contains(r.stdout, "0xC028 ×24") ||
		!strings.Contains(r.stdout, "p99") || !strings.Contains(r.stdout, "verdict: OK") {
		t.Fatalf("%s", r)
	}
	at := func(f string) string { return filepath.Join(dir, f) }
	r = runCLI(t, runOpts{tty: true}, "simulate", "tpe", l.addr, "--lab", dir, "--cert", at("tpe-revoked.pem"), "--key", at("tpe-revoked.key"),
		"--count", "5", "--concurrency", "2", "--output", "json")
	doc := jsonDoc(t, r)
	fails, _ := doc["failures"].([]any)
	if r.code != 1 || doc["failed"] != 5.0 || len(fails) != 1 || fails[0].(map[string]any)["slug"] != "client-revoked" || doc["status"] != "fail" {
		t.Fatalf("revoked fleet: %s", r)
	}
	if !strings.Contains(r.stderr, "handshakes/s") || !strings.Contains(r.stderr, "\r") {
		t.Errorf("no progress bar on a terminal:\n%q", r.stderr)
	}
	if st := l.stop(t); !strings.Contains(st.stdout, "stopped after 29 connections: 24 OK, 0 WARN, 5 FAIL") {
		t.Errorf("server log:\n%s", st.stdout)
	}
}
