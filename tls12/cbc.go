package tls12

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
)

// errBadRecordMAC is the single answer to every record that fails to decrypt
// or authenticate, so that a padding oracle cannot tell a bad padding from a
// bad MAC (RFC 5246 §6.2.3.2).
var errBadRecordMAC = errors.New("record failed its integrity check")

// cbcCipher protects records with a block cipher in CBC mode and an HMAC,
// either MAC-then-encrypt (RFC 5246 §6.2.3.2) or encrypt-then-MAC (RFC 7366).
type cbcCipher struct {
	block cipher.Block
	mac   hash.Hash
	// dummy absorbs the hash blocks the real MAC skipped; see open.
	dummy hash.Hash
	etm   bool
}

func newAESCBC(s *cipherSuite, key, macKey, _ []byte, etm bool) (recordCipher, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key: %w", err)
	}
	return &cbcCipher{
		block: block,
		mac:   hmac.New(s.macHash.New, macKey),
		dummy: s.macHash.New(),
		etm:   etm,
	}, nil
}

// macHeader is seq_num || type || version || length, the prefix of every
// record MAC input and the additional data of GCM (RFC 5246 §6.2.3.3).
func macHeader(seq uint64, typ recordType, length int) []byte {
	var h [13]byte
	binary.BigEndian.PutUint64(h[:8], seq)
	h[8] = byte(typ)
	binary.BigEndian.PutUint16(h[9:], versionTLS12)
	binary.BigEndian.PutUint16(h[11:], uint16(length))
	return h[:]
}

func (c *cbcCipher) appendMAC(dst []byte, seq uint64, typ recordType, data []byte) []byte {
	c.mac.Reset()
	c.mac.Write(macHeader(seq, typ, len(data)))
	c.mac.Write(data)
	return c.mac.Sum(dst)
}

func (c *cbcCipher) seal(dst []byte, seq uint64, typ recordType, payload []byte, rnd io.Reader) ([]byte, error) {
	bs := c.block.BlockSize()
	macLen := c.mac.Size()
	n := len(payload)
	if !c.etm {
		n += macLen
	}
	// padLen counts the padding bytes plus the padding_length byte itself.
	padLen := bs - n%bs
	start := len(dst)
	dst = slices.Grow(dst, bs+n+padLen+macLen)[:start+bs]
	if _, err := io.ReadFull(rnd, dst[start:]); err != nil {
		return nil, fmt.Errorf("record iv: %w", err)
	}
	dst = append(dst, payload...)
	if !c.etm {
		dst = c.appendMAC(dst, seq, typ, payload)
	}
	for range padLen {
		dst = append(dst, byte(padLen-1))
	}
	out := dst[start:]
	cipher.NewCBCEncrypter(c.block, out[:bs]).CryptBlocks(out[bs:], out[bs:])
	if c.etm {
		dst = c.appendMAC(dst, seq, typ, out)
	}
	return dst, nil
}

func (c *cbcCipher) open(seq uint64, typ recordType, body []byte) ([]byte, error) {
	if c.etm {
		return c.openEtM(seq, typ, body)
	}
	return c.openMtE(seq, typ, body)
}

func (c *cbcCipher) openEtM(seq uint64, typ recordType, body []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	macLen := c.mac.Size()
	if len(body) < 2*bs+macLen || (len(body)-macLen)%bs != 0 {
		return nil, errBadRecordMAC
	}
	enc, tag := body[:len(body)-macLen], body[len(body)-macLen:]
	if !hmac.Equal(c.appendMAC(nil, seq, typ, enc), tag) {
		return nil, errBadRecordMAC
	}
	data := enc[bs:]
	cipher.NewCBCDecrypter(c.block, enc[:bs]).CryptBlocks(data, data)
	// The MAC already authenticated the ciphertext, so the padding check
	// needs no constant-time care here.
	padLen := int(data[len(data)-1])
	if padLen+1 > len(data) {
		return nil, errBadRecordMAC
	}
	for _, b := range data[len(data)-1-padLen:] {
		if int(b) != padLen {
			return nil, errBadRecordMAC
		}
	}
	return data[:len(data)-1-padLen], nil
}

