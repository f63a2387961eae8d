package commands

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
)

// The metrics of check --output prometheus, in the text exposition format that
// node_exporter's textfile collector reads. Each certificate is one series per family,
// labelled with its file, subject, serial, role and hierarchy.
type promFamily struct {
	name, help string
}

var (
	promStatus    = promFamily{"diapason_cert_status", "Outcome of the checks of the certificate: 0 OK, 1 WARN, 2 FAIL."}
	promNotAfter  = promFamily{"diapason_cert_not_after_seconds", "End of the certificate's validity (notAfter), in seconds since the Unix epoch."}
	promNotBefore = promFamily{"diapason_cert_not_before_seconds", "Start of the certificate's validity (notBefore), in seconds since the Unix epoch."}
	promRevoked   = promFamily{"diapason_cert_revoked", "1 when the certificate is revoked, 0 when a source says it is not, -1 when revocation is unknown (only with --revocation)."}
	// The families of every certificate, in the order they are written.
	promCertFamilies = []promFamily{promStatus, promNotAfter, promNotBefore, promRevoked}
)

// promSpoolMemory is how much of a family's series is kept in memory before the rest
// goes to a temporary file: the format wants each family in one block, so all but the
// first are held until the scan ends, and memory must stay flat on large scans.
const promSpoolMemory = 1 << 20

// promSpool holds one family's lines until they can be written.
type promSpool struct {
	mem  bytes.Buffer
	file *os.File
}

func (s *promSpool) write(p []byte) error {
	if s.file == nil && s.mem.Len()+len(p) > promSpoolMemory {
		f, err := os.CreateTemp("", "diapason-cert-metrics-*")
		if err != nil {
			return fmt.Errorf("a temporary file for the metrics: %w", err)
		}
		// Removed at once: the open file stays usable, and nothing is left behind.
		os.Remove(f.Name())
		s.file = f
		if _, err := s.mem.WriteTo(f); err != nil {
			return err
		}
	}
	if s.file != nil {
		_, err := s.file.Write(p)
		return err
	}
	s.mem.Write(p)
	return nil
}

func (s *promSpool) copyTo(w io.Writer) error {
	if s.file != nil {
		if _, err := s.file.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if _, err := io.Copy(w, s.file); err != nil {
			return err
		}
	}
	_, err := s.mem.WriteTo(w)
	return err
}

func (s *promSpool) close() {
	if s.file != nil {
		s.file.Close()
	}
}

