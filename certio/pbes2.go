package certio

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"

	"golang.org/x/crypto/scrypt"
)

// Encrypted PKCS#8 (RFC 5958 EncryptedPrivateKeyInfo) with PBES2 (RFC 8018 §6.2),
// written here on the standard library: the PBES2 libraries available either never
// check the CBC padding, so a wrong passphrase yields garbage instead of an error, or
// lack the PRFs and scrypt that OpenSSL uses.

// encryptIterations is the PBKDF2-HMAC-SHA256 count for keys we encrypt: OWASP's 2023
// figure for that PRF. Unlocking a key then costs about 0.1 s once per command, which
// nobody notices, while OpenSSL's own default (2048) is 300 times cheaper to attack.
const encryptIterations = 600_000

// Limits on what a file may ask of us. A hostile or corrupt file could otherwise make
// one passphrase attempt run for hours or allocate gigabytes.
const (
	maxIterations  = 10_000_000 // 17 times OWASP's figure; about 2 s here
	maxScryptBytes = 64 << 20   // scrypt memory, 128·r·N; OpenSSL's own cap is 32 MiB
	maxScryptWork  = 1 << 22    // N·r·p, bounding time: p passes over the memory
)

var (
	oidPKCS5     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}     // PBES1, PBES2, PBKDF2
	oidPKCS12PBE = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // PKCS#12 PBE, PBES1-like
	oidPBES2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidScrypt    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}

	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

var prfs = []struct {
	oid  asn1.ObjectIdentifier
	hash func() hash.Hash
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}, sha1.New},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}, sha256.New224},
	{oidHMACWithSHA256, sha256.New},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}, sha512.New384},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}, sha512.New},
}

type blockCipher struct {
	oid               asn1.ObjectIdentifier
	keyLen, blockSize int
	newBlock          func(key []byte) (cipher.Block, error)
}

var ciphers = []blockCipher{
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}, 16, aes.BlockSize, aes.NewCipher},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}, 24, aes.BlockSize, aes.NewCipher},
	{oidAES256CBC, 32, aes.BlockSize, aes.NewCipher},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}, 24, des.BlockSize, des.NewTripleDESCipher},
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF, Cipher pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations int
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

type scryptParams struct {
	Salt      []byte
	N, R, P   int
	KeyLength int `asn1:"optional"`
}

func parseEncryptedPKCS8(der []byte) (*encryptedPrivateKeyInfo, error) {
	var e encryptedPrivateKeyInfo
	if err := unmarshalAll(der, &e); err != nil {
		return nil, fmt.Errorf("malformed encrypted private key: %w", err)
	}
	return &e, nil
}

// isPBEAlgorithm tells an encrypted PKCS#8 key from other SEQUENCE { AlgorithmIdentifier,
// OCTET STRING } shapes when the input is DER and carries no PEM type.
func isPBEAlgorithm(oid asn1.ObjectIdentifier) bool {
	return hasPrefix(oid, oidPKCS5) || hasPrefix(oid, oidPKCS12PBE)
}

func hasPrefix(oid, prefix asn1.ObjectIdentifier) bool {
	return len(oid) > len(prefix) && oid[:len(prefix)].Equal(prefix)
}

func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%d bytes of trailing data", len(rest))
	}
	return err
}

// pbes2 is a parsed, bounds-checked PBES2 scheme, ready to derive a key.
type pbes2 struct {
	salt   []byte
	iter   int              // PBKDF2
	prf    func() hash.Hash // PBKDF2
	scrypt *scryptParams    // instead of PBKDF2
	cipher blockCipher
	iv     []byte
}

// parsePBES2 reads and bounds the scheme of an EncryptedPrivateKeyInfo. name only
// shapes the re-encryption command suggested for schemes that are not read.
func parsePBES2(name string, alg pkix.AlgorithmIdentifier) (*pbes2, error) {
	if !alg.Algorithm.Equal(oidPBES2) {
		scheme := "an unknown scheme"
		if isPBEAlgorithm(alg.Algorithm) {
			scheme = "an obsolete scheme (PBES1 or PKCS#12 PBE, weak key derivation)"
		}
		return nil, &UnsupportedError{
			Reason: fmt.Sprintf("the private key is encrypted with %s, OID %s, which is not supported; only PBES2 is", scheme, alg.Algorithm),
			Fix: fmt.Sprintf("re-encrypt it with PBES2: openssl pkcs8 -topk8 -v2 aes256 -iter %d -in %s -out %s",
				encryptIterations, shellArg(name), derivedArg(name, ".p8")),
		}
	}
	var params pbes2Params
	if err := unmarshalAll(alg.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("malformed PBES2 parameters: %w", err)
	}
	p := new(pbes2)
	found := false
	for _, c := range ciphers {
		if c.oid.Equal(params.Cipher.Algorithm) {
			p.cipher, found = c, true
		}
	}
	if !found {
		return nil, fmt.Errorf("unsupported PBES2 cipher %s; AES-CBC and DES-EDE3-CBC are read", params.Cipher.Algorithm)
	}
	if err := unmarshalAll(params.Cipher.Parameters.FullBytes, &p.iv); err != nil {
		return nil, fmt.Errorf("malformed PBES2 cipher IV: %w", err)
	}
	if len(p.iv) != p.cipher.blockSize {
		return nil, fmt.Errorf("malformed PBES2 cipher IV: %d bytes, want %d", len(p.iv), p.cipher.blockSize)
	}
	switch {
	case params.KDF.Algorithm.Equal(oidPBKDF2):
		return p, p.readPBKDF2(params.KDF.Parameters.FullBytes)
	case params.KDF.Algorithm.Equal(oidScrypt):
		return p, p.readScrypt(params.KDF.Parameters.FullBytes)
	}
	return nil, fmt.Errorf("unsupported PBES2 key derivation %s; PBKDF2 and scrypt are read", params.KDF.Algorithm)
}

