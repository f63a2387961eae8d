package commands

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-runewidth"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/csr"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/lab"
)

func (r *run) checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "inspect certificates, chains, CSRs, keys, CRLs, PKCS#12 and directories: expiry, chain, profile, TEST/production",
		Description: "Checks every certificate found in the files (directories are scanned recursively, \"-\" reads stdin)\n" +
			"against the Diapason role it fits, or --profile: validity and the --warn window (for the chain too), the chain\n" +
			"(completed from the embedded IGC-Santé CAs; judged only when --ca, --lab or --hierarchy names trust anchors),\n" +
			"CN, SAN, extendedKeyUsage, keyUsage, RSA key, the 3-year IGC-Santé term, TEST/production mixes and --key;\n" +
			"with --revocation soft|hard (or --crl), revocation. --output prometheus writes node_exporter textfile metrics.",
		ArgsUsage: "PATH...",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "profile", Value: "auto", Usage: "check end-entity certificates as psp-client, tpe-server, tpe-client or psp-server; auto: each as the role it fits"},
			&cli.StringFlag{Name: "fqdn", Usage: "the server `FQDN`: the CN and SAN of the GAP server certificate (tpe-server), a SAN of the provider's (psp-server)"},
			&cli.StringFlag{Name: "key", Usage: "check that the private key in `FILE` is the key of the certificates"},
			&cli.StringFlag{Name: "at", Usage: "evaluate as of `DATE` (YYYY-MM-DD or RFC 3339) instead of now"},
			&cli.StringFlag{Name: "warn", Value: diapason.WarnWindow.String(), Usage: "warn when a certificate of the chain expires within `PERIOD` (30d, 2w, 1y, 12h)"},
			&cli.StringSliceFlag{Name: "ca", Usage: "trust anchors in `FILE` (repeatable): chains must end at one of them"},
			&cli.StringSliceFlag{Name: "chain", Usage: "intermediate CA certificates in `FILE` (repeatable), offered to every chain"},
			labFlag(),
			&cli.StringFlag{Name: "hierarchy", Usage: "chains must end at the root of `HIERARCHY`: production or test (the embedded IGC-Santé roots), or lab (with --lab)"},
			&cli.BoolFlag{Name: "fetch", Usage: "download missing issuers from their AIA caIssuers URL (HTTP only, 10 s, 1 MiB; LDAP is skipped)"},
			&cli.BoolFlag{Name: "details", Usage: "show every field of each certificate and its chain instead of the table"},
			&cli.IntFlag{Name: "workers", Usage: "check at most `N` files at once; 0: one per CPU"},
			&cli.BoolFlag{Name: "timeline", Usage: "draw each certificate's validity as a bar across the months around today, the warning window marked, instead of the table"},
		}, append(revocationFlags(check.RevocationOff, "check revocation: off (nothing downloaded), soft (revoked = FAIL, no answer = WARN) or hard (no answer = FAIL); "+
			"from --crl, --lab, then the certificates' HTTP CRL distribution points (10 s, 64 MiB) and OCSP responders (10 s); the CAs of the chain too"),
			secretFlags(false)...)...),
		Action: r.check,
	}
}

// checkRun is the configuration of one check invocation, from its flags.
type checkRun struct {
	checker    *check.Checker
	now        time.Time
	at         bool
	warn       diapason.Period
	profile    string
	details    bool
	timeline   bool
	revocation *revocationSources
	// crls are the --crl inputs, to say which no certificate needed.
	crls []string
	// out buffers the result: a write per file would be a system call per file.
	out *bufio.Writer
}

