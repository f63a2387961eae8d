package commands

import (
	"cmp"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/crypto/ocsp"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/simulate"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// judgeMemory is how long a simulated peer reuses its verdict on a chain it
// has just judged: under load it judges each distinct chain once a second.
const judgeMemory = time.Second

func (r *run) simulateCommand() *cli.Command {
	return &cli.Command{
		Name: "simulate",
		Usage: "stand in for the payment provider (psp) or the GAP server (gap), long-running and, with --fault, badly on purpose; " +
			"or load a GAP server with a fleet of terminals (tpe)",
		Subcommands: []*cli.Command{
			{
				Name: "psp",
				Usage: "a simulated payment provider: requires the GAP client certificate (IGC-Santé ORG AUTH_CLI, CN Client_Diapason_PSP), " +
					"logs a verdict per connection, answers HTTP with a status page; stop with Ctrl-C",
				Flags:  r.simulateServerFlags("psp"),
				Action: func(c *cli.Context) error { return r.simulateServer(c, diapason.LinkPSP) },
			},
			{
				Name: "gap",
				Usage: "a simulated GAP server: requires terminal client certificates (IngeTrust) with their revocation checked, " +
					"logs a verdict per connection, answers HTTP with a status page; stop with Ctrl-C",
				Flags:  r.simulateServerFlags("gap"),
				Action: func(c *cli.Context) error { return r.simulateServer(c, diapason.LinkTPE) },
			},
			r.simulateTPECommand(),
		},
	}
}

func (r *run) simulateServerFlags(sub string) []cli.Flag {
	cred, clients, cas := "the provider's server certificate `FILE` (default with --lab: psp-server)", "GAP", "IGC-Santé CAs embedded, or with --lab the lab's"
	if sub == "gap" {
		cred, clients, cas = "the GAP server certificate `FILE` (SSL_SERVEUR; default with --lab: gap-server)", "terminal", "required unless --lab: the lab's ingetrust"
	}
	faults := make([]string, len(simulate.Faults))
	for i, f := range simulate.Faults {
		faults[i] = string(f.Fault)
	}
	return append([]cli.Flag{
		&cli.StringFlag{Name: "listen", Usage: "listen on `ADDR` (HOST:PORT; port 0 takes a free port, printed at start)"},
		&cli.StringFlag{Name: "cert", Usage: cred + ", a full-chain PEM too"},
		&cli.StringFlag{Name: "key", Usage: "its private key `FILE`"},
		&cli.StringFlag{Name: "chain", Usage: "intermediate certificates to send after it, `FILE`"},
		&cli.StringSliceFlag{Name: "client-ca", Usage: "a `FILE` of CAs the " + clients + " client certificates must chain to, named in the certificate request (repeatable; " + cas + ")"},
		&cli.StringSliceFlag{Name: "crl", Usage: "a CRL `FILE` or http(s) URL to check the client certificates against (repeatable); " +
			"the CRLs and OCSP responders the certificates name are asked too"},
		&cli.StringFlag{Name: "ocsp", Usage: "ask the OCSP responder at `URL` about every client certificate first (terminal certificates name none)"},
		&cli.StringFlag{Name: "revocation", Value: string(handshake.RevocationHard), Usage: "hard: a client certificate whose revocation cannot be checked is refused, as Diapason requires; " +
			"off: not checked (said in every verdict)"},
		&cli.StringFlag{Name: "lab", Usage: "take the credential, the client CAs and the CRLs (followed while serving) from the lab `DIR`"},
		&cli.StringFlag{Name: "fault", Usage: "misbehave on purpose: " + strings.Join(faults, ", ") + " (expired, not-yet-valid, cn-mismatch and revoked re-issue the certificate: they need --lab)"},
		&cli.StringFlag{Name: "cipher", Usage: "accept these suites instead of the Diapason ones (0xC028, 0xC027), as for handshake --cipher"},
		&cli.DurationFlag{Name: "timeout", Value: handshake.DefaultTimeout, Usage: "give up on a handshake (a slow or silent client) after `DURATION`"},
		&cli.IntFlag{Name: "max-connections", Value: simulate.DefaultMaxConns, Usage: "serve at most `N` connections at once; more wait in the listen queue"},
		&cli.DurationFlag{Name: "idle-timeout", Value: simulate.DefaultIdleTimeout, Usage: "after a handshake, wait `DURATION` for the HTTP request before closing"},
		&cli.DurationFlag{Name: "grace", Value: simulate.DefaultGrace, Usage: "on Ctrl-C or SIGTERM, let handshakes under way finish for `DURATION`"},
	}, secretFlags(false)...)
}

// simulateServer is `simulate psp` and `simulate gap`.
func (r *run) simulateServer(c *cli.Context, link diapason.LinkID) error {
	sub := map[diapason.LinkID]string{diapason.LinkPSP: "psp", diapason.LinkTPE: "gap"}[link]
	if c.NArg() > 0 {
		return usageErr(fmt.Sprintf("run 'diapason-cert simulate %s --listen HOST:PORT ...'", sub), "unexpected argument %q", c.Args().First())
	}
	addr := c.String("listen")
	if addr == "" {
		return usageErr("for example --listen 127.0.0.1:8443 (port 0 takes a free port)", "--listen is required")
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return usageErr("for example --listen 127.0.0.1:8443", "--listen %q: %v", addr, err)
	}
	fault, err := simulate.ParseFault(c.String("fault"))
	if err != nil {
		return usageErr("", "--fault: %v", err)
	}
	cfg, err := r.simulateSetup(c, link, fault)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return failErr(fmt.Errorf("cannot listen on %s: %w", addr, err), "choose another address with --listen HOST:PORT (port 0 takes a free one)")
	}
	return r.serveSimulated(c.Context, cfg, ln)
}

