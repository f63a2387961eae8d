package tls12

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

func TestSuiteTable(t *testing.T) {
	for _, tc := range []struct {
		id                    uint16
		name                  string
		prf                   crypto.Hash
		macLen, keyLen, ivLen int
	}{
		{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", crypto.SHA256, 20, 16, 0},
		{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", crypto.SHA256, 20, 32, 0},
		{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", crypto.SHA256, 32, 16, 0},
		{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", crypto.SHA384, 48, 32, 0},
		{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", crypto.SHA256, 0, 16, 4},
		{0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", crypto.SHA384, 0, 32, 4},
	} {
		s := suiteByID(tc.id)
		if s == nil || s.name != tc.name || CipherSuiteName(tc.id) != tc.name || s.prfHash != tc.prf ||
			s.macLen() != tc.macLen || s.keyLen != tc.keyLen || s.fixedIVLen != tc.ivLen || s.aead != (tc.macLen == 0) {
			t.Errorf("%s: %+v", tc.name, s)
			continue
		}
		kb := deriveKeys(s, seq(48, 1), seq(32, 2), seq(32, 3))
		for _, l := range []struct {
			b []byte
			n int
		}{{kb.clientMAC, tc.macLen}, {kb.serverMAC, tc.macLen}, {kb.clientKey, tc.keyLen}, {kb.serverKey, tc.keyLen}, {kb.clientIV, tc.ivLen}, {kb.serverIV, tc.ivLen}} {
			if len(l.b) != l.n {
				t.Errorf("%s: key block part of %d bytes, want %d", tc.name, len(l.b), l.n)
			}
		}
	}
	all := CipherSuites()
	if len(all) != 6 || all[0] != TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 || all[1] != TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 {
		t.Errorf("CipherSuites() = %04X", all)
	}
	for _, s := range cipherSuites {
		if !slices.Contains(all, s.id) {
			t.Errorf("%s missing from the defaults", s.name)
		}
	}
}

// suiteCiphers returns a sealing and an opening cipher for every suite and,
// for CBC suites, both MAC orders, with keys as the key block would give.
func suiteCiphers(t testing.TB) map[string][2]recordCipher {
	out := map[string][2]recordCipher{}
	for _, s := range cipherSuites {
		for _, etm := range []bool{false, true} {
			if s.aead && etm {
				continue
			}
			name := shortSuite(s.id)
			if !s.aead && etm {
				name += "-EtM"
			} else if !s.aead {
				name += "-MtE"
			}
			kb := deriveKeys(s, seq(48, 1), seq(32, 2), seq(32, 3))
			var pair [2]recordCipher
			for i := range pair {
				rc, err := s.newCipher(s, kb.clientKey, kb.clientMAC, kb.clientIV, etm)
				if err != nil {
					t.Fatal(err)
				}
				pair[i] = rc
			}
			out[name] = pair
		}
	}
	return out
}

func TestAllSuitesSealOpen(t *testing.T) {
	lengths := []int{1000, maxPlaintext}
	for n := range 70 {
		lengths = append(lengths, n)
	}
	for name, rc := range suiteCiphers(t) {
		for _, n := range lengths {
			p := seq(n, byte(n))
			rec, err := rc[0].seal(nil, uint64(n), recordApplicationData, p, bytes.NewReader(seq(16, 1)))
			if err != nil {
				t.Fatal(err)
			}
			if len(rec) > maxCiphertext {
				t.Fatalf("%s: %d-byte record for %d bytes", name, len(rec), n)
			}
			got, err := rc[1].open(uint64(n), recordApplicationData, append([]byte(nil), rec...))
			if err != nil || !bytes.Equal(got, p) {
				t.Fatalf("%s len %d: %v", name, n, err)
			}
			// Another sequence number or content type fails like a bad MAC.
			if _, err := rc[1].open(uint64(n)+1, recordApplicationData, append([]byte(nil), rec...)); err != errBadRecordMAC {
				t.Fatalf("%s: wrong sequence number: %v", name, err)
			}
			if _, err := rc[1].open(uint64(n), recordHandshake, append([]byte(nil), rec...)); err != errBadRecordMAC {
				t.Fatalf("%s: wrong content type: %v", name, err)
			}
		}
	}
}

func TestGCMRecord(t *testing.T) {
	s := suiteByID(TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)
	rc, err := newAESGCM(s, seq(32, 1), nil, []byte{1, 2, 3, 4}, false)
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := rc.seal(nil, 0x0102030405060708, recordApplicationData, []byte("diapason"), nil)
	// explicit nonce (the sequence number) || ciphertext || 16-byte tag
	if len(rec) != 8+8+16 || binary.BigEndian.Uint64(rec) != 0x0102030405060708 {
		t.Fatalf("record %x", rec)
	}
	for i := range rec {
		bad := append([]byte(nil), rec...)
		bad[i] ^= 1
		if _, err := rc.open(0x0102030405060708, recordApplicationData, bad); err != errBadRecordMAC {
			t.Fatalf("byte %d flipped: %v", i, err)
		}
	}
	for n := range 8 + 16 {
		if _, err := rc.open(0, recordApplicationData, seq(n, 0)); err != errBadRecordMAC {
			t.Fatalf("%d-byte record: %v", n, err)
		}
	}
	// A peer may choose any explicit nonce; it is taken as sent.
	other, _ := newAESGCM(s, seq(32, 1), nil, []byte{1, 2, 3, 4}, false)
	g := other.(*gcmCipher)
	explicit := seq(8, 0xEE)
	sealed := g.aead.Seal(append([]byte(nil), explicit...), g.nonce(explicit), []byte("x"), macHeader(9, recordAlert, 1))
	if got, err := rc.open(9, recordAlert, sealed); err != nil || string(got) != "x" {
		t.Errorf("peer-chosen nonce: %q, %v", got, err)
	}
}

// TestClientRefusesEncryptThenMACWithGCM checks RFC 7366 §3 from the
// client's side: a server echoing encrypt_then_mac with GCM is wrong.
func TestClientRefusesEncryptThenMACWithGCM(t *testing.T) {
	hello := &clientHelloMsg{cipherSuites: []uint16{TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, etm: true, ems: true}
	sh := &serverHelloMsg{version: versionTLS12, random: seq(32, 1), cipherSuite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		etm: true, extensions: []uint16{extEncryptThenMAC}}
	hs := &handshake{c: &Conn{config: &Config{}}}
	if err := hs.acceptServerHello(hello, sh); alertOf(err) != AlertIllegalParameter {
		t.Errorf("got %v", err)
	}
}

// TestSchemeFitsKeySize: FuzzServer found that a client preferring
// rsa_pss_rsae_sha512 made a server with a 1024-bit key fail with
// internal_error; such a scheme must just not be chosen.
func TestSchemeFitsKeySize(t *testing.T) {
	small := loadFixedPKI(t).Server.Key.Public()
	big := testpeer.NewPKI(t).Server.Key.Public()
	for _, tc := range []struct {
		s          SignatureScheme
		small, big bool
	}{
		{PSSWithSHA512, false, true},
		{PSSWithSHA384, true, true},
		{PKCS1WithSHA512, true, true},
		{ECDSAWithSHA256, false, false},
	} {
		if fitsKey(tc.s, small) != tc.small || fitsKey(tc.s, big) != tc.big {
			t.Errorf("%s: 1024 bits %v, 2048 bits %v", tc.s, fitsKey(tc.s, small), fitsKey(tc.s, big))
		}
	}
	if s, ok := pickScheme([]SignatureScheme{PSSWithSHA512, PSSWithSHA256}, small); !ok || s != PSSWithSHA256 {
		t.Errorf("picked %s", s)
	}
	msg := []byte("diapason")
	sig, err := signMessage(loadFixedPKI(t).Server.Key, rand.Reader, PSSWithSHA384, msg)
	if err != nil || verifyMessage(small, PSSWithSHA384, msg, sig) != nil {
		t.Errorf("PSS-SHA384 with 1024 bits: %v", err)
	}
}