func promHeader(f promFamily) string {
	return fmt.Sprintf("# HELP %s %s\n# TYPE %s gauge\n", f.name, f.help, f.name)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// promLabel renders name="value", escaped as the format says; the format is UTF-8.
func promLabel(name, value string) string {
	return name + `="` + labelEscaper.Replace(strings.ToValidUTF8(value, "\uFFFD")) + `"`
}

// promLines renders the series of one file's certificates, one slice per family of
// promCertFamilies; it runs in the worker that checked the file.
func promLines(rep *check.FileReport, certs []Status, revocation bool) [][]byte {
	out := make([][]byte, len(promCertFamilies))
	file := certio.DisplayName(rep.File)
	for i := range rep.Certificates {
		cert := &rep.Certificates[i]
		labels := "{" + strings.Join([]string{promLabel("file", file), promLabel("subject", cert.Subject), promLabel("serial", cert.Serial),
			promLabel("role", string(cert.Role)), promLabel("hierarchy", string(cert.Hierarchy))}, ",") + "} "
		values := []string{strconv.Itoa(statusValue(certs[i])), strconv.FormatInt(cert.NotAfter.Unix(), 10), strconv.FormatInt(cert.NotBefore.Unix(), 10)}
		if revocation {
			values = append(values, strconv.Itoa(revokedValue(cert.Revocation)))
		}
		for k, v := range values {
			out[k] = append(out[k], promCertFamilies[k].name+labels+v+"\n"...)
		}
	}
	return out
}

func statusValue(s Status) int {
	switch s {
	case StatusOK:
		return 0
	case StatusWarn:
		return 1
	}
	return 2
}

func revokedValue(r *check.Revocation) int {
	switch {
	case r == nil:
		return -1
	case r.Status == check.RevocationRevoked:
		return 1
	case r.Status == check.RevocationGood:
		return 0
	}
	return -1
}

// checkPrometheus writes the metrics: the status family streamed as files are
// checked, the others spooled and written after it, then the run's own.
func (r *run) checkPrometheus(c *cli.Context, cr *checkRun, opts check.ScanOptions, p *scanProgress) error {
	r.emitted = true
	w := cr.out
	revocation := cr.revocation.mode == check.RevocationSoft || cr.revocation.mode == check.RevocationHard
	families := promCertFamilies[:3]
	if revocation {
		families = promCertFamilies
	}
	spools := make([]promSpool, len(families))
	defer func() {
		for i := range spools {
			spools[i].close()
		}
	}()
	var sum checkSummary
	status := StatusOK
	if _, err := io.WriteString(w, promHeader(families[0])); err != nil {
		return failErr(fmt.Errorf("writing the result: %w", err), "")
	}
	err := check.Scan(c.Context, cr.checker, c.Args().Slice(), opts,
		func(rep *check.FileReport) checkedFile {
			f := newCheckedFile(rep)
			f.metrics = promLines(rep, f.certs, revocation)
			return f
		},
		func(f checkedFile) error {
			sum.add(f)
			status = worst(status, f.status)
			return p.emitted(r.loud(f), func() error {
				r.reportUnreadable(f)
				if _, err := w.Write(f.metrics[0]); err != nil {
					return err
				}
				for i := 1; i < len(families); i++ {
					if err := spools[i].write(f.metrics[i]); err != nil {
						return err
					}
				}
				return nil
			})
		})
	for i := 1; i < len(families) && err == nil; i++ {
		if _, err = io.WriteString(w, promHeader(families[i])); err == nil {
			err = spools[i].copyTo(w)
		}
	}
	if err == nil {
		err = writeRunMetrics(w, cr, sum, status)
	}
	if err != nil {
		return failErr(fmt.Errorf("writing the result: %w", err), "")
	}
	r.status = worst(r.status, status)
	return nil
}

// writeRunMetrics writes what the run as a whole saw.
func writeRunMetrics(w io.Writer, cr *checkRun, sum checkSummary, status Status) error {
	var b strings.Builder
	gauge := func(f promFamily, series ...string) {
		b.WriteString(promHeader(f))
		for _, s := range series {
			b.WriteString(f.name + s + "\n")
		}
	}
	gauge(promFamily{"diapason_cert_check_timestamp_seconds", "When the check was made (its --at), in seconds since the Unix epoch."},
		" "+strconv.FormatInt(cr.now.Unix(), 10))
	gauge(promFamily{"diapason_cert_check_status", "Outcome of the whole check: 0 OK, 1 WARN, 2 FAIL, 3 UNKNOWN (an input named could not be read)."},
		" "+strconv.Itoa(runStatusValue(status)))
	gauge(promFamily{"diapason_cert_check_files", "Files met, by outcome: checked, skipped (in a directory, not certificate material), unreadable (named, not read)."},
		`{outcome="checked"} `+strconv.Itoa(sum.Files-sum.Skipped-sum.Unreadable),
		`{outcome="skipped"} `+strconv.Itoa(sum.Skipped),
		`{outcome="unreadable"} `+strconv.Itoa(sum.Unreadable))
	gauge(promFamily{"diapason_cert_check_certificates", "Certificates checked, by status."},
		`{status="ok"} `+strconv.Itoa(sum.OK), `{status="warn"} `+strconv.Itoa(sum.Warn), `{status="fail"} `+strconv.Itoa(sum.Fail))
	_, err := io.WriteString(w, b.String())
	return err
}

func runStatusValue(s Status) int {
	switch s {
	case StatusOK:
		return 0
	case StatusWarn:
		return 1
	case StatusUnknown:
		return 3
	}
	return 2
}
