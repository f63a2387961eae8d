package certio

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func TestDecodeDetectsEachKind(t *testing.T) {
	for _, tc := range []struct {
		file  string
		kinds []Kind
		first string // Describe() of the first item
	}{
		{"leaf.pem", []Kind{KindCertificate}, "a CERTIFICATE block"},
		{"leaf.der", []Kind{KindCertificate}, "a certificate (DER)"},
		{"leaf.text.pem", []Kind{KindCertificate}, "a CERTIFICATE block"},
		{"ca.trusted.pem", []Kind{KindCertificate}, "a TRUSTED CERTIFICATE block"},
		{"chain.pem", []Kind{KindCertificate, KindCertificate}, "a CERTIFICATE block"},
		{"leaf.csr", []Kind{KindCSR}, "a CERTIFICATE REQUEST block"},
		{"leaf.csr.der", []Kind{KindCSR}, "a certificate request (DER)"},
		{"leaf.key", []Kind{KindPrivateKey}, "a PRIVATE KEY block"},
		{"leaf.p8.der", []Kind{KindPrivateKey}, "a PKCS#8 private key (DER)"},
		{"leaf.p1.pem", []Kind{KindPrivateKey}, "an RSA PRIVATE KEY block"},
		{"leaf.p1.der", []Kind{KindPrivateKey}, "a PKCS#1 RSA private key (DER)"},
		{"ca.sec1.pem", []Kind{KindPrivateKey}, "an EC PRIVATE KEY block"},
		{"ca.sec1.der", []Kind{KindPrivateKey}, "a SEC1 EC private key (DER)"},
		{"ecparam.pem", []Kind{KindUnknown, KindPrivateKey}, "an EC PARAMETERS block"},
		{"leaf.pub.pem", []Kind{KindPublicKey}, "a PUBLIC KEY block"},
		{"leaf.pub.der", []Kind{KindPublicKey}, "a public key (DER)"},
		{"leaf.rsapub.pem", []Kind{KindPublicKey}, "an RSA PUBLIC KEY block"},
		{"leaf.rsapub.der", []Kind{KindPublicKey}, "a PKCS#1 RSA public key (DER)"},
		{"crl2.pem", []Kind{KindCRL}, "an X509 CRL block"},
		{"crl2.der", []Kind{KindCRL}, "a CRL (DER)"},
		{"crls.pem", []Kind{KindCRL, KindCRL}, "an X509 CRL block"},
		{"chain.p7b.pem", []Kind{KindPKCS7}, "a PKCS7 block"},
		{"chain.p7b", []Kind{KindPKCS7}, "a PKCS#7 bundle (DER)"},
		{"withcrl.p7b.pem", []Kind{KindPKCS7}, "a PKCS7 block"},
		{"default.p12", []Kind{KindPKCS12}, "a PKCS#12 file (DER)"},
		{"legacy.p12", []Kind{KindPKCS12}, "a PKCS#12 file (DER)"},
		{"3des.p12", []Kind{KindPKCS12}, "a PKCS#12 file (DER)"},
		{"shuffled.p12", []Kind{KindPKCS12}, "a PKCS#12 file (DER)"},
		{"truststore.p12", []Kind{KindPKCS12}, "a PKCS#12 file (DER)"},
		{"enc-aes256.pem", []Kind{KindEncryptedKey}, "an ENCRYPTED PRIVATE KEY block"},
		{"enc-aes256.der", []Kind{KindEncryptedKey}, "an encrypted PKCS#8 private key (DER)"},
		{"enc-pbes1.pem", []Kind{KindEncryptedKey}, "an ENCRYPTED PRIVATE KEY block"},
		{"legacy-rsa.pem", []Kind{KindEncryptedKey}, "an RSA PRIVATE KEY block (legacy-encrypted)"},
		{"legacy-ec.pem", []Kind{KindEncryptedKey}, "an EC PRIVATE KEY block (legacy-encrypted)"},
		{"mixed.pem", []Kind{KindCertificate, KindPrivateKey, KindCertificate}, "a CERTIFICATE block"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			c, err := Decode(tc.file, readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var kinds []Kind
			for _, it := range c.Items {
				kinds = append(kinds, it.Kind)
			}
			if !slices.Equal(kinds, tc.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tc.kinds)
			}
			if got := c.Items[0].Describe(); got != tc.first {
				t.Errorf("Describe() = %q, want %q", got, tc.first)
			}
		})
	}
}