func (r *run) check(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErr("run 'diapason-cert check FILE|DIR...' ('-' reads stdin)", "check needs at least one file or directory")
	}
	if c.Bool("timeline") && (r.global.output != outputText || c.Bool("details")) {
		return usageErr("drop --timeline, or use it with the default text output and without --details", "--timeline draws text, in place of the table")
	}
	cr, err := r.checkSetup(c)
	if err != nil {
		return err
	}
	opts := check.ScanOptions{Stdin: r.env.Stdin, Workers: c.Int("workers")}
	if opts.Workers < 0 {
		return usageErr("give a number of files, like --workers 4", "--workers must not be negative")
	}
	// A scan allocates a few kilobytes per file and keeps little of them: a higher GC
	// target than the default costs a third less CPU, and a memory limit keeps the
	// process at the same size whatever the number of files. Not with revocation,
	// whose CRLs may hold more than the limit for the whole run. GOGC and GOMEMLIMIT in
	// the environment win.
	if r.env.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(scanGCPercent))
	}
	if r.env.Getenv("GOMEMLIMIT") == "" && cr.revocation.engine == nil {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(scanMemoryLimit))
	}
	cr.out = bufio.NewWriterSize(r.env.Stdout, 64<<10)
	p := r.startProgress(c.Context, c.Args().Slice())
	switch r.global.output {
	case outputJSON:
		err = r.checkJSON(c, cr, opts, p)
	case outputPrometheus:
		err = r.checkPrometheus(c, cr, opts, p)
	default:
		err = r.checkText(c, cr, opts, p)
	}
	p.stop()
	if ferr := cr.out.Flush(); err == nil && ferr != nil {
		err = failErr(fmt.Errorf("writing the result: %w", ferr), "")
	}
	if err == nil {
		r.reportUnusedCRLs(cr)
	}
	return err
}

// The garbage collector's settings for a scan. Measured on 10,000 files, a GC target
// of 400 cuts the collections from about 100 to 25 and the CPU by a third; the limit
// holds the peak near 30 MiB from 1,000 to 20,000 files, where the target alone let it
// grow from 24 to 39 MiB with the random size of the last collection.
const (
	scanGCPercent   = 400
	scanMemoryLimit = 24 << 20
)

// reportUnusedCRLs says which --crl inputs no certificate was issued by: a CRL of
// the wrong CA, or of a CA whose certificate was not given, cannot be used.
func (r *run) reportUnusedCRLs(cr *checkRun) {
	if cr.revocation == nil || cr.revocation.engine == nil {
		return
	}
	for _, crl := range cr.revocation.engine.UnusedCRLs() {
		if slices.Contains(cr.crls, crl.Name) {
			r.infof("--crl %s was not used: no certificate checked was issued by %s", crl.Name, crl.CRL.Issuer.String())
		}
	}
}

// checkSetup reads the flags and the inputs they name (anchors, intermediates, lab, key).
func (r *run) checkSetup(c *cli.Context) (*checkRun, error) {
	cr := &checkRun{now: r.env.Now().UTC(), details: c.Bool("details"), timeline: c.Bool("timeline"), profile: c.String("profile"), crls: c.StringSlice("crl")}
	var opts check.Options
	switch p := cr.profile; p {
	case "auto", "":
		cr.profile = "auto"
	default:
		if _, err := diapason.LookupProfile(p); err != nil {
			return nil, usageErr("use --profile psp-client, tpe-server, tpe-client, psp-server or auto", "invalid --profile %q", p)
		}
		opts.Profile = diapason.ProfileID(p)
	}
	if c.IsSet("fqdn") {
		fqdn, err := csr.NormaliseFQDN(c.String("fqdn"))
		if err != nil {
			return nil, usageErr("", "--fqdn: %v", err)
		}
		opts.FQDN = fqdn
	}
	if s := c.String("at"); s != "" {
		at, err := parseAt(s)
		if err != nil {
			return nil, usageErr("give a date as 2027-01-01 or a time as 2027-01-01T08:00:00+01:00", "invalid --at %q", s)
		}
		cr.now, cr.at = at, true
	}
	warn, err := diapason.ParsePeriod(c.String("warn"))
	if err != nil {
		return nil, usageErr("", "--warn: %v", err)
	}
	cr.warn = warn

	var chains check.ChainOptions
	hierarchy := diapason.Hierarchy("")
	if s := c.String("hierarchy"); s != "" {
		if hierarchy, err = diapason.ParseHierarchy(s); err != nil {
			return nil, usageErr("", "--hierarchy: %v", err)
		}
		if hierarchy == diapason.HierarchyLab && !c.IsSet("lab") {
			return nil, usageErr("give the lab's directory with --lab DIR", "--hierarchy lab needs --lab")
		}
		for _, ca := range diapason.IGCSanteCAs() {
			if ca.Root && ca.Hierarchy == hierarchy {
				chains.Anchors = append(chains.Anchors, ca.Cert)
			}
		}
	}
	var l *lab.Lab
	if c.String("lab") != "" {
		if l, err = r.openLab(c); err != nil {
			return nil, err
		}
		if hierarchy == "" || hierarchy == diapason.HierarchyLab {
			chains.Anchors = append(chains.Anchors, l.Anchors()...)
		}
		chains.Intermediates = append(chains.Intermediates, l.Intermediates()...)
	}
	for _, path := range c.StringSlice("ca") {
		certs, err := r.loader().LoadCertificates(path)
		if err != nil {
			return nil, r.readError(err)
		}
		chains.Anchors = append(chains.Anchors, certs...)
	}
	for _, path := range c.StringSlice("chain") {
		certs, err := r.loader().LoadCertificates(path)
		if err != nil {
			return nil, r.readError(err)
		}
		chains.Intermediates = append(chains.Intermediates, certs...)
	}
	if c.Bool("fetch") {
		chains.Fetch = check.HTTPFetcher(check.AIATimeout, check.AIAMaxBytes)
	}
	if path := c.String("key"); path != "" {
		key, _, err := r.loadKey(c, path)
		if err != nil {
			return nil, err
		}
		opts.Key, opts.KeyName = key.Public(), certio.DisplayName(path)
	}
	// The one secret opens every PKCS#12 file and encrypted key found; it is read once,
	// here, so that workers never prompt, and only when the command line names it.
	if unlockSecret.given(c) {
		secret, err := r.secret(c, unlockSecret, "PKCS#12 files and encrypted keys")
		if err != nil {
			return nil, err
		}
		opts.Passphrase = func() ([]byte, error) { return bytes.Clone(secret), nil }
	}
	if cr.revocation, err = r.revocationSetup(c, l, cr.now); err != nil {
		return nil, err
	}
	opts.Revocation = cr.revocation.mode
	if cr.revocation.engine != nil {
		opts.RevocationSources = cr.revocation.engine
	}
	opts.Now, opts.Warn = cr.now, warn
	opts.Chains = check.NewChainBuilder(chains)
	cr.checker = check.NewChecker(opts)
	return cr, nil
}

