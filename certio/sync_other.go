//go:build !unix

package certio

// syncDir does nothing where directories cannot be opened for syncing (Windows);
// NTFS journals the directory entry itself.
func syncDir(string) {}
