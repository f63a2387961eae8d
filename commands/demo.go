package commands

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/urfave/cli/v2"
)

// demoPassphraseEnv holds the passphrase of the demo's PKCS#12, in the
// environment the demo gives its sub-commands only.
const demoPassphraseEnv = "DIAPASON_DEMO_PASSPHRASE"

// demoFQDN is the GAP server name of the demo, the lab's default.
const demoFQDN = "gap.lab.test"

// demoHook lets tests change the command line of one step to make it fail;
// nil in the tool.
var demoHook func(step string, args []string) []string

func (r *run) demoCommand() *cli.Command {
	return &cli.Command{
		Name:      "demo",
		Usage:     "the whole Diapason lifecycle, offline, in seconds: lab, CSRs, certificates, bundle, check, simulated peers, both handshakes, a revoked terminal, an expiring certificate",
		ArgsUsage: " ",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Usage: "work in `DIR` (created; it must be empty) instead of a temporary directory"},
			&cli.BoolFlag{Name: "keep", Usage: "keep the files (lab, keys, certificates, bundles) instead of removing them"},
		},
		Action: r.demo,
	}
}

// demoStep is one line of the summary.
type demoStep struct {
	Name   string `json:"name"`
	Status string `json:"status"` // pass or fail
	Detail string `json:"detail"`
}

type demoResult struct {
	Steps []demoStep `json:"steps"`
	OK    bool       `json:"ok"`
}

// demo runs every step through the same code as the command it names: each
// is a whole command line run in-process, its JSON result read back.
type demo struct {
	r        *run
	ctx      context.Context
	dir      string
	steps    []demoStep
	failed   map[string]bool
	total    int
	current  string
	servers  map[string]*demoServer
	cacheDir string
}

func (r *run) demo(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("run 'diapason-cert demo --help'", "unexpected argument %q", c.Args().First())
	}
	dir, created, err := demoDir(c.String("dir"))
	if err != nil {
		return err
	}
	keep := c.Bool("keep")
	d := &demo{r: r, ctx: c.Context, dir: dir, failed: map[string]bool{}, servers: map[string]*demoServer{},
		cacheDir: filepath.Join(dir, "cache")}
	start := time.Now()
	r.infof("demo: working in %s", dir)
	d.run()
	d.stopServers()
	res := demoResult{Steps: d.steps, OK: len(d.failed) == 0}
	if keep {
		r.infof("demo: the files are kept in %s", dir)
	} else if err := removeDemoDir(dir, created); err != nil {
		r.warnf("demo: cleaning up %s: %v", dir, err)
	}
	r.infof("demo: %d steps in %.1f s", len(d.steps), time.Since(start).Seconds())
	status := StatusOK
	if !res.OK {
		status = StatusFail
	}
	return r.emit(status, res, func(w io.Writer) error { return r.renderDemo(w, res) })
}

// demoDir returns the directory to work in and whether the demo created it.
func demoDir(dir string) (string, bool, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "diapason-demo-")
		if err != nil {
			return "", false, failErr(fmt.Errorf("creating a temporary directory: %w", err), "")
		}
		return d, true, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", false, failErr(fmt.Errorf("creating %s: %w", dir, err), "")
		}
		return dir, true, nil
	case err != nil:
		return "", false, unknownErr(fmt.Errorf("%s: %w", dir, err), "")
	case len(entries) > 0:
		return "", false, usageErr("give an empty or new directory, or none for a temporary one", "--dir %s is not empty", dir)
	}
	return dir, false, nil
}

