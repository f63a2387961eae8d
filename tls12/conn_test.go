package tls12

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String()
}

func TestHandshakeContext(t *testing.T) {
	t.Parallel()
	addr := silentServer(t)
	ccfg, _ := mutualConfigs(t)
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 100*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c := Client(conn, ccfg)
			defer c.Close()
			ctx, cancel := tc.ctx()
			defer cancel()
			err = c.Handshake(ctx)
			var he *HandshakeError
			if !errors.Is(err, tc.want) || !errors.As(err, &he) || he.Step != "reading ServerHello" {
				t.Fatalf("got %v", err)
			}
			if again := c.Handshake(context.Background()); again != err {
				t.Errorf("second Handshake: %v", again)
			}
			if _, werr := c.Write([]byte("x")); werr != err {
				t.Errorf("Write after failed handshake: %v", werr)
			}
		})
	}
}

// TestDeadlineClearedAfterHandshake checks that the handshake's deadline
// does not outlive it.
func TestDeadlineClearedAfterHandshake(t *testing.T) {
	t.Parallel()
	ccfg, scfg := mutualConfigs(t)
	a, b := tcpPair(t)
	cc, sc := Client(a, ccfg), Server(b, scfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sc.Handshake(ctx) }()
	if err := cc.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	time.Sleep(50 * time.Millisecond)
	exchange(t, cc, sc)
}

func TestRenegotiationRefused(t *testing.T) {
	t.Parallel()
	for _, fromServer := range []bool{true, false} {
		t.Run(fmt.Sprintf("fromServer=%v", fromServer), func(t *testing.T) {
			var clientLog, serverLog traceLog
			ccfg, scfg := mutualConfigs(t)
			ccfg.Trace, scfg.Trace = clientLog.add, serverLog.add
			a, b := tcpPair(t)
			cc, sc := Client(a, ccfg), Server(b, scfg)
			if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
				t.Fatalf("client: %v\nserver: %v", cerr, serr)
			}
			asker, answerer, log := sc, cc, &clientLog
			var ask handshakeMessage = &helloRequestMsg{}
			if !fromServer {
				asker, answerer, log = cc, sc, &serverLog
				ask = sampleMessages()[1]
			}
			raw, _ := marshalMessage(ask)
			asker.out.Lock()
			if err := asker.appendRecords(recordHandshake, raw); err != nil {
				t.Fatal(err)
			}
			asker.flush()
			asker.out.Unlock()
			if _, err := asker.Write([]byte("still here")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 10)
			if _, err := io.ReadFull(answerer, buf); err != nil || string(buf) != "still here" {
				t.Fatalf("read %q: %v", buf, err)
			}
			if !slices.Contains(log.steps(), "sent Alert") || log.events[len(log.events)-1].Summary != "warning no_renegotiation" {
				t.Errorf("no no_renegotiation warning in %v", log.steps())
			}
			// The asker ignores the warning and goes on.
			if _, err := answerer.Write([]byte("ok")); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(asker, buf[:2]); err != nil || string(buf[:2]) != "ok" {
				t.Fatalf("asker read %q: %v", buf[:2], err)
			}
		})
	}
}

