//go:build unix

package check

import (
	"syscall"

	"github.com/diapason-cert/diapason-cert/certio"
)

// readRegular reads a regular file of known size with bare system calls (open,
// fstat, read, close): an *os.File would also register the descriptor with the
// network poller and set a finalizer, a measurable share of a scan's time per file.
// ok is false for anything else, which the caller then reads the ordinary way.
func readRegular(path string) (data []byte, ok bool) {
	var fd int
	var err error
	for {
		if fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	// A size of 0 may be a file whose size the kernel does not know (/proc).
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Size <= 0 || st.Size > certio.MaxInputSize {
		return nil, false
	}
	buf := make([]byte, st.Size)
	for n := 0; n < len(buf); {
		m, err := syscall.Read(fd, buf[n:])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil || m <= 0:
			return nil, false
		}
		n += m
	}
	return buf, true
}
