package preflight

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/diapason-cert/diapason-cert/check"
)

// JUnit XML, the test-report format GitLab, Jenkins and GitHub Actions
// display: one testcase per step. A failed step is a <failure>, a step that
// could not reach a verdict an <error>, a skipped step <skipped>; a warning
// passes, with the warning in <system-out>, as the exit code already says it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnit renders the report as JUnit XML; suite names the test suite.
func JUnit(r *Report, suite string) ([]byte, error) {
	s := junitSuite{Name: suite, Timestamp: r.At.UTC().Format("2006-01-02T15:04:05")}
	var total float64
	for _, st := range r.Steps {
		c := junitCase{Name: fmt.Sprintf("%s: %s", st.ID, st.Title), Classname: suite + "." + group(st.ID), Time: seconds(st.DurationMS)}
		total += st.DurationMS
		switch st.Status {
		case Fail:
			c.Failure = &junitProblem{Message: st.Reason, Type: problemType(st), Text: details(st)}
			s.Failures++
		case Unknown:
			c.Error = &junitProblem{Message: st.Reason, Type: problemType(st), Text: details(st)}
			s.Errors++
		case Skip:
			c.Skipped = &junitSkipped{Message: st.Reason}
			s.Skipped++
		case Warn:
			c.SystemOut = "WARN: " + details(st)
		default:
			c.SystemOut = st.Reason
		}
		s.Cases = append(s.Cases, c)
	}
	s.Tests, s.Time = len(s.Cases), seconds(total)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the JUnit report: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// group is the part of the installation a step is about: files, client,
// server, truststore or provider.
func group(id StepID) string {
	g, _, _ := strings.Cut(string(id), "-")
	return g
}

// problemType is the slug of the step's most serious finding, else its status.
func problemType(st Step) string {
	if f := mostSerious(st.Findings); f.Slug != "" {
		return f.Slug
	}
	return string(st.Status)
}

// details is the reason, each finding that is not merely informative, and the fix.
func details(st Step) string {
	var b strings.Builder
	b.WriteString(st.Reason)
	for _, f := range st.Findings {
		if f.Level != check.Info && f.Message != st.Reason {
			fmt.Fprintf(&b, "\n%s %s: %s", strings.ToUpper(string(f.Level)), f.Slug, f.Message)
		}
	}
	if st.Fix != "" {
		b.WriteString("\nfix: " + st.Fix)
	}
	return b.String()
}

func seconds(ms float64) string {
	return fmt.Sprintf("%.3f", ms/1000)
}
