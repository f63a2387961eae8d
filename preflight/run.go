package preflight

import (
	"context"
	"crypto/x509"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// DefaultJobs is how many steps run at once: the handshakes wait on the
// network and the chain checks on the CPU, so a few overlap well without
// flooding a provider with connections.
const DefaultJobs = 4

// Options are what a run takes from its caller rather than the configuration.
type Options struct {
	// Now is when certificates are judged.
	Now time.Time
	// Clock measures step durations; nil leaves them zero.
	Clock func() time.Time
	// Getenv reads the variables that passphrase-env settings name.
	Getenv func(string) string
	// Fetch downloads CRLs: those given as URLs and those the certificates'
	// distribution points name; nil uses HTTP with the configured timeout.
	Fetch check.Fetcher
	// OCSP asks the responders the certificates name; nil uses HTTP with the
	// configured timeout.
	OCSP check.OCSPPoster
	// CRLCache keeps downloaded CRLs on disk until their nextUpdate; nil keeps
	// them for the run only.
	CRLCache *check.CRLCache
	// Dial opens the live handshakes' connections; nil uses a net.Dialer.
	Dial handshake.DialFunc
	// Jobs bounds the steps run at once; DefaultJobs when zero.
	Jobs int
	// Terminal, when set, is the terminal credential the self-test presents,
	// trusted by the GAP listener through TerminalCA; nil makes an ephemeral
	// one (two fresh RSA keys per run).
	Terminal   *tls12.Certificate
	TerminalCA *x509.Certificate
}

// state is one run: the configuration, what was read, and what several steps share.
type state struct {
	cfg  *Config
	opts Options
	in   *inputs
	// client and server are each credential's check, made once for its steps.
	client, server func() *credCheck
	checkers       []check.RevocationChecker
}

// Run checks the installation cfg describes. Every step runs, whatever the
// others found; the report lists them in a fixed order.
func Run(ctx context.Context, cfg *Config, opts Options) *Report {
	if opts.Getenv == nil {
		opts.Getenv = func(string) string { return "" }
	}
	if opts.Fetch == nil {
		opts.Fetch = check.HTTPFetcher(cfg.Timeout, crlMaxBytes)
	}
	if opts.OCSP == nil {
		opts.OCSP = check.HTTPOCSPPoster(cfg.Timeout, check.OCSPMaxBytes)
	}
	if opts.Jobs <= 0 {
		opts.Jobs = DefaultJobs
	}
	st := &state{cfg: cfg, opts: opts}
	t0 := st.now()
	st.in = st.load(ctx)
	filesStep := st.filesStep()
	filesStep.DurationMS = st.since(t0)
	// The tool's one revocation engine: the CRLs configured first, then what
	// the certificates name (HTTP CRLs, OCSP).
	st.checkers = []check.RevocationChecker{check.NewRevocationEngine(check.RevocationOptions{
		CRLs: st.in.crls, FetchCRL: opts.Fetch, Cache: opts.CRLCache, OCSP: opts.OCSP})}
	st.client = sync.OnceValue(func() *credCheck { return st.checkCredential(ctx, st.in.client) })
	st.server = sync.OnceValue(func() *credCheck { return st.checkCredential(ctx, st.in.server) })

	ids := Steps()
	steps := make([]Step, len(ids))
	steps[0] = filesStep
	st.parallel(len(ids)-1, func(i int) {
		id := ids[i+1]
		start := st.now()
		s := st.step(ctx, id)
		s.ID, s.Title = id, titleOf(id)
		s.DurationMS = st.since(start)
		steps[i+1] = s
	})
	return &Report{At: opts.Now.UTC(), Hierarchy: cfg.Hierarchy, Status: Worst(steps), Counts: count(steps), Steps: steps}
}

// step runs one step.
func (st *state) step(ctx context.Context, id StepID) Step {
	switch id {
	case StepClientProfile, StepClientKey, StepClientChain, StepClientHierarchy, StepClientExpiry, StepClientRevocation:
		return st.credentialStep(ctx, st.client(), id)
	case StepServerProfile, StepServerKey, StepServerChain, StepServerHierarchy, StepServerExpiry, StepServerRevocation:
		return st.credentialStep(ctx, st.server(), id)
	case StepTrustTerminals:
		return st.terminalsTrustStep(ctx)
	case StepTrustProvider:
		return st.providerTrustStep(ctx)
	case StepServerSelfTest:
		return st.selfTestStep(ctx)
	case StepProviderHandshake:
		return st.providerHandshakeStep(ctx)
	case StepServerHandshake:
		return st.serverHandshakeStep(ctx)
	}
	return Step{Status: Unknown, Reason: "no such step"}
}

// parallel runs f(0..n-1), at most opts.Jobs at once, and waits for them.
func (st *state) parallel(n int, f func(i int)) {
	sem := make(chan struct{}, st.opts.Jobs)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			f(i)
		})
	}
	wg.Wait()
}

func (st *state) now() time.Time {
	if st.opts.Clock == nil {
		return time.Time{}
	}
	return st.opts.Clock()
}

func (st *state) since(t0 time.Time) float64 {
	if st.opts.Clock == nil {
		return 0
	}
	return float64(st.opts.Clock().Sub(t0).Microseconds()) / 1000
}

// igcAnchors are the roots the GAP's chains must end at: igc-root when
// configured, else the embedded root of the hierarchy. ok is false when
// igc-root could not be read.
func (st *state) igcAnchors() (anchors []*x509.Certificate, ok bool) {
	if st.cfg.IGCRoot != "" {
		return st.in.igcRoot, !st.in.unread["igc-root"]
	}
	for _, ca := range diapason.IGCSanteCAs() {
		if ca.Root && ca.Hierarchy == st.cfg.Hierarchy {
			anchors = append(anchors, ca.Cert)
		}
	}
	return anchors, true
}

// terminalTrust is how a terminal trusts the GAP server: the IGC-Santé root
// of the hierarchy, or igc-root.
func (st *state) terminalTrust() handshake.Trust {
	if st.cfg.IGCRoot != "" {
		return handshake.Trust{Anchors: st.in.igcRoot, Source: "igc-root " + st.cfg.IGCRoot, Hierarchy: st.cfg.Hierarchy}
	}
	return handshake.Trust{IGCSante: true, Hierarchy: st.cfg.Hierarchy}
}
