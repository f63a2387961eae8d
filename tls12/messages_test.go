package tls12

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func seq(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

// sampleMessages covers every message type, with every extension set.
func sampleMessages() []handshakeMessage {
	return []handshakeMessage{
		&helloRequestMsg{},
		&clientHelloMsg{
			version: versionTLS12, random: seq(32, 1), sessionID: seq(32, 2),
			cipherSuites: []uint16{0xC028, 0xC027, scsvRenegotiation}, compressions: []uint8{0},
			serverName: "gap.hopital-exemple.fr", groups: []Group{X25519, P256, P384}, pointFormats: []uint8{0},
			sigSchemes: supportedSchemes, etm: true, ems: true, secureReneg: true, renegInfo: []byte{},
			extensions: []uint16{extServerName, extSupportedGroups, extPointFormats, extSignatureAlgorithms, extEncryptThenMAC, extExtendedMasterSecret, extRenegotiationInfo},
		},
		&clientHelloMsg{version: 0x0301, random: seq(32, 3), sessionID: []byte{}, cipherSuites: []uint16{0xC028}, compressions: []uint8{0}},
		&serverHelloMsg{
			version: versionTLS12, random: seq(32, 4), sessionID: []byte{}, cipherSuite: 0xC028,
			pointFormats: []uint8{0}, serverNameAck: true, etm: true, ems: true, secureReneg: true, renegInfo: []byte{},
			extensions: []uint16{extServerName, extPointFormats, extEncryptThenMAC, extExtendedMasterSecret, extRenegotiationInfo},
		},
		&certificateMsg{certificates: [][]byte{seq(300, 5), seq(70000, 6)}},
		&certificateMsg{},
		&serverKeyExchangeMsg{group: P256, point: seq(65, 4), scheme: PSSWithSHA384, signature: seq(256, 7)},
		&certificateRequestMsg{certificateTypes: []uint8{1, 64}, sigSchemes: supportedSchemes, authorities: [][]byte{seq(40, 8), seq(90, 9)}},
		&certificateRequestMsg{certificateTypes: []uint8{1}, sigSchemes: []SignatureScheme{PKCS1WithSHA256}},
		&serverHelloDoneMsg{},
		&clientKeyExchangeMsg{point: seq(32, 10)},
		&certificateVerifyMsg{scheme: PKCS1WithSHA512, signature: seq(512, 11)},
		&finishedMsg{verifyData: seq(12, 12)},
	}
}

// withoutExtensions returns the length of a hello body cut before its
// extensions block, the one truncation that leaves a valid message.
func withoutExtensions(m handshakeMessage) int {
	var c handshakeMessage
	switch m := m.(type) {
	case *clientHelloMsg:
		c = &clientHelloMsg{version: m.version, random: m.random, sessionID: m.sessionID, cipherSuites: m.cipherSuites, compressions: m.compressions}
	case *serverHelloMsg:
		c = &serverHelloMsg{version: m.version, random: m.random, sessionID: m.sessionID, cipherSuite: m.cipherSuite, compression: m.compression}
	default:
		return -1
	}
	raw, _ := marshalMessage(c)
	return len(raw) - 4
}

func TestMessagesRoundTripAndTruncation(t *testing.T) {
	for _, m := range sampleMessages() {
		t.Run(m.msgType().String(), func(t *testing.T) {
			raw, err := marshalMessage(m)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseMessage(raw)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("round trip:\n got %#v\nwant %#v", got, m)
			}
			if again, _ := marshalMessage(got); !bytes.Equal(again, raw) {
				t.Errorf("re-marshalled bytes differ")
			}
			if got.summary() == "" && m.msgType() != typeHelloRequest && m.msgType() != typeServerHelloDone {
				t.Errorf("empty summary")
			}
			// Every cut of the whole message fails on the header length.
			for i := range len(raw) {
				if _, err := parseMessage(raw[:i]); err == nil {
					t.Fatalf("accepted %d of %d bytes", i, len(raw))
				}
			}
			// Every cut of the body under a consistent header fails too,
			// except dropping a hello's optional extensions block.
			body := raw[4:]
			allowed := withoutExtensions(m)
			for i := range len(body) {
				cut := append([]byte{raw[0], byte(i >> 16), byte(i >> 8), byte(i)}, body[:i]...)
				if _, err := parseMessage(cut); err == nil && i != allowed {
					t.Fatalf("accepted body cut to %d of %d bytes", i, len(body))
				}
			}
		})
	}
}

func TestMessagesRejectMalformed(t *testing.T) {
	hello := func(mut func([]byte) []byte) []byte {
		raw, _ := marshalMessage(sampleMessages()[2])
		return mut(raw)
	}
	withBody := func(t handshakeType, body ...byte) []byte {
		return append([]byte{byte(t), 0, byte(len(body) >> 8), byte(len(body))}, body...)
	}
	for name, raw := range map[string][]byte{
		"trailing byte":       hello(func(b []byte) []byte { b[3]++; return append(b, 0) }),
		"unknown type":        withBody(handshakeType(99)),
		"session id too long": withBody(typeServerHello, append(append([]byte{3, 3}, seq(32, 0)...), append([]byte{33}, seq(33, 0)...)...)...),
		"finished too long":   withBody(typeFinished, seq(13, 1)...),
		"explicit curve":      withBody(typeServerKeyExchange, 1, 0, 23, 1, 4, 8, 4, 0, 0),
		"empty point":         withBody(typeClientKeyExchange, 0),
		"empty certificate":   withBody(typeCertificate, 0, 0, 3, 0, 0, 0),
		"odd suite list":      withBody(typeClientHello, append(append(append([]byte{3, 3}, seq(32, 0)...), 0, 0, 3, 0xC0, 0x28, 0), 1, 0)...),
		"no compression":      withBody(typeClientHello, append(append(append([]byte{3, 3}, seq(32, 0)...), 0, 0, 2, 0xC0, 0x28), 0)...),
		"duplicate extension": withBody(typeServerHello, append(append(append([]byte{3, 3}, seq(32, 0)...), 0, 0xC0, 0x28, 0), 0, 8, 0, 23, 0, 0, 0, 23, 0, 0)...),
		"non-empty ems":       withBody(typeServerHello, append(append(append([]byte{3, 3}, seq(32, 0)...), 0, 0xC0, 0x28, 0), 0, 5, 0, 23, 0, 1, 0)...),
		"empty sig algs":      withBody(typeCertificateRequest, 1, 1, 0, 0, 0, 0),
		"empty ca name":       withBody(typeCertificateRequest, 1, 1, 0, 2, 4, 1, 0, 2, 0, 0),
		"short header":        {1, 0, 0},
	} {
		if _, err := parseMessage(raw); err == nil {
			t.Errorf("%s: accepted", name)
		} else if name != "unknown type" && !errors.Is(err, errMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
