package simulate

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// goTLS opens a crypto/tls connection to a simulated GAP server as a
// terminal, with 0xC027 (crypto/tls has no 0xC028).
func goTLS(t *testing.T, p *handshaketest.PKI, addr string) *tls.Conn {
	t.Helper()
	cred := p.Lab.Credential(lab.RoleTPEClient)
	roots := x509.NewCertPool()
	roots.AddCert(p.Lab.CA(lab.CAIGCRoot).Cert)
	c, err := tls.Dial("tcp", addr, &tls.Config{
		ServerName: p.Lab.FQDN(), RootCAs: roots, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
		Certificates: []tls.Certificate{{Certificate: [][]byte{cred.Cert.Raw}, PrivateKey: cred.Key}},
	})
	if err != nil {
		t.Fatalf("crypto/tls: %v", err)
	}
	return c
}

// ask sends a raw request on a fresh crypto/tls connection and reads the
// answer; nil when the server answered nothing.
func ask(t *testing.T, p *handshaketest.PKI, addr, request string) (*http.Response, string) {
	t.Helper()
	c := goTLS(t, p, addr)
	defer c.Close()
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	if _, err := br.Peek(1); err != nil {
		return nil, ""
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", request, err)
	}
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestStatusPage(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	r := start(t, &Server{TLS: tlsServer(p, diapason.LinkTPE), Name: "simulated GAP server"})
	subject := "CN=" + p.Lab.Credential(lab.RoleTPEClient).Cert.Subject.CommonName

	resp, body := ask(t, p, r.Addr, "GET /status HTTP/1.1\r\nHost: gap\r\n\r\n")
	if resp == nil || resp.StatusCode != 200 || resp.Proto != "HTTP/1.1" || !resp.Close || !strings.Contains(body, subject) ||
		!strings.Contains(body, "0xC027") || !strings.Contains(body, "verdict:            OK") || !strings.Contains(body, "revocation:         good") {
		t.Fatalf("HTTP/1.1 page: %+v\n%s", resp, body)
	}
	if resp, body := ask(t, p, r.Addr, "GET / HTTP/1.0\r\n\r\n"); resp == nil || resp.Proto != "HTTP/1.0" || !strings.Contains(body, subject) {
		t.Errorf("HTTP/1.0 page: %+v\n%s", resp, body)
	}
	if resp, body := ask(t, p, r.Addr, "HEAD / HTTP/1.1\r\nHost: gap\r\n\r\n"); resp == nil || resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD: %+v %q", resp, body)
	}
	if resp, _ := ask(t, p, r.Addr, "POST / HTTP/1.1\r\nHost: gap\r\nContent-Length: 2\r\n\r\nhi"); resp == nil || resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %+v", resp)
	}
	if resp, _ := ask(t, p, r.Addr, "hello there\r\n\r\n"); resp == nil || resp.StatusCode != 400 {
		t.Errorf("not HTTP: %+v", resp)
	}
	if resp, _ := ask(t, p, r.Addr, "\r\n"); resp != nil {
		t.Errorf("a blank line was answered: %+v", resp)
	}
	resp, body = ask(t, p, r.Addr, "GET /status.json HTTP/1.1\r\nHost: gap\r\n\r\n")
	var doc struct {
		Server            string
		Status            string
		ClientCertificate struct{ Subject string } `json:"client_certificate"`
	}
	if resp == nil || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal([]byte(body), &doc) != nil ||
		doc.Status != "ok" || !strings.HasSuffix(doc.ClientCertificate.Subject, subject) || doc.Server != "simulated GAP server" {
		t.Errorf("JSON page: %+v %+v\n%s", resp, doc, body)
	}
	st := r.stop()
	if st.Connections != 7 || st.OK != 7 || st.Requests != 6 {
		t.Errorf("stats %+v", st)
	}
	r.wait(t, "with the request", func(e Event) bool { return e.Request != nil && e.Request.Path == "/status" && e.Request.Status == 200 })
}

