package tls12

import (
	"bytes"
	"testing"
)

func fuzzCipher(mode uint8) recordCipher {
	if mode%3 == 0 {
		return nil
	}
	s := suiteByID(TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384)
	rc, _ := newAESCBC(s, seq(32, 1), seq(48, 2), nil, mode%3 == 2)
	return rc
}

// FuzzRecord feeds a byte stream to the record layer and handshake
// reassembly, in plaintext (mode 0), MAC-then-encrypt (1) or
// encrypt-then-MAC (2).
func FuzzRecord(f *testing.F) {
	var plain []byte
	for _, m := range sampleMessages() {
		raw, _ := marshalMessage(m)
		plain = append(plain, record(recordHandshake, raw[:min(len(raw), maxPlaintext)])...)
	}
	f.Add(uint8(0), plain)
	f.Add(uint8(0), concat(record(recordAlert, []byte{1, 0}), record(recordChangeCipherSpec, []byte{1})))
	for mode := uint8(1); mode <= 2; mode++ {
		rc := fuzzCipher(mode)
		var stream []byte
		for i, p := range [][]byte{[]byte("hello"), nil, seq(300, 7), {20, 0, 0, 12}} {
			typ := recordApplicationData
			if i == 3 {
				typ = recordHandshake
			}
			body, _ := rc.seal(uint64(i), typ, p, bytes.NewReader(seq(16, byte(i))))
			stream = append(stream, record(typ, body)...)
		}
		f.Add(mode, stream)
	}
	f.Fuzz(func(t *testing.T, mode uint8, data []byte) {
		c := recordConn(data, fuzzCipher(mode))
		for range 64 {
			typ, body, err := c.readRecord()
			if err != nil {
				return
			}
			if len(body) > maxPlaintext {
				t.Fatalf("record of %d bytes passed", len(body))
			}
			switch typ {
			case recordAlert:
				c.handleAlert(body)
			case recordHandshake:
				c.hsIn = append(c.hsIn, body...)
				for {
					raw, ok, err := c.nextBufferedMessage()
					if err != nil || !ok {
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
