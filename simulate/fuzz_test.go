package simulate

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
)

// scripted is a connection whose peer sent in and then closed; what the
// server writes is kept in out.
type scripted struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (s *scripted) Read(p []byte) (int, error)  { return s.in.Read(p) }
func (s *scripted) Write(p []byte) (int, error) { return s.out.Write(p) }
func (s *scripted) Close() error                { return nil }
func (s *scripted) LocalAddr() net.Addr         { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8443} }
func (s *scripted) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (s *scripted) SetDeadline(time.Time) error      { return nil }
func (s *scripted) SetReadDeadline(time.Time) error  { return nil }
func (s *scripted) SetWriteDeadline(time.Time) error { return nil }

func fuzzServer(f Fault) *Server {
	return &Server{Name: "fuzz", Fault: f, TLS: &handshake.Server{Link: diapason.LinkTPE, Timeout: time.Second,
		Now: func() time.Time { return testNow }}}
}

// FuzzAlertAfterHello feeds the raw ClientHello reader of the
// alert-after-hello fault: it answers with the alert exactly when a whole
// ClientHello record came, and says why otherwise.
func FuzzAlertAfterHello(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 4, 1, 0, 0, 0})
	f.Add([]byte{22, 3, 3, 0, 2, 2, 0})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 3, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		conn := &scripted{in: bytes.NewReader(data)}
		var ev Event
		fuzzServer(FaultAlertAfterHello).alertAfterHello(context.Background(), conn, &ev)
		whole := len(data) >= 6 && data[0] == 22 && data[1] == 3 && len(data) >= 5+(int(data[3])<<8|int(data[4])) &&
			int(data[3])<<8|int(data[4]) <= maxRecordPayload && int(data[3])<<8|int(data[4]) > 0 && data[5] == 1
		sent := conn.out.Bytes()
		switch {
		case whole && !bytes.Equal(sent, []byte{21, 3, 3, 0, 2, 2, 80}):
			t.Fatalf("a ClientHello was answered with % x", sent)
		case !whole && len(sent) > 0:
			t.Fatalf("% x was answered with % x", data, sent)
		case len(ev.Causes) != 1 || ev.Status != handshake.StatusFail || ev.Summary == "":
			t.Fatalf("event %+v", ev)
		}
	})
}

// FuzzStatusPage feeds the HTTP reader after a handshake: whatever the
// client sends, the answer is nothing or one well-formed HTTP response.
func FuzzStatusPage(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: gap\r\n\r\n"))
	f.Add([]byte("HEAD /x.json HTTP/1.0\r\nAccept: application/json\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("\x16\x03\x01garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		conn := &scripted{in: bytes.NewReader(data)}
		ev := Event{Remote: "127.0.0.1:50000", Status: handshake.StatusOK, Summary: "ok", Suite: "0xC028",
			ClientCertificate: &ClientCertificate{Subject: "CN=LAB TPE 00000001", Issuer: "CN=IngeTrust"}}
		fuzzServer(FaultNone).serveHTTP(context.Background(), conn, &ev)
		if conn.out.Len() == 0 {
			if ev.Request != nil {
				t.Fatalf("request %+v logged but not answered", ev.Request)
			}
			return
		}
		if ev.Request == nil {
			t.Fatalf("answered without logging the request:\n%s", conn.out.String())
		}
		head := ev.Request.Method == http.MethodHead
		resp, err := http.ReadResponse(bufio.NewReader(&conn.out), &http.Request{Method: ev.Request.Method})
		if err != nil {
			t.Fatalf("answer is not HTTP: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(resp.Header.Get("Content-Length"))
		if ev.Request.Status != resp.StatusCode || !resp.Close || (!head && n != len(body)) || (head && len(body) != 0) {
			t.Fatalf("answer %d (%d bytes, Content-Length %d) for request %+v", resp.StatusCode, len(body), n, ev.Request)
		}
	})
}