func (p *pbes2) readPBKDF2(der []byte) error {
	var kp pbkdf2Params
	if err := unmarshalAll(der, &kp); err != nil {
		return fmt.Errorf("malformed PBKDF2 parameters: %w", err)
	}
	if kp.Iterations < 1 || kp.Iterations > maxIterations {
		return fmt.Errorf("PBKDF2 iteration count %d is outside 1..%d; refusing it, as it could stall this tool", kp.Iterations, maxIterations)
	}
	if kp.KeyLength != 0 && kp.KeyLength != p.cipher.keyLen {
		return fmt.Errorf("PBKDF2 key length %d does not fit the cipher's %d", kp.KeyLength, p.cipher.keyLen)
	}
	p.salt, p.iter, p.prf = kp.Salt, kp.Iterations, sha1.New // RFC 8018 appendix A.2: the default PRF is HMAC-SHA1
	if len(kp.PRF.Algorithm) == 0 {
		return nil
	}
	for _, f := range prfs {
		if f.oid.Equal(kp.PRF.Algorithm) {
			p.prf = f.hash
			return nil
		}
	}
	return fmt.Errorf("unsupported PBKDF2 PRF %s; HMAC with SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512 is read", kp.PRF.Algorithm)
}

func (p *pbes2) readScrypt(der []byte) error {
	var sp scryptParams
	if err := unmarshalAll(der, &sp); err != nil {
		return fmt.Errorf("malformed scrypt parameters: %w", err)
	}
	switch {
	case sp.N < 2 || sp.N&(sp.N-1) != 0 || sp.R < 1 || sp.P < 1:
		return fmt.Errorf("invalid scrypt parameters N=%d r=%d p=%d", sp.N, sp.R, sp.P)
	case sp.N > maxScryptBytes/128/sp.R || sp.N*sp.R > maxScryptWork/sp.P:
		return fmt.Errorf("scrypt parameters N=%d r=%d p=%d ask for more than %d MiB or too much work; refusing them, as they could exhaust this machine",
			sp.N, sp.R, sp.P, maxScryptBytes>>20)
	case sp.KeyLength != 0 && sp.KeyLength != p.cipher.keyLen:
		return fmt.Errorf("scrypt key length %d does not fit the cipher's %d", sp.KeyLength, p.cipher.keyLen)
	}
	p.salt, p.scrypt = sp.Salt, &sp
	return nil
}

func (p *pbes2) deriveKey(pass []byte) ([]byte, error) {
	if p.scrypt != nil {
		return scrypt.Key(pass, p.salt, p.scrypt.N, p.scrypt.R, p.scrypt.P, p.cipher.keyLen)
	}
	return pbkdf2.Key(p.prf, string(pass), p.salt, p.iter, p.cipher.keyLen)
}

// decrypt returns the plaintext, or ErrWrongPassphrase when the padding is wrong,
// which is how CBC tells a wrong key apart (1 - 1/256 of the time; the caller's
// PKCS#8 parse catches the rest).
func (p *pbes2) decrypt(pass, ciphertext []byte) ([]byte, error) {
	bs := p.cipher.blockSize
	if len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, fmt.Errorf("malformed encrypted private key: %d bytes is not a whole number of %d-byte blocks", len(ciphertext), bs)
	}
	key, err := p.deriveKey(pass)
	if err != nil {
		return nil, fmt.Errorf("deriving the key: %w", err)
	}
	block, err := p.cipher.newBlock(key)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, p.iv).CryptBlocks(plain, ciphertext)
	n := int(plain[len(plain)-1])
	if n == 0 || n > bs {
		return nil, ErrWrongPassphrase
	}
	for _, b := range plain[len(plain)-n:] {
		if int(b) != n {
			return nil, ErrWrongPassphrase
		}
	}
	return plain[:len(plain)-n], nil
}

// decryptPKCS8 opens an EncryptedPrivateKeyInfo.
func decryptPKCS8(name string, der, pass []byte) (crypto.Signer, error) {
	e, err := parseEncryptedPKCS8(der)
	if err != nil {
		return nil, err
	}
	p, err := parsePBES2(name, e.Algorithm)
	if err != nil {
		return nil, err
	}
	plain, err := p.decrypt(pass, e.Data)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(plain)
	if err != nil {
		// The padding happened to look right, but what came out is not a key.
		return nil, ErrWrongPassphrase
	}
	return asSigner(key)
}

// encryptPKCS8 writes key as an ENCRYPTED PRIVATE KEY PEM block: PBES2 with
// PBKDF2-HMAC-SHA256 (iter rounds, 16-byte salt) and AES-256-CBC, the scheme
// `openssl pkcs8 -topk8 -v2 aes256` writes, so OpenSSL and Java read it.
func encryptPKCS8(key crypto.Signer, pass []byte, iter int) ([]byte, error) {
	if len(pass) == 0 {
		return nil, errors.New("refusing to encrypt a private key with an empty passphrase")
	}
	plain, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	rand.Read(salt) // crypto/rand.Read cannot fail since Go 1.24
	rand.Read(iv)
	k, err := pbkdf2.Key(sha256.New, string(pass), salt, iter, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	n := aes.BlockSize - len(plain)%aes.BlockSize
	for range n {
		plain = append(plain, byte(n))
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(plain, plain)

	kdf, err := asn1.Marshal(pbkdf2Params{Salt: salt, Iterations: iter,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue}})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		Cipher: pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	der, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		Data:      plain,
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}
