package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/fatih/color"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// The timeline spans timelineMonths months from timelineBefore months before the
// current one, two columns a month (from the 1st, from the 16th): wide enough to see a
// renewal coming a year ahead and what expired last spring, narrow enough for 80
// columns with the dates beside.
const (
	timelineBefore = 6
	timelineMonths = 24
)

// timeline draws certificates' validity as bars over the months around now.
type timeline struct {
	now    time.Time
	warn   diapason.Period
	colour palette
	// cols holds the start of each column, and the end of the last one.
	cols  []time.Time
	today int
}

func newTimeline(now time.Time, warn diapason.Period, colour palette) *timeline {
	now = now.UTC()
	first := time.Date(now.Year(), now.Month()-timelineBefore, 1, 0, 0, 0, 0, time.UTC)
	tl := &timeline{now: now, warn: warn, colour: colour}
	for m := range timelineMonths {
		start := first.AddDate(0, m, 0)
		tl.cols = append(tl.cols, start, start.AddDate(0, 0, 15))
	}
	tl.cols = append(tl.cols, first.AddDate(0, timelineMonths, 0))
	for c := range len(tl.cols) - 1 {
		if !now.Before(tl.cols[c]) && now.Before(tl.cols[c+1]) {
			tl.today = c
		}
	}
	return tl
}

func (tl *timeline) width() int { return len(tl.cols) - 1 }

// header is the legend, the years and months as labels every six months, and the
// today mark.
func (tl *timeline) header() string {
	var b strings.Builder
	last := tl.cols[len(tl.cols)-2]
	fmt.Fprintf(&b, "Validity from %s to %s, one column per half month: █ valid, ▒ inside the %s warning window, │ today (%s)\n",
		tl.cols[0].Format("2006-01"), last.Format("2006-01"), tl.warn, tl.now.Format(time.DateOnly))
	labels := []rune(strings.Repeat(" ", tl.width()+8))
	ruler := []rune(strings.Repeat(" ", tl.width()))
	for c := 0; c < tl.width(); c += 2 {
		if m := tl.cols[c].Month(); m == time.January || m == time.July {
			copy(labels[c:], []rune(tl.cols[c].Format("2006-01")))
			ruler[c] = '╷'
		}
	}
	ruler[tl.today] = '▼'
	b.WriteString(strings.TrimRight(string(labels), " ") + "\n")
	b.WriteString(strings.TrimRight(string(ruler), " ") + "\n")
	return b.String()
}

// bar draws one certificate: its bar, notAfter, days left, status and label.
func (tl *timeline) bar(cert *check.CertReport, status Status, label string) string {
	warnStart := tl.warn.SubFrom(cert.NotAfter)
	paint := tl.colour.ok
	switch status {
	case StatusWarn:
		paint = tl.colour.warn
	case StatusFail:
		paint = tl.colour.fail
	}
	var b strings.Builder
	// Runs of one character class are coloured at once.
	var run []rune
	var runColour *color.Color
	flush := func() {
		if len(run) > 0 {
			b.WriteString(runColour.Sprint(string(run)))
			run = run[:0]
		}
	}
	last := tl.width() - 1
	for c := 0; c <= last; c++ {
		start, end := tl.cols[c], tl.cols[c+1]
		inside := end.After(cert.NotBefore) && !start.After(cert.NotAfter)
		ch, col := '·', tl.colour.dim
		switch {
		case c == tl.today:
			ch, col = '│', tl.colour.bold
		case !inside:
		case c == 0 && cert.NotBefore.Before(start):
			ch, col = '◀', paint
		case c == last && !cert.NotAfter.Before(end):
			ch, col = '▶', paint
		case end.After(warnStart):
			ch, col = '▒', tl.colour.warn
		default:
			ch, col = '█', paint
		}
		if col != runColour {
			flush()
			runColour = col
		}
		run = append(run, ch)
	}
	flush()
	word := strings.ToUpper(status.String())
	fmt.Fprintf(&b, "  %s %6s  %s%s  %s\n", cert.NotAfter.Format(time.DateOnly), fmt.Sprintf("%dd", cert.DaysLeft),
		tl.colour.status(status), strings.Repeat(" ", max(0, 4-len(word))), label)
	return b.String()
}
