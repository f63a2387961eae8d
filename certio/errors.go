package certio

import (
	"errors"
	"strings"
)

// Sentinels for the conditions callers branch on; test them with errors.Is.
var (
	// ErrPassphraseRequired: the input is encrypted and no Passphrase was given.
	ErrPassphraseRequired = errors.New("a passphrase is required")
	// ErrWrongPassphrase: decryption with the given passphrase failed its integrity checks.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrExists: an output file already exists and replacing it was not asked for.
	ErrExists = errors.New("already exists")
)

// FileError ties an error to the file it concerns; Path is as the caller gave it, "-"
// standing for standard input.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string { return DisplayName(e.Path) + ": " + e.Err.Error() }

func (e *FileError) Unwrap() error { return e.Err }

// UnexpectedError says that an input holds something other than what the caller needs.
// Want and Found are noun phrases with their article ("a certificate", "an RSA PRIVATE KEY block").
type UnexpectedError struct {
	Want, Found string
}

func (e *UnexpectedError) Error() string { return "expected " + e.Want + ", found " + e.Found }

// UnsupportedError reports well-formed input that this package cannot read, with the
// command that converts it into something it can.
type UnsupportedError struct {
	Reason string // what the input is and why it cannot be read
	Fix    string // a command or step that converts it; may be empty
}

func (e *UnsupportedError) Error() string { return e.Reason }

// Hint returns the conversion step, for the "hint:" line of the command-line tool.
func (e *UnsupportedError) Hint() string { return e.Fix }

// Hint returns the advice carried by err or anything it wraps, or "" when there is none.
func Hint(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// Warning is something a caller should tell the user although the input was read.
type Warning struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"` // what to do about it
}

func (w Warning) String() string { return DisplayName(w.Path) + ": " + w.Message }

// DisplayName is how messages name a path: standard input has no file name, so "-"
// becomes "stdin".
func DisplayName(path string) string {
	if path == "-" {
		return "stdin"
	}
	return path
}

// article returns phrase prefixed by "a" or "an", reading upper-case acronyms letter by letter.
func article(phrase string) string {
	first, _, _ := strings.Cut(phrase, " ")
	switch {
	case first == "":
		return phrase
	case strings.ContainsRune("AEIOaeio", rune(first[0])),
		first == "RSA", first == "X509", first == "SSH2":
		return "an " + phrase
	}
	return "a " + phrase
}
