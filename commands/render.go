package commands

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fatih/color"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Output formats of --output.
const (
	outputText       = "text"
	outputJSON       = "json"
	outputPrometheus = "prometheus"
)

// schemaVersion is the version of every JSON document the tool prints; it
// changes only when a field changes meaning or disappears.
const schemaVersion = 1

// marshalDocument renders v as one JSON document with schema_version first.
// v must marshal to a JSON object.
func marshalDocument(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the JSON result: %w", err)
	}
	if len(body) < 2 || body[0] != '{' {
		return nil, fmt.Errorf("encoding the JSON result: %T is not an object", v)
	}
	var doc bytes.Buffer
	fmt.Fprintf(&doc, `{"schema_version":%d`, schemaVersion)
	if len(body) > 2 {
		doc.WriteByte(',')
		doc.Write(body[1:])
	} else {
		doc.WriteByte('}')
	}
	var out bytes.Buffer
	if err := json.Indent(&out, doc.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("encoding the JSON result: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// errorDocument is what --output json prints when a command could not
// produce its result.
type errorDocument struct {
	OK    bool      `json:"ok"`
	Error errorInfo `json:"error"`
}

type errorInfo struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message"`
	Hint     string `json:"hint,omitempty"`
}

// palette holds the colours of one run; all are plain when colour is off.
type palette struct {
	ok, warn, fail, dim, bold *color.Color
}

func newPalette(enabled bool) palette {
	p := palette{
		ok:   color.New(color.FgGreen),
		warn: color.New(color.FgYellow),
		fail: color.New(color.FgRed, color.Bold),
		dim:  color.New(color.Faint),
		bold: color.New(color.Bold),
	}
	for _, c := range []*color.Color{p.ok, p.warn, p.fail, p.dim, p.bold} {
		if enabled {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
	}
	return p
}

// status renders a status word in its colour.
func (p palette) status(s Status) string {
	word := strings.ToUpper(s.String())
	switch s {
	case StatusOK:
		return p.ok.Sprint(word)
	case StatusWarn:
		return p.warn.Sprint(word)
	case StatusFail, StatusUsage:
		return p.fail.Sprint(word)
	}
	return p.dim.Sprint(word)
}

// renderTable prints rows under a header in the tool's one table style:
// light borders, left-aligned, headers as written; extra options (a maximum
// cell width for long sentences) come last.
func renderTable(w io.Writer, header []string, rows [][]string, extra ...tablewriter.Option) error {
	opts := []tablewriter.Option{
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleLight)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
	}
	t := tablewriter.NewTable(w, append(opts, extra...)...)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	return t.Render()
}

// renderPairs prints "key: value" lines with the keys aligned, for the
// single-object results (a CSR, a certificate's details).
func renderPairs(w io.Writer, pairs [][2]string) {
	width := 0
	for _, p := range pairs {
		width = max(width, len([]rune(p[0])))
	}
	for _, p := range pairs {
		fmt.Fprintf(w, "%s:%s %s\n", p[0], strings.Repeat(" ", width-len([]rune(p[0]))), p[1])
	}
}
