package certio

import (
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

// seedFiles adds every fixture and real file as a seed, with BER variants of the
// containers so that the BER paths are explored too.
func seedFiles(f *testing.F, add func([]byte)) {
	dir := filepath.Dir(fixture(f, "leaf.pem"))
	paths, _ := filepath.Glob(filepath.Join(dir, "*"))
	real, _ := filepath.Glob(filepath.Join(testpki.ReferenceDir(), "*.cer"))
	samples, _ := filepath.Glob(filepath.Join(testpki.ReferenceDir(), "samples", "*"))
	real = append(real, samples...)
	for _, p := range append(paths, real...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(data)
	}
}

func FuzzDecode(f *testing.F) {
	seedFiles(f, func(b []byte) { f.Add(b) })
	f.Add(toBER(readFixture(f, "chain.p7b")))
	f.Add(toBER(readFixture(f, "default.p12")))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode("fuzz", data)
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != "fuzz" {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		if len(c.Items) == 0 {
			t.Fatal("Decode succeeded with nothing found")
		}
		for _, it := range c.Items {
			if it.Describe() == "" {
				t.Fatal("empty description")
			}
		}
	})
}

// FuzzEncryptedPKCS8 runs the EncryptedPrivateKeyInfo and PBES2 parsers, and decrypts
// when the scheme is cheap enough to do so on every input.
func FuzzEncryptedPKCS8(f *testing.F) {
	seedFiles(f, func(data []byte) {
		if b, _ := pem.Decode(data); b != nil && b.Type == "ENCRYPTED PRIVATE KEY" {
			f.Add(b.Bytes)
		}
	})
	f.Add(readFixture(f, "enc-aes256.der"))
	f.Fuzz(func(t *testing.T, der []byte) {
		e, err := parseEncryptedPKCS8(der)
		if err != nil {
			return
		}
		p, err := parsePBES2("fuzz", e.Algorithm)
		if err != nil {
			return
		}
		if p.iter > 5000 || p.scrypt != nil && p.scrypt.N*p.scrypt.R*p.scrypt.P > 1<<14 {
			return
		}
		key, err := decryptPKCS8("fuzz", der, []byte(secret))
		if (key == nil) == (err == nil) {
			t.Fatalf("key %v with error %v", key, err)
		}
	})
}

func FuzzPKCS7(f *testing.F) {
	for _, name := range []string{"chain.p7b", "chain.p7b.pem", "withcrl.p7b.pem"} {
		data := readFixture(f, name)
		if b, _ := pem.Decode(data); b != nil {
			data = b.Bytes
		}
		f.Add(data)
		f.Add(toBER(data))
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		certs, crls, err := parsePKCS7("fuzz", der, false)
		if err == nil && len(certs)+len(crls) == 0 {
			t.Fatal("an empty bundle was accepted")
		}
	})
}
