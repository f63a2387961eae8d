// Package man renders the diapason-cert(1) manual page from the command tree.
package man

//go:generate go run ./gen

import (
	"bytes"
	"fmt"

	"github.com/cpuguy83/go-md2man/v2/md2man"

	"github.com/diapason-cert/diapason-cert/commands"
)

// File is the committed page, relative to this package.
const File = "diapason-cert.1"

// extraSections are what urfave/cli's generator leaves out: EXIT STATUS and
// ENVIRONMENT, which scripts and monitoring depend on.
const extraSections = `
# EXIT STATUS

When several apply, the first in this list wins: USAGE, FAIL, UNKNOWN, WARN, OK.

**0** OK
: everything checked is fine.

**1** FAIL
: a check found a defect, a handshake was refused or broke, a peer was refused.

**2** USAGE
: nothing ran: an unknown command or flag, a missing or invalid value, an output
file that exists (add **--force**).

**3** UNKNOWN
: the tool could not evaluate: an input named on the command line cannot be read
or parsed, a passphrase is wrong, a peer cannot be reached.

**4** WARN
: only warnings: expiry inside the warning window, revocation unknown under
**--revocation soft**, a file in a scanned directory that is not certificate material.

With **--exit-codes nagios** the codes follow the Nagios plugin guidelines:
0 OK, 1 WARNING, 2 CRITICAL (FAIL), 3 UNKNOWN (UNKNOWN and USAGE).

# ENVIRONMENT

**NO_COLOR**
: when set and not empty, output is never coloured (as with **--no-color**).
Colour is otherwise used only when standard output is a terminal.

**TERM**
: **dumb** turns colour off.

**DIAPASON_CACHE_DIR**
: where **check --revocation** keeps the CRLs it downloads, until their nextUpdate
(in its *crl* directory; **--cache-dir** wins over it). Without either, the cache is
*diapason-cert/crl* in the user cache directory (*$XDG_CACHE_HOME*, else
*~/.cache* on Linux; *~/Library/Caches* on macOS; *%LocalAppData%* on Windows).
Each file is one CRL, named by a digest of its URL; deleting the directory is safe.

Variables named by **--passphrase-env** and **--new-passphrase-env**
: hold passphrases. Passphrases are never given as flag values; they come from a
terminal prompt, a file (**--passphrase-file**) or such a variable.

# FILES

Private keys and PKCS#12 files are written with mode 0600. No existing file is
replaced without **--force**; with it the old file is first kept as
*NAME.YYYYMMDDTHHMMSSZ.bak*.

# SEE ALSO

**openssl**(1), **keytool**(1)
`

// Page renders the manual page in roff.
func Page() ([]byte, error) {
	md, err := commands.NewApp().ToMarkdown()
	if err != nil {
		return nil, fmt.Errorf("rendering the command tree: %w", err)
	}
	var src bytes.Buffer
	src.WriteString("% diapason-cert 1\n\n")
	src.WriteString(md)
	src.WriteString(extraSections)
	return md2man.Render(src.Bytes()), nil
}
