// Package commands is the diapason-cert command line: flags, terminals, colour, JSON, prompts and exit codes.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"
	"golang.org/x/term"
)

// Env is everything a run takes from the process, so tests can run the whole
// command line in-process.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Now            func() time.Time
	// StdoutIsTerminal and StderrIsTerminal decide colour, spinners and progress.
	StdoutIsTerminal, StderrIsTerminal bool
	// Prompt reads a secret without echo; nil when stdin is not a terminal.
	Prompt func(prompt string) ([]byte, error)
	// Signals makes SIGINT and SIGTERM cancel the command's context (servers
	// stop gracefully, temporary files are removed) instead of killing the process.
	Signals bool
}

// Main runs the command line of the process and returns its exit code.
func Main(args []string) int {
	env := Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Getenv: os.Getenv, Now: time.Now, Signals: true,
		StdoutIsTerminal: term.IsTerminal(int(os.Stdout.Fd())),
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		env.Prompt = func(prompt string) ([]byte, error) {
			fmt.Fprint(os.Stderr, prompt)
			defer fmt.Fprintln(os.Stderr)
			return term.ReadPassword(fd)
		}
	}
	return Run(context.Background(), env, args)
}

// run is the state of one invocation.
type run struct {
	env    Env
	global globalOpts
	colour palette
	// status accumulates the outcome; the worst status wins.
	status Status
	// emitted is set once the result document has been written, so that
	// --output json never prints two documents.
	emitted bool
	// stopSignals undoes the signal handling a command installed.
	stopSignals func()
}

// Run executes one command line and returns its exit code.
func Run(ctx context.Context, env Env, args []string) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	r := &run{env: env}
	app := r.newApp()
	args, r.global = normaliseArgs(app, args)
	r.colour = newPalette(r.colourEnabled())
	err := r.checkGlobals()
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if r.stopSignals != nil {
		r.stopSignals()
	}
	if err != nil {
		r.report(err)
	}
	mode := r.global.exitCodes
	if mode != exitModeNagios {
		mode = exitModeDefault
	}
	return exitCode(r.status, mode)
}

// colourEnabled follows the convention of fatih/color and no-color.org:
// colour only on a terminal, never with NO_COLOR or --no-color.
func (r *run) colourEnabled() bool {
	return r.env.StdoutIsTerminal && !r.global.noColor && r.env.Getenv("NO_COLOR") == "" && r.env.Getenv("TERM") != "dumb"
}

func (r *run) checkGlobals() error {
	switch r.global.output {
	case outputText, outputJSON, outputPrometheus:
	default:
		out := r.global.output
		r.global.output = outputText
		return usageErr("use --output text or --output json", "invalid --output %q", out)
	}
	switch r.global.exitCodes {
	case exitModeDefault, exitModeNagios:
	default:
		mode := r.global.exitCodes
		r.global.exitCodes = exitModeDefault
		return usageErr("use --exit-codes default or --exit-codes nagios", "invalid --exit-codes %q", mode)
	}
	return nil
}

// report writes an error to stderr and, with --output json, as the result
// document when none was written.
func (r *run) report(err error) {
	status, hint := errorStatus(err)
	r.status = worst(r.status, status)
	fmt.Fprintf(r.env.Stderr, "diapason-cert: error: %s\n", err)
	if hint != "" {
		fmt.Fprintf(r.env.Stderr, "diapason-cert: hint: %s\n", hint)
	}
	if r.global.output == outputJSON && !r.emitted {
		doc, jerr := marshalDocument(errorDocument{Error: errorInfo{
			Status: status.String(), ExitCode: exitCode(status, r.global.exitCodes),
			Message: err.Error(), Hint: hint,
		}})
		if jerr == nil {
			_, _ = r.env.Stdout.Write(doc)
			r.emitted = true
		}
	}
}

// warnf prints a warning line on stderr; it does not change the status, the
// caller decides whether the warning is a WARN result.
func (r *run) warnf(format string, args ...any) {
	fmt.Fprintf(r.env.Stderr, "diapason-cert: %s %s\n", r.colour.warn.Sprint("warning:"), fmt.Sprintf(format, args...))
}

// infof prints an informational line on stderr.
func (r *run) infof(format string, args ...any) {
	fmt.Fprintf(r.env.Stderr, "diapason-cert: %s\n", fmt.Sprintf(format, args...))
}

// emit writes the command's result: the JSON document with --output json,
// else the text the caller renders. status is merged into the run's status.
func (r *run) emit(status Status, v any, text func(io.Writer) error) error {
	r.status = worst(r.status, status)
	if r.emitted {
		return errors.New("internal error: a second result document")
	}
	r.emitted = true
	if r.global.output == outputJSON {
		doc, err := marshalDocument(v)
		if err != nil {
			return err
		}
		_, err = r.env.Stdout.Write(doc)
		return err
	}
	return text(r.env.Stdout)
}