func TestClientCertificateSelection(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	t.Run("by CA names", func(t *testing.T) {
		ccfg, scfg := mutualConfigs(t)
		ccfg.Certificates = []Certificate{credOf(pki.RogueClient), credOf(pki.Client)}
		a, b := tcpPair(t)
		cc, sc := Client(a, ccfg), Server(b, scfg)
		if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
			t.Fatalf("client: %v\nserver: %v", cerr, serr)
		}
		if got := sc.ConnectionState().PeerCertificates[0]; !got.Equal(pki.Client.Chain[0]) {
			t.Errorf("server got %s", got.Subject)
		}
	})
	t.Run("callback declines", func(t *testing.T) {
		ccfg, scfg := mutualConfigs(t)
		var info *CertificateRequestInfo
		ccfg.GetClientCertificate = func(i *CertificateRequestInfo) (*Certificate, error) {
			info = i
			return nil, nil
		}
		a, b := tcpPair(t)
		cerr, serr := handshakeBoth(t, Client(a, ccfg), Server(b, scfg))
		var ae *AlertError
		if !errors.As(serr, &ae) || ae.Description != AlertHandshakeFailure || !errors.As(cerr, &ae) || ae.Sent {
			t.Errorf("client: %v\nserver: %v", cerr, serr)
		}
		if info == nil || len(info.AcceptableCAs) != 1 || len(info.SignatureSchemes) == 0 {
			t.Errorf("request info %+v", info)
		}
	})
	t.Run("optional", func(t *testing.T) {
		ccfg, scfg := mutualConfigs(t)
		ccfg.Certificates = nil
		scfg.ClientAuth = RequestClientCert
		called := false
		scfg.VerifyPeer = func(chain []*x509.Certificate, _ ConnectionState) error {
			called = len(chain) == 0
			return nil
		}
		a, b := tcpPair(t)
		if cerr, serr := handshakeBoth(t, Client(a, ccfg), Server(b, scfg)); cerr != nil || serr != nil || !called {
			t.Errorf("client: %v\nserver: %v\nVerifyPeer called with an empty chain: %v", cerr, serr, called)
		}
	})
}

