package certio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// MaxInputSize bounds what ReadInput accepts. The largest real inputs, CRLs of big
// CAs and PKCS#12 files with long chains, stay far below it, while a mistaken
// path (a disk image, a log) is refused before it fills memory.
const MaxInputSize = 16 << 20

// ReadInput reads the file at path, or stdin when path is "-", refusing inputs over
// MaxInputSize. Errors are *FileError values naming path.
func ReadInput(path string, stdin io.Reader) ([]byte, error) {
	var r io.Reader
	if path == "-" {
		if stdin == nil {
			return nil, &FileError{Path: path, Err: errors.New("standard input is not available here")}
		}
		r = stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, &FileError{Path: path, Err: unwrapPathError(err)}
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			return nil, &FileError{Path: path, Err: errors.New("is a directory, not a file")}
		}
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxInputSize+1))
	if err != nil {
		return nil, &FileError{Path: path, Err: fmt.Errorf("cannot read: %w", unwrapPathError(err))}
	}
	if len(data) > MaxInputSize {
		return nil, &FileError{Path: path, Err: fmt.Errorf("larger than %d MiB, too large to be certificate material", MaxInputSize>>20)}
	}
	return data, nil
}

// unwrapPathError drops the *fs.PathError layer, whose text repeats the path that
// FileError already shows; errors.Is still sees the underlying errno.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