func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	return t.UTC(), err
}

// checkedFile is one file's report made ready to print, in the worker that checked it.
type checkedFile struct {
	status Status
	named  bool
	certs  []Status
	// problem and hint say why the file could not be read; problem is "" when it was.
	problem, hint string
	json          *bytes.Buffer
	text          checkText
	metrics       [][]byte
}

func newCheckedFile(rep *check.FileReport) checkedFile {
	f := checkedFile{named: rep.Named}
	if rep.Error != "" {
		f.problem, f.hint = certio.DisplayName(rep.File)+": "+rep.Error, rep.Hint
	}
	f.status, f.certs = fileStatus(rep)
	return f
}

// fileStatus is a file's outcome: an input the user named that cannot be read is a check
// not made (UNKNOWN); a file in a scanned directory that cannot be read was skipped
// (WARN); otherwise the worst finding decides.
func fileStatus(rep *check.FileReport) (Status, []Status) {
	if rep.Error != "" {
		if rep.Named {
			return StatusUnknown, nil
		}
		return StatusWarn, nil
	}
	s := findingsStatus(rep.Findings)
	certs := make([]Status, len(rep.Certificates))
	for i := range rep.Certificates {
		certs[i] = findingsStatus(rep.Certificates[i].Findings)
		s = worst(s, certs[i])
	}
	return s, certs
}

// checkSummary counts what a check saw.
type checkSummary struct {
	Files        int `json:"files"`
	Certificates int `json:"certificates"`
	OK           int `json:"ok"`
	Warn         int `json:"warn"`
	Fail         int `json:"fail"`
	// Skipped counts files in scanned directories that were not read.
	Skipped int `json:"skipped"`
	// Unreadable counts inputs named on the command line that could not be read.
	Unreadable int `json:"unreadable"`
}

func (s *checkSummary) add(f checkedFile) {
	s.Files++
	switch {
	case f.problem != "" && f.named:
		s.Unreadable++
	case f.problem != "":
		s.Skipped++
	}
	for _, cs := range f.certs {
		s.Certificates++
		switch cs {
		case StatusOK:
			s.OK++
		case StatusWarn:
			s.Warn++
		default:
			s.Fail++
		}
	}
}

// checkFileJSON and checkCertJSON add the statuses to the core's reports.
type checkFileJSON struct {
	*check.FileReport
	Certificates []checkCertJSON `json:"certificates"`
	Status       string          `json:"status"`
}

type checkCertJSON struct {
	check.CertReport
	Status string `json:"status"`
}