func TestVerifyAlert(t *testing.T) {
	for err, want := range map[error]AlertDescription{
		&VerifyError{Alert: AlertCertificateRevoked, Err: errNoCert}:              AlertCertificateRevoked,
		fmt.Errorf("chain: %w", x509.UnknownAuthorityError{}):                     AlertUnknownCA,
		x509.CertificateInvalidError{Reason: x509.Expired}:                        AlertCertificateExpired,
		x509.CertificateInvalidError{Reason: x509.NotAuthorizedToSign}:            AlertBadCertificate,
		x509.HostnameError{Certificate: &x509.Certificate{}, Host: "gap.example"}: AlertBadCertificate,
	} {
		if got := verifyAlert(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	pki := testpeer.NewPKI(t)
	cert := credOf(pki.Server)
	base := func() *clientHelloMsg {
		return &clientHelloMsg{version: versionTLS12, random: seq(32, 1), compressions: []uint8{0},
			cipherSuites: []uint16{0xC02F, 0xC027, 0xC028}, groups: []Group{P384, X25519}, sigSchemes: []SignatureScheme{PKCS1WithSHA384},
			etm: true, ems: true, extensions: []uint16{35, 16, 43, 51, extEncryptThenMAC, extExtendedMasterSecret}}
	}
	run := func(cfg *Config, ch *clientHelloMsg) (*serverHelloMsg, *handshake, error) {
		hs := &handshake{c: &Conn{config: cfg}}
		suites, _ := cfg.suites()
		groups, _ := cfg.groups()
		sh, err := hs.negotiate(ch, suites, groups, &cert)
		return sh, hs, err
	}

	sh, hs, err := run(&Config{}, base())
	if err != nil {
		t.Fatal(err)
	}
	// Server preference wins; only what was asked is answered.
	if sh.cipherSuite != 0xC028 || hs.state.Group != X25519 || hs.state.ServerSignatureScheme != PKCS1WithSHA384 ||
		!sh.etm || !sh.ems || sh.secureReneg || sh.pointFormats != nil || sh.serverNameAck {
		t.Errorf("ServerHello %+v state %+v", sh, hs.state)
	}
	if raw, _ := marshalMessage(sh); len(raw) != 4+2+32+1+2+1+2+8 {
		t.Errorf("ServerHello carries unasked extensions: %x", raw)
	}

	ch := base()
	ch.version = 0x0304
	ch.cipherSuites = append(ch.cipherSuites, scsvRenegotiation)
	ch.pointFormats = []uint8{0}
	if sh, _, err := run(&Config{DisableEncryptThenMAC: true, DisableEMS: true}, ch); err != nil || sh.version != versionTLS12 || !sh.secureReneg || sh.etm || sh.ems || len(sh.pointFormats) != 1 {
		t.Errorf("SCSV, TLS 1.3 client, toggles: %+v, %v", sh, err)
	}

	// RFC 7366 §3: encrypt_then_mac is not echoed when GCM is chosen.
	ch = base()
	ch.cipherSuites = []uint16{TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}
	if sh, hs, err := run(&Config{}, ch); err != nil || sh.cipherSuite != TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 || sh.etm || hs.state.EncryptThenMAC || !sh.ems {
		t.Errorf("GCM with encrypt_then_mac offered: %+v, %v", sh, err)
	}
	if sh, _, err := run(&Config{CipherSuites: []uint16{TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}, ch); err != nil || !sh.etm {
		t.Errorf("CBC-SHA1 with encrypt_then_mac offered: %+v, %v", sh, err)
	}

	ch = base()
	ch.groups = nil
	if sh, hs, err := run(&Config{}, ch); err != nil || hs.state.Group != P256 || sh.cipherSuite != 0xC028 {
		t.Errorf("no supported_groups: %v, group %s", err, hs.state.Group)
	}

	for name, tc := range map[string]struct {
		mut   func(*clientHelloMsg)
		alert AlertDescription
	}{
		"TLS 1.1 client":     {func(c *clientHelloMsg) { c.version = 0x0302 }, AlertProtocolVersion},
		"no common suite":    {func(c *clientHelloMsg) { c.cipherSuites = []uint16{0x009C, 0xCCA8} }, AlertHandshakeFailure},
		"no common group":    {func(c *clientHelloMsg) { c.groups = []Group{25} }, AlertHandshakeFailure},
		"no sha2 signature":  {func(c *clientHelloMsg) { c.sigSchemes = nil }, AlertHandshakeFailure},
		"compressed only":    {func(c *clientHelloMsg) { c.compressions = []uint8{1} }, AlertIllegalParameter},
		"renegotiation info": {func(c *clientHelloMsg) { c.secureReneg, c.renegInfo = true, seq(12, 1) }, AlertHandshakeFailure},
	} {
		ch := base()
		tc.mut(ch)
		if _, _, err := run(&Config{}, ch); alertOf(err) != tc.alert {
			t.Errorf("%s: %v, want %s", name, err, tc.alert)
		}
	}
}

// TestPeerNotTLS checks the errors a client gets from peers that close at
// once or answer in plain HTTP.
func TestPeerNotTLS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, reply, want string
	}{
		{"closes", "", "peer closed the connection without an alert: EOF"},
		{"http", "HTTP/1.1 400 Bad Request\r\n\r\n", `peer does not speak TLS (first bytes "HTTP/")`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tcpPair(t)
			go func() {
				b.Read(make([]byte, 4096))
				b.Write([]byte(tc.reply))
				b.Close()
			}()
			err := Client(a, nil).Handshake(testContext(t))
			var he *HandshakeError
			if !errors.As(err, &he) || he.Step != "reading ServerHello" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v", err)
			}
		})
	}
}

// refusingConn is a server's connection that, once the server has sent its
// flight, answers the client's next bytes with a certificate_revoked alert
// and a reset, as a server that checks the client's Certificate on arrival
// and aborts with SO_LINGER 0 does.
type refusingConn struct {
	*net.TCPConn
	wrote bool
	reset chan struct{}
}

func (c *refusingConn) Write(b []byte) (int, error) {
	c.wrote = true
	return c.TCPConn.Write(b)
}

func (c *refusingConn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if c.wrote && n > 0 {
		c.TCPConn.Write([]byte{byte(recordAlert), 3, 3, 0, 2, byte(LevelFatal), byte(AlertCertificateRevoked)})
		c.TCPConn.SetLinger(0)
		c.TCPConn.Close()
		close(c.reset)
		return 0, net.ErrClosed
	}
	return n, err
}

// gatedConn holds its nth write until gate is closed.
type gatedConn struct {
	net.Conn
	n, writes int
	gate      <-chan struct{}
}

