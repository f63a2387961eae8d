// Command gen writes diapason-cert.1 in the current directory (go generate ./man).
package main

import (
	"fmt"
	"os"

	"github.com/diapason-cert/diapason-cert/man"
)

func main() {
	page, err := man.Page()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(man.File, page, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
