package commands

import (
	"errors"
	"fmt"
	"strings"
)

// Status is the outcome of a command, ordered so that the more serious one
// wins when several apply: USAGE (nothing ran) > FAIL > UNKNOWN > WARN > OK.
type Status int

const (
	StatusOK Status = iota
	StatusWarn
	StatusUnknown
	StatusFail
	StatusUsage
)

// Exit codes of the default mapping (DESIGN.md §3).
const (
	exitOK      = 0
	exitFail    = 1
	exitUsage   = 2
	exitUnknown = 3
	exitWarn    = 4
)

// String is the status as it appears in JSON and in text.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusWarn:
		return "warn"
	case StatusUnknown:
		return "unknown"
	case StatusFail:
		return "fail"
	case StatusUsage:
		return "usage"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// worst returns the status that takes precedence.
func worst(a, b Status) Status {
	if b > a {
		return b
	}
	return a
}

// exitModes are the values of --exit-codes.
const (
	exitModeDefault = "default"
	exitModeNagios  = "nagios"
)

// exitCode maps a status to a process exit code. The nagios mapping follows
// the Nagios plugin guidelines (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), with
// a usage error reported as UNKNOWN because the plugin could not check anything.
func exitCode(s Status, mode string) int {
	if mode == exitModeNagios {
		switch s {
		case StatusOK:
			return 0
		case StatusWarn:
			return 1
		case StatusFail:
			return 2
		default:
			return 3
		}
	}
	switch s {
	case StatusOK:
		return exitOK
	case StatusWarn:
		return exitWarn
	case StatusUnknown:
		return exitUnknown
	case StatusFail:
		return exitFail
	default:
		return exitUsage
	}
}

// cmdError is an error that knows its status and, often, the likely cause and fix.
type cmdError struct {
	status Status
	err    error
	hint   string
}

func (e *cmdError) Error() string { return e.err.Error() }
func (e *cmdError) Unwrap() error { return e.err }

// usageErr reports an invocation the tool cannot run as given.
func usageErr(hint string, format string, args ...any) error {
	return &cmdError{status: StatusUsage, err: fmt.Errorf(format, args...), hint: hint}
}

// unknownErr reports that the tool could not evaluate: an input cannot be read
// or parsed, a peer cannot be reached.
func unknownErr(err error, hint string) error {
	return &cmdError{status: StatusUnknown, err: err, hint: hint}
}

// failErr reports a defect found or an operation refused.
func failErr(err error, hint string) error {
	return &cmdError{status: StatusFail, err: err, hint: hint}
}

// errorStatus returns the status an error implies and its hint. Errors that
// no command classified are failures: something went wrong while running.
func errorStatus(err error) (Status, string) {
	var ce *cmdError
	if errors.As(err, &ce) {
		return ce.status, ce.hint
	}
	return StatusFail, ""
}

// flagParseError turns urfave/cli's flag errors ("flag provided but not
// defined: -x") into usage errors with the command's help as the way out.
func flagParseError(cmdPath string, err error) error {
	msg := err.Error()
	msg = strings.Replace(msg, "flag provided but not defined: -", "unknown flag -", 1)
	hint := fmt.Sprintf("run '%s --help' for the flags it takes", cmdPath)
	return &cmdError{status: StatusUsage, err: errors.New(msg), hint: hint}
}