// openMtE decrypts then checks padding and MAC doing the same work whatever
// the padding says, as Lucky13 showed that timing alone is an oracle.
func (c *cbcCipher) openMtE(seq uint64, typ recordType, body []byte) ([]byte, error) {
	bs := c.block.BlockSize()
	macLen := c.mac.Size()
	if len(body) < bs || (len(body)-bs)%bs != 0 || len(body)-bs < macLen+1 {
		return nil, errBadRecordMAC
	}
	data := body[bs:]
	cipher.NewCBCDecrypter(c.block, body[:bs]).CryptBlocks(data, data)

	n := len(data)
	padLen := int(data[n-1])
	good := subtle.ConstantTimeLessOrEq(padLen+1+macLen, n)
	// Every byte of the padding must equal padLen; scan the longest possible
	// padding so that the loop length does not depend on padLen.
	for i := 1; i <= min(256, n); i++ {
		inPad := subtle.ConstantTimeLessOrEq(i, padLen+1)
		same := subtle.ConstantTimeByteEq(data[n-i], byte(padLen))
		good &= ^(inPad &^ same) & 1
	}
	// With bad padding, go on as if there were none (RFC 5246 §6.2.3.2).
	padLen = subtle.ConstantTimeSelect(good, padLen, 0)
	plainLen := n - macLen - 1 - padLen

	expected := c.appendMAC(nil, seq, typ, data[:plainLen])
	c.balanceMAC(13+plainLen, 13+n-macLen-1)
	received := extractMAC(data, plainLen, macLen)
	good &= subtle.ConstantTimeCompare(expected, received)
	if good != 1 {
		return nil, errBadRecordMAC
	}
	return data[:plainLen], nil
}

// balanceMAC runs as many extra hash compressions as the MAC over done bytes
// spared compared with the MAC over longest bytes, so that the total does not
// reveal the padding length.
func (c *cbcCipher) balanceMAC(done, longest int) {
	bs := c.dummy.BlockSize()
	// Merkle–Damgård padding adds a 0x80 byte and a length field of 8 bytes
	// (64-byte blocks) or 16 bytes (128-byte blocks).
	lenField := bs / 8
	blocks := func(m int) int { return (m + 1 + lenField + bs - 1) / bs }
	extra := blocks(longest) - blocks(done)
	c.dummy.Reset()
	c.dummy.Write(dummyBlocks[:extra*bs])
}

// dummyBlocks is enough input for the largest padding (256 bytes) to cost
// three extra 128-byte blocks.
var dummyBlocks = make([]byte, 3*128)

// extractMAC copies data[start:start+macLen] with no memory access or
// branch that depends on the secret start, in two passes (the method of
// OpenSSL's ssl3_cbc_copy_mac): one over every place the MAC could be,
// gathering its bytes into a buffer rotated by an unknown amount, then a
// rotation back by that amount made of fixed steps, each taken or not by
// masking.
func extractMAC(data []byte, start, macLen int) []byte {
	n := len(data)
	first := max(0, n-1-255-macLen)
	rotated := make([]byte, macLen)
	rotation, j := 0, 0
	for i := first; i < n-1; i++ {
		rotation |= j & -subtle.ConstantTimeEq(int32(i), int32(start))
		inMAC := subtle.ConstantTimeLessOrEq(start, i) & subtle.ConstantTimeLessOrEq(i+1, start+macLen)
		rotated[j] |= data[i] & byte(-inMAC)
		j++
		j = subtle.ConstantTimeSelect(subtle.ConstantTimeEq(int32(j), int32(macLen)), 0, j)
	}
	// mac[k] is rotated[(k+rotation) % macLen]: rotate left by each power
	// of two that rotation holds.
	tmp := make([]byte, macLen)
	for shift := 0; 1<<shift < macLen; shift++ {
		take := byte(-((rotation >> shift) & 1))
		for k := range macLen {
			tmp[k] = rotated[(k+1<<shift)%macLen]&take | rotated[k]&^take
		}
		rotated, tmp = tmp, rotated
	}
	return rotated
}
