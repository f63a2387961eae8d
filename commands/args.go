package commands

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// globalOpts are the options every command accepts in any position.
type globalOpts struct {
	output    string
	noColor   bool
	exitCodes string
}

const (
	flagOutput    = "output"
	flagNoColor   = "no-color"
	flagExitCodes = "exit-codes"
)

// normaliseArgs rewrites a command line so that urfave/cli, which stops
// reading flags at the first positional argument, sees every flag: global
// flags go first, then the command path, then the command's flags, then "--"
// and the positionals. Without it `check a.pem --fqdn x` would silently take
// "--fqdn" as a file name. An unknown flag stays a flag so that urfave
// reports it as a usage error.
func normaliseArgs(app *cli.App, args []string) ([]string, globalOpts) {
	g := globalOpts{output: outputText, exitCodes: exitModeDefault}
	if len(args) == 0 {
		return args, g
	}
	if strings.HasSuffix(args[len(args)-1], "generate-bash-completion") {
		return args, g // the completion flag must stay last and untouched
	}
	var globals, chain, flags, positionals []string
	var current *cli.Command
	subcommands := app.Commands
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positionals = append(positionals, rest[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			takesValue := false
			isGlobal := false
			switch name {
			case flagOutput, flagExitCodes:
				isGlobal, takesValue = true, true
			case flagNoColor:
				isGlobal = true
				g.noColor = !hasValue || value != "false"
			default:
				takesValue = flagTakesValue(current, subcommands, app, name)
			}
			group := &flags
			if isGlobal {
				group = &globals
			}
			*group = append(*group, a)
			if takesValue && !hasValue && i+1 < len(rest) {
				value = rest[i+1]
				*group = append(*group, value)
				i++
			}
			switch name {
			case flagOutput:
				g.output = value
			case flagExitCodes:
				g.exitCodes = value
			}
			continue
		}
		if len(positionals) == 0 {
			if sub := findCommand(subcommands, a); sub != nil {
				chain = append(chain, a)
				current, subcommands = sub, sub.Subcommands
				continue
			}
		}
		positionals = append(positionals, a)
	}
	out := append([]string{args[0]}, globals...)
	out = append(out, chain...)
	out = append(out, flags...)
	if len(positionals) > 0 {
		out = append(out, "--")
		out = append(out, positionals...)
	}
	return out, g
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// flagTakesValue reports whether a flag consumes the next argument. It looks
// at the current command first, then at the commands below it, so that a flag
// typed before its subcommand (`csr --fqdn x tpe-server`) keeps its value.
func flagTakesValue(current *cli.Command, below []*cli.Command, app *cli.App, name string) bool {
	var flags []cli.Flag
	if current != nil {
		flags = current.Flags
	} else {
		flags = app.Flags
	}
	if f, ok := lookupFlag(flags, name); ok {
		return takesValue(f)
	}
	for _, c := range below {
		if f, ok := lookupFlag(c.Flags, name); ok {
			return takesValue(f)
		}
		if takesValueBelow(c.Subcommands, name) {
			return true
		}
	}
	return false
}

func takesValueBelow(cmds []*cli.Command, name string) bool {
	for _, c := range cmds {
		if f, ok := lookupFlag(c.Flags, name); ok {
			return takesValue(f)
		}
		if takesValueBelow(c.Subcommands, name) {
			return true
		}
	}
	return false
}

func lookupFlag(flags []cli.Flag, name string) (cli.Flag, bool) {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f, true
			}
		}
	}
	return nil, false
}

func takesValue(f cli.Flag) bool {
	if dv, ok := f.(cli.DocGenerationFlag); ok {
		return dv.TakesValue()
	}
	return true
}
