package bundle

import (
	"crypto/sha256"
	"fmt"
	"os"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// File is one output of a bundle command: what it holds and, once written,
// where the file it replaced was kept.
type File struct {
	Path    string `json:"path"`
	Content string `json:"content"`
	Mode    string `json:"mode"`
	SHA256  string `json:"sha256"` // of the file's bytes
	Backup  string `json:"backup,omitempty"`

	data []byte
	perm os.FileMode
}

// NewFile prepares an output; secret files (keys, PKCS#12) take mode 0600.
func NewFile(path, content string, data []byte, secret bool) *File {
	perm := os.FileMode(0o644)
	if secret {
		perm = 0o600
	}
	sum := sha256.Sum256(data)
	return &File{Path: path, Content: content, Mode: fmt.Sprintf("%04o", perm), SHA256: diapason.Fingerprint(sum[:]), data: data, perm: perm}
}

// Data returns the bytes the file holds.
func (f *File) Data() []byte { return f.data }

// WriteFiles writes every file or, when any of them cannot be written (one
// exists and force is not set, a directory is missing or read-only), none:
// each is checked before the first is written. Existing files are replaced
// only with force, and kept under a timestamped backup name taken from now.
func WriteFiles(files []*File, force bool, now time.Time) error {
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = f.Path
	}
	if err := certio.CheckWritable(force, paths...); err != nil {
		return err
	}
	for _, f := range files {
		res, err := certio.WriteFile(f.Path, f.data, certio.WriteOptions{Mode: f.perm, Force: force, Now: now})
		if err != nil {
			return err
		}
		f.Backup = res.Backup
	}
	return nil
}