// jsonBuffers are the buffers files are encoded into, reused once written: a scan
// encodes thousands of files of a few kilobytes each.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSON keeps the buffer of an unusually large file (a CA bundle) out of the pool.
const maxPooledJSON = 64 << 10

// checkJSON streams the result as one JSON document whose files array is written
// element by element, one line each, as files are checked, so that memory stays flat
// however many files a directory holds.
func (r *run) checkJSON(c *cli.Context, cr *checkRun, opts check.ScanOptions, p *scanProgress) error {
	r.emitted = true
	w := cr.out
	var sum checkSummary
	status := StatusOK
	head := fmt.Sprintf("{\n  \"schema_version\": %d,\n  \"at\": %q,\n  \"profile\": %q,\n  \"warn\": %q,\n  \"files\": [",
		schemaVersion, cr.now.Format(time.RFC3339), cr.profile, cr.warn.String())
	if _, err := io.WriteString(w, head); err != nil {
		return failErr(fmt.Errorf("writing the result: %w", err), "")
	}
	first := true
	err := check.Scan(c.Context, cr.checker, c.Args().Slice(), opts,
		func(rep *check.FileReport) checkedFile {
			f := newCheckedFile(rep)
			doc := checkFileJSON{FileReport: rep, Status: f.status.String(), Certificates: make([]checkCertJSON, len(rep.Certificates))}
			for i, cert := range rep.Certificates {
				if !cr.details {
					cert.SubjectRDNs, cert.IssuerRDNs = nil, nil
				}
				if cert.Chain != nil {
					// The certificate's findings already hold the chain's.
					chain := *cert.Chain
					chain.Findings = nil
					cert.Chain = &chain
				}
				doc.Certificates[i] = checkCertJSON{CertReport: cert, Status: f.certs[i].String()}
			}
			// One compact line per file: indenting costs more than encoding, and a
			// line per file suits grep and line-oriented tools on large scans.
			f.json = jsonBuffers.Get().(*bytes.Buffer)
			f.json.Reset()
			// Encode ends with a newline; the types encoded cannot fail to encode.
			if err := json.NewEncoder(f.json).Encode(doc); err == nil {
				f.json.Truncate(f.json.Len() - 1)
			}
			return f
		},
		func(f checkedFile) error {
			sep := ",\n    "
			if first {
				sep, first = "\n    ", false
			}
			sum.add(f)
			status = worst(status, f.status)
			return p.emitted(r.loud(f), func() error {
				r.reportUnreadable(f)
				_, err := io.WriteString(w, sep)
				if err == nil {
					_, err = w.Write(f.json.Bytes())
				}
				if f.json.Cap() <= maxPooledJSON {
					jsonBuffers.Put(f.json)
				}
				return err
			})
		})
	if err != nil {
		return failErr(fmt.Errorf("writing the result: %w", err), "")
	}
	tail, err := json.MarshalIndent(sum, "  ", "  ")
	if err != nil {
		return failErr(err, "")
	}
	end := "\n  ],\n"
	if first {
		end = "],\n"
	}
	r.status = worst(r.status, status)
	if _, err := fmt.Fprintf(w, "%s  \"summary\": %s,\n  \"status\": %q\n}\n", end, tail, status.String()); err != nil {
		return failErr(fmt.Errorf("writing the result: %w", err), "")
	}
	return nil
}

// reportUnreadable says on stderr that an input named on the command line could not be
// read: an error of the run, beyond the result that lists it.
func (r *run) reportUnreadable(f checkedFile) {
	if f.problem != "" && f.named {
		fmt.Fprintf(r.env.Stderr, "diapason-cert: error: %s\n", f.problem)
		if f.hint != "" {
			fmt.Fprintf(r.env.Stderr, "diapason-cert: hint: %s\n", f.hint)
		}
	}
}

// checkText is the text of one file: its table rows (or timeline bars), findings and
// other lines.
type checkText struct {
	rows     [][]string
	bars     []string
	findings []findingBlock
	items    []string
	details  string
}

// findingBlock is the findings of one certificate (or file) under its name.
// Info lines are kept apart: one said of several certificates in the same
// words (a lab certificate, say) is printed once, with their count.
type findingBlock struct {
	header string
	lines  []string
	infos  []string
}

func (b findingBlock) size() int { return 1 + len(b.lines) + len(b.infos) }

