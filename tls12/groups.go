package tls12

import (
	"crypto/ecdh"
	"fmt"
)

// Group is a TLS named group (RFC 8422 §5.1.1, RFC 7919 registry).
type Group uint16

// Groups this package implements for ECDHE.
const (
	P256   Group = 23
	P384   Group = 24
	X25519 Group = 29
)

var defaultGroups = []Group{X25519, P256, P384}

func (g Group) String() string {
	switch g {
	case P256:
		return "secp256r1"
	case P384:
		return "secp384r1"
	case X25519:
		return "x25519"
	// Groups peers offer that are not implemented, named for traces.
	case 25:
		return "secp521r1"
	case 30:
		return "x448"
	case 4588:
		return "X25519MLKEM768"
	}
	return fmt.Sprintf("group(%d)", uint16(g))
}

func (g Group) curve() (ecdh.Curve, bool) {
	switch g {
	case P256:
		return ecdh.P256(), true
	case P384:
		return ecdh.P384(), true
	case X25519:
		return ecdh.X25519(), true
	}
	return nil, false
}
