// Package tls12 is a TLS 1.2 client and server, written from the RFCs on the
// standard library's primitives, whose every step can be traced and whose
// failures say where and why the handshake stopped.
package tls12

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is a TLS 1.2 connection over a net.Conn. One goroutine may Read
// while another Writes.
type Conn struct {
	conn     net.Conn
	br       *bufio.Reader
	config   *Config
	isClient bool

	hsMu     sync.Mutex
	hsTried  bool
	hsErr    error
	complete atomic.Bool

	in  halfConn
	out halfConn
	// versionFixed, wait, hsIn, appIn and ignored belong to the reading
	// side (c.in): wait is the state of stateMachine, hsIn the handshake
	// bytes not yet cut into messages, ignored the count of records in a
	// row that carried nothing.
	versionFixed bool
	wait         hsState
	hsIn         []byte
	appIn        []byte
	ignored      int
	// sendBuf belongs to the writing side (c.out).
	sendBuf []byte

	stateMu sync.Mutex
	state   ConnectionState
}

// ConnectionState is what a handshake agreed and saw, for diagnosis.
type ConnectionState struct {
	Version           uint16
	HandshakeComplete bool
	CipherSuite       uint16
	CipherSuiteName   string
	// PeerCertificates is the chain the peer sent, leaf first.
	PeerCertificates     []*x509.Certificate
	ExtendedMasterSecret bool
	EncryptThenMAC       bool
	// SecureRenegotiation says the peer signalled RFC 5746 support.
	SecureRenegotiation bool
	// ServerName is the server_name the client sent.
	ServerName string
	Group      Group
	// ServerSignatureScheme signed the ServerKeyExchange;
	// ClientSignatureScheme the CertificateVerify, zero without one.
	ServerSignatureScheme SignatureScheme
	ClientSignatureScheme SignatureScheme
	// CertificateRequested, RequestedCAs and RequestedSignatureSchemes
	// report the server's CertificateRequest (RequestedCAs as DER names).
	CertificateRequested      bool
	RequestedCAs              [][]byte
	RequestedSignatureSchemes []SignatureScheme
}

// Client returns a client-side connection; a nil config means defaults.
func Client(conn net.Conn, config *Config) *Conn {
	return newConn(conn, config, true)
}

// Server returns a server-side connection; config must hold a certificate.
func Server(conn net.Conn, config *Config) *Conn {
	return newConn(conn, config, false)
}

func newConn(conn net.Conn, config *Config, isClient bool) *Conn {
	if config == nil {
		config = &Config{}
	}
	c := &Conn{conn: conn, br: bufio.NewReader(conn), config: config, isClient: isClient, wait: serverAwaitClientHello}
	if isClient {
		c.wait = clientAwaitServerHello
	}
	return c
}

// lingerTimeout bounds the wait for the peer to close after a fatal alert.
const lingerTimeout = time.Second

// Handshake runs the handshake if it has not run yet; later calls return the
// first result. The context's deadline and cancellation interrupt it (they
// drive the connection's deadlines, which are cleared on return). The error
// is a *HandshakeError, wrapping an *AlertError when an alert was sent or
// received, and the context's error when it was interrupted.
func (c *Conn) Handshake(ctx context.Context) error {
	c.hsMu.Lock()
	defer c.hsMu.Unlock()
	if c.hsTried {
		return c.hsErr
	}
	c.hsTried = true
	c.in.Lock()
	defer c.in.Unlock()
	c.out.Lock()
	defer c.out.Unlock()

	stop := c.watch(ctx)
	hs := &handshake{c: c}
	var err error
	if c.isClient {
		err = hs.client()
	} else {
		err = hs.server()
	}
	stop()
	if err == nil {
		c.complete.Store(true)
		return nil
	}
	var pe *protocolError
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.As(err, &pe) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	} else if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("peer closed the connection without an alert: %w", err)
	}
	err = c.abortLocked(err)
	var ae *AlertError
	if errors.As(err, &ae) && ae.Sent {
		c.linger(ctx)
	}
	c.hsErr = &HandshakeError{Step: hs.step, Err: err}
	c.in.err, c.out.err = c.hsErr, c.hsErr
	return c.hsErr
}

// watch interrupts the connection's I/O when ctx is done, until stop is
// called. It does not copy ctx's deadline onto the connection: the network
// timer could fire before the context's, and the error would then not say
// that the context expired.
func (c *Conn) watch(ctx context.Context) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	interrupted := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		// A deadline in the past wakes up any blocked Read or Write.
		c.conn.SetDeadline(time.Unix(1, 0))
		close(interrupted)
	})
	return func() {
		if !stopAfter() {
			<-interrupted
		}
		c.conn.SetDeadline(time.Time{})
	}
}

