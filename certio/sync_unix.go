//go:build unix

package certio

import "os"

// syncDir makes a new directory entry durable. It is best effort: the file is already
// in place, and some file systems refuse to sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