// version is set by the linker (-ldflags "-X ...commands.version=v1.2.3");
// otherwise the module version of `go install …@vX` is used, and a build
// from a checkout says "dev".
var version = ""

func appVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// NewApp returns the command tree without running it, for the man page generator.
func NewApp() *cli.App {
	r := &run{env: Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }, Now: time.Now}}
	return r.newApp()
}

// setVersionFlag drops urfave/cli's "-v" alias of --version, once: the flag
// is a package global and runs may happen at once (demo, tests).
var setVersionFlag = sync.OnceFunc(func() {
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and exit"}
})

func (r *run) newApp() *cli.App {
	setVersionFlag()
	app := &cli.App{
		Name:                 "diapason-cert",
		Usage:                "certificates and mutual TLS for Diapason, the card-payment scheme of French hospitals",
		Version:              appVersion(),
		Writer:               r.env.Stdout,
		ErrWriter:            r.env.Stderr,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		ExitErrHandler:       func(*cli.Context, error) {},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: flagOutput, Value: outputText, Usage: "result format: text or json (check also takes prometheus)"},
			&cli.BoolFlag{Name: flagNoColor, Usage: "never colour the output (NO_COLOR in the environment does the same)"},
			&cli.StringFlag{Name: flagExitCodes, Value: exitModeDefault, Usage: "exit code mapping: default, or nagios (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)"},
		},
		Commands: []*cli.Command{
			r.csrCommand(),
			r.checkCommand(),
			r.bundleCommand(),
			r.labCommand(),
			r.handshakeCommand(),
			r.simulateCommand(),
			r.preflightCommand(),
			r.demoCommand(),
		},
	}
	app.Action = r.groupAction("")
	// Signal handling is installed once a command runs: urfave/cli answers
	// --version and --help before Before, which keeps them at the start-up floor.
	app.Before = func(c *cli.Context) error {
		if r.env.Signals {
			c.Context, r.stopSignals = signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
		}
		return nil
	}
	app.OnUsageError = r.onUsageError("diapason-cert")
	prepareCommands(r, app.Commands, "diapason-cert")
	return app
}

// prometheusCommands are the commands that print metrics with --output prometheus.
var prometheusCommands = map[string]bool{"diapason-cert check": true}

// prepareCommands gives every command the tool's usage-error handling and
// makes group commands refuse unknown subcommands, which urfave/cli would
// otherwise answer with exit code 3 and help on stdout.
func prepareCommands(r *run, cmds []*cli.Command, parent string) {
	for _, c := range cmds {
		path := parent + " " + c.Name
		c.OnUsageError = r.onUsageError(path)
		if len(c.Subcommands) > 0 {
			c.Action = r.groupAction(path)
			c.HideHelpCommand = true
			prepareCommands(r, c.Subcommands, path)
			continue
		}
		if action := c.Action; action != nil && !prometheusCommands[path] {
			c.Action = func(ctx *cli.Context) error {
				if r.global.output == outputPrometheus {
					return usageErr("use --output text or --output json; only check writes Prometheus metrics", "%s cannot write --output prometheus", path)
				}
				return action(ctx)
			}
		}
	}
}

func (r *run) onUsageError(path string) cli.OnUsageErrorFunc {
	return func(_ *cli.Context, err error, _ bool) error {
		return flagParseError(path, err)
	}
}

// groupAction answers a command that needs a subcommand: an unknown name is a
// usage error, no name shows the help on stderr (nothing ran).
func (r *run) groupAction(path string) cli.ActionFunc {
	return func(c *cli.Context) error {
		name := path
		if name == "" {
			name = "diapason-cert"
		}
		if c.NArg() > 0 {
			what := "command"
			if path != "" {
				what = "subcommand"
			}
			hint := fmt.Sprintf("run '%s --help' for the list", name)
			if s := suggest(c.Args().First(), c.Command.Subcommands); s != "" {
				hint = fmt.Sprintf("did you mean '%s'? %s", s, hint)
			}
			return usageErr(hint, "unknown %s %q", what, c.Args().First())
		}
		c.App.Writer = r.env.Stderr
		if path == "" {
			_ = cli.ShowAppHelp(c)
		} else {
			_ = cli.ShowSubcommandHelp(c)
		}
		return usageErr("", "%s needs a subcommand", name)
	}
}

// suggest returns the command name closest to what was typed, if any is close.
func suggest(typed string, cmds []*cli.Command) string {
	best, bestDist := "", 3
	for _, c := range cmds {
		if d := smetrics.WagnerFischer(typed, c.Name, 1, 1, 1); d < bestDist {
			best, bestDist = c.Name, d
		}
	}
	return best
}