// clientHello is the first flight of a terminal: a ClientHello record.
func clientHello(t *testing.T, p *handshaketest.PKI) []byte {
	t.Helper()
	a, b := net.Pipe()
	cred := labCred(p.Lab, lab.RoleTPEClient)
	go tls12.Client(a, &tls12.Config{Certificates: []tls12.Certificate{cred}}).Handshake(context.Background())
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	return append(hdr, body...)
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// TestRobustness sends what breaks servers, then checks that the server
// still serves and that nothing is left behind once it stops. It does not
// run in parallel: it counts goroutines.
func TestRobustness(t *testing.T) {
	p := handshaketest.NewPKI(t)
	hello := clientHello(t, p)
	base := runtime.NumGoroutine()
	tlsSrv := tlsServer(p, diapason.LinkTPE)
	tlsSrv.Timeout = 300 * time.Millisecond
	r := start(t, &Server{TLS: tlsSrv, Name: "test"})

	garbage := dial(t, r.Addr)
	garbage.Write([]byte("\x00\xffSSH-2.0-OpenSSH\r\n" + strings.Repeat("\xde\xad", 3000)))
	garbage.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, garbage)
	garbage.Close()
	r.wait(t, "not-tls", slug("not-tls"))

	halfOpen := dial(t, r.Addr)
	halfOpen.CloseWrite()
	r.wait(t, "closed-before-hello", slug("closed-before-hello"))
	halfOpen.Close()

	silent := dial(t, r.Addr)
	defer silent.Close()
	partial := dial(t, r.Addr)
	defer partial.Close()
	partial.Write(hello[:40]) // a ClientHello that never ends
	slow := dial(t, r.Addr)
	defer slow.Close()
	slow.Write(hello) // then nothing more
	e := r.wait(t, "stalled in the middle", func(e Event) bool {
		return len(e.Causes) > 0 && e.Causes[0].Slug == "stalled" && strings.Contains(e.Summary, "stopped sending")
	})
	if e.Handshake.DurationMS > 3000 {
		t.Errorf("the handshake deadline was not kept: %v ms", e.Handshake.DurationMS)
	}
	for _, what := range []string{"silent", "partial"} {
		r.wait(t, what, func(e Event) bool {
			return len(e.Causes) > 0 && strings.Contains(e.Summary, "sent no ClientHello") && e.Remote == map[string]net.Conn{"silent": silent, "partial": partial}[what].LocalAddr().String()
		})
	}

	// A client that resets the connection after the server's first flight.
	aborted := dial(t, r.Addr)
	aborted.Write(hello)
	aborted.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(aborted, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	aborted.SetLinger(0)
	aborted.Close()
	r.wait(t, "closed", slug("closed"))

	// A handshake message announced at 16 MiB is refused at its header.
	huge := dial(t, r.Addr)
	huge.Write([]byte{22, 3, 3, 0, 4, 1, 0xff, 0xff, 0xff})
	huge.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, huge)
	huge.Close()
	r.wait(t, "oversized message refused", func(e Event) bool {
		return e.Handshake.Alert != nil && e.Handshake.Alert.Name == "illegal_parameter"
	})

	if res := handshake.Probe(context.Background(), probeOf(p, diapason.LinkTPE, r.Addr)); res.Status != handshake.StatusOK {
		t.Fatalf("after all that the server does not serve: %s %v: %s", res.Status, causeSlugs(res.Causes), res.Summary)
	}
	r.stop()
	goroutines(t, base)
}

