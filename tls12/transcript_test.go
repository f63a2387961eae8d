package tls12

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

// Transcripts are the bytes real openssl peers sent to this package's client
// and server, recorded once with -record (which also remakes the PKI they
// use) and stored in testdata/transcripts. Our side runs on a deterministic
// random source (testing/cryptotest), so replaying a peer's bytes to it
// reproduces the whole connection, Finished and application data included:
// fuzz targets start from real, complete exchanges, and tests can splice
// anything into them at any point, encrypted or not.
var recordTranscripts = flag.Bool("record", false, "remake testdata/pki and record testdata/transcripts with openssl")

const (
	transcriptSeed = 20261127
	transcriptDir  = "testdata/transcripts"
	fixedPKIDir    = "testdata/pki"
	// fixedPKIBits is small so that fuzzing runs many handshakes a second;
	// recording lowers openssl's security level to accept it.
	fixedPKIBits = 1024
)

// transcriptTime is when replays check certificates: the fixed PKI lasts a
// century from its making, so any time after that works.
var transcriptTime = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

type transcriptCase struct {
	// name is the file name; "server-" means our server and s_client,
	// "client-" our client and s_server.
	name   string
	cipher string
	args   []string
	// noCert runs s_client without a client certificate.
	noCert bool
	// stdin is what s_client sends; "R" asks for renegotiation.
	stdin string
}

func (tc transcriptCase) server() bool { return strings.HasPrefix(tc.name, "server-") }

var transcriptCases = []transcriptCase{
	{name: "server-C028-etm", cipher: "ECDHE-RSA-AES256-SHA384"},
	{name: "server-C028-mte", cipher: "ECDHE-RSA-AES256-SHA384", args: []string{"-no_etm"}},
	{name: "server-C027-etm", cipher: "ECDHE-RSA-AES128-SHA256"},
	{name: "server-C030", cipher: "ECDHE-RSA-AES256-GCM-SHA384"},
	{name: "server-C02F", cipher: "ECDHE-RSA-AES128-GCM-SHA256"},
	{name: "server-C014-etm", cipher: "ECDHE-RSA-AES256-SHA"},
	{name: "server-C013-mte", cipher: "ECDHE-RSA-AES128-SHA", args: []string{"-no_etm"}},
	{name: "server-C028-etm-nocert", cipher: "ECDHE-RSA-AES256-SHA384", noCert: true},
	{name: "server-C030-reneg", cipher: "ECDHE-RSA-AES256-GCM-SHA384", stdin: "R\n"},
	{name: "client-C028-etm", cipher: "ECDHE-RSA-AES256-SHA384", args: []string{"-Verify", "2"}},
	{name: "client-C028-mte", cipher: "ECDHE-RSA-AES256-SHA384", args: []string{"-Verify", "2", "-no_etm"}},
	{name: "client-C027-mte", cipher: "ECDHE-RSA-AES128-SHA256", args: []string{"-Verify", "2", "-no_etm"}},
	{name: "client-C030", cipher: "ECDHE-RSA-AES256-GCM-SHA384", args: []string{"-Verify", "2"}},
	{name: "client-C02F-nocertreq", cipher: "ECDHE-RSA-AES128-GCM-SHA256"},
	{name: "client-C014-etm", cipher: "ECDHE-RSA-AES256-SHA", args: []string{"-Verify", "2"}},
	{name: "client-C013-mte", cipher: "ECDHE-RSA-AES128-SHA", args: []string{"-Verify", "2", "-no_etm"}},
	{name: "client-C028-etm-nocertreq", cipher: "ECDHE-RSA-AES256-SHA384"},
}

var (
	fixedPKIOnce sync.Once
	fixedPKI     *testpeer.PKI
)

