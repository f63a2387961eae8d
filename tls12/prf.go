package tls12

import (
	"crypto"
	"crypto/hmac"
)

const (
	masterSecretLen = 48
	finishedLen     = 12
	randomLen       = 32
)

// prf is the TLS 1.2 PRF of RFC 5246 §5: P_hash(secret, label || seed).
func prf(h crypto.Hash, secret []byte, label string, seed []byte, n int) []byte {
	labelSeed := make([]byte, 0, len(label)+len(seed))
	labelSeed = append(labelSeed, label...)
	labelSeed = append(labelSeed, seed...)

	mac := hmac.New(h.New, secret)
	out := make([]byte, 0, n+h.Size())
	a := labelSeed // A(0)
	for len(out) < n {
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(nil)
		mac.Reset()
		mac.Write(a)
		mac.Write(labelSeed)
		out = mac.Sum(out)
	}
	return out[:n]
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// masterSecret derives the master secret either from both randoms (RFC 5246
// §8.1) or, with extended_master_secret, from sessionHash, the hash of the
// handshake up to ClientKeyExchange (RFC 7627 §4), which binds it to this
// very handshake.
func masterSecret(s *cipherSuite, preMaster, clientRandom, serverRandom, sessionHash []byte, ems bool) []byte {
	if ems {
		return prf(s.prfHash, preMaster, "extended master secret", sessionHash, masterSecretLen)
	}
	return prf(s.prfHash, preMaster, "master secret", concat(clientRandom, serverRandom), masterSecretLen)
}

type keyBlock struct {
	clientMAC, serverMAC []byte
	clientKey, serverKey []byte
	clientIV, serverIV   []byte
}

// deriveKeys cuts the key block in the order fixed by RFC 5246 §6.3; note the
// seed puts the server random first, unlike the master secret.
func deriveKeys(s *cipherSuite, master, clientRandom, serverRandom []byte) keyBlock {
	m, k, v := s.macLen(), s.keyLen, s.fixedIVLen
	b := prf(s.prfHash, master, "key expansion", concat(serverRandom, clientRandom), 2*(m+k+v))
	var kb keyBlock
	kb.clientMAC, b = b[:m], b[m:]
	kb.serverMAC, b = b[:m], b[m:]
	kb.clientKey, b = b[:k], b[k:]
	kb.serverKey, b = b[:k], b[k:]
	kb.clientIV, b = b[:v], b[v:]
	kb.serverIV = b[:v]
	return kb
}

// finishedData is the verify_data of RFC 5246 §7.4.9, over the hash of the
// handshake messages so far.
func finishedData(s *cipherSuite, master []byte, label string, handshakeHash []byte) []byte {
	return prf(s.prfHash, master, label, handshakeHash, finishedLen)
}

func hashOf(h crypto.Hash, data []byte) []byte {
	d := h.New()
	d.Write(data)
	return d.Sum(nil)
}
