// Package check is the trust core: inspection, chains and findings that say what is wrong and how to fix it.
package check

// Level is how serious a finding is.
type Level string

const (
	Info Level = "info"
	Warn Level = "warn"
	Fail Level = "fail"
)

// Finding is one thing worth saying about an input. Slugs are stable: scripts
// may match on them.
type Finding struct {
	Slug    string `json:"slug"`
	Level   Level  `json:"level"`
	Message string `json:"message"`
}

// Worst returns the most serious level among the findings, or "" when there are none.
func Worst(fs []Finding) Level {
	var w Level
	for _, f := range fs {
		switch {
		case f.Level == Fail:
			return Fail
		case f.Level == Warn:
			w = Warn
		case f.Level == Info && w == "":
			w = Info
		}
	}
	return w
}
