package certio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// WriteOptions controls WriteFile.
type WriteOptions struct {
	Mode   os.FileMode // permissions of a new file, before the umask; 0 means 0644. Keys and PKCS#12 files take 0600.
	Force  bool        // replace an existing file, keeping it under a timestamped backup name
	Now    time.Time   // names the backup; required with Force
	Stdout io.Writer   // written for the path "-"

	beforeLink func() // tests run this once the temporary file is complete, to race WriteFile
}

// WriteResult says where WriteFile put things.
type WriteResult struct {
	Path   string `json:"path"`
	Backup string `json:"backup,omitempty"` // the name the replaced file was kept under, when Force replaced one
}

// WriteFile writes data to path ("-" writes opt.Stdout) without ever replacing a file
// unless opt.Force is set. The data goes to a temporary file in the same directory,
// created with the final mode and synced, which is then hard-linked to path: link(2)
// fails if path exists, even if it appeared an instant ago, where a rename would
// silently replace it. With Force, an existing file is first linked to
// NAME.YYYYMMDDTHHMMSSZ.bak (UTC, from opt.Now; a counter is added rather than
// overwriting an older backup) and the temporary file is renamed over it. No temporary
// file is left behind on any error. Errors about files are *FileError values; an
// existing file gives one wrapping ErrExists.
func WriteFile(path string, data []byte, opt WriteOptions) (WriteResult, error) {
	res := WriteResult{Path: path}
	if path == "-" {
		if opt.Stdout == nil {
			return res, errors.New("stdout: standard output is not available here")
		}
		if _, err := opt.Stdout.Write(data); err != nil {
			return res, fmt.Errorf("stdout: cannot write: %w", err)
		}
		return res, nil
	}
	if opt.Force && opt.Now.IsZero() {
		return res, &FileError{Path: path, Err: errors.New("replacing a file needs the current time to name its backup (WriteOptions.Now)")}
	}
	mode := opt.Mode
	if mode == 0 {
		mode = 0o644
	}
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return res, &FileError{Path: path, Err: err}
	}
	// After a link both names exist and after a rename the temporary name is gone;
	// removing it unconditionally covers success and every failure alike.
	defer os.Remove(tmp)
	if opt.beforeLink != nil {
		opt.beforeLink()
	}
	dir := filepath.Dir(path)
	// A few attempts, because with Force the old file may vanish between the failed
	// link and its backup; then linking again is right.
	for attempt := 0; ; attempt++ {
		err := os.Link(tmp, path)
		if err == nil {
			syncDir(dir)
			return res, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return res, &FileError{Path: path, Err: fmt.Errorf("cannot put the new file in place: %w", linkErr(err))}
		}
		if fi, serr := os.Lstat(path); serr == nil && fi.IsDir() {
			return res, &FileError{Path: path, Err: errors.New("is a directory, not a file")}
		}
		if !opt.Force {
			return res, existsError(path)
		}
		backup, err := linkBackup(path, opt.Now)
		if errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		if err != nil {
			return res, &FileError{Path: path, Err: fmt.Errorf("cannot keep a backup of the existing file: %w", linkErr(err))}
		}
		res.Backup = backup
		if err := os.Rename(tmp, path); err != nil {
			return res, &FileError{Path: path, Err: fmt.Errorf("cannot replace the file (its backup %s is kept): %w", backup, linkErr(err))}
		}
		syncDir(dir)
		return res, nil
	}
}

func existsError(path string) error {
	return &FileError{Path: path, Err: fmt.Errorf("%w; use --force to replace it (a timestamped backup is kept)", ErrExists)}
}

// writeTemp writes data to a new file beside path and returns its name.
func writeTemp(path string, data []byte, mode os.FileMode) (string, error) {
	dir, base := filepath.Dir(path), filepath.Base(path)
	for {
		name := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64(), 36)+".tmp")
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue // a name collision, astronomically rare: draw another
		}
		if err != nil {
			return "", fmt.Errorf("cannot create a file in %s: %w", dir, unwrapPathError(err))
		}
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return "", fmt.Errorf("cannot write: %w", unwrapPathError(err))
		}
		return name, nil
	}
}

// maxBackups bounds the counter added to backup names made in the same second.
const maxBackups = 100

// linkBackup gives the file at path a second name, NAME.YYYYMMDDTHHMMSSZ.bak, or
// NAME.YYYYMMDDTHHMMSSZ-N.bak when that exists, and returns it.
func linkBackup(path string, now time.Time) (string, error) {
	stamp := path + "." + now.UTC().Format("20060102T150405Z")
	for n := 1; n <= maxBackups; n++ {
		name := stamp + ".bak"
		if n > 1 {
			name = stamp + "-" + strconv.Itoa(n) + ".bak"
		}
		err := os.Link(path, name)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("%d backups named %s* already exist", maxBackups, stamp)
}

// linkErr drops the *os.LinkError layer, whose text repeats both paths.
func linkErr(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// CheckWritable reports the error WriteFile would give for any of paths, so that a
// command can refuse before expensive work such as generating a key: an existing
// file (unless force), a directory in the way, or a directory where files cannot be
// created. "-" is always writable.
func CheckWritable(force bool, paths ...string) error {
	for _, p := range paths {
		if p == "-" {
			continue
		}
		fi, err := os.Lstat(p)
		switch {
		case err == nil && fi.IsDir():
			return &FileError{Path: p, Err: errors.New("is a directory, not a file")}
		case err == nil && !force:
			return existsError(p)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return &FileError{Path: p, Err: unwrapPathError(err)}
		}
		dir := filepath.Dir(p)
		f, err := os.CreateTemp(dir, "."+filepath.Base(p)+".*.probe")
		if err != nil {
			return &FileError{Path: p, Err: fmt.Errorf("cannot create files in %s: %w", dir, unwrapPathError(err))}
		}
		f.Close()
		os.Remove(f.Name())
	}
	return nil
}