// simulated is a simulated server ready to serve, with what it says at start.
type simulated struct {
	srv     *simulate.Server
	sub     string
	started simStarted
	notes   []string
}

// simStarted is the first event of a simulated server.
type simStarted struct {
	Event    string   `json:"event"`
	Address  string   `json:"address"`
	Link     string   `json:"link"`
	Server   string   `json:"server"`
	Presents string   `json:"presents"`
	Trusts   []string `json:"client_cas"`
	Suites   []string `json:"suites"`
	// Revocation is the revocation mode for client certificates.
	Revocation string `json:"revocation"`
	Fault      string `json:"fault,omitempty"`
	// FaultDoes says what the fault makes the server do.
	FaultDoes string `json:"fault_does,omitempty"`
}

// simStopped is the last event.
type simStopped struct {
	Event string `json:"event"`
	simulate.Stats
}

// simConnection is one connection's event.
type simConnection struct {
	Kind string `json:"event"`
	*simulate.Event
}

func (r *run) simulateSetup(c *cli.Context, link diapason.LinkID, fault simulate.Fault) (*simulated, error) {
	timeout := c.Duration("timeout")
	if timeout <= 0 {
		return nil, usageErr("", "--timeout must be positive, like 10s")
	}
	if c.Int("max-connections") < 1 {
		return nil, usageErr("", "--max-connections must be at least 1")
	}
	for _, d := range []struct {
		flag string
		like time.Duration
	}{{"idle-timeout", simulate.DefaultIdleTimeout}, {"grace", simulate.DefaultGrace}} {
		if c.Duration(d.flag) <= 0 {
			return nil, usageErr("", "--%s must be positive, like %s", d.flag, d.like)
		}
	}
	mode, err := handshake.ParseRevocationMode(c.String("revocation"))
	if err != nil {
		return nil, usageErr("", "--revocation: %v", err)
	}
	offer := handshake.DiapasonOffer()
	if v := c.String("cipher"); c.IsSet("cipher") {
		if fault == simulate.FaultSuiteMismatch {
			return nil, usageErr("--fault suite-mismatch chooses the suites itself", "--cipher and --fault suite-mismatch together")
		}
		if offer, err = handshake.ParseOffer(v); err != nil {
			return nil, usageErr("", "--cipher: %v", err)
		}
		if offer.Alias {
			r.infof("%s", handshake.AliasNote())
		}
	}
	if fault == simulate.FaultSuiteMismatch {
		offer = simulate.SuiteMismatchOffer()
	}
	var l *lab.Lab
	var src lab.Source
	if dir := c.String("lab"); dir != "" {
		if src, err = lab.Watch(dir); err != nil {
			hint := certio.Hint(err)
			if errors.Is(err, fs.ErrNotExist) {
				hint = "make a lab with 'diapason-cert lab init DIR', or check the --lab path"
			}
			return nil, unknownErr(err, hint)
		}
		if l, err = src.Current(); err != nil {
			return nil, unknownErr(err, "")
		}
	}

	s := &simulated{sub: "psp"}
	client, role, profile := "GAP", lab.RolePSPServer, diapason.PSPServer
	if link == diapason.LinkTPE {
		s.sub, client, role, profile = "gap", "terminal", lab.RoleGAPServer, diapason.TPEServer
	}
	name := map[string]string{"psp": "simulated payment provider", "gap": "simulated GAP server"}[s.sub]

	cred, keyName, err := r.loadCredential(c, "cert", "key", "chain")
	if err != nil {
		return nil, err
	}
	if cred == nil && l != nil {
		cred, keyName = labCredential(l, role), fmt.Sprintf("the lab's %s key", role)
	}
	if cred == nil {
		return nil, usageErr("give --cert C --key K (and --chain FILE), or --lab DIR", "the %s's certificate is required", name)
	}
	if err := r.checkOwnServerCredential(c.Context, cred, keyName, profile, l, name); err != nil {
		return nil, err
	}
	if fault.ChangesCredential() {
		if cred, err = r.faultyCredential(c, fault, cred, l); err != nil {
			return nil, err
		}
	}

	trust, names, err := r.simulateClientTrust(c, link, l)
	if err != nil {
		return nil, err
	}
	checkers, err := r.simulateRevocation(c, src, timeout)
	if err != nil {
		return nil, err
	}
	if fault == simulate.FaultWrongCANames {
		names = []*x509.Certificate{simulate.WrongCAName()}
	}
	peerProfile := diapason.PSPClient
	if link == diapason.LinkTPE {
		peerProfile = diapason.TPEClient
	}
	hs := &handshake.Server{
		Link: link, Credential: *cred, Offer: offer, ClientCAs: names,
		Peer: &handshake.PeerPolicy{Profile: peerProfile, Trust: trust, Remember: judgeMemory,
			Revocation: handshake.RevocationPolicy{Mode: mode, Required: true, Checkers: checkers}},
		Now: r.env.Now, Clock: time.Now, Timeout: timeout, NoTrace: true,
		NoClientCertRequest: fault == simulate.FaultNoClientCertRequest, MaxHandshakeMessage: simulate.MaxHandshakeMessage,
	}
	s.srv = &simulate.Server{TLS: hs, Fault: fault, Name: fmt.Sprintf("%s (simulate %s)", name, s.sub), MaxConns: c.Int("max-connections"),
		IdleTimeout: c.Duration("idle-timeout"), Grace: c.Duration("grace")}
	s.started = simStarted{Event: "listening", Link: string(link), Server: name,
		Presents: nameOf(cred.Chain[0]), Trusts: []string{}, Revocation: string(mode), Fault: string(fault), FaultDoes: fault.Info().Does}
	for _, ca := range names {
		s.started.Trusts = append(s.started.Trusts, nameOf(ca))
	}
	for _, id := range offer.Suites {
		d := handshake.DescribeSuite(id)
		s.started.Suites = append(s.started.Suites, d.ID+" "+d.IANA)
	}
	if mode == handshake.RevocationOff {
		s.notes = append(s.notes, fmt.Sprintf("--revocation off: %s certificates are accepted without a revocation check, which Diapason does not allow", client))
	}
	if fault == simulate.FaultWrongCANames {
		s.notes = append(s.notes, fmt.Sprintf("--fault wrong-ca-names: the certificate request names %q; the %s certificates are still checked against %s",
			nameOf(names[0]), client, trust.Source))
	}
	return s, nil
}