func (c *gatedConn) Write(b []byte) (int, error) {
	if c.writes++; c.writes == c.n {
		<-c.gate
	}
	return c.Conn.Write(b)
}

// TestRefusalSurvivesReset checks that a refusal of our certificate, sent
// while we were still signing and followed by a reset, reaches us as the
// server's alert and not as a broken pipe: the client sends its Certificate
// before it signs the CertificateVerify, so a server can refuse it before
// the client's flight is complete.
func TestRefusalSurvivesReset(t *testing.T) {
	t.Parallel()
	ccfg, scfg := mutualConfigs(t)
	a, b := tcpPair(t)
	reset := make(chan struct{})
	// The client writes its ClientHello, then Certificate and
	// ClientKeyExchange, then the rest: the rest waits for the reset.
	cc := Client(&gatedConn{Conn: a, n: 3, gate: reset}, ccfg)
	sc := Server(&refusingConn{TCPConn: b.(*net.TCPConn), reset: reset}, scfg)
	cerr, _ := handshakeBoth(t, cc, sc)
	var ae *AlertError
	if !errors.As(cerr, &ae) || ae.Sent || ae.Description != AlertCertificateRevoked {
		t.Fatalf("client: %v, want the server's certificate_revoked", cerr)
	}
}

// TestClientKeyShareForServerChoice checks that the client, which makes its
// key share for its first group before the server answers, makes another
// when the server picks a later one.
func TestClientKeyShareForServerChoice(t *testing.T) {
	t.Parallel()
	ccfg, scfg := mutualConfigs(t)
	ccfg.Groups = []Group{X25519, P384}
	scfg.Groups = []Group{P384}
	a, b := tcpPair(t)
	cc, sc := Client(a, ccfg), Server(b, scfg)
	if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
		t.Fatalf("client: %v\nserver: %v", cerr, serr)
	}
	if g := cc.ConnectionState().Group; g != P384 {
		t.Errorf("group %s, want P-384", g)
	}
}

// writeLog records what is written through it, one entry per Write.
type writeLog struct {
	net.Conn
	writes [][]byte
}

func (w *writeLog) Write(b []byte) (int, error) {
	w.writes = append(w.writes, slices.Clone(b))
	return w.Conn.Write(b)
}

// TestClientFlightBeforeSignature checks that the client writes its
// Certificate and ClientKeyExchange before it signs the CertificateVerify,
// so that the server checks the chain while the client signs.
func TestClientFlightBeforeSignature(t *testing.T) {
	t.Parallel()
	ccfg, scfg := mutualConfigs(t)
	a, b := tcpPair(t)
	w := &writeLog{Conn: a}
	if cerr, serr := handshakeBoth(t, Client(w, ccfg), Server(b, scfg)); cerr != nil || serr != nil {
		t.Fatalf("client: %v\nserver: %v", cerr, serr)
	}
	// Handshake message types in the plaintext handshake records of a
	// write, up to its ChangeCipherSpec.
	types := func(data []byte) (got []handshakeType) {
		for len(data) >= recordHeaderLen && recordType(data[0]) != recordChangeCipherSpec {
			n := int(data[3])<<8 | int(data[4])
			body := data[recordHeaderLen : recordHeaderLen+n]
			if recordType(data[0]) == recordHandshake {
				for len(body) >= 4 {
					got = append(got, handshakeType(body[0]))
					body = body[4+(int(body[1])<<16|int(body[2])<<8|int(body[3])):]
				}
			}
			data = data[recordHeaderLen+n:]
		}
		return got
	}
	if len(w.writes) < 3 {
		t.Fatalf("%d writes in the handshake, want ClientHello, Certificate+ClientKeyExchange, then the rest", len(w.writes))
	}
	if got, want := types(w.writes[1]), []handshakeType{typeCertificate, typeClientKeyExchange}; !slices.Equal(got, want) {
		t.Errorf("second write carries %v, want %v", got, want)
	}
	if got := types(w.writes[2]); len(got) == 0 || got[0] != typeCertificateVerify {
		t.Errorf("third write carries %v, want CertificateVerify first", got)
	}
}