// loadFixedPKI returns the PKI the transcripts were recorded with.
func loadFixedPKI(t testing.TB) *testpeer.PKI {
	fixedPKIOnce.Do(func() {
		dir, err := filepath.Abs(fixedPKIDir)
		if err != nil {
			t.Fatal(err)
		}
		fixedPKI = testpeer.LoadFixedPKI(t, dir)
	})
	return fixedPKI
}

// transcriptConfig is our side's configuration when recording and
// replaying: they must match for the replay to be exact.
func transcriptConfig(pki *testpeer.PKI, server bool) *Config {
	roots := pki.Roots()
	verify := func(chain []*x509.Certificate, _ ConnectionState) error {
		if len(chain) == 0 {
			return nil
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: transcriptTime,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
	if server {
		return &Config{Certificates: []Certificate{credOf(pki.Server)}, ClientAuth: RequestClientCert,
			ClientCAs: [][]byte{pki.Root.RawSubject}, VerifyPeer: verify}
	}
	return &Config{Certificates: []Certificate{credOf(pki.Client)}, ServerName: "localhost", VerifyPeer: verify}
}

// teeConn keeps a copy of what it reads.
type teeConn struct {
	net.Conn
	read bytes.Buffer
}

func (c *teeConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.read.Write(b[:n])
	return n, err
}

// scriptConn plays recorded peer bytes and discards what it is sent, with no
// network and no blocking: an input ends in io.EOF.
type scriptConn struct {
	r *bytes.Reader
}

type scriptAddr struct{}

func (scriptAddr) Network() string { return "script" }
func (scriptAddr) String() string  { return "script" }

func (s *scriptConn) Read(b []byte) (int, error)       { return s.r.Read(b) }
func (s *scriptConn) Write(b []byte) (int, error)      { return len(b), nil }
func (s *scriptConn) Close() error                     { return nil }
func (s *scriptConn) LocalAddr() net.Addr              { return scriptAddr{} }
func (s *scriptConn) RemoteAddr() net.Addr             { return scriptAddr{} }
func (s *scriptConn) SetDeadline(time.Time) error      { return nil }
func (s *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// replay runs our side against a peer's bytes on the transcripts' random
// source and returns the connection, the handshake's error and, if it
// succeeded, the error that ended reading (nil after close_notify).
func replay(t *testing.T, server bool, peer []byte, cfg *Config) (c *Conn, hsErr, readErr error) {
	cryptotest.SetGlobalRandom(t, transcriptSeed)
	sc := &scriptConn{r: bytes.NewReader(peer)}
	if server {
		c = Server(sc, cfg)
	} else {
		c = Client(sc, cfg)
	}
	if hsErr = c.Handshake(context.Background()); hsErr != nil {
		return c, hsErr, nil
	}
	_, readErr = io.Copy(io.Discard, c)
	c.Close()
	return c, nil, readErr
}

// transcript is what a peer sent, and the keys that protect what it sent
// after its ChangeCipherSpec.
type transcript struct {
	peer []byte
	keys transcriptKeys
}

// transcriptKeys is what the connection agreed, stored next to each
// transcript (<name>.keys) so that its encrypted records can be read without
// a replay, which needs a *testing.T for its random source.
type transcriptKeys struct {
	suite                              uint16
	etm                                bool
	clientRandom, serverRandom, master []byte
}

// peerCipher protects what the peer sends: the client's keys when our side
// is the server.
func (k transcriptKeys) peerCipher(t testing.TB, server bool) recordCipher {
	s := suiteByID(k.suite)
	kb := deriveKeys(s, k.master, k.clientRandom, k.serverRandom)
	key, mac, iv := kb.serverKey, kb.serverMAC, kb.serverIV
	if server {
		key, mac, iv = kb.clientKey, kb.clientMAC, kb.clientIV
	}
	rc, err := s.newCipher(s, key, mac, iv, k.etm)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func (k transcriptKeys) marshal() []byte {
	return fmt.Appendf(nil, "suite %04X\netm %v\nclient_random %x\nserver_random %x\nmaster %x\n", k.suite, k.etm, k.clientRandom, k.serverRandom, k.master)
}

func parseTranscriptKeys(data []byte) (transcriptKeys, error) {
	var k transcriptKeys
	_, err := fmt.Sscanf(string(data), "suite %04X\netm %t\nclient_random %x\nserver_random %x\nmaster %x\n", &k.suite, &k.etm, &k.clientRandom, &k.serverRandom, &k.master)
	if err == nil && suiteByID(k.suite) == nil {
		err = fmt.Errorf("unknown suite %04X", k.suite)
	}
	return k, err
}

// loadTranscripts returns the stored transcripts of one role by name.
func loadTranscripts(t testing.TB, server bool) map[string]transcript {
	out := map[string]transcript{}
	for _, tc := range transcriptCases {
		if tc.server() != server {
			continue
		}
		peer, err := os.ReadFile(filepath.Join(transcriptDir, tc.name+".bin"))
		if err != nil {
			t.Fatalf("transcript %s: %v (record with go test ./tls12 -run TestTranscripts -record)", tc.name, err)
		}
		data, err := os.ReadFile(filepath.Join(transcriptDir, tc.name+".keys"))
		if err != nil {
			t.Fatalf("transcript %s: %v", tc.name, err)
		}
		keys, err := parseTranscriptKeys(data)
		if err != nil {
			t.Fatalf("transcript %s keys: %v", tc.name, err)
		}
		out[tc.name] = transcript{peer, keys}
	}
	return out
}

// replayKeys replays a transcript and returns the keys it agreed.
func replayKeys(t *testing.T, server bool, peer []byte, pki *testpeer.PKI) transcriptKeys {
	var keyLog bytes.Buffer
	var log traceLog
	cfg := transcriptConfig(pki, server)
	cfg.KeyLogWriter, cfg.Trace = &keyLog, log.add
	c, hsErr, _ := replay(t, server, peer, cfg)
	if hsErr != nil {
		t.Fatalf("replay: %v", hsErr)
	}
	st := c.ConnectionState()
	k := transcriptKeys{suite: st.CipherSuite, etm: st.EncryptThenMAC}
	if _, err := fmt.Sscanf(keyLog.String(), "CLIENT_RANDOM %x %x\n", &k.clientRandom, &k.master); err != nil {
		t.Fatalf("key log %q: %v", keyLog.String(), err)
	}
	for _, e := range log.events {
		if e.Step == "ServerHello" {
			k.serverRandom = e.Data[6 : 6+randomLen]
		}
	}
	return k
}

// TestTranscripts checks every stored transcript replays to a complete
// connection with what openssl negotiated, and that the state machine table
// accepts every input openssl sent. With -record it first records them.
func TestTranscripts(t *testing.T) {
	if *recordTranscripts {
		recordAll(t)
	}
	pki := loadFixedPKI(t)
	for _, server := range []bool{true, false} {
		for name, tr := range loadTranscripts(t, server) {
			t.Run(name, func(t *testing.T) {
				var log traceLog
				cfg := transcriptConfig(pki, server)
				cfg.Trace = log.add
				c, hsErr, readErr := replay(t, server, tr.peer, cfg)
				if hsErr != nil {
					t.Fatalf("handshake: %v", hsErr)
				}
				st := c.ConnectionState()
				if want := strings.Split(name, "-")[1]; CipherSuiteName(st.CipherSuite) != suiteNames[want] {
					t.Errorf("suite %s, want %s", st.CipherSuiteName, want)
				}
				if st.EncryptThenMAC != strings.Contains(name, "-etm") || !st.ExtendedMasterSecret {
					t.Errorf("etm %v ems %v", st.EncryptThenMAC, st.ExtendedMasterSecret)
				}
				var ae *AlertError
				switch {
				case strings.HasSuffix(name, "-reneg"):
					// openssl gives up after our no_renegotiation warning.
					if !errors.As(readErr, &ae) || ae.Sent || ae.Description != AlertHandshakeFailure || !slices.Contains(log.steps(), "sent Alert") {
						t.Errorf("after renegotiation: %v", readErr)
					}
				case readErr != nil:
					t.Errorf("reading: %v", readErr)
				}
				if got := replayKeys(t, server, tr.peer, pki); !bytes.Equal(got.marshal(), tr.keys.marshal()) {
					t.Errorf("stored keys differ from the replay's:\n%s\n%s", tr.keys.marshal(), got.marshal())
				}
				statesBefore(t, server, peerInputs(t, tr.peer, tr.keys.peerCipher(t, server)))
			})
		}
	}
}

var suiteNames = map[string]string{
	"C013": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
	"C014": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
	"C027": "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
	"C028": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
	"C02F": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"C030": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
}

// recordAll remakes the fixed PKI and records every transcript case.
func recordAll(t *testing.T) {
	if err := os.MkdirAll(transcriptDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(fixedPKIDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testpeer.WriteFixedPKI(fixedPKIDir, fixedPKIBits); err != nil {
		t.Fatal(err)
	}
	pki := loadFixedPKI(t)
	for _, tc := range transcriptCases {
		t.Run("record/"+tc.name, func(t *testing.T) {
			var peer []byte
			if tc.server() {
				peer = recordServer(t, pki, tc)
			} else {
				peer = recordClient(t, pki, tc)
			}
			keys := replayKeys(t, tc.server(), peer, pki)
			if err := os.WriteFile(filepath.Join(transcriptDir, tc.name+".bin"), peer, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(transcriptDir, tc.name+".keys"), keys.marshal(), 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// opensslCipher admits the fixed PKI's small keys.
func (tc transcriptCase) opensslCipher() string { return tc.cipher + ":@SECLEVEL=1" }

func recordServer(t *testing.T, pki *testpeer.PKI, tc transcriptCase) []byte {
	cryptotest.SetGlobalRandom(t, transcriptSeed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	args := []string{"-tls1_2", "-cipher", tc.opensslCipher(), "-CAfile", pki.RootFile, "-servername", "localhost"}
	if !tc.noCert {
		args = append(args, "-cert", pki.Client.CertFile, "-key", pki.Client.KeyFile, "-cert_chain", pki.Client.ChainFile)
	}
	stdin := tc.stdin
	if stdin == "" {
		stdin = "hello from openssl\n"
	}
	cli := testpeer.StartClient(t, ln.Addr().String(), []byte(stdin), append(args, tc.args...)...)
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	rec := &teeConn{Conn: conn}
	c := Server(rec, transcriptConfig(pki, true))
	if err := c.Handshake(testContext(t)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.Copy(io.Discard, c)
	c.Close()
	cli.Wait()
	return rec.read.Bytes()
}

func recordClient(t *testing.T, pki *testpeer.PKI, tc transcriptCase) []byte {
	cryptotest.SetGlobalRandom(t, transcriptSeed)
	args := []string{"-tls1_2", "-cipher", tc.opensslCipher(), "-CAfile", pki.RootFile, "-cert", pki.Server.CertFile,
		"-key", pki.Server.KeyFile, "-cert_chain", pki.Server.ChainFile, "-rev", "-naccept", "1"}
	srv := testpeer.StartServer(t, append(args, tc.args...)...)
	conn, err := net.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	rec := &teeConn{Conn: conn}
	c := Client(rec, transcriptConfig(pki, false))
	if err := c.Handshake(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello from diapason\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	if line, err := br.ReadString('\n'); err != nil || line != "nosapaid morf olleh\n" {
		t.Fatalf("read %q: %v", line, err)
	}
	// close_notify without closing, to record s_server's own.
	c.out.Lock()
	err = c.sendAlertLocked(LevelWarning, AlertCloseNotify)
	c.out.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("waiting for s_server's close_notify: %v", err)
	}
	conn.Close()
	return rec.read.Bytes()
}

// peerInput is one record the peer sent, decrypted; handshake records hold
// exactly one message.
type peerInput struct {
	typ  recordType
	data []byte
}

func (in peerInput) input() (input, bool) {
	switch {
	case in.typ == recordChangeCipherSpec:
		return inputChangeCipherSpec, true
	case in.typ == recordHandshake && len(in.data) > 0:
		return msg(handshakeType(in.data[0])), true
	}
	return 0, false
}

// peerInputs cuts a peer's bytes into records of one message each,
// decrypting what follows its ChangeCipherSpec with keys, the peer's cipher
// as a replay agreed it.
func peerInputs(t testing.TB, peer []byte, keys recordCipher) []peerInput {
	var out []peerInput
	var hs []byte
	encrypted := false
	var seqNum uint64
	for len(peer) >= recordHeaderLen {
		typ := recordType(peer[0])
		n := int(peer[3])<<8 | int(peer[4])
		body := append([]byte(nil), peer[recordHeaderLen:recordHeaderLen+n]...)
		peer = peer[recordHeaderLen+n:]
		if encrypted {
			var err error
			if body, err = keys.open(seqNum, typ, body); err != nil {
				t.Fatalf("decrypting record %d: %v", seqNum, err)
			}
			seqNum++
		}
		if typ != recordHandshake {
			out = append(out, peerInput{typ, body})
			encrypted = encrypted || typ == recordChangeCipherSpec
			continue
		}
		hs = append(hs, body...)
		for len(hs) >= 4 {
			n := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
			if len(hs) < n {
				break
			}
			out = append(out, peerInput{recordHandshake, hs[:n:n]})
			hs = hs[n:]
		}
	}
	if len(peer) != 0 || len(hs) != 0 {
		t.Fatalf("transcript ends inside a record or message")
	}
	return out
}

// encodeInputs is the inverse of peerInputs: the peer's byte stream, with
// what follows its ChangeCipherSpec sealed under keys.
func encodeInputs(inputs []peerInput, keys recordCipher) []byte {
	var out []byte
	encrypted := false
	var seqNum uint64
	for _, in := range inputs {
		// Only handshake messages are cut to the record limit; other
		// inputs are sent as they are, oversized ones included.
		frags := [][]byte{in.data}
		if in.typ == recordHandshake {
			frags = nil
			for rest := in.data; len(frags) == 0 || len(rest) > 0; rest = rest[min(len(rest), maxPlaintext):] {
				frags = append(frags, rest[:min(len(rest), maxPlaintext)])
			}
		}
		for _, body := range frags {
			if encrypted {
				body, _ = keys.seal(nil, seqNum, in.typ, body, zeroReader{})
				seqNum++
			}
			out = append(out, record(in.typ, body)...)
		}
		encrypted = encrypted || in.typ == recordChangeCipherSpec
	}
	return out
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// statesBefore walks stateMachine along a peer's inputs and returns the
// state our side is in when each arrives; it fails the test if the table
// refuses any of them. Where a transition leads to several states, the one
// that accepts the next input is taken.
func statesBefore(t testing.TB, server bool, inputs []peerInput) []hsState {
	t.Helper()
	cur := clientAwaitServerHello
	if server {
		cur = serverAwaitClientHello
	}
	out := make([]hsState, len(inputs))
	for i, in := range inputs {
		out[i] = cur
		x, ok := in.input()
		if !ok {
			continue
		}
		tr := cur.transition(x)
		if tr == nil {
			t.Fatalf("input %d (%s) refused by the table while %s", i, x, cur)
		}
		if tr.action != accept {
			continue
		}
		cur = tr.to[0]
		for _, to := range tr.to[1:] {
			for _, next := range inputs[i+1:] {
				if nx, ok := next.input(); ok {
					if to.transition(nx) != nil {
						cur = to
					}
					break
				}
			}
		}
	}
	return out
}