// checkOwnServerCredential refuses a credential that cannot serve, and warns
// about what a real peer would object to.
func (r *run) checkOwnServerCredential(ctx context.Context, cred *tls12.Certificate, keyName string, profile diapason.ProfileID, l *lab.Lab, name string) error {
	var cas []*x509.Certificate
	if l != nil {
		cas = append(l.Anchors(), l.Intermediates()...)
	}
	rep := handshake.ServerCredentialReport(ctx, *cred, keyName, profile, "", cas, r.env.Now())
	for _, f := range rep.Findings {
		switch {
		case f.Slug == "key-mismatch":
			return usageErr("give the key of --cert's certificate (or the certificate of --key)", "%s", f.Message)
		case f.Slug == "key-not-rsa":
			return usageErr("the Diapason suites (ECDHE_RSA) need an RSA server key", "%s", f.Message)
		case f.Level == check.Fail || f.Level == check.Warn:
			r.warnf("the %s's own certificate: %s", name, f.Message)
		}
	}
	return nil
}

// faultyCredential makes the credential a fault presents, with the lab's CA
// when the fault re-issues the certificate; revoked is revoked in the lab.
func (r *run) faultyCredential(c *cli.Context, fault simulate.Fault, cred *tls12.Certificate, l *lab.Lab) (*tls12.Certificate, error) {
	var issuer *simulate.CA
	if l != nil {
		if ca, ok := l.IssuerOf(cred.Chain[0]); ok {
			issuer = &simulate.CA{Cert: ca.Cert, Key: ca.Key}
		}
	}
	now := r.env.Now()
	out, what, err := simulate.Credential(fault, *cred, issuer, now)
	switch {
	case errors.Is(err, simulate.ErrNeedsCA) && l == nil:
		return nil, usageErr("give the lab that issued the certificate with --lab DIR (diapason-cert lab init makes one)", "--fault %s: %v", fault, err)
	case errors.Is(err, simulate.ErrNeedsCA):
		return nil, usageErr("leave out --cert/--key to use the lab's own credential", "--fault %s: %v, and %q was not issued by the lab %s", fault, err, cred.Chain[0].Subject.CommonName, l.Dir())
	case err != nil:
		return nil, usageErr("", "--fault %s: %v", fault, err)
	}
	if fault == simulate.FaultRevoked {
		rev, err := l.Revoke(out.Chain[0], ocsp.KeyCompromise, now)
		if err != nil {
			return nil, failErr(fmt.Errorf("--fault revoked: revoking the copy in the lab: %w", err), "")
		}
		what += fmt.Sprintf("; revoked in the lab (%s CRL number %d, %s): 'lab serve' publishes it", rev.CA, rev.CRLNumber, rev.CRLFile)
	}
	r.infof("--fault %s: presenting %s", fault, what)
	return &out, nil
}