// Text output holds one page of results at most: past checkPageRows certificates or
// checkPageLines lines, the table and sections so far are printed and a new page
// begins, so that memory stays flat however many files a scan meets. Smaller checks
// print one page, as if there were no pages.
const (
	checkPageRows  = 1000
	checkPageLines = 5000
)

// textPage is what the text output holds until it is printed.
type textPage struct {
	rows                       [][]string
	findings                   []findingBlock
	findingLines               int
	items, skipped, unreadable []string
}

func (pg *textPage) add(f checkedFile) {
	pg.rows = append(pg.rows, f.text.rows...)
	pg.findings = append(pg.findings, f.text.findings...)
	for _, b := range f.text.findings {
		pg.findingLines += b.size()
	}
	pg.items = append(pg.items, f.text.items...)
	switch {
	case f.problem != "" && f.named:
		pg.unreadable = append(pg.unreadable, "  "+f.problem)
		if f.hint != "" {
			pg.unreadable = append(pg.unreadable, "    hint: "+f.hint)
		}
	case f.problem != "":
		pg.skipped = append(pg.skipped, "  "+f.problem)
	}
}

func (pg *textPage) full() bool {
	return len(pg.rows) >= checkPageRows ||
		pg.findingLines+len(pg.items)+len(pg.skipped)+len(pg.unreadable) >= checkPageLines
}

// textOut writes the text result as blocks separated by one blank line.
type textOut struct {
	w io.Writer
	// sep is set when the next block needs a blank line before it.
	sep bool
}

func (o *textOut) block(s string) error {
	if o.sep {
		s = "\n" + s
	}
	o.sep = true
	_, err := io.WriteString(o.w, s)
	return err
}

// page prints and empties pg: the table (unless details or the timeline replaced it),
// the findings (unless details showed them), other material, skipped and unread files.
func (o *textOut) page(pg *textPage, cr *checkRun) error {
	if len(pg.rows) > 0 {
		var table strings.Builder
		if err := renderTable(&table, []string{"File", "Subject CN", "Role", "Hierarchy", "Not after", "Days", "Status"}, pg.rows); err != nil {
			return err
		}
		// tablewriter remembers the width of every string it measured, for the life of
		// the process: forget them after each page, or text output grows with the scan.
		twwidth.SetCondition(runewidth.NewCondition())
		if err := o.block(table.String()); err != nil {
			return err
		}
	}
	var findings []string
	if !cr.details {
		findings = findingText(pg.findings)
	}
	for _, sec := range []struct {
		title string
		lines []string
	}{
		{"Findings:", findings},
		{"Other material:", pg.items},
		{"Skipped (not read as certificate material):", pg.skipped},
		{"Not read:", pg.unreadable},
	} {
		if len(sec.lines) > 0 {
			if err := o.block(sec.title + "\n" + strings.Join(sec.lines, "\n") + "\n"); err != nil {
				return err
			}
		}
	}
	*pg = textPage{}
	return nil
}

func (r *run) checkText(c *cli.Context, cr *checkRun, opts check.ScanOptions, p *scanProgress) error {
	var sum checkSummary
	var pg textPage
	status := StatusOK
	out := &textOut{w: cr.out}
	if cr.at {
		if err := out.block(fmt.Sprintf("As of %s (--at).\n", cr.now.Format(time.RFC3339))); err != nil {
			return failErr(fmt.Errorf("writing the result: %w", err), "")
		}
	}
	var tl *timeline
	if cr.timeline {
		tl = newTimeline(cr.now, cr.warn, r.colour)
		if err := out.block(tl.header()); err != nil {
			return failErr(fmt.Errorf("writing the result: %w", err), "")
		}
	}
	err := check.Scan(c.Context, cr.checker, c.Args().Slice(), opts,
		func(rep *check.FileReport) checkedFile {
			f := newCheckedFile(rep)
			f.text = r.renderCheckFile(rep, f.certs, cr.details, tl)
			return f
		},
		func(f checkedFile) error {
			sum.add(f)
			status = worst(status, f.status)
			return p.emitted(r.loud(f), func() error {
				r.reportUnreadable(f)
				if cr.details && f.text.details != "" {
					text := f.text.details
					if out.sep {
						text = "\n" + text
					}
					if _, err := io.WriteString(out.w, text); err != nil {
						return err
					}
					// Details end with a blank line of their own.
					out.sep = false
				}
				if len(f.text.bars) > 0 {
					if _, err := io.WriteString(out.w, strings.Join(f.text.bars, "")); err != nil {
						return err
					}
				}
				pg.add(f)
				if pg.full() {
					return out.page(&pg, cr)
				}
				return nil
			})
		})
	if err == nil {
		err = out.page(&pg, cr)
	}
	if err == nil {
		err = out.block(summaryLine(sum) + "\n")
	}
	if err != nil {
		return failErr(fmt.Errorf("writing the result: %w", err), "")
	}
	r.emitted = true
	r.status = worst(r.status, status)
	return nil
}

