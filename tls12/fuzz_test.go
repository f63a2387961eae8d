package tls12

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"reflect"
	"slices"
	"testing"
)

// Every fuzz target is seeded with the transcripts recorded from openssl
// (testdata/transcripts) and fails when it has no seed: fuzzing from nothing
// would rarely get past the first message. .ci/run runs each briefly.

func requireSeeds(f *testing.F, n int) {
	f.Helper()
	if n == 0 {
		f.Fatal("no seed: the target needs the transcripts in " + transcriptDir)
	}
}

// allTranscripts returns both roles' transcripts, in a stable order, with
// whether our side was the server.
func allTranscripts(f *testing.F) (names []string, trs []transcript, servers []bool) {
	for _, server := range []bool{false, true} {
		m := loadTranscripts(f, server)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			names, trs, servers = append(names, k), append(trs, m[k]), append(servers, server)
		}
	}
	return names, trs, servers
}

// recordMode is a protection FuzzRecord switches to at ChangeCipherSpec.
type recordMode struct {
	suite *cipherSuite
	etm   bool
}

var recordModes = func() []recordMode {
	var out []recordMode
	for _, s := range cipherSuites {
		out = append(out, recordMode{s, false})
		if !s.aead {
			out = append(out, recordMode{s, true})
		}
	}
	return out
}()

// fuzzCipher returns mode's cipher under fixed keys, the same for sealing
// seeds and opening fuzz input.
func fuzzCipher(mode uint8) recordCipher {
	m := recordModes[int(mode)%len(recordModes)]
	kb := deriveKeys(m.suite, seq(48, 1), seq(32, 2), seq(32, 3))
	rc, _ := m.suite.newCipher(m.suite, kb.clientKey, kb.clientMAC, kb.clientIV, m.etm)
	return rc
}

// FuzzRecord feeds a peer's byte stream to the record layer and handshake
// reassembly: plaintext until a ChangeCipherSpec, then protected as mode
// says. Seeds are the transcripts, decrypted with their own keys and sealed
// again under the fuzz keys of their suite.
func FuzzRecord(f *testing.F) {
	_, trs, servers := allTranscripts(f)
	for i, tr := range trs {
		mode := slices.Index(recordModes, recordMode{suiteByID(tr.keys.suite), tr.keys.etm})
		inputs := peerInputs(f, tr.peer, tr.keys.peerCipher(f, servers[i]))
		stream := encodeInputs(inputs, fuzzCipher(uint8(mode)))
		if !reflect.DeepEqual(peerInputs(f, stream, fuzzCipher(uint8(mode))), inputs) {
			f.Fatalf("transcript %d does not survive sealing under the fuzz keys", i)
		}
		f.Add(uint8(mode), stream)
	}
	requireSeeds(f, len(trs))
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		c := recordConn(data, nil)
		c.versionFixed = false
		c.in.pending = fuzzCipher(mode)
		for range 512 {
			typ, body, err := c.readRecord()
			if err != nil {
				var pe *protocolError
				if !errors.As(err, &pe) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("record error without an alert: %v", err)
				}
				return
			}
			c.versionFixed = true
			if len(body) > maxPlaintext {
				t.Fatalf("record of %d bytes passed", len(body))
			}
			switch typ {
			case recordChangeCipherSpec:
				if c.in.changeCipher() != nil {
					return
				}
			case recordAlert:
				c.handleAlert(body)
			case recordHandshake:
				c.hsIn = append(c.hsIn, body...)
				for {
					raw, ok, err := c.nextBufferedMessage()
					if err != nil {
						return
					}
					if !ok {
						break
					}
					if m, err := parseMessage(raw); err == nil {
						m.summary()
					}
				}
			}
		}
	})
}

// FuzzParseHandshake runs every message parser (the type byte picks it) and
// checks that what parses marshals back to bytes that parse the same.
func FuzzParseHandshake(f *testing.F) {
	n := 0
	_, trs, servers := allTranscripts(f)
	for i, tr := range trs {
		for _, in := range peerInputs(f, tr.peer, tr.keys.peerCipher(f, servers[i])) {
			if in.typ == recordHandshake {
				f.Add(in.data)
				n++
			}
		}
	}
	requireSeeds(f, n)
	for _, m := range sampleMessages() {
		raw, _ := marshalMessage(m)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := parseMessage(raw)
		if err != nil {
			return
		}
		m.summary()
		again, err := marshalMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := parseMessage(again)
		if err != nil {
			t.Fatalf("re-marshalled message does not parse: %v", err)
		}
		if third, _ := marshalMessage(m2); !bytes.Equal(third, again) {
			t.Fatalf("marshalling is not stable")
		}
	})
}

// FuzzServer feeds our server arbitrary client bytes, starting from what
// openssl s_client sent; the replay is exact, so mutations reach every state.
func FuzzServer(f *testing.F) { fuzzPeer(f, true) }

// FuzzClient feeds our client arbitrary server bytes, starting from what
// openssl s_server sent.
func FuzzClient(f *testing.F) { fuzzPeer(f, false) }

func fuzzPeer(f *testing.F, server bool) {
	trs := loadTranscripts(f, server)
	for _, tr := range trs {
		f.Add(tr.peer)
	}
	requireSeeds(f, len(trs))
	cfg := transcriptConfig(loadFixedPKI(f), server)
	f.Fuzz(func(t *testing.T, data []byte) {
		c, hsErr, readErr := replay(t, server, data, cfg)
		checkOutcome(t, c, hsErr, readErr)
	})
}

// checkOutcome holds whatever the peer sent: a handshake either completes
// with a usable state or fails as a *HandshakeError, and every failure is
// the peer closing or an alert, never one that blames this side.
func checkOutcome(t *testing.T, c *Conn, hsErr, readErr error) {
	if hsErr == nil {
		st := c.ConnectionState()
		if !st.HandshakeComplete || suiteByID(st.CipherSuite) == nil || (c.isClient && len(st.PeerCertificates) == 0) {
			t.Fatalf("handshake completed with state %+v", st)
		}
	} else if he := (*HandshakeError)(nil); !errors.As(hsErr, &he) || he.Step == "" {
		t.Fatalf("handshake error %T: %v", hsErr, hsErr)
	}
	for _, err := range []error{hsErr, readErr} {
		if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			continue
		}
		var ae *AlertError
		if !errors.As(err, &ae) {
			t.Fatalf("failure without an alert: %v", err)
		}
		if ae.Sent && ae.Description == AlertInternalError {
			t.Fatalf("internal error: %v", err)
		}
	}
}
