package commands

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// readmeCommands returns every diapason-cert command line of the README's sh
// blocks: continuation lines joined, comments, redirections and the other
// commands of a line (&&, ;) dropped.
func readmeCommands(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	inBlock, line := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text := sc.Text()
		if strings.HasPrefix(text, "```") {
			inBlock = text == "```sh" && !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		if cont, ok := strings.CutSuffix(text, "\\"); ok {
			line += cont + " "
			continue
		}
		line += text
		for _, part := range strings.FieldsFunc(line, func(r rune) bool { return r == ';' || r == '&' }) {
			part = strings.TrimSpace(part)
			if i := strings.Index(part, " #"); i >= 0 {
				part = part[:i]
			}
			if i := strings.Index(part, ">"); i >= 0 {
				part = part[:i]
			}
			if strings.HasPrefix(part, "diapason-cert ") {
				out = append(out, strings.TrimSpace(part))
			}
		}
		line = ""
	}
	return out
}

// shellWords splits a command line as sh does for the quoting the README uses.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	in, quote, started := false, rune(0), false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, started = r, true
		case r == ' ' || r == '\t':
			if in || started {
				words = append(words, cur.String())
				cur.Reset()
			}
			in, started = false, false
			continue
		default:
			cur.WriteRune(r)
		}
		in = true
	}
	if in || started {
		words = append(words, cur.String())
	}
	return words
}

// stubActions replaces every action by one that only checks that the
// command line was understood, so examples that name real hosts and files
// are validated without touching them.
func stubActions(cmds []*cli.Command) {
	for _, c := range cmds {
		if len(c.Subcommands) > 0 {
			stubActions(c.Subcommands)
			continue
		}
		c.Action = func(*cli.Context) error { return nil }
	}
}

// Every example of the README names a real command with flags it takes,
// each with its value: the README cannot drift from the tool.
func TestREADMEExamplesParse(t *testing.T) {
	examples := readmeCommands(t)
	if len(examples) < 30 {
		t.Fatalf("only %d examples found in README.md: is the parser broken?", len(examples))
	}
	for _, ex := range examples {
		args := shellWords(ex)
		r := &run{env: Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard,
			Getenv: func(string) string { return "" }, Now: func() time.Time { return fixedNow }}}
		app := r.newApp()
		stubActions(app.Commands)
		normalised, g := normaliseArgs(app, args)
		r.global = g
		if err := r.checkGlobals(); err != nil {
			t.Errorf("%s: %v", ex, err)
			continue
		}
		if err := app.Run(normalised); err != nil {
			t.Errorf("%s: %v", ex, err)
		}
	}
}

func TestShellWords(t *testing.T) {
	got := shellWords(`a --org "CHU Exemple" --state "Côte-d'Or (21)" 'x y' ""`)
	want := []string{"a", "--org", "CHU Exemple", "--state", "Côte-d'Or (21)", "x y", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
}
