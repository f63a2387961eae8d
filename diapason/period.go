package diapason

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Period is a span in calendar years, days or hours. Years are calendar years
// (time.AddDate) because "valid 3 years" on a certificate means the same date
// three years on, whatever the leap days.
type Period struct {
	Years int `json:"years,omitempty"`
	Days  int `json:"days,omitempty"`
	Hours int `json:"hours,omitempty"`
}

// CertificateTerm is the validity of IGC-Santé software certificates ("une
// validité de 3 ans" in the ASIP sheet).
var CertificateTerm = Period{Years: 3}

// WarnWindow is how long before notAfter the tool warns: the CA emails the
// editor one month before expiry, so the tool flags the same window.
var WarnWindow = Period{Days: 30}

// TermSlack is what a certificate may exceed its term by: CAs commonly set
// notAfter to the end of the last day, so "3 years" allows one extra day.
var TermSlack = Period{Days: 1}

// ParsePeriod reads "30d", "3y" or "12h"; plain Go durations ("90m") are accepted too.
func ParsePeriod(s string) (Period, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if t == "" {
		return Period{}, fmt.Errorf("empty duration: use a number and a unit, like 30d, 3y or 12h")
	}
	unit := t[len(t)-1]
	n, err := strconv.Atoi(t[:len(t)-1])
	if err == nil && n >= 0 {
		switch unit {
		case 'y':
			return Period{Years: n}, nil
		case 'd':
			return Period{Days: n}, nil
		case 'h':
			return Period{Hours: n}, nil
		case 'w':
			return Period{Days: 7 * n}, nil
		}
	}
	if d, derr := time.ParseDuration(t); derr == nil && d >= 0 && d%time.Hour == 0 {
		return Period{Hours: int(d / time.Hour)}, nil
	}
	return Period{}, fmt.Errorf("invalid duration %q: use a number and a unit, like 30d, 3y, 2w or 12h", s)
}

// AddTo returns t moved forward by the period.
func (p Period) AddTo(t time.Time) time.Time {
	return t.AddDate(p.Years, 0, p.Days).Add(time.Duration(p.Hours) * time.Hour)
}

// SubFrom returns t moved back by the period.
func (p Period) SubFrom(t time.Time) time.Time {
	return t.AddDate(-p.Years, 0, -p.Days).Add(-time.Duration(p.Hours) * time.Hour)
}

// IsZero reports whether the period is empty.
func (p Period) IsZero() bool { return p == Period{} }

// String renders the period the way ParsePeriod reads it.
func (p Period) String() string {
	var parts []string
	if p.Years != 0 {
		parts = append(parts, strconv.Itoa(p.Years)+"y")
	}
	if p.Days != 0 {
		parts = append(parts, strconv.Itoa(p.Days)+"d")
	}
	if p.Hours != 0 || len(parts) == 0 {
		parts = append(parts, strconv.Itoa(p.Hours)+"h")
	}
	return strings.Join(parts, "")
}

// WithinTerm reports whether notAfter is no later than notBefore plus the term
// and its one-day slack.
func WithinTerm(notBefore, notAfter time.Time, term Period) bool {
	limit := TermSlack.AddTo(term.AddTo(notBefore))
	return !notAfter.After(limit)
}
