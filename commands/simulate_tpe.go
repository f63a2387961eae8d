package commands

import (
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/simulate"
)

// Bounds of a fleet: a load test must end, and a few thousand terminals are
// more than any hospital has.
const (
	maxFleetConcurrency = 4096
	maxFleetCount       = 100_000_000
)

func (r *run) simulateTPECommand() *cli.Command {
	return &cli.Command{
		Name: "tpe",
		Usage: "a fleet of payment terminals loading the GAP server at HOST:PORT with full mutual-TLS handshakes: " +
			"handshakes per second, latency percentiles, failures grouped by cause",
		ArgsUsage: "HOST:PORT",
		Flags: append([]cli.Flag{
			&cli.IntFlag{Name: "count", Value: 100, Usage: "stop after `N` handshakes"},
			&cli.IntFlag{Name: "concurrency", Value: 8, Usage: "`C` terminals at once, each making handshakes one after another"},
			&cli.DurationFlag{Name: "duration", Value: time.Minute, Usage: "stop starting handshakes after `D`, even before --count"},
			&cli.StringFlag{Name: "cert", Usage: "the terminal certificate `FILE` (IngeTrust; default with --lab: tpe-client)"},
			&cli.StringFlag{Name: "key", Usage: "its private key `FILE`"},
			&cli.StringFlag{Name: "chain", Usage: "intermediate certificates to send after it, `FILE`"},
			&cli.StringFlag{Name: "fqdn", Usage: "the `FQDN` the terminals are configured with: the server certificate's CN must be exactly that (default from --lab)"},
			&cli.StringFlag{Name: "hierarchy", Usage: "the IGC-Santé root the terminals trust: production or test (default: that of the server certificate's issuer), or lab"},
			&cli.StringFlag{Name: "ca", Usage: "trust the CA `FILE` instead of the hierarchy's embedded root"},
			&cli.StringFlag{Name: "lab", Usage: "take the terminal credential, the GAP server's root and the CRLs from the lab `DIR`"},
			&cli.StringFlag{Name: "cipher", Usage: "offer these suites instead of the Diapason ones, as for handshake --cipher"},
			&cli.StringFlag{Name: "revocation", Value: string(handshake.RevocationSoft), Usage: "revocation of the server certificate: off, soft or hard"},
			&cli.StringSliceFlag{Name: "crl", Usage: "a CRL `FILE` or http(s) URL to check the server certificate against (repeatable)"},
			&cli.DurationFlag{Name: "timeout", Value: handshake.DefaultTimeout, Usage: "give up on a connection, and on a handshake, after `DURATION` each"},
		}, secretFlags(false)...),
		Action: r.simulateTPE,
	}
}

// fleetResult is the result of `simulate tpe`.
type fleetResult struct {
	Terminal string `json:"terminal"`
	FQDN     string `json:"fqdn"`
	*simulate.FleetResult
}

