package tls12

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"slices"
)

// SignatureScheme is a TLS SignatureAndHashAlgorithm value (RFC 5246
// §7.4.1.4.1), numbered as the TLS 1.3 SignatureScheme registry.
type SignatureScheme uint16

// Signature schemes this package signs and verifies.
const (
	PKCS1WithSHA256 SignatureScheme = 0x0401
	PKCS1WithSHA384 SignatureScheme = 0x0501
	PKCS1WithSHA512 SignatureScheme = 0x0601
	PSSWithSHA256   SignatureScheme = 0x0804
	PSSWithSHA384   SignatureScheme = 0x0805
	PSSWithSHA512   SignatureScheme = 0x0806
	ECDSAWithSHA256 SignatureScheme = 0x0403
	ECDSAWithSHA384 SignatureScheme = 0x0503
	ECDSAWithSHA512 SignatureScheme = 0x0603
)

type sigKind uint8

const (
	sigPKCS1 sigKind = iota + 1
	sigPSS
	sigECDSA
)

type schemeInfo struct {
	name string
	hash crypto.Hash
	kind sigKind
}

var schemes = map[SignatureScheme]schemeInfo{
	PKCS1WithSHA256: {"rsa_pkcs1_sha256", crypto.SHA256, sigPKCS1},
	PKCS1WithSHA384: {"rsa_pkcs1_sha384", crypto.SHA384, sigPKCS1},
	PKCS1WithSHA512: {"rsa_pkcs1_sha512", crypto.SHA512, sigPKCS1},
	PSSWithSHA256:   {"rsa_pss_rsae_sha256", crypto.SHA256, sigPSS},
	PSSWithSHA384:   {"rsa_pss_rsae_sha384", crypto.SHA384, sigPSS},
	PSSWithSHA512:   {"rsa_pss_rsae_sha512", crypto.SHA512, sigPSS},
	ECDSAWithSHA256: {"ecdsa_secp256r1_sha256", crypto.SHA256, sigECDSA},
	ECDSAWithSHA384: {"ecdsa_secp384r1_sha384", crypto.SHA384, sigECDSA},
	ECDSAWithSHA512: {"ecdsa_secp521r1_sha512", crypto.SHA512, sigECDSA},
}

// supportedSchemes is what this side offers, PSS first as OpenSSL prefers it
// for RSA keys.
var supportedSchemes = []SignatureScheme{
	PSSWithSHA256, PSSWithSHA384, PSSWithSHA512,
	PKCS1WithSHA256, PKCS1WithSHA384, PKCS1WithSHA512,
	ECDSAWithSHA256, ECDSAWithSHA384, ECDSAWithSHA512,
}

// otherSchemeNames names schemes peers offer that are not implemented, so
// that traces stay readable.
var otherSchemeNames = map[SignatureScheme]string{
	0x0201: "rsa_pkcs1_sha1",
	0x0203: "ecdsa_sha1",
	0x0301: "rsa_pkcs1_sha224",
	0x0303: "ecdsa_sha224",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080A: "rsa_pss_pss_sha384",
	0x080B: "rsa_pss_pss_sha512",
}

func (s SignatureScheme) String() string {
	if i, ok := schemes[s]; ok {
		return i.name
	}
	if n, ok := otherSchemeNames[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", uint16(s))
}

// fitsKey reports whether scheme can be made or checked with key pub. An
// RSA modulus must hold the encoded digest: RFC 8017 §9.2 (a DigestInfo of
// 19 bytes plus the hash, plus 11) and §9.1.1 (the hash twice, as the salt
// is as long, plus 2), which rules out PSS with SHA-512 for 1024-bit keys.
func fitsKey(s SignatureScheme, pub crypto.PublicKey) bool {
	info, ok := schemes[s]
	if !ok {
		return false
	}
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		emLen := (pub.N.BitLen() - 1 + 7) / 8
		switch info.kind {
		case sigPKCS1:
			return pub.Size() >= 19+info.hash.Size()+11
		case sigPSS:
			return emLen >= 2*info.hash.Size()+2
		}
	case *ecdsa.PublicKey:
		return info.kind == sigECDSA
	}
	return false
}

// pickScheme returns the first of the peer's schemes (in its preference
// order) that this side implements and that fits pub.
func pickScheme(peer []SignatureScheme, pub crypto.PublicKey) (SignatureScheme, bool) {
	for _, s := range peer {
		if slices.Contains(supportedSchemes, s) && fitsKey(s, pub) {
			return s, true
		}
	}
	return 0, false
}

func signMessage(key crypto.Signer, rnd io.Reader, s SignatureScheme, msg []byte) ([]byte, error) {
	info, ok := schemes[s]
	if !ok {
		return nil, fmt.Errorf("unsupported signature scheme %s", s)
	}
	digest := hashOf(info.hash, msg)
	var opts crypto.SignerOpts = info.hash
	if info.kind == sigPSS {
		// rsa_pss_rsae schemes fix the salt length to the hash length
		// (RFC 8446 §4.2.3); TLS 1.2 peers use them with the same rule.
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: info.hash}
	}
	return key.Sign(rnd, digest, opts)
}

var errBadSignature = errors.New("signature does not verify")

func verifyMessage(pub crypto.PublicKey, s SignatureScheme, msg, sig []byte) error {
	info, ok := schemes[s]
	if !ok || !fitsKey(s, pub) {
		return fmt.Errorf("signature scheme %s does not fit a %T", s, pub)
	}
	digest := hashOf(info.hash, msg)
	switch info.kind {
	case sigPKCS1:
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), info.hash, digest, sig)
	case sigPSS:
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), info.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest, sig) {
			return errBadSignature
		}
		return nil
	}
}
