package handshake

import (
	"strings"
	"unicode/utf8"
)

// ladderWidth is the distance between the two columns of a ladder diagram.
const ladderWidth = 46

// Ladder draws a handshake as a ladder diagram: left is this side, right the
// peer, one arrow per message with its summary after it. When the handshake
// stopped, the last arrow (the alert) is drawn with '=' and marked, or a last
// line says how it stopped when no alert was exchanged.
func Ladder(left, right string, x *Exchange) []string {
	pad := max(ladderWidth+2-utf8.RuneCountInString(left)-utf8.RuneCountInString(right), 2)
	lines := []string{left + strings.Repeat(" ", pad) + right, "|" + strings.Repeat(" ", ladderWidth) + "|"}
	last := len(x.Trace) - 1
	stoppedOnAlert := !x.Handshake.Completed && last >= 0 && x.Trace[last].Message == "Alert"
	for i, s := range x.Trace {
		label, note := s.Message, s.Summary
		if s.Message == "Alert" {
			label, note = "Alert "+s.Summary, ""
		}
		mark := stoppedOnAlert && i == last
		if mark {
			note = "<== the handshake stopped here"
		}
		line := arrow(label, s.Direction == "sent", mark)
		if note != "" {
			line += "  " + note
		}
		lines = append(lines, line)
	}
	if !x.Handshake.Completed && !stoppedOnAlert {
		why := x.Handshake.Error
		if x.Handshake.StoppedAt != "" {
			why = "while " + x.Handshake.StoppedAt + ": " + why
		}
		lines = append(lines, "X"+strings.Repeat(" ", ladderWidth)+"X  <== the handshake stopped "+why)
	}
	return lines
}

// arrow draws one message between the columns: "|-- Label --->|" when sent,
// "|<--- Label --|" when received.
func arrow(label string, sent, mark bool) string {
	dash := "-"
	if mark {
		dash = "="
	}
	body := " " + label + " "
	fill := max(ladderWidth-3-utf8.RuneCountInString(body), 1)
	if sent {
		return "|" + strings.Repeat(dash, 2) + body + strings.Repeat(dash, fill) + ">|"
	}
	return "|<" + strings.Repeat(dash, fill) + body + strings.Repeat(dash, 2) + "|"
}