func summaryLine(s checkSummary) string {
	line := fmt.Sprintf("%s in %s: %d OK, %d WARN, %d FAIL", plural(s.Certificates, "certificate"), plural(s.Files, "file"), s.OK, s.Warn, s.Fail)
	if s.Skipped > 0 {
		line += fmt.Sprintf("; %d skipped", s.Skipped)
	}
	if s.Unreadable > 0 {
		line += fmt.Sprintf("; %d not read", s.Unreadable)
	}
	return line
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// renderCheckFile renders a file's report; it runs in the worker that checked the file.
func (r *run) renderCheckFile(rep *check.FileReport, certs []Status, details bool, tl *timeline) checkText {
	var t checkText
	name := certio.DisplayName(rep.File)
	for i := range rep.Certificates {
		cert := &rep.Certificates[i]
		cn := cert.CommonName
		if cn == "" {
			cn = cert.Subject
		}
		switch {
		case tl != nil:
			t.bars = append(t.bars, tl.bar(cert, certs[i], name+": "+cn))
		case !details:
			t.rows = append(t.rows, []string{name, cn, cert.Role.Label(), cert.Hierarchy.Label(),
				cert.NotAfter.Format(time.DateOnly), strconv.Itoa(cert.DaysLeft), r.colour.status(certs[i])})
		}
		if len(cert.Findings) > 0 {
			t.findings = append(t.findings, r.findingBlock(fmt.Sprintf("%s: %s", name, cn), cert.Findings))
		}
		if details {
			t.details += r.renderCertDetails(name, cert, certs[i])
		}
	}
	if len(rep.Findings) > 0 {
		if details {
			lines := append([]string{name + ":"}, r.findingLines(rep.Findings)...)
			t.details += strings.Join(lines, "\n") + "\n\n"
		} else {
			t.findings = append(t.findings, r.findingBlock(name+":", rep.Findings))
		}
	}
	for _, it := range rep.Items {
		where := name
		if it.Line > 0 {
			where = fmt.Sprintf("%s:%d", name, it.Line)
		}
		t.items = append(t.items, fmt.Sprintf("  %s: %s", where, it.Summary))
	}
	return t
}

// findingBlock renders findings under a header, info lines apart.
func (r *run) findingBlock(header string, fs []check.Finding) findingBlock {
	b := findingBlock{header: header}
	for i, line := range r.findingLines(fs) {
		if fs[i].Level == check.Info {
			b.infos = append(b.infos, line)
		} else {
			b.lines = append(b.lines, line)
		}
	}
	return b
}

// findingText lists the findings of a page: each block under its header, and
// the info lines said of several certificates in the same words once, at the
// end, with their count, so that a scan of a lab does not repeat one sentence.
func findingText(blocks []findingBlock) []string {
	count := map[string]int{}
	for _, b := range blocks {
		for _, l := range b.infos {
			count[l]++
		}
	}
	var out, common []string
	for _, b := range blocks {
		lines := b.lines
		for _, l := range b.infos {
			if count[l] == 1 {
				lines = append(lines, l)
			}
		}
		if len(lines) > 0 {
			out = append(out, b.header)
			out = append(out, lines...)
		}
	}
	seen := map[string]bool{}
	for _, b := range blocks {
		for _, l := range b.infos {
			if n := count[l]; n > 1 && !seen[l] {
				seen[l] = true
				slug, msg, _ := strings.Cut(l, ": ")
				common = append(common, fmt.Sprintf("%s (%d certificates): %s", slug, n, msg))
			}
		}
	}
	if len(common) > 0 {
		out = append(out, "several certificates:")
		out = append(out, common...)
	}
	return out
}

func (r *run) findingLines(fs []check.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		var tag string
		switch f.Level {
		case check.Fail:
			tag = r.colour.fail.Sprint("FAIL")
		case check.Warn:
			tag = r.colour.warn.Sprint("WARN")
		default:
			tag = r.colour.dim.Sprint("INFO")
		}
		out = append(out, fmt.Sprintf("  %s %s: %s", tag, f.Slug, f.Message))
	}
	return out
}

