// Command diapason-cert takes a GAP editor through the certificate lifecycle of Diapason and proves its two mutual-TLS links.
package main

import (
	"os"

	"github.com/diapason-cert/diapason-cert/commands"
)

func main() {
	os.Exit(commands.Main(os.Args))
}