// simulateClientTrust returns what client certificates must chain to, and
// the CAs named in the certificate request.
func (r *run) simulateClientTrust(c *cli.Context, link diapason.LinkID, l *lab.Lab) (handshake.Trust, []*x509.Certificate, error) {
	var anchors []*x509.Certificate
	var files []string
	for _, f := range c.StringSlice("client-ca") {
		certs, err := r.loadAnchors(f)
		if err != nil {
			return handshake.Trust{}, nil, err
		}
		anchors, files = append(anchors, certs...), append(files, f)
	}
	switch {
	case len(anchors) > 0:
		return handshake.Trust{Anchors: anchors, Source: "--client-ca " + strings.Join(files, ", ")}, anchors, nil
	case l != nil && link == diapason.LinkPSP:
		root, org := l.CA(lab.CAIGCRoot).Cert, l.CA(lab.CAIGCOrg).Cert
		return handshake.Trust{Anchors: []*x509.Certificate{root}, Source: "the lab's igc-root"}, []*x509.Certificate{org, root}, nil
	case l != nil:
		inge := l.CA(lab.CAIngeTrust).Cert
		return handshake.Trust{Anchors: []*x509.Certificate{inge}, Source: "the lab's ingetrust"}, []*x509.Certificate{inge}, nil
	case link == diapason.LinkPSP:
		var names []*x509.Certificate
		for _, ca := range diapason.IGCSanteCAs() {
			names = append(names, ca.Cert)
		}
		return handshake.Trust{IGCSante: true}, names, nil
	}
	return handshake.Trust{}, nil, usageErr("give the terminal CA (IngeTrust, from Ingenico) with --client-ca FILE, or --lab DIR",
		"--client-ca is required: nothing about IngeTrust is embedded")
}

