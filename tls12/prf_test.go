package tls12

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// TestPRFAgainstOpenSSL compares prf with `openssl kdf TLS1-PRF`, which
// takes the label as the first part of its seed.
func TestPRFAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hash   crypto.Hash
		digest string
	}{{crypto.SHA384, "SHA384"}, {crypto.SHA256, "SHA256"}} {
		for i, n := range []int{12, 48, 100, 160} {
			secret := bytes.Repeat([]byte{byte(i + 1), 0xA5}, 24)
			seed := bytes.Repeat([]byte{0x3C, byte(n)}, 32)
			label := []string{"client finished", "master secret", "key expansion", "extended master secret"}[i]
			t.Run(fmt.Sprintf("%s/%d", tc.digest, n), func(t *testing.T) {
				t.Parallel()
				out, err := exec.Command("openssl", "kdf", "-keylen", fmt.Sprint(n),
					"-kdfopt", "digest:"+tc.digest,
					"-kdfopt", "hexsecret:"+hex.EncodeToString(secret),
					"-kdfopt", "seed:"+label,
					"-kdfopt", "hexseed:"+hex.EncodeToString(seed),
					"TLS1-PRF").CombinedOutput()
				if err != nil {
					t.Fatalf("openssl kdf: %v\n%s", err, out)
				}
				want, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(string(out)), ":", ""))
				if err != nil {
					t.Fatal(err)
				}
				if got := prf(tc.hash, secret, label, seed, n); !bytes.Equal(got, want) {
					t.Errorf("prf = %x\nopenssl = %x", got, want)
				}
			})
		}
	}
}

// TestKeyBlockLayout checks the key block is cut in RFC 5246 §6.3 order,
// with no IV material for CBC suites.
func TestKeyBlockLayout(t *testing.T) {
	s := suiteByID(TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384)
	master := bytes.Repeat([]byte{7}, masterSecretLen)
	cr, sr := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	kb := deriveKeys(s, master, cr, sr)
	full := prf(crypto.SHA384, master, "key expansion", append(append([]byte{}, sr...), cr...), 2*48+2*32)
	got := concat(kb.clientMAC, kb.serverMAC, kb.clientKey, kb.serverKey)
	if !bytes.Equal(got, full) || len(kb.clientIV)+len(kb.serverIV) != 0 || len(kb.clientKey) != 32 || len(kb.serverMAC) != 48 {
		t.Errorf("key block cut wrongly")
	}
}
