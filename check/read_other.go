//go:build !unix

package check

import (
	"io"
	"os"

	"github.com/diapason-cert/diapason-cert/certio"
)

// readRegular reads a regular file of known size in one read; ok is false for
// anything else, which the caller then reads the ordinary way.
func readRegular(path string) (data []byte, ok bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	// A size of 0 may be a file whose size the kernel does not know.
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || fi.Size() > certio.MaxInputSize {
		return nil, false
	}
	buf := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, buf); err != nil {
		return nil, false
	}
	return buf, true
}