// removeDemoDir removes what the demo wrote: the whole directory when the demo
// made it, else only its contents.
func removeDemoDir(dir string, created bool) error {
	if created {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// The steps, in order; needs names the steps whose results a step uses.
func (d *demo) run() {
	lab := filepath.Join(d.dir, "lab")
	gap := filepath.Join(d.dir, "gap")
	f := func(dir, name string) string { return filepath.Join(dir, name) }
	d.total = 14

	d.step("lab init", nil, func() (string, error) {
		if _, err := d.expect(0, "lab", "init", lab, "--fqdn", demoFQDN); err != nil {
			return "", err
		}
		return "offline IGC-Santé-, IngeTrust- and GeoTrust-like CAs, credentials and CRLs", nil
	})
	d.step("csr psp-client", nil, func() (string, error) {
		doc, err := d.expect(0, "csr", "psp-client", "--out-dir", gap, "--org", "CENTRE HOSPITALIER DEMO", "--ou", "399999999900013", "--state", "Côte-d'Or (21)")
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("RSA key (0600) + CSR; value to enter on the platform: %v", doc["platform_value"]), nil
	})
	d.step("csr tpe-server", nil, func() (string, error) {
		doc, err := d.expect(0, "csr", "tpe-server", "--fqdn", demoFQDN, "--out-dir", gap, "--org", "CENTRE HOSPITALIER DEMO", "--ou", "399999999900013")
		if err != nil {
			return "", err
		}
		h, _ := doc["habilitation"].(map[string]any)
		return fmt.Sprintf("RSA key + CSR with CN = SAN = %s; habilitation domain %v", demoFQDN, h["request"]), nil
	})
	for _, p := range []string{"psp-client", "tpe-server"} {
		d.step("lab sign "+p, []string{"lab init", "csr " + p}, func() (string, error) {
			doc, err := d.expect(0, "lab", "sign", f(gap, p+".csr"), "--lab", lab, "--profile", p)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("the lab ORGANISATIONS CA issued it, valid %v", doc["validity"]), nil
		})
	}
	d.step("bundle build", []string{"lab sign tpe-server"}, func() (string, error) {
		if _, err := d.expect(0, "bundle", "build", "--cert", f(gap, "tpe-server.pem"), "--key", f(gap, "tpe-server.key"),
			"--chain", f(lab, "igc-org.pem"), "--out", f(gap, "tpe-server.fullchain.pem"),
			"--p12", f(gap, "tpe-server.p12"), "--passphrase-env", demoPassphraseEnv); err != nil {
			return "", err
		}
		return "full chain PEM and PKCS#12 (re-opened and checked) for the GAP server", nil
	})
	d.step("check", []string{"lab sign psp-client", "bundle build"}, func() (string, error) {
		out, err := d.expectText(0, "check", f(gap, "psp-client.pem"), f(gap, "tpe-server.fullchain.pem"), "--lab", lab, "--fqdn", demoFQDN)
		if err != nil {
			return "", err
		}
		if d.r.global.output == outputText {
			fmt.Fprintf(d.r.env.Stdout, "check %s:\n%s\n", filepath.Join("gap", "*.pem"), out)
		}
		return "both certificates fit their profile, chain to the lab root and are far from expiry", nil
	})
	d.step("simulate psp", []string{"lab init"}, func() (string, error) {
		s, err := d.serve("simulate psp", "simulate", "psp", "--listen", "127.0.0.1:0", "--lab", lab)
		if err != nil {
			return "", err
		}
		return "simulated provider listening on " + s.addr, nil
	})
	d.step("simulate gap", []string{"bundle build"}, func() (string, error) {
		s, err := d.serve("simulate gap", "simulate", "gap", "--listen", "127.0.0.1:0", "--lab", lab,
			"--cert", f(gap, "tpe-server.fullchain.pem"), "--key", f(gap, "tpe-server.key"))
		if err != nil {
			return "", err
		}
		return "simulated GAP server with the new certificate listening on " + s.addr, nil
	})
	d.step("handshake psp", []string{"simulate psp", "lab sign psp-client"}, func() (string, error) {
		doc, err := d.expect(0, "handshake", "psp", d.addr("simulate psp"), "--servername", "psp.lab.test", "--lab", lab,
			"--cert", f(gap, "psp-client.pem"), "--key", f(gap, "psp-client.key"), "--chain", f(lab, "igc-org.pem"))
		if err != nil {
			return "", err
		}
		return "GAP → provider: " + negotiated(doc), nil
	})
	d.step("handshake tpe", []string{"simulate gap"}, func() (string, error) {
		doc, err := d.expect(0, "handshake", "tpe", d.addr("simulate gap"), "--fqdn", demoFQDN, "--lab", lab)
		if err != nil {
			return "", err
		}
		return "terminal → GAP: " + negotiated(doc) + ", CN = " + demoFQDN, nil
	})
	d.step("revoked terminal refused", []string{"simulate gap"}, func() (string, error) {
		doc, err := d.expect(1, "handshake", "tpe", d.addr("simulate gap"), "--fqdn", demoFQDN, "--lab", lab,
			"--cert", f(lab, "tpe-revoked.pem"), "--key", f(lab, "tpe-revoked.key"))
		if err != nil {
			return "", err
		}
		if log, ok := d.servers["simulate gap"].waitLog("revoked", 5*time.Second); !ok {
			return "", fmt.Errorf("the GAP server refused the terminal, but its log does not say revoked: %s", lastLine(log))
		}
		return "refused as expected: " + firstCause(doc), nil
	})
	d.step("expiring certificate flagged", []string{"lab init", "csr tpe-server"}, func() (string, error) {
		expiring := f(gap, "tpe-server.expiring.pem")
		if _, err := d.expect(0, "lab", "sign", f(gap, "tpe-server.csr"), "--lab", lab, "--profile", "tpe-server",
			"--expires-in", "10d", "--out", expiring); err != nil {
			return "", err
		}
		doc, err := d.expect(4, "check", expiring, "--lab", lab)
		if err != nil {
			return "", err
		}
		if msg := findingMessage(doc, "expiring"); msg != "" {
			return "WARN as expected: " + msg, nil
		}
		return "", errors.New("check exited WARN but without the expiring finding")
	})
	d.step("servers stopped", []string{"simulate psp", "simulate gap"}, func() (string, error) {
		return d.stopServers()
	})
}

// step runs fn unless a step it needs failed, and records the outcome.
func (d *demo) step(name string, needs []string, fn func() (string, error)) {
	d.current = name
	n := len(d.steps) + 1
	d.r.infof("demo [%d/%d] %s…", n, d.total, name)
	st := demoStep{Name: name, Status: "pass"}
	for _, need := range needs {
		if d.failed[need] {
			st.Status, st.Detail = "fail", fmt.Sprintf("not run: %s failed", need)
		}
	}
	if st.Status == "pass" {
		detail, err := fn()
		if err != nil {
			st.Status, st.Detail = "fail", err.Error()
		} else {
			st.Detail = detail
		}
	}
	if st.Status == "fail" {
		d.failed[name] = true
		d.r.infof("demo [%d/%d] %s: FAIL: %s", n, d.total, name, st.Detail)
	}
	d.steps = append(d.steps, st)
}

// subEnv is the environment of one sub-command: no terminal, the demo's own
// passphrase variable and CRL cache.
func (d *demo) subEnv(stdout, stderr io.Writer) Env {
	return Env{
		Stdin: strings.NewReader(""), Stdout: stdout, Stderr: stderr, Now: d.r.env.Now,
		Getenv: func(k string) string {
			switch k {
			case demoPassphraseEnv:
				return "demo-passphrase"
			case cacheDirEnv:
				return d.cacheDir
			}
			return ""
		},
	}
}

func (d *demo) args(args []string) []string {
	if demoHook != nil {
		args = demoHook(d.current, args)
	}
	return append([]string{"diapason-cert"}, args...)
}

// expect runs a command with --output json and checks its exit code.
func (d *demo) expect(code int, args ...string) (map[string]any, error) {
	var stdout, stderr bytes.Buffer
	got := Run(d.ctx, d.subEnv(&stdout, &stderr), d.args(append(args, "--output", "json")))
	var doc map[string]any
	_ = json.Unmarshal(stdout.Bytes(), &doc)
	if got != code {
		return doc, fmt.Errorf("'%s' exited %d, expected %d: %s", strings.Join(args[:2], " "), got, code, explain(doc, stderr.String()))
	}
	return doc, nil
}

// expectText runs a command with text output, for the tables the demo shows.
func (d *demo) expectText(code int, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	got := Run(d.ctx, d.subEnv(&stdout, &stderr), d.args(args))
	if got != code {
		return "", fmt.Errorf("'%s' exited %d, expected %d: %s", args[0], got, code, lastLine(stderr.String()+stdout.String()))
	}
	return stdout.String(), nil
}

// explain picks the most telling sentence of a failed command's output.
func explain(doc map[string]any, stderr string) string {
	if e, ok := doc["error"].(map[string]any); ok {
		return fmt.Sprint(e["message"])
	}
	if c := firstCause(doc); c != "" {
		return c
	}
	if s, ok := doc["summary"].(string); ok && s != "" {
		return s
	}
	return lastLine(stderr)
}

func firstCause(doc map[string]any) string {
	causes, _ := doc["causes"].([]any)
	for _, c := range causes {
		if m, ok := c.(map[string]any); ok && m["level"] == "fail" {
			return fmt.Sprintf("%v: %v", m["slug"], m["message"])
		}
	}
	return ""
}

func negotiated(doc map[string]any) string {
	n, _ := doc["negotiated"].(map[string]any)
	s, _ := n["suite"].(map[string]any)
	if s == nil {
		return "handshake completed"
	}
	return fmt.Sprintf("mutual TLS 1.2 with %v %v", s["id"], s["iana"])
}

// findingMessage returns the message of the first finding with slug in a
// check document.
func findingMessage(doc map[string]any, slug string) string {
	files, _ := doc["files"].([]any)
	for _, f := range files {
		certs, _ := f.(map[string]any)["certificates"].([]any)
		for _, c := range certs {
			fs, _ := c.(map[string]any)["findings"].([]any)
			for _, x := range fs {
				if m, _ := x.(map[string]any); m["slug"] == slug {
					return fmt.Sprint(m["message"])
				}
			}
		}
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimPrefix(lines[len(lines)-1], "diapason-cert: ")
}

// demoServer is a simulate command running in the background.
type demoServer struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
	mu     sync.Mutex
	events bytes.Buffer
}

// waitLog waits for the server to log a line holding word: the server logs a
// connection once its side is over, which can be just after the client's.
func (s *demoServer) waitLog(word string, limit time.Duration) (string, bool) {
	deadline := time.Now().Add(limit)
	for {
		s.mu.Lock()
		log := s.events.String()
		s.mu.Unlock()
		if strings.Contains(log, word) {
			return log, true
		}
		if time.Now().After(deadline) {
			return log, false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serve starts a simulate command and waits for its listening event.
func (d *demo) serve(name string, args ...string) (*demoServer, error) {
	ctx, cancel := context.WithCancel(d.ctx)
	pr, pw := io.Pipe()
	s := &demoServer{cancel: cancel, done: make(chan int, 1)}
	var stderr bytes.Buffer
	go func() {
		code := Run(ctx, d.subEnv(pw, &stderr), d.args(append(args, "--output", "json")))
		pw.Close()
		s.done <- code
	}()
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		started := false
		for sc.Scan() {
			if !started {
				first <- sc.Text()
				started = true
				continue
			}
			s.mu.Lock()
			s.events.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		if !started {
			close(first)
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var line string
	select {
	case l, ok := <-first:
		if !ok {
			code := <-s.done
			cancel()
			return nil, fmt.Errorf("'%s' exited %d before listening: %s", name, code, lastLine(stderr.String()))
		}
		line = l
	case <-time.After(15 * time.Second):
		cancel()
		return nil, fmt.Errorf("'%s' did not start listening within 15 s", name)
	}
	var ev struct {
		Event, Address string
	}
	if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.Event != "listening" {
		cancel()
		return nil, fmt.Errorf("'%s' did not announce its address: %q", name, line)
	}
	s.addr = ev.Address
	d.servers[name] = s
	return s, nil
}

func (d *demo) addr(server string) string {
	if s := d.servers[server]; s != nil {
		return s.addr
	}
	return "127.0.0.1:0"
}

// stopServers cancels every simulated server, as Ctrl-C would, and waits
// for each to return.
func (d *demo) stopServers() (string, error) {
	var stopped []string
	var errs []error
	for _, name := range []string{"simulate psp", "simulate gap"} {
		s := d.servers[name]
		if s == nil {
			continue
		}
		delete(d.servers, name)
		s.cancel()
		select {
		case code := <-s.done:
			if code != 0 {
				errs = append(errs, fmt.Errorf("%s stopped with exit code %d", name, code))
				continue
			}
			stopped = append(stopped, name)
		case <-time.After(10 * time.Second):
			errs = append(errs, fmt.Errorf("%s did not stop within 10 s", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return strings.Join(stopped, " and ") + " shut down cleanly", nil
}

func (r *run) renderDemo(w io.Writer, res demoResult) error {
	rows := make([][]string, 0, len(res.Steps))
	for _, s := range res.Steps {
		st := r.colour.ok.Sprint("PASS")
		if s.Status != "pass" {
			st = r.colour.fail.Sprint("FAIL")
		}
		rows = append(rows, []string{s.Name, st, s.Detail})
	}
	if err := renderTable(w, []string{"Step", "Status", "What it proved"}, rows, tablewriter.WithRowMaxWidth(64)); err != nil {
		return err
	}
	if res.OK {
		fmt.Fprintln(w, "\nEvery step passed, the expected refusals included: the lifecycle works end to end.")
	} else {
		fmt.Fprintln(w, "\nSome steps failed: see the FAIL rows above.")
	}
	return nil
}
