package certio

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// Passphrase supplies a secret. It is called only once an input turns out to be
// encrypted, so callers can prompt lazily; a nil Passphrase makes encrypted input fail
// with ErrPassphraseRequired. The returned bytes are not modified or kept.
type Passphrase func() ([]byte, error)

// PrivateKey is an unlocked private key and what the user should know about it.
type PrivateKey struct {
	Signer    crypto.Signer
	Encrypted bool      // the input was encrypted
	Warnings  []Warning // e.g. legacy PEM encryption
}

// UnlockKey returns the item's private key, decrypting it with pass when the item is
// an encrypted key. A wrong passphrase gives ErrWrongPassphrase, never a garbage key.
func (it *Item) UnlockKey(pass Passphrase) (*PrivateKey, error) {
	switch it.Kind {
	case KindPrivateKey:
		return &PrivateKey{Signer: it.Key}, nil
	case KindEncryptedKey:
	default:
		return nil, &FileError{Path: it.source, Err: &UnexpectedError{Want: "a private key", Found: it.Describe()}}
	}
	secret, err := ask(pass, "the private key is encrypted")
	if err != nil {
		return nil, &FileError{Path: it.source, Err: err}
	}
	k := &PrivateKey{Encrypted: true}
	if it.legacy != nil {
		k.Signer, err = decryptLegacy(it.legacy, secret)
		k.Warnings = []Warning{{Path: it.source,
			Message: "the private key uses legacy PEM encryption (Proc-Type: 4,ENCRYPTED), whose key derivation is a single MD5 round, easy to brute-force",
			Hint: fmt.Sprintf("re-encrypt it as PKCS#8: openssl pkcs8 -topk8 -v2 aes256 -iter %d -in %s -out %s",
				encryptIterations, shellArg(it.source), derivedArg(it.source, ".p8"))}}
	} else {
		k.Signer, err = decryptPKCS8(it.source, it.DER, secret)
	}
	if errors.Is(err, ErrWrongPassphrase) {
		err = fmt.Errorf("cannot decrypt the private key: %w", err)
	}
	if err != nil {
		return nil, &FileError{Path: it.source, Err: err}
	}
	return k, nil
}

// ask calls pass, turning its absence into ErrPassphraseRequired.
func ask(pass Passphrase, what string) ([]byte, error) {
	if pass == nil {
		return nil, fmt.Errorf("%s: %w", what, ErrPassphraseRequired)
	}
	secret, err := pass()
	if err != nil {
		return nil, fmt.Errorf("%s; reading its passphrase: %w", what, err)
	}
	return secret, nil
}

// decryptLegacy opens an RFC 1423 encrypted PEM key, the format `openssl genrsa
// -aes256` wrote before OpenSSL 3. Its check is the CBC padding alone, so a key that
// does not parse afterwards also means a wrong passphrase.
func decryptLegacy(b *pem.Block, pass []byte) (crypto.Signer, error) {
	//lint:ignore SA1019 reading old keys is the one use left for this function.
	der, err := x509.DecryptPEMBlock(b, pass)
	switch {
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, ErrWrongPassphrase
	case err != nil:
		return nil, fmt.Errorf("malformed legacy-encrypted key: %w", err)
	}
	key, what, err := parsePrivateKey(b.Type, der)
	if what == "" {
		return nil, ErrWrongPassphrase
	}
	return key, err
}

// KeyMatches reports whether key, a public key or a crypto.Signer, is the key pair of
// cert.
func KeyMatches(cert *x509.Certificate, key crypto.PublicKey) bool {
	if s, ok := key.(crypto.Signer); ok {
		key = s.Public()
	}
	if cert == nil || key == nil {
		return false
	}
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key)
}

// MarshalPrivateKeyPEM encodes key as an unencrypted PKCS#8 "PRIVATE KEY" PEM block.
func MarshalPrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// EncryptPrivateKeyPEM encodes key as an "ENCRYPTED PRIVATE KEY" PEM block: PKCS#8 with
// PBES2, PBKDF2-HMAC-SHA256 (600000 iterations, 16-byte salt) and AES-256-CBC, which
// `openssl pkey -passin` and Java read.
func EncryptPrivateKeyPEM(key crypto.Signer, passphrase []byte) ([]byte, error) {
	return encryptPKCS8(key, passphrase, encryptIterations)
}