// renderCertDetails is the full view of one certificate.
func (r *run) renderCertDetails(file string, cert *check.CertReport, status Status) string {
	var b strings.Builder
	list := func(v []string) string {
		if len(v) == 0 {
			return "none"
		}
		return strings.Join(v, ", ")
	}
	validity := fmt.Sprintf("%s to %s", cert.NotBefore.Format(time.DateTime), cert.NotAfter.Format(time.DateTime+" UTC"))
	switch {
	case cert.DaysLeft < 0:
		validity += fmt.Sprintf(" (expired %s ago)", plural(-cert.DaysLeft, "day"))
	default:
		validity += fmt.Sprintf(" (%s left)", plural(cert.DaysLeft, "day"))
	}
	role := cert.Role.Label()
	if cert.Profile != "" {
		role += " (checked as " + string(cert.Profile) + ")"
	}
	kind := "end entity"
	if cert.IsCA {
		kind = "CA"
	}
	pairs := [][2]string{
		{"file", file},
		{"subject", cert.Subject},
		{"issuer", cert.Issuer},
		{"serial", cert.Serial},
		{"validity", validity},
		{"key", cert.Key.String()},
		{"signature", cert.SignatureAlgorithm},
		{"type", kind},
		{"DNS names", list(cert.DNSNames)},
	}
	for _, extra := range []struct {
		name string
		v    []string
	}{{"IP addresses", cert.IPAddresses}, {"email addresses", cert.EmailAddresses}, {"URIs", cert.URIs}} {
		if len(extra.v) > 0 {
			pairs = append(pairs, [2]string{extra.name, list(extra.v)})
		}
	}
	pairs = append(pairs,
		[2]string{"key usage", list(cert.KeyUsage)},
		[2]string{"extended key usage", list(cert.ExtKeyUsage)},
		[2]string{"CRL", list(cert.CRLURLs)},
		[2]string{"OCSP", list(cert.OCSPURLs)},
		[2]string{"CA issuers", list(cert.CAIssuerURLs)},
		[2]string{"subject key id", orNone(cert.SubjectKeyID)},
		[2]string{"authority key id", orNone(cert.AuthorityKeyID)},
		[2]string{"SHA-256", cert.SHA256},
		[2]string{"role", role},
		[2]string{"hierarchy", cert.Hierarchy.Label()},
		[2]string{"status", r.colour.status(status)},
	)
	if rev := cert.Revocation; rev != nil {
		pairs = append(pairs, [2]string{"revocation", string(rev.Status) + ": " + rev.Message})
	}
	renderPairs(&b, pairs)
	if ch := cert.Chain; ch != nil {
		fmt.Fprintf(&b, "chain (%s):\n", ch.Status)
		for i, cc := range ch.Certificates {
			fmt.Fprintf(&b, "  %d. %s%s\n", i+1, cc.Subject, chainNote(cc, i))
		}
		if m := ch.Missing; m != nil {
			fmt.Fprintf(&b, "  %d. missing: %s", len(ch.Certificates)+1, m.Subject)
			if m.KeyID != "" {
				fmt.Fprintf(&b, " (key id %s)", m.KeyID)
			}
			b.WriteString("\n")
		}
	}
	if len(cert.Findings) > 0 {
		b.WriteString(strings.Join(r.findingLines(cert.Findings), "\n") + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

func chainNote(cc check.ChainCert, i int) string {
	var notes []string
	switch {
	case i == 0:
		notes = append(notes, "this certificate")
	case cc.Source == check.SourceEmbedded:
		notes = append(notes, "embedded "+cc.File)
	case cc.Source == check.SourceFetched:
		notes = append(notes, "downloaded from "+cc.File)
	case cc.Source == check.SourceAnchor:
		notes = append(notes, "trust anchor")
	default:
		notes = append(notes, "given")
	}
	if cc.Root {
		notes = append(notes, "root")
	}
	if cc.Revocation != nil {
		notes = append(notes, "revocation "+string(cc.Revocation.Status))
	}
	return " (" + strings.Join(notes, ", ") + ")"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