// TestManyConnections holds hundreds of silent connections open at once:
// the server keeps serving others, its memory per connection stays small,
// MaxConns bounds its goroutines, and nothing is left once it stops.
func TestManyConnections(t *testing.T) {
	p := handshaketest.NewPKI(t)
	base := runtime.NumGoroutine()
	const n = 400
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	tlsSrv := tlsServer(p, diapason.LinkTPE)
	tlsSrv.Timeout = 20 * time.Second
	r := start(t, &Server{TLS: tlsSrv, Name: "test"})
	conns := make([]*net.TCPConn, n)
	for i := range conns {
		conns[i] = dial(t, r.Addr)
		conns[i].Write([]byte{22, 3, 1}) // the start of a record, never finished
	}
	if res := handshake.Probe(context.Background(), probeOf(p, diapason.LinkTPE, r.Addr)); res.Status != handshake.StatusOK {
		t.Fatalf("with %d connections open the server does not serve: %s %v", n, res.Status, causeSlugs(res.Causes))
	}
	var during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&during)
	per := (int64(during.HeapInuse) - int64(before.HeapInuse)) / n
	t.Logf("%d connections held: %d goroutines, %d bytes of heap each", n, runtime.NumGoroutine()-base, per)
	if per > 64<<10 {
		t.Errorf("%d bytes of heap per silent connection", per)
	}
	for _, c := range conns {
		c.Close()
	}
	r.waitCount(t, n+1)
	r.stop()
	goroutines(t, base)

	// With MaxConns, the goroutines stay bounded whatever the clients do, and
	// the connections beyond it are served when others end.
	tlsSrv = tlsServer(p, diapason.LinkTPE)
	tlsSrv.Timeout = 200 * time.Millisecond
	r = start(t, &Server{TLS: tlsSrv, Name: "test", MaxConns: 16})
	for i := range 100 {
		conns[i] = dial(t, r.Addr)
	}
	time.Sleep(100 * time.Millisecond)
	if g := runtime.NumGoroutine() - base; g > 16+16 {
		t.Errorf("%d goroutines for 100 connections with MaxConns 16", g)
	}
	if res := handshake.Probe(context.Background(), probeOf(p, diapason.LinkTPE, r.Addr)); res.Status != handshake.StatusOK {
		t.Fatalf("a connection waiting beyond MaxConns was not served: %s %v", res.Status, causeSlugs(res.Causes))
	}
	for _, c := range conns[:100] {
		c.Close()
	}
	r.stop()
	goroutines(t, base)
}

// slowWriter passes the ClientHello, then holds the client's second flight
// until release is closed.
type slowWriter struct {
	net.Conn
	writes  int
	release chan struct{}
}

func (s *slowWriter) Write(b []byte) (int, error) {
	if s.writes++; s.writes == 2 {
		<-s.release
	}
	return s.Conn.Write(b)
}

// TestGracefulShutdown stops a server with a handshake under way, which
// completes, and an idle connection, which is closed at once.
func TestGracefulShutdown(t *testing.T) {
	p := handshaketest.NewPKI(t)
	base := runtime.NumGoroutine()
	r := start(t, &Server{TLS: tlsServer(p, diapason.LinkTPE), Name: "test", IdleTimeout: time.Minute, Grace: 5 * time.Second})

	idle := goTLS(t, p, r.Addr)
	defer idle.Close()
	sw := &slowWriter{Conn: dial(t, r.Addr), release: make(chan struct{})}
	cred := labCred(p.Lab, lab.RoleTPEClient)
	done := make(chan error, 1)
	go func() {
		tc := tls12.Client(sw, &tls12.Config{Certificates: []tls12.Certificate{cred}, ServerName: p.Lab.FQDN()})
		done <- tc.Handshake(context.Background())
		tc.Close()
	}()
	time.Sleep(200 * time.Millisecond) // the server has sent its flight and waits
	stopped := make(chan Stats, 1)
	t0 := time.Now()
	go func() { stopped <- r.stop() }()
	time.Sleep(200 * time.Millisecond)
	close(sw.release)
	if err := <-done; err != nil {
		t.Fatalf("the handshake under way did not complete: %v", err)
	}
	st := <-stopped
	if d := time.Since(t0); d > 4*time.Second {
		t.Errorf("stopping took %s: the idle connection was waited for", d)
	}
	if st.Connections != 2 || st.OK != 2 {
		t.Errorf("stats %+v", st)
	}
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); err == nil {
		t.Error("the idle connection is still open")
	}
	goroutines(t, base)
}
