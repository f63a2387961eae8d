package certio

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadKeyFixture(t *testing.T, name string) crypto.Signer {
	t.Helper()
	k, err := Loader{}.LoadPrivateKey(fixture(t, name), nil)
	if err != nil {
		t.Fatal(err)
	}
	return k.Signer
}

func samePublicKey(a, b crypto.Signer) bool {
	return a.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(b.Public())
}

func TestEncryptedKeysFromOpenSSL(t *testing.T) {
	leaf, ca := loadKeyFixture(t, "leaf.key"), loadKeyFixture(t, "ca.key")
	for _, tc := range []struct {
		file string
		want crypto.Signer // nil: only check that a key comes out
	}{
		{"enc-aes256.pem", leaf}, // openssl pkcs8 -topk8 -v2 aes256
		{"enc-aes256.der", leaf},
		{"enc-genpkey.pem", nil}, // openssl genpkey -aes256
		{"enc-sha512.pem", ca},   // -v2prf hmacWithSHA512
		{"enc-sha384.pem", ca},
		{"enc-sha224.pem", ca},
		{"enc-sha1.pem", ca}, // PRF omitted, as RFC 8018 allows for its default
		{"enc-des3.pem", ca}, // -v2 des3
		{"enc-scrypt.pem", ca},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := fixture(t, tc.file)
			k, err := Loader{}.LoadPrivateKey(path, passphrase(secret))
			if err != nil {
				t.Fatal(err)
			}
			if !k.Encrypted || len(k.Warnings) != 0 {
				t.Errorf("Encrypted = %v, Warnings = %v; want true and none", k.Encrypted, k.Warnings)
			}
			if tc.want != nil && !samePublicKey(k.Signer, tc.want) {
				t.Error("decrypted key is not the one encrypted")
			}
			_, err = Loader{}.LoadPrivateKey(path, passphrase("not the passphrase"))
			if !errors.Is(err, ErrWrongPassphrase) || err.Error() != path+": cannot decrypt the private key: wrong passphrase" {
				t.Errorf("wrong passphrase: %v", err)
			}
			_, err = Loader{}.LoadPrivateKey(path, nil)
			if !errors.Is(err, ErrPassphraseRequired) || err.Error() != path+": the private key is encrypted: a passphrase is required" {
				t.Errorf("no passphrase: %v", err)
			}
		})
	}
}

func TestDefaultPRFIsSHA1(t *testing.T) {
	p := pbes2Of(t, readFixture(t, "enc-sha1.pem"))
	if p.iter != 2048 || p.prf().Size() != 20 {
		t.Fatalf("iter = %d, PRF size = %d; want OpenSSL's 2048 and SHA-1", p.iter, p.prf().Size())
	}
	var params pbes2Params
	e, _ := parseEncryptedPKCS8(pemBytes(t, readFixture(t, "enc-sha1.pem")))
	asn1.Unmarshal(e.Algorithm.Parameters.FullBytes, &params)
	var kp pbkdf2Params
	asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kp)
	if len(kp.PRF.Algorithm) != 0 {
		t.Fatal("the fixture names its PRF; it should rely on the default")
	}
}

func TestPassphraseIsAskedOnlyWhenNeeded(t *testing.T) {
	calls := 0
	count := func() ([]byte, error) { calls++; return []byte(secret), nil }
	for _, f := range []string{"leaf.key", "leaf.p1.pem", "ca.sec1.der", "nopass.p12"} {
		c, err := Loader{}.Load(fixture(t, f))
		if err != nil {
			t.Fatal(err)
		}
		if c.Items[0].Kind == KindPKCS12 {
			_, err = c.Items[0].UnlockPKCS12(count)
		} else {
			_, err = c.Items[0].UnlockKey(count)
		}
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	if calls != 0 {
		t.Fatalf("the passphrase was asked %d times for unencrypted input", calls)
	}
	wantErr := errors.New("prompt cancelled")
	_, err := Loader{}.LoadPrivateKey(fixture(t, "enc-aes256.pem"), func() ([]byte, error) { return nil, wantErr })
	if !errors.Is(err, wantErr) || !strings.HasSuffix(err.Error(), ": the private key is encrypted; reading its passphrase: prompt cancelled") {
		t.Fatalf("error = %v", err)
	}
}

// TestPaddingIsChecked damages the last ciphertext block: with the right passphrase
// the padding then comes out wrong, which must be an error, never a key.
func TestPaddingIsChecked(t *testing.T) {
	der := pemBytes(t, readFixture(t, "enc-sha1.pem"))
	e, err := parseEncryptedPKCS8(der)
	if err != nil {
		t.Fatal(err)
	}
	e.Data[len(e.Data)-1] ^= 0x01
	p := pbes2Of(t, readFixture(t, "enc-sha1.pem"))
	if _, err := p.decrypt([]byte(secret), e.Data); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("damaged padding: err = %v, want ErrWrongPassphrase", err)
	}
}

