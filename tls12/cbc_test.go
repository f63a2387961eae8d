package tls12

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/hmac"
	"fmt"
	"hash"
	"testing"
)

// countingHash counts the compression-function calls of a Merkle–Damgård
// hash: one per full block written, and those Sum adds for the final
// padding (a 0x80 byte and a length field of an eighth of a block).
type countingHash struct {
	hash.Hash
	buffered int
	count    *int
}

func (h *countingHash) Write(p []byte) (int, error) {
	total := h.buffered + len(p)
	*h.count += total / h.BlockSize()
	h.buffered = total % h.BlockSize()
	return h.Hash.Write(p)
}

func (h *countingHash) Sum(b []byte) []byte {
	bs := h.BlockSize()
	*h.count += (h.buffered + 1 + bs/8 + bs - 1) / bs
	return h.Hash.Sum(b)
}

func (h *countingHash) Reset() {
	h.buffered = 0
	h.Hash.Reset()
}

// TestCBCOpenUniformWork checks the Lucky13 defence of MAC-then-encrypt:
// for records of one length, opening runs the same number of hash
// compressions whatever the padding length, and whether the padding or the
// MAC is bad; both failures are the same error.
func TestCBCOpenUniformWork(t *testing.T) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384} {
		for _, n := range []int{64, 320, 1024} {
			t.Run(fmt.Sprintf("%s/%d", h, n), func(t *testing.T) {
				count := 0
				newHash := func() hash.Hash { return &countingHash{Hash: h.New(), count: &count} }
				block, _ := aes.NewCipher(seq(16, 1))
				c := &cbcCipher{block: block, mac: hmac.New(newHash, seq(h.Size(), 2)), dummy: newHash()}
				macLen := h.Size()
				work := map[int][]string{}
				open := func(name string, data []byte, ok bool) {
					count = 0
					_, err := c.open(7, recordApplicationData, encryptCBC(c, data))
					if ok != (err == nil) || (!ok && err != errBadRecordMAC) {
						t.Fatalf("%s: %v", name, err)
					}
					work[count] = append(work[count], name)
				}
				for pad := 0; pad <= 255 && pad+1+macLen <= n; pad++ {
					payload := seq(n-macLen-pad-1, 'p')
					if len(payload)%16 != (16-(macLen+pad+1)%16)%16 {
						continue
					}
					mac := c.appendMAC(nil, 7, recordApplicationData, payload)
					open(fmt.Sprintf("padding %d", pad), concat(payload, mac, seq(pad+1, byte(pad))), true)
					bad := append([]byte(nil), mac...)
					bad[0] ^= 1
					open(fmt.Sprintf("bad MAC, padding %d", pad), concat(payload, bad, seq(pad+1, byte(pad))), false)
					if pad > 0 {
						padding := seq(pad+1, byte(pad))
						padding[0] ^= 1
						open(fmt.Sprintf("bad padding %d", pad), concat(payload, mac, padding), false)
					}
				}
				open("padding length past the record", concat(seq(n-1, 'x'), []byte{255}), false)
				if len(work) != 1 {
					for w, names := range work {
						t.Logf("%d compressions: %d cases, first %s", w, len(names), names[0])
					}
					t.Fatal("work depends on the padding or on what failed")
				}
			})
		}
	}
}

// TestExtractMAC compares the constant-time copy with plain slicing for
// every MAC size and every place the MAC may start.
func TestExtractMAC(t *testing.T) {
	data := make([]byte, 400)
	for i := range data {
		data[i] = byte(i*7 + i/251)
	}
	for _, macLen := range []int{20, 32, 48} {
		for _, n := range []int{macLen + 1, 100, 300, 400} {
			for start := max(0, n-1-255-macLen); start <= n-1-macLen; start++ {
				if got := extractMAC(data[:n], start, macLen); !bytes.Equal(got, data[start:start+macLen]) {
					t.Fatalf("mac %d, record %d, start %d: %x", macLen, n, start, got)
				}
			}
		}
	}
}
