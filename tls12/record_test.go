package tls12

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"errors"
	"io"
	"net"
	"testing"
)

func testCBC(t *testing.T, etm bool) *cbcCipher {
	t.Helper()
	s := suiteByID(TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384)
	rc, err := newAESCBC(s, seq(32, 1), seq(48, 2), nil, etm)
	if err != nil {
		t.Fatal(err)
	}
	return rc.(*cbcCipher)
}

// encryptCBC encrypts data under a fixed IV, as a faulty or hostile peer
// could, so that padding and MAC can be damaged on purpose.
func encryptCBC(c *cbcCipher, data []byte) []byte {
	out := append(seq(16, 9), data...)
	cipher.NewCBCEncrypter(c.block, out[:16]).CryptBlocks(out[16:], out[16:])
	return out
}

func padding(n int) []byte { return seq(n, byte(n-1)) }

func TestCBCMACThenEncrypt(t *testing.T) {
	c := testCBC(t, false)
	payload := []byte("hello")
	mac := c.appendMAC(nil, 5, recordApplicationData, payload)
	flipped := append([]byte(nil), mac...)
	flipped[0] ^= 1
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"minimal padding", concat(payload, mac, padding(11)), true},
		{"long padding", concat(payload, mac, padding(27)), true},
		{"longest padding", concat(payload, mac, padding(251)), true},
		{"bad padding byte", concat(payload, mac, seq(5, 10), []byte{9}, seq(5, 10)), false},
		{"padding longer than record", concat(payload, mac, seq(10, 10), []byte{200}), false},
		{"bad mac", concat(payload, flipped, padding(11)), false},
		{"no room for mac", concat(seq(15, 0), padding(1)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.open(5, recordApplicationData, encryptCBC(c, tc.data))
			if tc.ok && (err != nil || !bytes.Equal(got, payload)) {
				t.Fatalf("open: %q, %v", got, err)
			}
			// Bad padding and bad MAC must be indistinguishable.
			if !tc.ok && err != errBadRecordMAC {
				t.Fatalf("open: %v, want errBadRecordMAC", err)
			}
		})
	}
	if _, err := c.open(6, recordApplicationData, encryptCBC(c, concat(payload, mac, padding(11)))); err != errBadRecordMAC {
		t.Errorf("wrong sequence number accepted: %v", err)
	}
	if _, err := c.open(5, recordApplicationData, seq(16+63, 0)); err != errBadRecordMAC {
		t.Errorf("partial block accepted: %v", err)
	}
}

func TestCBCEncryptThenMAC(t *testing.T) {
	c := testCBC(t, true)
	rec, err := c.seal(nil, 3, recordHandshake, []byte("finished"), bytes.NewReader(seq(16, 4)))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.open(3, recordHandshake, append([]byte(nil), rec...)); err != nil || string(got) != "finished" {
		t.Fatalf("open: %q, %v", got, err)
	}
	tampered := append([]byte(nil), rec...)
	tampered[20] ^= 1
	if _, err := c.open(3, recordHandshake, tampered); err != errBadRecordMAC {
		t.Errorf("tampered ciphertext: %v", err)
	}
	// A valid MAC over a ciphertext hiding bad padding is still refused.
	enc := encryptCBC(c, concat([]byte("x"), seq(14, 3), []byte{5}))
	if _, err := c.open(3, recordHandshake, c.appendMAC(enc, 3, recordHandshake, enc)); err != errBadRecordMAC {
		t.Errorf("bad padding under a good MAC: %v", err)
	}
}