// simulateRevocation gathers the revocation sources of client certificates:
// the lab's CRLs as they change, then one engine for the --crl files and
// downloads, the --ocsp responder, and the CRLs and OCSP responders the
// certificates name. Downloads give up within the handshake deadline.
func (r *run) simulateRevocation(c *cli.Context, src lab.Source, timeout time.Duration) ([]check.RevocationChecker, error) {
	var out []check.RevocationChecker
	if src != nil {
		out = append(out, &labCRLs{src: src})
	}
	var crls []check.NamedCRL
	for _, s := range c.StringSlice("crl") {
		got, err := r.loadCRLSource(c.Context, s, timeout)
		if err != nil {
			return nil, err
		}
		crls = append(crls, got...)
	}
	var responders []string
	if u := c.String("ocsp"); u != "" {
		if lower := strings.ToLower(u); !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
			return nil, usageErr("for example --ocsp http://127.0.0.1:8880/ocsp", "--ocsp %q is not an http(s) URL", u)
		}
		responders = []string{u}
	}
	return append(out, check.NewRevocationEngine(check.RevocationOptions{
		CRLs: crls, FetchCRL: check.HTTPFetcher(min(timeout, check.CRLTimeout), check.CRLMaxBytes),
		OCSP: check.HTTPOCSPPoster(min(timeout, check.OCSPTimeout), check.OCSPMaxBytes), OCSPResponders: responders,
	})), nil
}

// labCRLs checks against the lab's CRLs as they are now, so that a 'lab
// revoke' run while serving takes effect.
type labCRLs struct {
	src     lab.Source
	mu      sync.Mutex
	cur     *lab.Lab
	checker *check.CRLChecker
}

func (k *labCRLs) CheckRevocation(ctx context.Context, cert, issuer *x509.Certificate, now time.Time) check.Revocation {
	l, err := k.src.Current()
	if err != nil {
		return check.Revocation{Status: check.RevocationUnknown, Source: "the lab", Message: fmt.Sprintf("the lab's CRLs cannot be read: %v", err)}
	}
	k.mu.Lock()
	if l != k.cur {
		var crls []check.NamedCRL
		for i, crl := range l.CRLs() {
			crls = append(crls, check.NamedCRL{Name: "of the lab's " + string(lab.CANames()[i]), CRL: crl})
		}
		k.cur, k.checker = l, check.NewCRLChecker(crls...)
	}
	checker := k.checker
	k.mu.Unlock()
	return checker.CheckRevocation(ctx, cert, issuer, now)
}

