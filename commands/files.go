package commands

import (
	"crypto"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/certio"
)

// loader reads the inputs named on the command line, "-" being stdin.
func (r *run) loader() certio.Loader {
	return certio.Loader{Stdin: r.env.Stdin}
}

// readError classifies an error from reading an input named on the command
// line: the tool could not evaluate (UNKNOWN), unless the cause was how it
// was invoked (a passphrase source missing).
func (r *run) readError(err error) error {
	var ce *cmdError
	if errors.As(err, &ce) {
		return &cmdError{status: ce.status, err: err, hint: ce.hint}
	}
	hint := certio.Hint(err)
	switch {
	case errors.Is(err, certio.ErrWrongPassphrase):
		hint = "check the passphrase file or variable: the file was not damaged, the passphrase does not open it"
	case errors.Is(err, certio.ErrPassphraseRequired):
		hint = "give --passphrase-file FILE or --passphrase-env NAME"
	}
	return unknownErr(err, hint)
}

// writeError classifies an error from writing an output: an existing file is
// a usage error (nothing was replaced), anything else a failure.
func (r *run) writeError(err error) error {
	if errors.Is(err, certio.ErrExists) {
		return &cmdError{status: StatusUsage, err: err, hint: "add --force to replace it (the old file is kept as a timestamped .bak), or choose another output"}
	}
	return failErr(err, "")
}

// loadKey reads a private key, asking for the unlocking passphrase only when
// the key turns out to be encrypted.
func (r *run) loadKey(c *cli.Context, path string) (crypto.Signer, bool, error) {
	pass := func() ([]byte, error) {
		return r.secret(c, unlockSecret, fmt.Sprintf("the key %s", certio.DisplayName(path)))
	}
	k, err := r.loader().LoadPrivateKey(path, pass)
	if err != nil {
		return nil, false, r.readError(err)
	}
	for _, w := range k.Warnings {
		r.warnf("%s", w)
		if w.Hint != "" {
			fmt.Fprintf(r.env.Stderr, "diapason-cert: hint: %s\n", w.Hint)
		}
	}
	return k.Signer, k.Encrypted, nil
}
