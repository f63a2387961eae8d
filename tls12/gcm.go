package tls12

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"io"
)

const (
	// gcmSaltLen is the implicit part of the nonce, from the key block, and
	// gcmExplicitLen the part sent in every record (RFC 5288 §3).
	gcmSaltLen     = 4
	gcmExplicitLen = 8
)

// gcmCipher protects records with AES-GCM as RFC 5288 describes.
type gcmCipher struct {
	aead cipher.AEAD
	salt [gcmSaltLen]byte
}

func newAESGCM(_ *cipherSuite, key, _, salt []byte, _ bool) (recordCipher, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("gcm: %w", err)
	}
	g := &gcmCipher{aead: aead}
	copy(g.salt[:], salt)
	return g, nil
}

// nonce is salt || explicit.
func (g *gcmCipher) nonce(explicit []byte) []byte {
	n := make([]byte, 0, gcmSaltLen+gcmExplicitLen)
	return append(append(n, g.salt[:]...), explicit...)
}

// seal uses the sequence number as the explicit nonce, which RFC 5288 §3
// allows and which can never repeat under one key, since sequence numbers
// do not wrap.
func (g *gcmCipher) seal(dst []byte, seq uint64, typ recordType, payload []byte, _ io.Reader) ([]byte, error) {
	dst = binary.BigEndian.AppendUint64(dst, seq)
	nonce := g.nonce(dst[len(dst)-gcmExplicitLen:])
	return g.aead.Seal(dst, nonce, payload, macHeader(seq, typ, len(payload))), nil
}

// open takes the explicit nonce as sent: the peer chooses it.
func (g *gcmCipher) open(seq uint64, typ recordType, body []byte) ([]byte, error) {
	if len(body) < gcmExplicitLen+g.aead.Overhead() {
		return nil, errBadRecordMAC
	}
	explicit, sealed := body[:gcmExplicitLen], body[gcmExplicitLen:]
	ad := macHeader(seq, typ, len(sealed)-g.aead.Overhead())
	plain, err := g.aead.Open(sealed[:0], g.nonce(explicit), sealed, ad)
	if err != nil {
		return nil, errBadRecordMAC
	}
	return plain, nil
}
