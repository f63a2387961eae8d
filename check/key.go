package check

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
)

// KeyInfo describes a public key the way users speak of it.
type KeyInfo struct {
	Type string `json:"type"`
	Bits int    `json:"bits"`
}

// String renders "RSA 2048" or "ECDSA P-256".
func (k KeyInfo) String() string {
	if k.Type != "RSA" || k.Bits == 0 {
		return k.Type
	}
	return fmt.Sprintf("%s %d", k.Type, k.Bits)
}

// DescribeKey reports a public key's algorithm and size.
func DescribeKey(pub crypto.PublicKey) KeyInfo {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return KeyInfo{Type: "RSA", Bits: k.N.BitLen()}
	case *ecdsa.PublicKey:
		return KeyInfo{Type: "ECDSA " + k.Curve.Params().Name, Bits: k.Curve.Params().BitSize}
	case ed25519.PublicKey:
		return KeyInfo{Type: "Ed25519", Bits: 256}
	}
	return KeyInfo{Type: fmt.Sprintf("unknown (%T)", pub)}
}
