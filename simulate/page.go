package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

const (
	// maxRequest bounds the request line and headers read: a status page
	// needs none of them beyond the method, path and Accept.
	maxRequest = 16 << 10
	// writeTimeout bounds sending the page to a client that does not read.
	writeTimeout = 5 * time.Second
)

// serveHTTP answers one HTTP/1.0 or HTTP/1.1 request with the status page,
// then asks the client to close. A client that sends nothing within the idle
// timeout, or closes, gets nothing.
func (s *Server) serveHTTP(ctx context.Context, tc net.Conn, ev *Event) {
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	tc.SetReadDeadline(time.Now().Add(idle))
	stop := context.AfterFunc(ctx, func() { tc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	in := &watchReader{r: io.LimitReader(tc, maxRequest)}
	req, err := http.ReadRequest(bufio.NewReaderSize(in, 4096))
	if err != nil {
		// Blank lines are not a request: openssl s_client sends one when
		// its input is a bare newline.
		if !in.text || errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
			return
		}
		ev.Request = &Request{Status: http.StatusBadRequest}
		s.reply(tc, "HTTP/1.1", http.StatusBadRequest, "text/plain; charset=utf-8", "this is a simulated Diapason server: send an HTTP/1.0 or HTTP/1.1 request\n", false)
		return
	}
	req.Body.Close()
	proto := "HTTP/1.1"
	if req.ProtoMajor == 1 && req.ProtoMinor == 0 {
		proto = "HTTP/1.0"
	}
	ev.Request = &Request{Method: req.Method, Path: req.URL.Path, Proto: req.Proto, Status: http.StatusOK}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		ev.Request.Status = http.StatusMethodNotAllowed
		s.reply(tc, proto, http.StatusMethodNotAllowed, "text/plain; charset=utf-8", "only GET and HEAD are answered\n", false)
		return
	}
	ctype, body := "text/plain; charset=utf-8", s.textPage(ev, req)
	if strings.HasSuffix(req.URL.Path, ".json") || strings.Contains(req.Header.Get("Accept"), "application/json") {
		ctype, body = "application/json", s.jsonPage(ev)
	}
	s.reply(tc, proto, http.StatusOK, ctype, body, req.Method == http.MethodHead)
}

func (s *Server) reply(tc net.Conn, proto string, code int, ctype, body string, head bool) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %s\r\nServer: diapason-cert simulate\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\nCache-Control: no-store\r\n",
		proto, code, http.StatusText(code), ctype, len(body))
	if code == http.StatusMethodNotAllowed {
		b.WriteString("Allow: GET, HEAD\r\n")
	}
	b.WriteString("\r\n")
	if !head {
		b.WriteString(body)
	}
	tc.SetWriteDeadline(time.Now().Add(writeTimeout))
	tc.Write([]byte(b.String()))
}

// textPage names the client certificate and the verdict on it.
func (s *Server) textPage(ev *Event, req *http.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "diapason-cert %s\n\n", s.Name)
	pair := func(k, v string) { fmt.Fprintf(&b, "%-19s %s\n", k+":", v) }
	pair("verdict", strings.ToUpper(string(ev.Status))+": "+ev.Summary)
	if cc := ev.ClientCertificate; cc != nil {
		pair("client certificate", cc.Subject)
		pair("issuer", cc.Issuer)
		pair("serial", cc.Serial)
		pair("valid until", cc.NotAfter.UTC().Format(time.RFC3339))
		pair("sha256", cc.SHA256)
	} else {
		pair("client certificate", "none (this server did not ask for one)")
	}
	if r := ev.Revocation; r != nil {
		pair("revocation", fmt.Sprintf("%s: %s", r.Status, r.Message))
	}
	pair("suite", ev.Suite)
	if ev.Fault != FaultNone {
		pair("fault", string(ev.Fault))
	}
	pair("your request", fmt.Sprintf("%s %s %s from %s", req.Method, req.URL.RequestURI(), req.Proto, ev.Remote))
	return b.String()
}

// jsonPage is the event as JSON, for test suites.
func (s *Server) jsonPage(ev *Event) string {
	doc := struct {
		Server string `json:"server"`
		*Event
	}{s.Name, ev}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "{}\n"
	}
	return string(out) + "\n"
}

// watchReader notes whether anything but line ends was read, to tell a
// client that sent nothing from one that sent something unreadable.
type watchReader struct {
	r    io.Reader
	text bool
}

func (w *watchReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if !w.text && strings.Trim(string(p[:n]), "\r\n") != "" {
		w.text = true
	}
	return n, err
}
