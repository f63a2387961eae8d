package lab

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strconv"
	"sync"
)

// keyCache holds one key per name and size for the life of the process.
var keyCache sync.Map // string → func() (*rsa.PrivateKey, error)

// CachedKey returns the RSA key of the given name and size made earlier in
// this process, making it on first use. Tests use it for their CSR keys too:
// an RSA 2048 key takes 15 to 200 ms to make, a 4096 one up to a second.
func CachedKey(name string, bits int) (*rsa.PrivateKey, error) {
	once, _ := keyCache.LoadOrStore(name+"/"+strconv.Itoa(bits), sync.OnceValues(func() (*rsa.PrivateKey, error) {
		return rsa.GenerateKey(rand.Reader, bits)
	}))
	return once.(func() (*rsa.PrivateKey, error))()
}

type keyRequest struct {
	name string
	bits int
}

// makeKeys makes every key at once: generation is CPU-bound and independent,
// so a lab's ten keys take the time of the slowest on a multi-core machine.
// A non-empty cache names the set of cached keys to take them from.
func makeKeys(reqs []keyRequest, cache string) (map[string]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, kr := range reqs {
		wg.Go(func() {
			if cache != "" {
				keys[i], errs[i] = CachedKey(cache+"/"+kr.name, kr.bits)
			} else {
				keys[i], errs[i] = rsa.GenerateKey(rand.Reader, kr.bits)
			}
		})
	}
	wg.Wait()
	out := make(map[string]*rsa.PrivateKey, len(reqs))
	for i, kr := range reqs {
		if errs[i] != nil {
			return nil, fmt.Errorf("making the RSA %d key of %s: %w", kr.bits, kr.name, errs[i])
		}
		out[kr.name] = keys[i]
	}
	return out, nil
}