func TestCBCSealOpenAllLengths(t *testing.T) {
	for _, etm := range []bool{false, true} {
		c := testCBC(t, etm)
		for n := range 100 {
			p := seq(n, byte(n))
			rec, err := c.seal(nil, uint64(n), recordApplicationData, p, bytes.NewReader(seq(16, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := c.open(uint64(n), recordApplicationData, rec); err != nil || !bytes.Equal(got, p) {
				t.Fatalf("etm=%v len %d: %v", etm, n, err)
			}
		}
	}
}

// recordConn is a Conn reading the given bytes, to test the record layer alone.
func recordConn(data []byte, c recordCipher) *Conn {
	conn := &Conn{config: &Config{}, br: bufio.NewReader(bytes.NewReader(data)), versionFixed: true}
	conn.in.cipher = c
	return conn
}

func record(typ recordType, body []byte) []byte {
	return append([]byte{byte(typ), 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func alertOf(err error) AlertDescription {
	var pe *protocolError
	if errors.As(err, &pe) {
		return pe.alert
	}
	return 255
}

func TestRecordLimits(t *testing.T) {
	cbc := testCBC(t, true)
	big, _ := cbc.seal(nil, 0, recordApplicationData, seq(maxPlaintext+1, 0), bytes.NewReader(seq(16, 0)))
	for _, tc := range []struct {
		name   string
		data   []byte
		cipher recordCipher
		alert  AlertDescription
	}{
		{"plaintext over 2^14", record(recordHandshake, seq(maxPlaintext+1, 0)), nil, AlertRecordOverflow},
		{"ciphertext over 2^14+2048", record(recordApplicationData, seq(maxCiphertext+1, 0)), cbc, AlertRecordOverflow},
		{"decrypted over 2^14", record(recordApplicationData, big), cbc, AlertRecordOverflow},
		{"unknown content type", record(recordType(24), nil), nil, AlertUnexpectedMessage},
		{"wrong version", []byte{22, 3, 1, 0, 0}, nil, AlertProtocolVersion},
		{"bad mac", record(recordApplicationData, seq(80, 0)), cbc, AlertBadRecordMAC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := recordConn(tc.data, tc.cipher).readRecord()
			if alertOf(err) != tc.alert {
				t.Fatalf("got %v, want alert %s", err, tc.alert)
			}
		})
	}
	if typ, body, err := recordConn(record(recordApplicationData, seq(maxPlaintext, 1)), nil).readRecord(); err != nil || typ != recordApplicationData || len(body) != maxPlaintext {
		t.Errorf("record of exactly 2^14: %v", err)
	}
	if _, _, err := recordConn([]byte{23, 3, 3, 0}, nil).readRecord(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("cut header: %v", err)
	}
}

func TestRecordFirstClientHelloVersion(t *testing.T) {
	c := recordConn([]byte{22, 3, 1, 0, 1, 1}, nil)
	c.versionFixed = false
	if _, _, err := c.readRecord(); err != nil {
		t.Errorf("0x0301 before the version is agreed: %v", err)
	}
	c = recordConn([]byte{'G', 'E', 'T', ' ', '/'}, nil)
	c.versionFixed = false
	if _, _, err := c.readRecord(); alertOf(err) != AlertUnexpectedMessage {
		t.Errorf("HTTP request: %v", err)
	}
}

// stateConn is a plaintext Conn in state st reading the given bytes.
func stateConn(st hsState, data []byte) *Conn {
	c := recordConn(data, nil)
	c.wait = st
	return c
}

func TestRecordRules(t *testing.T) {
	crt, _ := marshalMessage(&certificateMsg{certificates: [][]byte{seq(1000, 1)}})
	fin, _ := marshalMessage(&finishedMsg{verifyData: seq(12, 1)})
	helloReq := []byte{byte(typeHelloRequest), 0, 0, 0}
	warning := record(recordAlert, []byte{1, byte(AlertUserCanceled)})
	repeat := func(n int, b []byte) []byte { return bytes.Repeat(b, n) }
	for _, tc := range []struct {
		name  string
		st    hsState
		limit int
		data  []byte
		alert AlertDescription
	}{
		{"empty handshake record", clientAwaitServerCertificate, 0, record(recordHandshake, nil), AlertUnexpectedMessage},
		{"empty alert record", clientAwaitServerCertificate, 0, record(recordAlert, nil), AlertUnexpectedMessage},
		{"empty ChangeCipherSpec record", clientAwaitChangeCipherSpec, 0, record(recordChangeCipherSpec, nil), AlertUnexpectedMessage},
		{"empty handshake record once connected", clientConnected, 0, record(recordHandshake, nil), AlertUnexpectedMessage},
		{"application data during the handshake", clientAwaitServerCertificate, 0, record(recordApplicationData, []byte("x")), AlertUnexpectedMessage},
		{"ChangeCipherSpec inside a message", clientAwaitFinished, 0, concat(record(recordHandshake, fin[:5]), record(recordChangeCipherSpec, []byte{1})), AlertUnexpectedMessage},
		{"warning alert inside a message", clientAwaitFinished, 0, concat(record(recordHandshake, fin[:1]), warning, record(recordHandshake, fin[1:])), AlertUnexpectedMessage},
		{"application data inside a message", clientConnected, 0, concat(record(recordHandshake, helloReq[:2]), record(recordApplicationData, []byte("x"))), AlertUnexpectedMessage},
		{"ChangeCipherSpec while a message is buffered", serverAwaitChangeCipherSpec, 0, concat(record(recordHandshake, fin), record(recordChangeCipherSpec, []byte{1})), AlertUnexpectedMessage},
		{"ChangeCipherSpec once connected", serverConnected, 0, record(recordChangeCipherSpec, []byte{1}), AlertUnexpectedMessage},
		{"ChangeCipherSpec of value 2", clientAwaitChangeCipherSpec, 0, record(recordChangeCipherSpec, []byte{2}), AlertDecodeError},
		{"ChangeCipherSpec of 2 bytes", clientAwaitChangeCipherSpec, 0, record(recordChangeCipherSpec, []byte{1, 1}), AlertDecodeError},
		{"wrong type known from its first byte", clientAwaitServerCertificate, 0, record(recordHandshake, []byte{byte(typeServerHelloDone)}), AlertUnexpectedMessage},
		{"unknown handshake type", clientAwaitServerCertificate, 0, record(recordHandshake, []byte{99}), AlertUnexpectedMessage},
		{"Finished after the handshake", clientConnected, 0, record(recordHandshake, fin), AlertUnexpectedMessage},
		{"ClientHello to a client", clientConnected, 0, record(recordHandshake, []byte{byte(typeClientHello)}), AlertUnexpectedMessage},
		{"HelloRequest to a server", serverConnected, 0, record(recordHandshake, helloReq), AlertUnexpectedMessage},
		{"HelloRequest to a server during the handshake", serverAwaitClientKeyExchange, 0, record(recordHandshake, helloReq), AlertUnexpectedMessage},
		{"message over the default limit", clientAwaitServerCertificate, 0, record(recordHandshake, []byte{11, 0x02, 0, 1}), AlertIllegalParameter},
		{"message over a configured limit", clientAwaitServerCertificate, len(crt) - 5, record(recordHandshake, crt[:4]), AlertIllegalParameter},
		{"alert of 3 bytes", clientAwaitServerCertificate, 0, record(recordAlert, []byte{1, 0, 0}), AlertDecodeError},
		{"alert of unknown level", clientAwaitServerCertificate, 0, record(recordAlert, []byte{3, 0}), AlertDecodeError},
		{"33 warning alerts in a row", clientAwaitServerCertificate, 0, repeat(33, warning), AlertUnexpectedMessage},
		{"33 empty application data records", clientConnected, 0, repeat(33, record(recordApplicationData, nil)), AlertUnexpectedMessage},
		{"32 warnings then an empty application data record", clientConnected, 0, concat(repeat(32, warning), record(recordApplicationData, nil)), AlertUnexpectedMessage},
		{"unknown content type", clientConnected, 0, record(recordType(24), []byte{1}), AlertUnexpectedMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := stateConn(tc.st, tc.data)
			c.config.MaxHandshakeMessage = tc.limit
			ev, err := c.nextEvent()
			if alertOf(err) != tc.alert {
				t.Fatalf("got %+v, %v; want alert %s", ev, err, tc.alert)
			}
		})
	}
	// A fatal alert inside a message is the peer's verdict, reported as received.
	c := stateConn(clientAwaitFinished, concat(record(recordHandshake, fin[:3]), record(recordAlert, []byte{2, byte(AlertDecryptError)})))
	var ae *AlertError
	if _, err := c.nextEvent(); !errors.As(err, &ae) || ae.Sent || ae.Description != AlertDecryptError {
		t.Errorf("fatal alert inside a message: %v", err)
	}
	// Exactly at the limits: 32 ignored records, then a message of the
	// configured size.
	c = stateConn(clientAwaitServerCertificate, concat(repeat(32, warning), record(recordHandshake, crt)))
	c.config.MaxHandshakeMessage = len(crt) - 4
	if ev, err := c.nextEvent(); err != nil || !bytes.Equal(ev.data, crt) {
		t.Errorf("message at the limit after 32 warnings: %v", err)
	}
	c = stateConn(clientConnected, concat(repeat(32, record(recordApplicationData, nil)), record(recordApplicationData, []byte("x"))))
	if ev, err := c.nextEvent(); err != nil || string(ev.data) != "x" {
		t.Errorf("data after 32 empty records: %v", err)
	}
}

// countingReader counts what was read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// TestReassemblyBounded: a message at the limit sent one byte per record
// costs a bounded buffer, and one over the limit is refused from its header,
// without reading its body.
func TestReassemblyBounded(t *testing.T) {
	const limit = 20000
	body := seq(limit, 7)
	raw := append([]byte{byte(typeCertificate), 0, limit >> 8, limit & 0xff}, body...)
	var stream []byte
	for _, b := range raw {
		stream = append(stream, record(recordHandshake, []byte{b})...)
	}
	c := stateConn(clientAwaitServerCertificate, stream)
	c.config.MaxHandshakeMessage = limit
	if ev, err := c.nextEvent(); err != nil || !bytes.Equal(ev.data, raw) || cap(ev.data) > 2*len(raw) {
		t.Fatalf("message at the limit: %v (buffer of %d bytes)", err, cap(ev.data))
	}

	over := append([]byte{byte(typeCertificate), 0, (limit + 1) >> 8, (limit + 1) & 0xff}, seq(limit+1, 7)...)
	cr := &countingReader{r: bytes.NewReader(concat(record(recordHandshake, over[:4]), record(recordHandshake, over[4:maxPlaintext])))}
	c = stateConn(clientAwaitServerCertificate, nil)
	c.br = bufio.NewReaderSize(cr, 16)
	c.config.MaxHandshakeMessage = limit
	if _, err := c.nextEvent(); alertOf(err) != AlertIllegalParameter || cr.n > 64 {
		t.Errorf("message over the limit: %v after reading %d bytes", err, cr.n)
	}
}

// TestReassembly reads two messages from one record, then one over three
// records.
func TestReassembly(t *testing.T) {
	req, _ := marshalMessage(&certificateRequestMsg{certificateTypes: []uint8{1}, sigSchemes: []SignatureScheme{PSSWithSHA256}})
	done, _ := marshalMessage(&serverHelloDoneMsg{})
	fin, _ := marshalMessage(&finishedMsg{verifyData: seq(12, 1)})
	c := stateConn(clientAwaitCertificateRequestOrDone, concat(record(recordHandshake, concat(req, done)),
		record(recordHandshake, fin[:1]), record(recordHandshake, fin[1:7]), record(recordHandshake, fin[7:])))
	for i, step := range []struct {
		st   hsState
		want []byte
	}{{clientAwaitCertificateRequestOrDone, req}, {clientAwaitServerHelloDone, done}, {clientAwaitFinished, fin}} {
		c.wait = step.st
		if ev, err := c.nextEvent(); err != nil || ev.kind != eventHandshake || !bytes.Equal(ev.data, step.want) {
			t.Fatalf("message %d: %x, %v", i, ev.data, err)
		}
	}
	if c.hsIn != nil {
		t.Errorf("reassembly buffer kept: %d bytes", len(c.hsIn))
	}
}

// relay copies records from src to dst through f, which returns the bytes
// to forward; it half-closes dst when src ends.
func relay(src, dst net.Conn, f func(typ recordType, rec []byte) []byte) {
	defer dst.(*net.TCPConn).CloseWrite()
	r := bufio.NewReader(src)
	for {
		hdr := make([]byte, 5)
		if _, err := io.ReadFull(r, hdr); err != nil {
			return
		}
		rec := make([]byte, 5+(int(hdr[3])<<8|int(hdr[4])))
		copy(rec, hdr)
		if _, err := io.ReadFull(r, rec[5:]); err != nil {
			return
		}
		if _, err := dst.Write(f(recordType(hdr[0]), rec)); err != nil {
			return
		}
	}
}

// proxied connects a client and a server through relays applying toServer
// and toClient.
func proxied(t *testing.T, toServer, toClient func(recordType, []byte) []byte) (client, server net.Conn) {
	client, pa := tcpPair(t)
	pb, server := tcpPair(t)
	go relay(pa, pb, toServer)
	go relay(pb, pa, toClient)
	return client, server
}

func pass(_ recordType, rec []byte) []byte { return rec }

// fragmenter splits plaintext handshake records into records of n bytes.
func fragmenter(n int) func(recordType, []byte) []byte {
	encrypted := false
	return func(typ recordType, rec []byte) []byte {
		if typ == recordChangeCipherSpec {
			encrypted = true
		}
		if typ != recordHandshake || encrypted {
			return rec
		}
		var out []byte
		for body := rec[5:]; len(body) > 0; body = body[min(n, len(body)):] {
			out = append(out, record(recordHandshake, body[:min(n, len(body))])...)
		}
		return out
	}
}

func TestHandshakeOverFragmentedRecords(t *testing.T) {
	a, b := proxied(t, fragmenter(3), fragmenter(7))
	ccfg, scfg := mutualConfigs(t)
	cc, sc := Client(a, ccfg), Server(b, scfg)
	if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
		t.Fatalf("client: %v\nserver: %v", cerr, serr)
	}
	exchange(t, cc, sc)
}

// TestTamperedRecord flips one bit of the first application data record:
// whether it lands in the padding or in the data, the receiver answers
// bad_record_mac and the sender learns it.
func TestTamperedRecord(t *testing.T) {
	for _, tc := range []struct {
		name    string
		etm     bool
		fromEnd int
	}{
		{"MtE padding", false, 1},
		{"MtE data", false, 40},
		{"EtM mac", true, 1},
		{"EtM ciphertext", true, 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := false
			flip := func(typ recordType, rec []byte) []byte {
				if typ == recordApplicationData && !done {
					done = true
					rec[len(rec)-tc.fromEnd] ^= 0x80
				}
				return rec
			}
			a, b := proxied(t, flip, pass)
			ccfg, scfg := mutualConfigs(t)
			ccfg.DisableEncryptThenMAC = !tc.etm
			cc, sc := Client(a, ccfg), Server(b, scfg)
			if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
				t.Fatalf("client: %v\nserver: %v", cerr, serr)
			}
			if _, err := cc.Write(seq(100, 'a')); err != nil {
				t.Fatal(err)
			}
			var ae *AlertError
			if _, err := sc.Read(make([]byte, 200)); !errors.As(err, &ae) || !ae.Sent || ae.Description != AlertBadRecordMAC {
				t.Fatalf("server read: %v", err)
			}
			if _, err := cc.Read(make([]byte, 1)); !errors.As(err, &ae) || ae.Sent || ae.Description != AlertBadRecordMAC {
				t.Fatalf("client read: %v", err)
			}
		})
	}
}

// TestChangeCipherSpecBetweenFragments sends ChangeCipherSpec in the middle
// of a fragmented ClientHello.
func TestChangeCipherSpecBetweenFragments(t *testing.T) {
	inject := func(typ recordType, rec []byte) []byte {
		if typ != recordHandshake || rec[5] != byte(typeClientHello) {
			return rec
		}
		return concat(record(recordHandshake, rec[5:20]), record(recordChangeCipherSpec, []byte{1}), record(recordHandshake, rec[20:]))
	}
	a, b := proxied(t, inject, pass)
	ccfg, scfg := mutualConfigs(t)
	cerr, serr := handshakeBoth(t, Client(a, ccfg), Server(b, scfg))
	var ae *AlertError
	if !errors.As(serr, &ae) || !ae.Sent || ae.Description != AlertUnexpectedMessage {
		t.Errorf("server: %v", serr)
	}
	if !errors.As(cerr, &ae) || ae.Sent || ae.Description != AlertUnexpectedMessage {
		t.Errorf("client: %v", cerr)
	}
}