// serveSimulated serves until the command's context is cancelled (Ctrl-C,
// SIGTERM), writing one line or JSON object per event.
func (r *run) serveSimulated(ctx context.Context, s *simulated, ln net.Listener) error {
	var mu sync.Mutex
	var werr error
	write := func(v any, text string) {
		mu.Lock()
		defer mu.Unlock()
		if werr != nil {
			return
		}
		if r.global.output == outputJSON {
			line, err := jsonLine(v)
			if err != nil {
				werr = err
				return
			}
			_, werr = r.env.Stdout.Write(line)
			return
		}
		_, werr = io.WriteString(r.env.Stdout, text+"\n")
	}
	r.emitted = true
	s.started.Address = ln.Addr().String()
	write(s.started, fmt.Sprintf("listening on %s (%s)", s.started.Address, s.started.Server))
	r.infof("presenting %q; %s certificates must chain to %s; revocation %s; suites %s; stop with Ctrl-C",
		s.started.Presents, map[string]string{"psp": "GAP", "gap": "terminal"}[s.sub], strings.Join(s.started.Trusts, " or "),
		s.started.Revocation, strings.Join(s.started.Suites, ", "))
	if s.started.Fault != "" {
		r.infof("--fault %s: the server %s", s.started.Fault, s.started.FaultDoes)
	}
	for _, n := range s.notes {
		r.warnf("%s", n)
	}
	s.srv.Log = func(e simulate.Event) {
		write(simConnection{Kind: "connection", Event: &e}, r.connectionLine(e))
	}
	stats, err := s.srv.Serve(ctx, ln)
	if err != nil {
		return failErr(fmt.Errorf("serving on %s: %w", s.started.Address, err), "")
	}
	write(simStopped{Event: "stopped", Stats: stats}, stoppedLine(stats))
	if werr != nil {
		return failErr(fmt.Errorf("writing the log: %w", werr), "")
	}
	return nil
}

// jsonLine is one compact JSON object with schema_version first, and a newline.
func jsonLine(v any) ([]byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the JSON event: %w", err)
	}
	line := fmt.Appendf(nil, `{"schema_version":%d,`, schemaVersion)
	line = append(line, body[1:]...)
	return append(line, '\n'), nil
}

// connectionLine is the text log line of one connection.
func (r *run) connectionLine(e simulate.Event) string {
	status := map[handshake.Status]Status{handshake.StatusOK: StatusOK, handshake.StatusWarn: StatusWarn,
		handshake.StatusUnknown: StatusUnknown, handshake.StatusFail: StatusFail}[e.Status]
	line := fmt.Sprintf("%s %s %s", e.At.Format(time.RFC3339), e.Remote, r.colour.status(status))
	if e.Status == handshake.StatusOK && e.ClientCertificate != nil {
		line += fmt.Sprintf(" %s %q accepted", e.Suite, e.ClientCertificate.Subject)
	} else if len(e.Causes) > 0 {
		line += fmt.Sprintf(" %s: %s", e.Causes[0].Slug, e.Summary)
	} else {
		line += " " + e.Summary
	}
	if q := e.Request; q != nil {
		if q.Method == "" {
			line += fmt.Sprintf("; unreadable HTTP request: %d", q.Status)
		} else {
			line += fmt.Sprintf("; %s %s %s %d", q.Method, q.Path, q.Proto, q.Status)
		}
	}
	return line
}

func stoppedLine(st simulate.Stats) string {
	line := fmt.Sprintf("stopped after %d connections: %d OK, %d WARN, %d FAIL; %d HTTP requests answered", st.Connections, st.OK, st.Warn, st.Fail, st.Requests)
	if len(st.Causes) > 0 {
		var parts []string
		for _, cc := range sortedCounts(st.Causes) {
			parts = append(parts, fmt.Sprintf("%s %d", cc.slug, cc.n))
		}
		line += "; causes: " + strings.Join(parts, ", ")
	}
	return line
}

type slugCount struct {
	slug string
	n    int64
}

func sortedCounts(m map[string]int64) []slugCount {
	out := make([]slugCount, 0, len(m))
	for k, v := range m {
		out = append(out, slugCount{k, v})
	}
	slices.SortFunc(out, func(a, b slugCount) int { return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.slug, b.slug)) })
	return out
}

func nameOf(c *x509.Certificate) string { return labSubject(c) }
