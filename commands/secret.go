package commands

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"
)

// Flags that name where secrets come from; a secret itself is never a flag
// value, because command lines end up in shell histories and `ps`.
const (
	flagPassphraseFile    = "passphrase-file"
	flagPassphraseEnv     = "passphrase-env"
	flagNewPassphraseFile = "new-passphrase-file"
	flagNewPassphraseEnv  = "new-passphrase-env"
)

// secretFlags are the flags of a command that reads or writes protected
// files; withNew adds the pair for commands that do both.
func secretFlags(withNew bool) []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: flagPassphraseFile, Usage: "read the passphrase from `FILE` (first line): it unlocks what is read, or protects what is written when nothing read is encrypted"},
		&cli.StringFlag{Name: flagPassphraseEnv, Usage: "read the passphrase from the environment variable `NAME`"},
	}
	if withNew {
		fs = append(fs,
			&cli.StringFlag{Name: flagNewPassphraseFile, Usage: "read the passphrase protecting what is written from `FILE`, when the input is itself encrypted"},
			&cli.StringFlag{Name: flagNewPassphraseEnv, Usage: "read the passphrase protecting what is written from the environment variable `NAME`"},
		)
	}
	return fs
}

// secretRole says which of the two secrets of §3 is asked for.
type secretRole struct {
	fileFlag, envFlag string
	// protects is set for a secret that encrypts output: it is confirmed when
	// typed and may not be empty.
	protects bool
}

var (
	unlockSecret  = secretRole{fileFlag: flagPassphraseFile, envFlag: flagPassphraseEnv}
	protectSecret = secretRole{fileFlag: flagPassphraseFile, envFlag: flagPassphraseEnv, protects: true}
	newSecret     = secretRole{fileFlag: flagNewPassphraseFile, envFlag: flagNewPassphraseEnv, protects: true}
)

// given reports whether the command line names a source for the secret.
func (s secretRole) given(c *cli.Context) bool {
	return c.String(s.fileFlag) != "" || c.String(s.envFlag) != ""
}

// secret returns the passphrase for what: from the file or variable the
// command line names, else from a prompt on the terminal.
func (r *run) secret(c *cli.Context, role secretRole, what string) ([]byte, error) {
	file, env := c.String(role.fileFlag), c.String(role.envFlag)
	var pw []byte
	switch {
	case file != "" && env != "":
		return nil, usageErr("", "--%s and --%s both name the passphrase for %s: give one", role.fileFlag, role.envFlag, what)
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, unknownErr(fmt.Errorf("passphrase file %s: %w", file, errors.Unwrap(err)), "")
		}
		pw, _, _ = bytes.Cut(data, []byte("\n"))
		pw = bytes.TrimRight(pw, "\r")
		if len(pw) == 0 {
			return nil, usageErr("", "passphrase file %s is empty", file)
		}
	case env != "":
		v := r.env.Getenv(env)
		if v == "" {
			return nil, usageErr(fmt.Sprintf("export %s before running, or use --%s", env, role.fileFlag), "environment variable %s, named by --%s, is not set or empty", env, role.envFlag)
		}
		pw = []byte(v)
	case r.env.Prompt != nil:
		var err error
		if pw, err = r.env.Prompt(fmt.Sprintf("Passphrase for %s: ", what)); err != nil {
			return nil, usageErr("", "reading the passphrase: %v", err)
		}
		if role.protects {
			again, err := r.env.Prompt(fmt.Sprintf("Repeat the passphrase for %s: ", what))
			if err != nil {
				return nil, usageErr("", "reading the passphrase: %v", err)
			}
			if !bytes.Equal(pw, again) {
				return nil, usageErr("", "the two passphrases for %s differ", what)
			}
		}
		if len(pw) == 0 {
			return nil, usageErr("", "empty passphrase for %s", what)
		}
	default:
		return nil, usageErr(fmt.Sprintf("give --%s FILE or --%s NAME (no terminal to prompt on)", role.fileFlag, role.envFlag),
			"a passphrase is needed for %s", what)
	}
	return pw, nil
}
