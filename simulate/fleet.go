package simulate

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diapason-cert/diapason-cert/handshake"
)

// Fleet is terminals loading a GAP server: Concurrency terminals each make
// full handshakes one after another until Count have been made or Duration
// has passed, whichever comes first; handshakes under way then finish, within
// the probe's timeout.
type Fleet struct {
	// Probe is what every terminal does; Address is the GAP server. Run
	// checks the credential once, not at every handshake, and traces nothing.
	Probe       handshake.ProbeConfig
	Count       int
	Concurrency int
	Duration    time.Duration
	// Clock measures latencies and the rate; time.Now if nil.
	Clock func() time.Time

	done, failed atomic.Int64
}

// FleetResult is what a fleet saw.
type FleetResult struct {
	Address     string `json:"address"`
	Count       int    `json:"count"`
	Concurrency int    `json:"concurrency"`
	// DurationLimitS is the time bound, in seconds.
	DurationLimitS float64 `json:"duration_limit_s"`
	// Stopped says which bound ended the run: count, duration or interrupted.
	Stopped   string  `json:"stopped"`
	ElapsedS  float64 `json:"elapsed_s"`
	Attempted int64   `json:"attempted"`
	Succeeded int64   `json:"succeeded"`
	Failed    int64   `json:"failed"`
	// Rate is the completed handshakes per second of the run.
	Rate float64 `json:"handshakes_per_second"`
	// Latency is the time from connecting to a completed handshake, in
	// milliseconds, of the handshakes that completed.
	Latency Latency `json:"latency_ms"`
	// Suites counts the completed handshakes by negotiated suite.
	Suites map[string]int64 `json:"suites"`
	// Failures group the failed handshakes by their first cause, the most
	// frequent first; Warnings do the same for completed ones with a warning.
	Failures []CauseCount     `json:"failures"`
	Warnings []CauseCount     `json:"warnings"`
	Status   handshake.Status `json:"status"`
}

// Latency is a summary of durations, in milliseconds.
type Latency struct {
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// CauseCount is how many handshakes ended with one cause, with the message
// and fix of the first of them.
type CauseCount struct {
	Slug    string `json:"slug"`
	Count   int64  `json:"count"`
	Message string `json:"message"`
	Fix     string `json:"fix,omitempty"`
}

// Progress returns the handshakes completed and failed so far; it may be
// called while Run runs.
func (f *Fleet) Progress() (done, failed int64) {
	return f.done.Load(), f.failed.Load()
}

// Run runs the fleet. Cancelling ctx stops it: handshakes cut short are not
// counted.
func (f *Fleet) Run(ctx context.Context) *FleetResult {
	clock := f.Clock
	if clock == nil {
		clock = time.Now
	}
	cfg := f.Probe
	cfg.NoTrace = true
	if cfg.Credential != nil && cfg.Own == nil {
		cfg.Own = handshake.OwnReport(ctx, &cfg)
	}
	res := &FleetResult{Address: cfg.Address, Count: f.Count, Concurrency: f.Concurrency, DurationLimitS: f.Duration.Seconds(),
		Suites: map[string]int64{}, Failures: []CauseCount{}, Warnings: []CauseCount{}, Status: handshake.StatusOK}
	var (
		mu       sync.Mutex
		hist     histogram
		failures = map[string]*CauseCount{}
		warnings = map[string]*CauseCount{}
		tickets  atomic.Int64
	)
	start := clock()
	deadline := start.Add(f.Duration)
	record := func(r *handshake.Result, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		res.Attempted++
		res.Status = handshake.Worse(res.Status, r.Status)
		switch r.Status {
		case handshake.StatusOK, handshake.StatusWarn:
			res.Succeeded++
			f.done.Add(1)
			hist.add(d)
			if r.Negotiated != nil {
				res.Suites[r.Negotiated.Suite.ID]++
			}
			if r.Status == handshake.StatusWarn {
				count(warnings, r.Causes)
			}
		default:
			res.Failed++
			f.failed.Add(1)
			count(failures, r.Causes)
		}
	}
	var wg sync.WaitGroup
	for range max(f.Concurrency, 1) {
		wg.Go(func() {
			for !interrupted(ctx) && tickets.Add(1) <= int64(f.Count) && clock().Before(deadline) {
				t0 := clock()
				r := handshake.Probe(ctx, &cfg)
				d := clock().Sub(t0)
				if interrupted(ctx) && r.Status != handshake.StatusOK {
					return
				}
				record(r, d)
			}
		})
	}
	wg.Wait()
	elapsed := clock().Sub(start)
	res.ElapsedS = elapsed.Seconds()
	switch {
	case interrupted(ctx):
		res.Stopped = "interrupted"
	case res.Attempted >= int64(f.Count):
		res.Stopped = "count"
	default:
		res.Stopped = "duration"
	}
	if elapsed > 0 {
		res.Rate = float64(res.Succeeded) / elapsed.Seconds()
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Latency = Latency{Min: ms(hist.min), P50: ms(hist.quantile(0.5)), P90: ms(hist.quantile(0.9)), P99: ms(hist.quantile(0.99)),
		Max: ms(hist.max), Mean: ms(hist.mean())}
	res.Failures, res.Warnings = sorted(failures), sorted(warnings)
	return res
}

// interrupted reports a context done or past its deadline: a dial reaches
// the deadline, and fails, before the context's own timer marks it done.
func interrupted(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

func count(m map[string]*CauseCount, causes []handshake.Cause) {
	if len(causes) == 0 {
		causes = []handshake.Cause{{Slug: "unexplained"}}
	}
	c := causes[0]
	if e := m[c.Slug]; e != nil {
		e.Count++
		return
	}
	m[c.Slug] = &CauseCount{Slug: c.Slug, Count: 1, Message: c.Message, Fix: c.Fix}
}

func sorted(m map[string]*CauseCount) []CauseCount {
	out := make([]CauseCount, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b CauseCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Slug, b.Slug))
	})
	return out
}