func TestLegacyEncryptedPEMKeys(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		file string
		want crypto.Signer
	}{
		{"legacy-rsa.pem", loadKeyFixture(t, "leaf.key")},
		{"legacy-ec.pem", loadKeyFixture(t, "ca.key")},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if err := os.WriteFile(path, readFixture(t, tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			k, err := Loader{}.LoadPrivateKey(path, passphrase(secret))
			if err != nil {
				t.Fatal(err)
			}
			if !samePublicKey(k.Signer, tc.want) {
				t.Fatal("decrypted key is not the one encrypted")
			}
			if len(k.Warnings) != 1 || !strings.HasPrefix(k.Warnings[0].String(), path+": the private key uses legacy PEM encryption") {
				t.Fatalf("warnings = %v", k.Warnings)
			}
			if _, err := (Loader{}).LoadPrivateKey(path, passphrase("wrong")); !errors.Is(err, ErrWrongPassphrase) {
				t.Errorf("wrong passphrase: %v", err)
			}
			// The suggested re-encryption gives a PKCS#8 key read without a warning.
			runHint(t, dir, k.Warnings[0].Hint+" -passin pass:"+secret+" -passout pass:"+secret, "")
			k2, err := Loader{}.LoadPrivateKey(path+".p8", passphrase(secret))
			if err != nil || len(k2.Warnings) != 0 || !samePublicKey(k2.Signer, tc.want) {
				t.Fatalf("after re-encryption: %v, warnings %v", err, k2.Warnings)
			}
		})
	}
}

func TestPBES1IsRefusedWithTheWayOut(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "old.pem")
	if err := os.WriteFile(path, readFixture(t, "enc-pbes1.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Loader{}.LoadPrivateKey(path, passphrase(secret))
	var ue *UnsupportedError
	if !errors.As(err, &ue) || err.Error() != (path+": the private key is encrypted with an obsolete scheme (PBES1 or PKCS#12 PBE, weak key derivation), OID 1.2.840.113549.1.12.1.3, which is not supported; only PBES2 is") {
		t.Fatalf("error = %v", err)
	}
	runHint(t, dir, Hint(err)+" -passin pass:"+secret+" -passout pass:"+secret, "")
	if _, err := (Loader{}).LoadPrivateKey(path+".p8", passphrase(secret)); err != nil {
		t.Fatalf("after re-encryption: %v", err)
	}
}

func TestEncryptPrivateKeyPEMIsReadByOpenSSL(t *testing.T) {
	leaf := loadKeyFixture(t, "leaf.key")
	out, err := EncryptPrivateKeyPEM(leaf, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	p := pbes2Of(t, out)
	if p.iter != 600_000 || len(p.salt) != 16 || p.prf().Size() != 32 || p.cipher.keyLen != 32 || p.scrypt != nil {
		t.Errorf("scheme: %d iterations, %d-byte salt, PRF size %d, key %d bytes; want 600000, 16, SHA-256, AES-256",
			p.iter, len(p.salt), p.prf().Size(), p.cipher.keyLen)
	}
	dir := t.TempDir()
	checkOpenSSLReads(t, dir, "rsa.pem", out, leaf)

	// Other key types, at a low iteration count to keep the test fast.
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for name, k := range map[string]crypto.Signer{"ec.pem": ec, "ed25519.pem": ed} {
		out, err := encryptPKCS8(k, []byte(secret), 1000)
		if err != nil {
			t.Fatal(err)
		}
		checkOpenSSLReads(t, dir, name, out, k)
		c, err := Decode(name, out)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Items[0].UnlockKey(passphrase(secret))
		if err != nil || !samePublicKey(back.Signer, k) {
			t.Fatalf("%s round trip: %v", name, err)
		}
		if _, err := c.Items[0].UnlockKey(passphrase("wrong")); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("%s wrong passphrase: %v", name, err)
		}
	}
	if _, err := EncryptPrivateKeyPEM(leaf, nil); err == nil || err.Error() != "refusing to encrypt a private key with an empty passphrase" {
		t.Errorf("empty passphrase: %v", err)
	}
}

// checkOpenSSLReads has `openssl pkey -passin` decrypt data and compares the public key.
func checkOpenSSLReads(t *testing.T, dir, name string, data []byte, key crypto.Signer) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	pub := runOpenSSL(t, dir, "pkey", "-in", path, "-passin", "pass:"+secret, "-pubout", "-outform", "DER")
	c, err := Decode("pub", pub)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Items[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
		t.Fatalf("%s: openssl decrypted another key", name)
	}
	if _, err := openssl(dir, "pkey", "-in", path, "-passin", "pass:wrong", "-noout"); err == nil {
		t.Fatalf("%s: openssl accepted a wrong passphrase", name)
	}
}