func TestDecodeContents(t *testing.T) {
	leaf := func(t *testing.T) []byte {
		c, err := Decode("leaf.der", readFixture(t, "leaf.der"))
		if err != nil {
			t.Fatal(err)
		}
		return c.Items[0].Certificate.Raw
	}

	t.Run("PKCS#7 keeps the certificate order", func(t *testing.T) {
		for _, f := range []string{"chain.p7b", "chain.p7b.pem"} {
			c, err := Decode(f, readFixture(t, f))
			if err != nil {
				t.Fatal(err)
			}
			certs := c.Certificates()
			if len(certs) != 2 || !bytes.Equal(certs[0].Raw, leaf(t)) || certs[1].Subject.CommonName != "Test CA" {
				t.Fatalf("%s: got %d certificates, want leaf then CA", f, len(certs))
			}
		}
	})
	t.Run("PKCS#7 with a CRL", func(t *testing.T) {
		c, err := Decode("withcrl.p7b.pem", readFixture(t, "withcrl.p7b.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Certificates()) != 1 || len(c.CRLs()) != 1 {
			t.Fatalf("got %d certificates and %d CRLs, want 1 and 1", len(c.Certificates()), len(c.CRLs()))
		}
	})
	t.Run("several CRLs in one PEM file", func(t *testing.T) {
		c, err := Decode("crls.pem", readFixture(t, "crls.pem"))
		if err != nil {
			t.Fatal(err)
		}
		crls := c.CRLs()
		if len(crls) != 2 || crls[0].Number.Int64() != 1 || crls[1].Number.Int64() != 2 {
			t.Fatalf("got %d CRLs, want numbers 1 and 2", len(crls))
		}
		if n := len(crls[1].RevokedCertificateEntries); n != 1 {
			t.Errorf("second CRL revokes %d certificates, want 1", n)
		}
	})
	t.Run("concatenated DER certificates", func(t *testing.T) {
		c, err := Decode("two.der", slices.Concat(leaf(t), leaf(t), []byte("\n")))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Items) != 2 {
			t.Fatalf("got %d items, want 2", len(c.Items))
		}
	})
	t.Run("TRUSTED CERTIFICATE warns that trust settings are ignored", func(t *testing.T) {
		c, err := Decode("ca.trusted.pem", readFixture(t, "ca.trusted.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0].String(), "ca.trusted.pem: the TRUSTED CERTIFICATE block at line 1 carries OpenSSL trust settings") {
			t.Fatalf("warnings = %v", c.Warnings)
		}
	})
	t.Run("Windows line endings and byte order mark", func(t *testing.T) {
		crlf := bytes.ReplaceAll(readFixture(t, "chain.pem"), []byte("\n"), []byte("\r\n"))
		c, err := Decode("chain.pem", slices.Concat([]byte("\xef\xbb\xbf"), crlf))
		if err != nil || len(c.Certificates()) != 2 {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("mislabelled key block", func(t *testing.T) {
		pkcs8 := bytes.ReplaceAll(readFixture(t, "leaf.key"), []byte("PRIVATE KEY"), []byte("RSA PRIVATE KEY"))
		c, err := Decode("k.pem", pkcs8)
		if err != nil || c.Items[0].Key == nil {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("line numbers of PEM blocks", func(t *testing.T) {
		c, err := Decode("leaf.text.pem", readFixture(t, "leaf.text.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Items[0].Line < 10 {
			t.Errorf("Line = %d, want the line after the text dump", c.Items[0].Line)
		}
		chain, err := Decode("chain.pem", readFixture(t, "chain.pem"))
		if err != nil {
			t.Fatal(err)
		}
		want := 1 + bytes.Count(readFixture(t, "leaf.pem"), []byte("\n"))
		if chain.Items[0].Line != 1 || chain.Items[1].Line != want {
			t.Errorf("lines = %d, %d; want 1, %d", chain.Items[0].Line, chain.Items[1].Line, want)
		}
	})
}

func TestRealIGCSanteFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testpki.ReferenceDir(), "*.cer"))
	if len(files) != 4 {
		t.Fatalf("found %d .cer files in the reference directory, want 4", len(files))
	}
	for _, f := range files {
		certs, err := Loader{}.LoadCertificates(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(certs) != 1 || !slices.Contains(certs[0].Subject.OrganizationalUnit, "0002 187512751") {
			t.Errorf("%s: got %d certificates, want one IGC-Santé CA", f, len(certs))
		}
	}
	certs, err := Loader{}.LoadCertificates(filepath.Join(testpki.ReferenceDir(), "samples", "TEST-ORG-SIGN-2021.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 || certs[0].Subject.CommonName != "testsign.test.asipsante.fr" || certs[0].Subject.Province[0] != "Côte-d'Or (21)" {
		t.Fatalf("got %v, want the testsign.test.asipsante.fr certificate", certs[0].Subject)
	}
}

func TestLoaderErrorsNameTheFileAndWhatWasFound(t *testing.T) {
	leafPEM := readFixture(t, "leaf.pem")
	leafDER := readFixture(t, "leaf.der")
	t.Chdir(t.TempDir())
	for _, tc := range []struct {
		name    string
		content []byte
		load    func(Loader, string) error
		want    string
	}{
		{"ca.pem", readFixture(t, "leaf.p1.pem"), loadCerts,
			"ca.pem: expected a certificate, found an RSA PRIVATE KEY block"},
		{"key.pem", leafPEM, loadKey,
			"key.pem: expected a private key, found a CERTIFICATE block"},
		{"req.csr", readFixture(t, "mixed.pem"), loadCSR,
			"req.csr: expected a certificate request, found a CERTIFICATE block, an RSA PRIVATE KEY block and a CERTIFICATE block"},
		{"crl.pem", leafDER, loadCRLs,
			"crl.pem: expected a CRL, found a certificate (DER)"},
		{"id.p12", readFixture(t, "enc-aes256.der"), loadPKCS12,
			"id.p12: expected a PKCS#12 file, found an encrypted PKCS#8 private key (DER)"},
		{"two.csr", slices.Concat(readFixture(t, "leaf.csr"), readFixture(t, "leaf.csr")), loadCSR,
			"two.csr: expected one certificate request, found 2"},
		{"empty.pem", nil, loadCerts, "empty.pem: the file is empty"},
		{"blank.pem", []byte(" \n\n"), loadCerts, "blank.pem: contains only whitespace, no certificate material"},
		{"garbage.pem", []byte("hello world\nsecond line\n"), loadCerts,
			`garbage.pem: no PEM block found in this text (it starts "hello world")`},
		{"zero.pem", []byte("0 is not DER\n"), loadCerts,
			`zero.pem: no PEM block found in this text (it starts "0 is not DER")`},
		{"bare.b64", []byte("MIIBszCCAVmgAwIBAgIUQ\nAAAA==\n"), loadCerts,
			"bare.b64: found base64 text without the PEM BEGIN and END lines around it"},
		{"utf16.pem", []byte("\xff\xfe-\x00-\x00"), loadCerts,
			`utf16.pem: the file is UTF-16 text (as Windows Notepad saves "Unicode"); save it as UTF-8 or ANSI`},
		{"junk.bin", []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0}, loadCerts,
			"junk.bin: neither PEM nor DER: found 10 bytes of binary data starting with 7f 45 4c 46 02 01 01 00"},
		{"cut.pem", leafPEM[:len(leafPEM)/2], loadCerts,
			"cut.pem: truncated PEM: the CERTIFICATE block at line 1 has no END line"},
		{"cut2.pem", slices.Concat(leafPEM[:len(leafPEM)/2], []byte("\n"), leafPEM), loadCerts,
			"cut2.pem: truncated PEM: the CERTIFICATE block at line 1 has no END line"},
		{"cut.der", leafDER[:300], loadCerts,
			"cut.der: truncated DER: the structure declares " + strconv.Itoa(len(leafDER)) + " bytes but only 300 are present"},
		{"bad64.pem", []byte("-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n"), loadCerts,
			"bad64.pem: malformed PEM: the CERTIFICATE block at line 1 is not valid base64"},
		{"trail.der", slices.Concat(leafDER, []byte{0x04, 0x09, 1}), loadCerts,
			"trail.der: truncated DER: the structure declares 11 bytes but only 3 are present"},
		{"seq.der", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, loadCerts,
			"seq.der: unrecognised DER structure (5 bytes): not a certificate, request, CRL, key, PKCS#7 or PKCS#12"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(tc.name, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			err := tc.load(Loader{}, tc.name)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Path != tc.name {
				t.Errorf("error is not a *FileError for %s: %#v", tc.name, err)
			}
		})
	}
}

func TestDamagedCertificateIsNamed(t *testing.T) {
	der := slices.Clone(readFixture(t, "leaf.der"))
	der[8] = 0x05 // the first field of the TBSCertificate becomes a NULL
	_, err := Decode("bad.der", der)
	if err == nil || !strings.HasPrefix(err.Error(), "bad.der: malformed certificate, certificate request or CRL: x509: ") {
		t.Fatalf("error = %v", err)
	}
	pemData := []byte("text\n-----BEGIN CERTIFICATE-----\nMAMCAQU=\n-----END CERTIFICATE-----\n")
	_, err = Decode("bad.pem", pemData)
	if err == nil || !strings.HasPrefix(err.Error(), "bad.pem: the CERTIFICATE block at line 2: x509: ") {
		t.Fatalf("error = %v", err)
	}
}

func TestUnexpectedErrorIsTyped(t *testing.T) {
	_, err := Loader{}.LoadCertificates(fixture(t, "leaf.key"))
	var ue *UnexpectedError
	if !errors.As(err, &ue) || ue.Want != "a certificate" || ue.Found != "a PRIVATE KEY block" {
		t.Fatalf("error = %#v", err)
	}
}

func TestLoadersPickTheirItemsFromCombinedFiles(t *testing.T) {
	path := fixture(t, "mixed.pem")
	certs, err := Loader{}.LoadCertificates(path)
	if err != nil || len(certs) != 2 {
		t.Fatalf("LoadCertificates: %d certificates, %v", len(certs), err)
	}
	k, err := Loader{}.LoadPrivateKey(path, nil)
	if err != nil || !KeyMatches(certs[0], k.Signer) || k.Encrypted {
		t.Fatalf("LoadPrivateKey: %v", err)
	}
	if KeyMatches(certs[1], k.Signer) {
		t.Error("KeyMatches(CA, leaf key) = true")
	}
	if !KeyMatches(certs[0], k.Signer.Public()) {
		t.Error("KeyMatches(leaf, leaf public key) = false")
	}
	k2, err := Loader{}.LoadPrivateKey(fixture(t, "ecparam.pem"), nil)
	if err != nil || k2.Signer == nil {
		t.Fatalf("LoadPrivateKey(ecparam.pem): %v", err)
	}
	crls, err := Loader{}.LoadCRLs(fixture(t, "withcrl.p7b.pem"))
	if err != nil || len(crls) != 1 {
		t.Fatalf("LoadCRLs: %d CRLs, %v", len(crls), err)
	}
	csr, err := Loader{}.LoadCSR(fixture(t, "leaf.csr.der"))
	if err != nil || csr.Subject.CommonName != "leaf.example" {
		t.Fatalf("LoadCSR: %v", err)
	}
}

func TestReadInput(t *testing.T) {
	data, err := Loader{Stdin: bytes.NewReader(readFixture(t, "leaf.pem"))}.LoadCertificates("-")
	if err != nil || len(data) != 1 {
		t.Fatalf("stdin: %v", err)
	}
	if _, err := (Loader{Stdin: strings.NewReader("")}).LoadCertificates("-"); err == nil || err.Error() != "stdin: nothing was read from standard input" {
		t.Errorf("empty stdin: %v", err)
	}
	if _, err := ReadInput("-", nil); err == nil || err.Error() != "stdin: standard input is not available here" {
		t.Errorf("nil stdin: %v", err)
	}
	big := io.LimitReader(zeros{}, MaxInputSize+1)
	if _, err := ReadInput("-", big); err == nil || err.Error() != "stdin: larger than 16 MiB, too large to be certificate material" {
		t.Errorf("too large: %v", err)
	}
	dir := t.TempDir()
	if _, err := ReadInput(dir, nil); err == nil || err.Error() != dir+": is a directory, not a file" {
		t.Errorf("directory: %v", err)
	}
	missing := filepath.Join(dir, "missing.pem")
	_, err = ReadInput(missing, nil)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != missing+": no such file or directory" {
		t.Errorf("missing: %v", err)
	}
}

// TestBERIsNamedWithItsConversion checks that BER input, which go-pkcs12 and
// encoding/asn1 refuse, is reported as such, and that the suggested OpenSSL commands
// really produce input this package reads.
func TestBERIsNamedWithItsConversion(t *testing.T) {
	dir := t.TempDir()
	t.Run("PKCS#7", func(t *testing.T) {
		name := filepath.Join(dir, "chain.ber.p7b")
		if err := os.WriteFile(name, toBER(readFixture(t, "chain.p7b")), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Loader{}.LoadCertificates(name)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || err.Error() != name+": BER-encoded PKCS#7 (indefinite-length encoding); only DER is read" {
			t.Fatalf("error = %v", err)
		}
		runHint(t, dir, Hint(err), "")
		certs, err := Loader{}.LoadCertificates(name + ".pem")
		if err != nil || len(certs) != 2 {
			t.Fatalf("after conversion: %d certificates, %v", len(certs), err)
		}
	})
	t.Run("PKCS#12", func(t *testing.T) {
		name := filepath.Join(dir, "id.ber.p12")
		if err := os.WriteFile(name, toBER(readFixture(t, "default.p12")), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Loader{}.LoadPKCS12(name, passphrase(secret))
		if err == nil || err.Error() != name+": BER-encoded PKCS#12 (indefinite-length encoding); the PKCS#12 reader used here reads only DER" {
			t.Fatalf("error = %v", err)
		}
		runHint(t, dir, Hint(err), secret)
		p, err := Loader{}.LoadPKCS12(name+".der.p12", passphrase(secret))
		if err != nil || !KeyMatches(p.Leaf, p.Key) {
			t.Fatalf("after conversion: %v", err)
		}
		if _, err := os.Stat(name + ".pem"); !errors.Is(err, fs.ErrNotExist) {
			t.Error("the conversion left the unencrypted key behind")
		}
	})
}

// toBER re-encodes the outer SEQUENCE of der with an indefinite length, as streaming
// encoders do.
func toBER(der []byte) []byte {
	h, _ := readHeader(der)
	return slices.Concat([]byte{der[0], 0x80}, der[h.hlen:], []byte{0, 0})
}

// runHint runs the shell commands of a hint ("...: cmd && cmd (note)"), giving OpenSSL
// the password on its command line where a user would type it.
func runHint(t *testing.T, dir, hint, password string) {
	t.Helper()
	_, cmd, ok := strings.Cut(hint, ": ")
	if !ok {
		t.Fatalf("hint has no command: %q", hint)
	}
	if i := strings.Index(cmd, " (add"); i > 0 {
		cmd = cmd[:i]
	}
	cmd = strings.Replace(cmd, "-nodes", "-nodes -passin pass:"+password, 1)
	cmd = strings.Replace(cmd, "-export", "-export -passout pass:"+password, 1)
	c := exec.Command("sh", "-c", cmd)
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func loadCerts(l Loader, p string) error { _, err := l.LoadCertificates(p); return err }
func loadKey(l Loader, p string) error   { _, err := l.LoadPrivateKey(p, nil); return err }
func loadCSR(l Loader, p string) error   { _, err := l.LoadCSR(p); return err }
func loadCRLs(l Loader, p string) error  { _, err := l.LoadCRLs(p); return err }
func loadPKCS12(l Loader, p string) error {
	_, err := l.LoadPKCS12(p, passphrase(secret))
	return err
}

// BenchmarkDecodeBundle decodes a 2000-certificate PEM bundle, the size of a large
// CA store, to show decoding stays linear in the number of blocks.
func BenchmarkDecodeBundle(b *testing.B) {
	bundle := bytes.Repeat(readFixture(b, "leaf.text.pem"), 2000)
	b.SetBytes(int64(len(bundle)))
	for b.Loop() {
		c, err := Decode("bundle.pem", bundle)
		if err != nil || len(c.Items) != 2000 {
			b.Fatal(err)
		}
	}
}