func (r *run) simulateTPE(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert simulate tpe HOST:PORT --count N --concurrency C'", "simulate tpe takes the GAP server's HOST:PORT, got %d arguments", c.NArg())
	}
	addr := c.Args().First()
	host, err := splitAddress(addr)
	if err != nil {
		return err
	}
	count, conc, dur := c.Int("count"), c.Int("concurrency"), c.Duration("duration")
	switch {
	case count < 1 || count > maxFleetCount:
		return usageErr("", "--count must be between 1 and %d", maxFleetCount)
	case conc < 1 || conc > maxFleetConcurrency:
		return usageErr("", "--concurrency must be between 1 and %d", maxFleetConcurrency)
	case dur <= 0:
		return usageErr("", "--duration must be positive, like 30s")
	}
	s, err := r.handshakeSetup(c)
	if err != nil {
		return err
	}
	fqdn := strings.TrimSpace(c.String("fqdn"))
	switch {
	case fqdn != "":
	case s.lab != nil:
		fqdn = s.lab.FQDN()
	case net.ParseIP(host) == nil:
		fqdn = host
	default:
		return usageErr("give the FQDN the terminals are configured with, e.g. --fqdn gap.chu-exemple.fr", "--fqdn is required with an IP address")
	}
	trust, terminal, keyName, err := r.terminalSide(c, s)
	if err != nil {
		return err
	}
	if terminal == nil {
		return usageErr("give --cert C --key K (and --chain FILE), or --lab DIR", "the terminal certificate is required: a GAP server refuses terminals without one")
	}
	var ownCAs []*x509.Certificate
	if s.lab != nil {
		ownCAs = append(s.lab.Anchors(), s.lab.Intermediates()...)
	}
	probe := handshake.ProbeConfig{
		Link: diapason.LinkTPE, Address: addr, ServerName: fqdn, Credential: terminal, KeyName: keyName, OwnCAs: ownCAs,
		Offer: s.offer, Timeout: s.timeout, Now: r.env.Now(), Clock: time.Now,
		Peer: &handshake.PeerPolicy{Profile: diapason.TPEServer, Trust: trust, Name: fqdn, Remember: judgeMemory,
			Revocation: handshake.RevocationPolicy{Mode: s.revocation, Checkers: s.checkers}},
	}
	probe.Own = handshake.OwnReport(c.Context, &probe)
	for _, f := range probe.Own.Findings {
		switch {
		case f.Slug == "key-mismatch":
			return usageErr("give the key of --cert's certificate (or the certificate of --key)", "%s", f.Message)
		case f.Level == check.Fail || f.Level == check.Warn:
			r.warnf("the terminal certificate: %s", f.Message)
		}
	}
	fleet := &simulate.Fleet{Probe: probe, Count: count, Concurrency: conc, Duration: dur}
	stop := r.fleetProgress(fleet, count)
	res := fleet.Run(c.Context)
	stop()
	out := fleetResult{Terminal: nameOf(terminal.Chain[0]), FQDN: fqdn, FleetResult: res}
	status := map[handshake.Status]Status{handshake.StatusOK: StatusOK, handshake.StatusWarn: StatusWarn,
		handshake.StatusUnknown: StatusUnknown, handshake.StatusFail: StatusFail}[res.Status]
	return r.emit(status, out, func(w io.Writer) error { return r.renderFleet(w, &out, status) })
}

// fleetProgress draws a progress bar on a terminal's stderr until the
// returned func is called; elsewhere it draws nothing.
func (r *run) fleetProgress(f *simulate.Fleet, count int) func() {
	if !r.env.StderrIsTerminal {
		return func() {}
	}
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			ok, failed := f.Progress()
			n := ok + failed
			const width = 30
			filled := int(int64(width) * n / int64(count))
			elapsed := time.Since(start)
			rate := float64(ok) / max(elapsed.Seconds(), 1e-3)
			fmt.Fprintf(r.env.Stderr, "\r[%s%s] %d/%d  %.0f handshakes/s  %d failed  %s ",
				strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, count, rate, failed, elapsed.Round(100*time.Millisecond))
			select {
			case <-done:
				fmt.Fprint(r.env.Stderr, "\r\033[K")
				return
			case <-t.C:
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func (r *run) renderFleet(w io.Writer, res *fleetResult, status Status) error {
	fmt.Fprintf(w, "%d handshakes by %d terminals against %s in %.2f s (stopped by %s)\n\n",
		res.Attempted, res.Concurrency, res.Address, res.ElapsedS, res.Stopped)
	var suites []string
	for _, sc := range sortedCounts(res.Suites) {
		suites = append(suites, fmt.Sprintf("%s ×%d", sc.slug, sc.n))
	}
	pairs := [][2]string{
		{"terminal", res.Terminal},
		{"server name", res.FQDN},
		{"completed", fmt.Sprintf("%d (%s)", res.Succeeded, strings.Join(suites, ", "))},
		{"failed", fmt.Sprint(res.Failed)},
		{"rate", fmt.Sprintf("%.1f handshakes/s", res.Rate)},
	}
	if res.Succeeded > 0 {
		l := res.Latency
		pairs = append(pairs, [2]string{"latency (ms)", fmt.Sprintf("min %.1f  p50 %.1f  p90 %.1f  p99 %.1f  max %.1f  mean %.1f", l.Min, l.P50, l.P90, l.P99, l.Max, l.Mean)})
	}
	renderPairs(w, pairs)
	for _, group := range []struct {
		title string
		list  []simulate.CauseCount
	}{{"Failures", res.Failures}, {"Warnings", res.Warnings}} {
		if len(group.list) == 0 {
			continue
		}
		rows := make([][]string, len(group.list))
		for i, cc := range group.list {
			msg := cc.Message
			if cc.Fix != "" {
				msg += "\nfix: " + cc.Fix
			}
			rows[i] = []string{fmt.Sprint(cc.Count), cc.Slug, msg}
		}
		fmt.Fprintf(w, "\n%s by cause:\n", group.title)
		if err := renderTable(w, []string{"Count", "Cause", "What the first of them said"}, rows); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\nverdict: %s\n", r.colour.status(status))
	return err
}