// linger half-closes and reads until the peer closes, after a fatal alert:
// closing a TCP socket with unread input sends a reset, which can destroy
// the alert before the peer reads it. Network deadlines need the real clock,
// whatever Config.Time says.
func (c *Conn) linger(ctx context.Context) {
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok || ctx.Err() != nil {
		return
	}
	if cw.CloseWrite() != nil {
		return
	}
	dl := time.Now().Add(lingerTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	c.conn.SetReadDeadline(dl)
	io.Copy(io.Discard, c.br)
	c.conn.SetReadDeadline(time.Time{})
}

// abortLocked sends the alert a protocolError calls for and returns the
// error the caller sees. The caller holds c.out.
func (c *Conn) abortLocked(err error) error {
	var ae *AlertError
	if errors.As(err, &ae) && ae.Level == LevelFatal && c.out.err == nil {
		// The connection is dead: no close_notify may follow.
		c.out.err = err
	}
	var pe *protocolError
	if !errors.As(err, &pe) {
		return err
	}
	c.sendAlertLocked(LevelFatal, pe.alert)
	return &AlertError{Sent: true, Level: LevelFatal, Description: pe.alert, Err: pe.err}
}

var errClosed = errors.New("tls12: connection closed after alert")

// sendAlertLocked sends an alert; the caller holds c.out.
func (c *Conn) sendAlertLocked(level AlertLevel, desc AlertDescription) error {
	if c.out.err != nil {
		return c.out.err
	}
	c.traceAlert(Sent, level, desc)
	err := c.appendRecords(recordAlert, []byte{byte(level), byte(desc)})
	if err == nil {
		err = c.flush()
	}
	if level == LevelFatal || desc == AlertCloseNotify {
		c.out.err = errClosed
	}
	return err
}

// handleAlert reads an alert record. Warnings other than close_notify are
// ignored, as RFC 5246 §7.2 lets the receiver decide.
func (c *Conn) handleAlert(body []byte) error {
	if len(body) != 2 {
		return alertf(AlertDecodeError, "alert record of %d bytes", len(body))
	}
	level, desc := AlertLevel(body[0]), AlertDescription(body[1])
	c.traceAlert(Received, level, desc)
	if level != LevelWarning && level != LevelFatal {
		return alertf(AlertDecodeError, "alert of unknown level %d", body[0])
	}
	if level == LevelWarning && desc != AlertCloseNotify {
		return nil
	}
	return &AlertError{Level: level, Description: desc}
}

// Read reads application data, running the handshake first if needed. It
// returns io.EOF after the peer's close_notify.
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.Handshake(context.Background()); err != nil {
		return 0, err
	}
	if len(b) == 0 {
		return 0, nil
	}
	c.in.Lock()
	defer c.in.Unlock()
	for len(c.appIn) == 0 {
		if c.in.err != nil {
			return 0, c.in.err
		}
		if err := c.readMore(); err != nil {
			c.in.err = err
		}
	}
	n := copy(b, c.appIn)
	c.appIn = c.appIn[n:]
	return n, nil
}

// readMore reads the next input after the handshake, turning the peer's
// close_notify into io.EOF and other failures into the alert they call for.
// The caller holds c.in.
func (c *Conn) readMore() error {
	err := c.readPostHandshake()
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) {
		// A peer closing without close_notify may have been cut short.
		return io.ErrUnexpectedEOF
	}
	var ae *AlertError
	if errors.As(err, &ae) && !ae.Sent && ae.Description == AlertCloseNotify {
		return io.EOF
	}
	return c.abort(err)
}

// abort is abortLocked for the reading side, which does not hold c.out.
func (c *Conn) abort(err error) error {
	if err == nil {
		return nil
	}
	c.out.Lock()
	defer c.out.Unlock()
	return c.abortLocked(err)
}

// Write sends application data, running the handshake first if needed.
func (c *Conn) Write(b []byte) (int, error) {
	if err := c.Handshake(context.Background()); err != nil {
		return 0, err
	}
	c.out.Lock()
	defer c.out.Unlock()
	if c.out.err != nil {
		return 0, c.out.err
	}
	n := 0
	for len(b) > 0 {
		frag := b[:min(len(b), maxPlaintext)]
		if err := c.appendRecords(recordApplicationData, frag); err != nil {
			c.out.err = err
			return n, err
		}
		if err := c.flush(); err != nil {
			c.out.err = err
			return n, err
		}
		n += len(frag)
		b = b[len(frag):]
	}
	return n, nil
}

// closeNotifyTimeout keeps Close from hanging on a peer that stopped reading.
const closeNotifyTimeout = 5 * time.Second

// Close sends close_notify once the handshake is complete, then closes the
// underlying connection. Before that it just closes, which also interrupts
// a running handshake.
func (c *Conn) Close() error {
	if c.complete.Load() {
		c.conn.SetWriteDeadline(time.Now().Add(closeNotifyTimeout))
		c.out.Lock()
		c.sendAlertLocked(LevelWarning, AlertCloseNotify)
		c.out.Unlock()
	}
	return c.conn.Close()
}

// ConnectionState returns what the handshake has agreed so far.
func (c *Conn) ConnectionState() ConnectionState {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	return c.state
}

func (c *Conn) setState(s ConnectionState) {
	c.stateMu.Lock()
	c.state = s
	c.stateMu.Unlock()
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.conn }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.conn.RemoteAddr() }

// SetDeadline sets the read and write deadlines of the underlying connection.
func (c *Conn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline sets the read deadline of the underlying connection.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline of the underlying connection.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }
