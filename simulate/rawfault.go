package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// Record-layer values for the two faults that answer outside the TLS engine,
// which would not misbehave (RFC 5246 §6.2.1, §7.2).
const (
	recordHandshake  = 22
	recordAlert      = 21
	typeClientHello  = 1
	maxRecordPayload = 1<<14 + 2048
	// lingerAfterAlert is how long the connection stays half-open after the
	// alert, so that the client reads it before the connection closes.
	lingerAfterAlert = time.Second
	// maxStall bounds a stall, so that a client that never closes does not
	// hold a connection for ever.
	maxStall = 5 * time.Minute
)

// alertAfterHello reads the ClientHello and answers it with a fatal
// internal_error alert.
func (s *Server) alertAfterHello(ctx context.Context, conn net.Conn, ev *Event) {
	defer conn.Close()
	client, _ := sides(s.TLS)
	start := time.Now()
	timeout := s.timeout()
	conn.SetReadDeadline(start.Add(timeout))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	ev.Status = handshake.StatusFail
	ev.Handshake.StoppedAt = "reading ClientHello"
	var hdr [5]byte
	n, err := io.ReadFull(conn, hdr[:])
	if err == nil && (hdr[0] != recordHandshake || hdr[1] != 3 || int(hdr[3])<<8|int(hdr[4]) > maxRecordPayload) {
		err = fmt.Errorf("first bytes % x are not a TLS handshake record", hdr[:n])
	}
	var body []byte
	if err == nil {
		body = make([]byte, int(hdr[3])<<8|int(hdr[4]))
		if _, err = io.ReadFull(conn, body); err == nil && (len(body) == 0 || body[0] != typeClientHello) {
			err = errors.New("the first handshake message is not a ClientHello")
		}
	}
	ev.Handshake.DurationMS = msSince(start)
	if err != nil {
		ev.Causes = []handshake.Cause{readFailure(err, n, client, timeout)}
		ev.Summary = ev.Causes[0].Message
		return
	}
	conn.SetWriteDeadline(time.Now().Add(timeout))
	_, err = conn.Write([]byte{recordAlert, 3, 3, 0, 2, byte(tls12.LevelFatal), byte(tls12.AlertInternalError)})
	ev.Handshake.Alert = &handshake.AlertInfo{Name: tls12.AlertInternalError.String(), Code: int(tls12.AlertInternalError), Level: tls12.LevelFatal.String(),
		Sent: true, Meaning: handshake.AlertMeaning(tls12.AlertInternalError)}
	msg := fmt.Sprintf("answered the %s's ClientHello with a fatal internal_error alert, as --fault alert-after-hello asks", client)
	if err != nil {
		msg = fmt.Sprintf("could not send the alert of --fault alert-after-hello to the %s: %v", client, err)
	}
	ev.Causes = []handshake.Cause{{Slug: "fault-alert-after-hello", Level: check.Fail, Message: msg}}
	ev.Summary = msg
	if cw, ok := conn.(interface{ CloseWrite() error }); ok && err == nil && cw.CloseWrite() == nil {
		conn.SetReadDeadline(time.Now().Add(lingerAfterAlert))
		io.Copy(io.Discard, conn)
	}
}

// stall reads whatever the client sends and never answers, until the client
// closes, ctx is done or maxStall has passed.
func (s *Server) stall(ctx context.Context, conn net.Conn, ev *Event) {
	defer conn.Close()
	client, _ := sides(s.TLS)
	start := time.Now()
	conn.SetReadDeadline(start.Add(maxStall))
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	n, err := io.Copy(io.Discard, conn)
	held := time.Since(start).Round(time.Millisecond)
	how := fmt.Sprintf("until the %s closed it", client)
	switch {
	case ctx.Err() != nil:
		how = "until the server stopped"
	case errors.Is(err, os.ErrDeadlineExceeded):
		how = fmt.Sprintf("for the longest stall, %s, before closing it", maxStall)
	case err != nil:
		how = fmt.Sprintf("until the connection broke (%v)", err)
	}
	ev.Status = handshake.StatusFail
	ev.Handshake = handshake.HandshakeInfo{DurationMS: msSince(start), StoppedAt: "reading ClientHello"}
	msg := fmt.Sprintf("held the %s's connection for %s without answering (%d bytes read), as --fault stall asks, %s", client, held, n, how)
	ev.Causes = []handshake.Cause{{Slug: "fault-stall", Level: check.Fail, Message: msg}}
	ev.Summary = msg
}

// readFailure explains why no ClientHello could be read.
func readFailure(err error, n int, client string, timeout time.Duration) handshake.Cause {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return handshake.Cause{Slug: "stalled", Level: check.Fail, Message: fmt.Sprintf("the %s connected but sent no ClientHello within %s", client, timeout)}
	case n == 0 && errors.Is(err, io.EOF):
		return handshake.Cause{Slug: "closed-before-hello", Level: check.Fail, Message: fmt.Sprintf("the %s connected and closed without a ClientHello (a port check or health probe?)", client)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return handshake.Cause{Slug: "closed", Level: check.Fail, Message: fmt.Sprintf("the %s closed the connection in the middle of its ClientHello", client)}
	}
	return handshake.Cause{Slug: "not-tls", Level: check.Fail, Message: fmt.Sprintf("the %s does not speak TLS: %v", client, err)}
}

func (s *Server) timeout() time.Duration {
	if s.TLS.Timeout > 0 {
		return s.TLS.Timeout
	}
	return handshake.DefaultTimeout
}

// sides names the client and the server of the link in sentences.
func sides(h *handshake.Server) (client, server string) {
	if h.Link == diapason.LinkTPE {
		return "terminal", "GAP server"
	}
	return "GAP", "provider"
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}
