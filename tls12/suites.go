package tls12

import (
	"crypto"
	// The suites and signature schemes name their hashes as crypto.Hash
	// values, which only work once these packages are linked in.
	_ "crypto/sha1"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
)

// Cipher suite IDs implemented by this package, named as in the IANA registry.
const (
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA    uint16 = 0xC013
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA    uint16 = 0xC014
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 uint16 = 0xC027
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 uint16 = 0xC028
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 uint16 = 0xC02F
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 uint16 = 0xC030
)

// scsvRenegotiation is the signalling suite value of RFC 5746 §3.3: a client
// may put it in its suite list instead of the renegotiation_info extension.
const scsvRenegotiation uint16 = 0x00FF

// cipherSuite holds what the key schedule and the record layer need to know
// about a suite.
type cipherSuite struct {
	id   uint16
	name string
	// prfHash drives the PRF, the Finished and extended-master-secret hashes.
	prfHash crypto.Hash
	// macHash is the record HMAC of CBC suites; zero for AEAD suites.
	macHash crypto.Hash
	keyLen  int
	// fixedIVLen is the IV material taken from the key block: 0 for TLS 1.2
	// CBC, whose IV is explicit in every record, and the 4-byte salt of GCM
	// (RFC 5288 §3).
	fixedIVLen int
	aead       bool
	newCipher  func(s *cipherSuite, key, macKey, fixedIV []byte, etm bool) (recordCipher, error)
}

func (s *cipherSuite) macLen() int {
	if s.aead {
		return 0
	}
	return s.macHash.Size()
}

// cipherSuites follows RFC 5246 appendix A.5 for the PRF (SHA-256 unless the
// suite names SHA-384, so also for the HMAC-SHA1 suites), RFC 5289 for the
// SHA-2 and GCM suites and RFC 8422 for the SHA-1 ones.
var cipherSuites = []*cipherSuite{
	{
		id:        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
		name:      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
		prfHash:   crypto.SHA384,
		macHash:   crypto.SHA384,
		keyLen:    32,
		newCipher: newAESCBC,
	},
	{
		id:        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
		name:      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
		prfHash:   crypto.SHA256,
		macHash:   crypto.SHA256,
		keyLen:    16,
		newCipher: newAESCBC,
	},
	{
		id:         TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		name:       "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		prfHash:    crypto.SHA384,
		keyLen:     32,
		fixedIVLen: gcmSaltLen,
		aead:       true,
		newCipher:  newAESGCM,
	},
	{
		id:         TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		name:       "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
		prfHash:    crypto.SHA256,
		keyLen:     16,
		fixedIVLen: gcmSaltLen,
		aead:       true,
		newCipher:  newAESGCM,
	},
	{
		id:        TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
		name:      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
		prfHash:   crypto.SHA256,
		macHash:   crypto.SHA1,
		keyLen:    32,
		newCipher: newAESCBC,
	},
	{
		id:        TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		name:      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
		prfHash:   crypto.SHA256,
		macHash:   crypto.SHA1,
		keyLen:    16,
		newCipher: newAESCBC,
	},
}

// defaultCipherSuites puts 0xC028 first because that is the suite Diapason
// terminals and providers expect, then 0xC027 as before GCM existed here,
// then GCM, and the HMAC-SHA1 suites last.
var defaultCipherSuites = []uint16{
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
}

func suiteByID(id uint16) *cipherSuite {
	for _, s := range cipherSuites {
		if s.id == id {
			return s
		}
	}
	return nil
}

// CipherSuites lists the IDs of the suites this package implements, in its
// default preference order.
func CipherSuites() []uint16 {
	return append([]uint16(nil), defaultCipherSuites...)
}

// CipherSuiteName returns the IANA name of an implemented suite, or its
// hexadecimal ID for any other value, so that traces of a peer's offer stay
// readable.
func CipherSuiteName(id uint16) string {
	if s := suiteByID(id); s != nil {
		return s.name
	}
	if id == scsvRenegotiation {
		return "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"
	}
	return fmt.Sprintf("0x%04X", id)
}
