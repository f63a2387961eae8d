package certio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

var now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CET", 3600))

// dirNames lists dir, to check that no temporary file was left behind.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func mustContain(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s holds %q (%v), want %q", path, got, err, want)
	}
}

func TestWriteFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	res, err := WriteFile(path, []byte("secret"), WriteOptions{Mode: 0o600})
	if err != nil || res.Path != path || res.Backup != "" {
		t.Fatalf("WriteFile = %+v, %v", res, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, %v; want 0600", fi.Mode(), err)
	}
	mustContain(t, path, "secret")
	if names := dirNames(t, dir); !slices.Equal(names, []string{"key.pem"}) {
		t.Errorf("directory holds %v", names)
	}
}

func TestWriteFileNeverReplacesWithoutForce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := WriteFile(path, []byte("new"), WriteOptions{Mode: 0o600})
	if !errors.Is(err, ErrExists) || err.Error() != path+": already exists; use --force to replace it (a timestamped backup is kept)" {
		t.Fatalf("error = %v", err)
	}
	mustContain(t, path, "old")
	if names := dirNames(t, dir); !slices.Equal(names, []string{"key.pem"}) {
		t.Errorf("temporary file left behind: %v", names)
	}
}

// TestWriteFileRace creates the target after WriteFile has decided to write but
// before it links: the file that appeared is kept, never clobbered.
func TestWriteFileRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	opt := WriteOptions{Mode: 0o600, beforeLink: func() {
		if err := os.WriteFile(path, []byte("raced"), 0o600); err != nil {
			t.Fatal(err)
		}
	}}
	_, err := WriteFile(path, []byte("new"), opt)
	if !errors.Is(err, ErrExists) {
		t.Fatalf("error = %v, want ErrExists", err)
	}
	mustContain(t, path, "raced")
	if names := dirNames(t, dir); !slices.Equal(names, []string{"key.pem"}) {
		t.Errorf("temporary file left behind: %v", names)
	}
}

func TestWriteFileForceKeepsABackup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(path, []byte("v1"), 0o600); err != nil {
		t.Fatal(err)
	}
	opt := WriteOptions{Mode: 0o600, Force: true, Now: now}
	res, err := WriteFile(path, []byte("v2"), opt)
	want := path + ".20260102T020405Z.bak" // UTC
	if err != nil || res.Backup != want {
		t.Fatalf("WriteFile = %+v, %v; want backup %s", res, err, want)
	}
	mustContain(t, path, "v2")
	mustContain(t, want, "v1")

	// A second replacement in the same second must not overwrite the first backup.
	res, err = WriteFile(path, []byte("v3"), opt)
	want2 := path + ".20260102T020405Z-2.bak"
	if err != nil || res.Backup != want2 {
		t.Fatalf("WriteFile = %+v, %v; want backup %s", res, err, want2)
	}
	mustContain(t, path, "v3")
	mustContain(t, want, "v1")
	mustContain(t, want2, "v2")
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("mode after replacement = %v, want 0600", fi.Mode())
		}
	}
	if names := dirNames(t, dir); len(names) != 3 {
		t.Errorf("directory holds %v, want the file and two backups", names)
	}

	// Force on a new file writes it with no backup.
	res, err = WriteFile(filepath.Join(dir, "new.pem"), []byte("x"), opt)
	if err != nil || res.Backup != "" {
		t.Fatalf("new file with Force: %+v, %v", res, err)
	}
}

func TestWriteFileErrorsLeaveNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		opt  WriteOptions
		want string
	}{
		{"missing directory", filepath.Join(dir, "nope", "k.pem"), WriteOptions{},
			filepath.Join(dir, "nope", "k.pem") + ": cannot create a file in " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"directory in the way", sub, WriteOptions{Force: true, Now: now},
			sub + ": is a directory, not a file"},
		{"force without a time", filepath.Join(dir, "k.pem"), WriteOptions{Force: true},
			filepath.Join(dir, "k.pem") + ": replacing a file needs the current time to name its backup (WriteOptions.Now)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := WriteFile(tc.path, []byte("x"), tc.opt)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v\nwant    %s", err, tc.want)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"sub"}) {
				t.Errorf("directory holds %v", names)
			}
		})
	}
}

func TestWriteFileStdout(t *testing.T) {
	var buf bytes.Buffer
	res, err := WriteFile("-", []byte("data"), WriteOptions{Stdout: &buf})
	if err != nil || buf.String() != "data" || res.Path != "-" {
		t.Fatalf("WriteFile(-) = %+v, %v, wrote %q", res, err, buf.String())
	}
	if _, err := WriteFile("-", nil, WriteOptions{}); err == nil || err.Error() != "stdout: standard output is not available here" {
		t.Fatalf("no Stdout: %v", err)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(existing, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(dir, "new.csr")
	if err := CheckWritable(false, fresh, "-"); err != nil {
		t.Errorf("fresh path: %v", err)
	}
	if err := CheckWritable(false, fresh, existing); !errors.Is(err, ErrExists) {
		t.Errorf("existing path: %v, want ErrExists", err)
	}
	if err := CheckWritable(true, fresh, existing); err != nil {
		t.Errorf("existing path with force: %v", err)
	}
	if err := CheckWritable(true, dir); err == nil || err.Error() != dir+": is a directory, not a file" {
		t.Errorf("directory: %v", err)
	}
	missing := filepath.Join(dir, "nope", "k.pem")
	if err := CheckWritable(false, missing); err == nil || err.Error() != missing+": cannot create files in "+filepath.Join(dir, "nope")+": no such file or directory" {
		t.Errorf("missing directory: %v", err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"key.pem"}) {
		t.Errorf("CheckWritable left %v", names)
	}
}
