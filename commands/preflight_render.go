package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/preflight"
)

// renderPreflight prints where the settings came from, the table of steps,
// the details of every step that did not pass, and the outcome.
func (r *run) renderPreflight(w io.Writer, res *preflightResult) error {
	rep := res.Report
	fmt.Fprintf(w, "preflight of a GAP installation for Diapason: hierarchy %s, as of %s\n", rep.Hierarchy.Label(), rep.At.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "settings: %s\n\n", describeSources(res))
	rows := make([][]string, len(rep.Steps))
	for i, s := range rep.Steps {
		rows[i] = []string{string(s.ID), r.stepStatus(s.Status), s.Reason}
	}
	if err := renderTable(w, []string{"Step", "Status", "Reason"}, rows); err != nil {
		return err
	}
	for _, s := range rep.Steps {
		if s.Status == preflight.Pass || s.Status == preflight.Skip {
			continue
		}
		fmt.Fprintf(w, "\n%s %s: %s\n", r.stepStatus(s.Status), s.ID, s.Reason)
		for _, f := range s.Findings {
			if f.Level != check.Info && f.Message != s.Reason {
				fmt.Fprintf(w, "  %s %s: %s\n", strings.ToUpper(string(f.Level)), f.Slug, f.Message)
			}
		}
		if s.Fix != "" {
			fmt.Fprintf(w, "  fix: %s\n", s.Fix)
		}
	}
	c := rep.Counts
	parts := []string{fmt.Sprintf("%d passed", c.Pass)}
	for _, p := range []struct {
		n    int
		word string
	}{{c.Warn, "warned"}, {c.Fail, "failed"}, {c.Unknown, "unknown"}, {c.Skip, "skipped"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.word))
		}
	}
	fmt.Fprintf(w, "\nresult: %s (%d steps: %s)\n", r.stepStatus(rep.Status), len(rep.Steps), strings.Join(parts, ", "))
	return nil
}

// stepStatus renders a step's status word in its colour.
func (r *run) stepStatus(s preflight.Status) string {
	word := strings.ToUpper(string(s))
	switch s {
	case preflight.Pass:
		return r.colour.ok.Sprint(word)
	case preflight.Warn:
		return r.colour.warn.Sprint(word)
	case preflight.Fail:
		return r.colour.fail.Sprint(word)
	}
	return r.colour.dim.Sprint(word)
}

// describeSources says where the settings came from, in a line.
func describeSources(res *preflightResult) string {
	counts := map[string]int{}
	for _, s := range res.Settings {
		counts[s.Source]++
	}
	var parts []string
	for _, src := range []string{sourceFlag, sourceEnv, sourceFile, sourceLab, sourceDefault} {
		n := counts[src]
		if n == 0 {
			continue
		}
		name := map[string]string{sourceFlag: "flags", sourceEnv: "the environment", sourceFile: res.Config,
			sourceLab: "the lab", sourceDefault: "defaults"}[src]
		parts = append(parts, fmt.Sprintf("%d from %s", n, name))
	}
	return strings.Join(parts, ", ")
}