func TestMarshalPrivateKeyPEM(t *testing.T) {
	leaf := loadKeyFixture(t, "leaf.key")
	out, err := MarshalPrivateKeyPEM(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, readFixture(t, "leaf.key")) {
		t.Error("PKCS#8 encoding differs from what openssl wrote for the same key")
	}
}

// TestHostileParametersAreRefused builds schemes that would make one passphrase
// attempt run for minutes or allocate gigabytes.
func TestHostileParametersAreRefused(t *testing.T) {
	iv, _ := asn1.Marshal(make([]byte, 16))
	aes256 := pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: iv}}
	for _, tc := range []struct {
		name   string
		kdf    pkix.AlgorithmIdentifier
		cipher pkix.AlgorithmIdentifier
		want   string
	}{
		{"iterations", algo(t, oidPBKDF2, pbkdf2Params{Salt: []byte("salt"), Iterations: 20_000_000}), aes256,
			"PBKDF2 iteration count 20000000 is outside 1..10000000; refusing it, as it could stall this tool"},
		{"scrypt memory", algo(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1 << 20, R: 8, P: 1}), aes256,
			"scrypt parameters N=1048576 r=8 p=1 ask for more than 64 MiB or too much work; refusing them, as they could exhaust this machine"},
		{"scrypt work", algo(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1 << 14, R: 8, P: 64}), aes256,
			"scrypt parameters N=16384 r=8 p=64 ask for more than 64 MiB or too much work; refusing them, as they could exhaust this machine"},
		{"scrypt N", algo(t, oidScrypt, scryptParams{Salt: []byte("salt"), N: 1000, R: 8, P: 1}), aes256,
			"invalid scrypt parameters N=1000 r=8 p=1"},
		{"cipher", algo(t, oidPBKDF2, pbkdf2Params{Salt: []byte("salt"), Iterations: 1}), pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 3}},
			"unsupported PBES2 cipher 1.2.3; AES-CBC and DES-EDE3-CBC are read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params, err := asn1.Marshal(pbes2Params{KDF: tc.kdf, Cipher: tc.cipher})
			if err != nil {
				t.Fatal(err)
			}
			der, err := asn1.Marshal(encryptedPrivateKeyInfo{
				Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
				Data:      make([]byte, 32)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = decryptPKCS8("k", der, []byte(secret))
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

func algo(t *testing.T, oid asn1.ObjectIdentifier, params any) pkix.AlgorithmIdentifier {
	b, err := asn1.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.AlgorithmIdentifier{Algorithm: oid, Parameters: asn1.RawValue{FullBytes: b}}
}

func pemBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}

func pbes2Of(t *testing.T, pemData []byte) *pbes2 {
	t.Helper()
	e, err := parseEncryptedPKCS8(pemBytes(t, pemData))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePBES2("k", e.Algorithm)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
