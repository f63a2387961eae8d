package bundle

import (
	"crypto/x509"
	"errors"
	"regexp"
	"strings"
	"testing"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/diapason-cert/diapason-cert/check"
)

func TestParseP12Profile(t *testing.T) {
	for in, want := range map[string]P12Profile{"modern": P12Modern, " Compat ": P12Compat} {
		if got, err := ParseP12Profile(in); err != nil || got != want {
			t.Errorf("ParseP12Profile(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "legacy", "modern2026", "rc2"} {
		if _, err := ParseP12Profile(in); err == nil {
			t.Errorf("ParseP12Profile(%q) accepted", in)
		}
	}
}

// keytoolEntry is one entry of `keytool -list` in the en-US locale:
// "alias, Nov 27, 2026, PrivateKeyEntry,".
var keytoolEntry = regexp.MustCompile(`(?m)^(.+), [A-Z][a-z]{2} \d{1,2}, \d{4}, (PrivateKeyEntry|trustedCertEntry),\s*$`)

func keytoolList(t *testing.T, path, password string) map[string]string {
	t.Helper()
	out, err := run(t, "keytool", "-J-Duser.language=en", "-J-Duser.country=US", "-list", "-storetype", "PKCS12", "-keystore", path, "-storepass", password)
	if err != nil {
		t.Fatalf("keytool -list %s: %v\n%s", path, err, out)
	}
	got := map[string]string{}
	for _, m := range keytoolEntry.FindAllStringSubmatch(out, -1) {
		got[m[1]] = m[2]
	}
	return got
}

// TestKeyStoreInterop writes both profiles and has OpenSSL 3 (without -legacy)
// and Java's keytool open them; keytool must show the alias the output announces.
func TestKeyStoreInterop(t *testing.T) {
	p := newPKI(t, "Interop", "Client_Diapason_PSP")
	dir := t.TempDir()
	for _, profile := range []P12Profile{P12Modern, P12Compat} {
		t.Run(string(profile), func(t *testing.T) {
			der, info, err := EncodeKeyStore(p.leafKey, p.leaf, []*x509.Certificate{p.inter}, []byte("s3cret-Pass"), profile)
			if err != nil {
				t.Fatal(err)
			}
			if !info.Verified || !info.JavaPassword || info.Certificates != 2 || len(info.Aliases) != 1 || info.Aliases[0] != KeyStoreAlias {
				t.Errorf("info %+v", info)
			}
			path := writeFile(t, dir, string(profile)+".p12", der)
			out, err := run(t, "openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin", "pass:s3cret-Pass")
			if err != nil {
				t.Fatalf("openssl pkcs12 -info (no -legacy) refused the %s file: %v\n%s", profile, err, out)
			}
			want := map[P12Profile]string{P12Modern: "PBES2, PBKDF2, AES-256-CBC", P12Compat: "pbeWithSHA1And3-KeyTripleDES-CBC"}[profile]
			if !strings.Contains(out, want) {
				t.Errorf("openssl does not report %q:\n%s", want, out)
			}
			entries := keytoolList(t, path, "s3cret-Pass")
			if len(entries) != 1 || entries[KeyStoreAlias] != "PrivateKeyEntry" {
				t.Errorf("keytool lists %v, want alias %q as PrivateKeyEntry", entries, KeyStoreAlias)
			}
		})
	}
}

func TestKeyStorePasswords(t *testing.T) {
	p := newPKI(t, "Passwords", "Client_Diapason_PSP")
	der, info, err := EncodeKeyStore(p.leafKey, p.leaf, nil, []byte("mötdepässe€"), P12Modern)
	if err != nil || !info.Verified {
		t.Fatalf("a BMP password: %v %+v", err, info)
	}
	if info.JavaPassword {
		t.Error("a non-ASCII password is said to suit Java")
	}
	if fs := P12Findings(info); len(fs) != 1 || fs[0].Slug != "p12-password-not-ascii" || fs[0].Level != check.Warn {
		t.Errorf("findings %+v", fs)
	}
	// What the warning claims: Java 17 cannot open the file.
	path := writeFile(t, t.TempDir(), "nonascii.p12", der)
	if out, err := run(t, "keytool", "-list", "-storetype", "PKCS12", "-keystore", path, "-storepass", "mötdepässe€"); err == nil {
		t.Errorf("keytool opened a file with a non-ASCII password; the warning is wrong for this Java:\n%s", out)
	}
	for _, pw := range []string{"", "emoji 🔑", "\xff\xfe"} {
		var pe *PasswordError
		if _, _, err := EncodeKeyStore(p.leafKey, p.leaf, nil, []byte(pw), P12Modern); !errors.As(err, &pe) {
			t.Errorf("password %q: %v, want a PasswordError", pw, err)
		}
	}
	other := newPKI(t, "Passwords", "other")
	var km *KeyMismatchError
	if _, _, err := EncodeKeyStore(other.leafKey, p.leaf, nil, []byte("x"), P12Modern); !errors.As(err, &km) {
		t.Errorf("a key of another certificate: %v", err)
	}
}

func TestKeyStoreRoundTripOrder(t *testing.T) {
	p := newPKI(t, "Order", "gap.chu-exemple.fr")
	der, _, err := EncodeKeyStore(p.leafKey, p.leaf, []*x509.Certificate{p.inter, p.root}, []byte("pw"), P12Compat)
	if err != nil {
		t.Fatal(err)
	}
	_, leaf, cas, err := pkcs12.DecodeChain(der, "pw")
	if err != nil || !leaf.Equal(p.leaf) || len(cas) != 2 || !cas[0].Equal(p.inter) || !cas[1].Equal(p.root) {
		t.Fatalf("decoded %v %v %v", leaf, cas, err)
	}
}
