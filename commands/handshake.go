package commands

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

func (r *run) handshakeCommand() *cli.Command {
	return &cli.Command{
		Name:  "handshake",
		Usage: "prove a Diapason mutual-TLS link live, as the GAP towards a provider (psp) or as a terminal towards the GAP (tpe), and explain any failure",
		Subcommands: []*cli.Command{
			{
				Name: "psp",
				Usage: "act as the GAP: connect to the payment provider with the GAP client certificate (ORG AUTH_CLI), " +
					"verify the provider's chain against --ca, its dates, name and revocation",
				ArgsUsage: "HOST:PORT",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "cert", Usage: "the GAP client certificate `FILE` (PEM or DER; a full-chain PEM too)"},
					&cli.StringFlag{Name: "key", Usage: "its private key `FILE`"},
					&cli.StringFlag{Name: "chain", Usage: "intermediate certificates to send after it, `FILE` (ACI-EL-ORG.cer for IGC-Santé)"},
					&cli.StringFlag{Name: "p12", Usage: "take the certificate, key and chain from the PKCS#12 `FILE` the IGC-Santé platform delivered"},
					&cli.StringFlag{Name: "ca", Usage: "the CA `FILE` the provider's certificate chains to (GeoTrust/DigiCert root, from the provider)"},
					&cli.StringFlag{Name: "servername", Usage: "the provider's server `NAME`, sent as SNI and checked against its certificate (default: the host)"},
				}, handshakeFlags()...),
				Action: r.handshakePSP,
			},
			{
				Name: "tpe",
				Usage: "act as a payment terminal: connect to the GAP server at HOST:PORT and check its certificate as a terminal does " +
					"(CN = --fqdn exactly, IGC-Santé root, dates); without HOST:PORT, self-test a server credential on loopback",
				ArgsUsage: "[HOST:PORT]",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "fqdn", Usage: "the `FQDN` the terminals are configured with: the server certificate's CN must be exactly that (required, default from --lab)"},
					&cli.StringFlag{Name: "hierarchy", Usage: "the IGC-Santé root the terminal trusts: production or test (default: the one of the server certificate's issuer), or lab"},
					&cli.StringFlag{Name: "ca", Usage: "trust the CA `FILE` instead of the hierarchy's embedded root"},
					&cli.StringFlag{Name: "cert", Usage: "a terminal certificate `FILE` to present (IngeTrust; without it the server side is checked alone)"},
					&cli.StringFlag{Name: "key", Usage: "its private key `FILE`"},
					&cli.StringFlag{Name: "chain", Usage: "intermediate certificates to send after the terminal certificate, `FILE`"},
					&cli.StringFlag{Name: "server-cert", Usage: "self-test: the GAP server certificate `FILE` (SSL_SERVEUR; a full-chain PEM too)"},
					&cli.StringFlag{Name: "server-key", Usage: "self-test: its private key `FILE`"},
					&cli.StringFlag{Name: "server-chain", Usage: "self-test: the intermediates the server sends, `FILE` (ACI-EL-ORG.cer)"},
					&cli.StringFlag{Name: "client-ca", Usage: "self-test with --cert: the terminal CA `FILE` (IngeTrust) the GAP listener trusts"},
				}, handshakeFlags()...),
				Action: r.handshakeTPE,
			},
		},
	}
}

// handshakeFlags are the flags both probes share.
func handshakeFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "lab", Usage: "take credentials, anchors and CRLs from the lab `DIR` made by 'diapason-cert lab init'"},
		&cli.DurationFlag{Name: "timeout", Value: handshake.DefaultTimeout, Usage: "give up on the TCP connection, and on the handshake, after `DURATION` each"},
		&cli.StringFlag{Name: "cipher", Usage: "offer these suites instead of the Diapason ones (0xC028, 0xC027): IANA or OpenSSL names, code points, " +
			"the ASIP sheet's name, or 'diapason', separated by commas (e.g. diapason,ECDHE-RSA-AES256-GCM-SHA384)"},
		&cli.StringFlag{Name: "revocation", Value: string(handshake.RevocationSoft), Usage: "revocation of the server certificate: off, soft (unknown = warning) or hard (unknown = failure); " +
			"a client certificate's is always required unless off"},
		&cli.StringSliceFlag{Name: "crl", Usage: "a CRL `FILE` or http(s) URL to check revocation against (repeatable)"},
		&cli.BoolFlag{Name: "trace", Usage: "draw every handshake message as a ladder diagram (and add them to the JSON)"},
		&cli.StringFlag{Name: "report", Usage: "write a shareable Markdown report (no private material) to `FILE`"},
		&cli.BoolFlag{Name: "force", Usage: "replace an existing --report file, keeping a timestamped backup"},
	}, secretFlags(false)...)
}

// handshakeSetup is what both subcommands read from their flags.
type handshakeSetup struct {
	lab        *lab.Lab
	offer      handshake.Offer
	revocation handshake.RevocationMode
	checkers   []check.RevocationChecker
	timeout    time.Duration
}

func (r *run) handshakeSetup(c *cli.Context) (*handshakeSetup, error) {
	s := &handshakeSetup{offer: handshake.DiapasonOffer(), timeout: c.Duration("timeout")}
	if s.timeout <= 0 {
		return nil, usageErr("", "--timeout must be positive, like 10s")
	}
	if v := c.String("cipher"); c.IsSet("cipher") {
		o, err := handshake.ParseOffer(v)
		if err != nil {
			return nil, usageErr("", "--cipher: %v", err)
		}
		s.offer = o
		if o.Alias {
			r.infof("%s", handshake.AliasNote())
		}
	}
	mode, err := handshake.ParseRevocationMode(c.String("revocation"))
	if err != nil {
		return nil, usageErr("", "--revocation: %v", err)
	}
	s.revocation = mode
	if dir := c.String("lab"); dir != "" {
		l, err := lab.Open(dir)
		if err != nil {
			hint := certio.Hint(err)
			if errors.Is(err, fs.ErrNotExist) {
				hint = "make a lab with 'diapason-cert lab init DIR', or check the --lab path"
			}
			return nil, unknownErr(err, hint)
		}
		s.lab = l
	}
	var crls []check.NamedCRL
	if s.lab != nil {
		for i, crl := range s.lab.CRLs() {
			crls = append(crls, check.NamedCRL{Name: "of the lab's " + string(lab.CANames()[i]), CRL: crl})
		}
	}
	for _, src := range c.StringSlice("crl") {
		got, err := r.loadCRLSource(c.Context, src, s.timeout)
		if err != nil {
			return nil, err
		}
		crls = append(crls, got...)
	}
	// The tool's one revocation engine: the CRLs given, then the certificate's HTTP
	// CRL distribution points (cached on disk), then its OCSP responders.
	if mode != handshake.RevocationOff {
		s.checkers = []check.RevocationChecker{check.NewRevocationEngine(check.RevocationOptions{CRLs: crls,
			FetchCRL: check.HTTPFetcher(s.timeout, check.CRLMaxBytes), Cache: r.crlCache(c),
			OCSP: check.HTTPOCSPPoster(s.timeout, check.OCSPMaxBytes)})}
	}
	return s, nil
}

// crlMaxBytes bounds a CRL download: IGC-Santé CRLs are a few megabytes.
const crlMaxBytes = 64 << 20

// loadCRLSource reads the CRLs of a --crl file, or downloads them from a URL.
func (r *run) loadCRLSource(ctx context.Context, src string, timeout time.Duration) ([]check.NamedCRL, error) {
	var crls []*x509.RevocationList
	if lower := strings.ToLower(src); strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		data, err := check.HTTPFetcher(timeout, crlMaxBytes)(ctx, src)
		if err == nil {
			var contents *certio.Contents
			if contents, err = certio.Decode(src, data); err == nil {
				if crls = contents.CRLs(); len(crls) == 0 {
					err = errors.New("the download holds no CRL")
				}
			}
		}
		if err != nil {
			return nil, unknownErr(fmt.Errorf("--crl %s: %w", src, err), "check the URL, or download the CRL and give the file with --crl")
		}
	} else {
		var err error
		if crls, err = r.loader().LoadCRLs(src); err != nil {
			return nil, r.readError(err)
		}
	}
	out := make([]check.NamedCRL, len(crls))
	for i, crl := range crls {
		out[i] = check.NamedCRL{Name: src, CRL: crl}
	}
	return out, nil
}

// loadCredential reads a certificate, its key and the intermediates to send
// from certFlag, keyFlag and chainFlag. The certificate file may hold a full
// chain: the certificate of the key is the leaf, the others are sent after
// it, in issuing order. Certificates that are not part of the leaf's chain are
// left out, with a note. Nothing given returns nil.
func (r *run) loadCredential(c *cli.Context, certFlag, keyFlag, chainFlag string) (*tls12.Certificate, string, error) {
	certPath, keyPath := c.String(certFlag), c.String(keyFlag)
	switch {
	case certPath == "" && keyPath == "":
		if c.String(chainFlag) != "" {
			return nil, "", usageErr("", "--%s without --%s: give the certificate the chain belongs to", chainFlag, certFlag)
		}
		return nil, "", nil
	case certPath == "":
		return nil, "", usageErr("", "--%s without --%s: give the certificate of that key", keyFlag, certFlag)
	case keyPath == "":
		return nil, "", usageErr("", "--%s without --%s: give its private key", certFlag, keyFlag)
	}
	certs, err := r.loader().LoadCertificates(certPath)
	if err != nil {
		return nil, "", r.readError(err)
	}
	key, _, err := r.loadKey(c, keyPath)
	if err != nil {
		return nil, "", err
	}
	if p := c.String(chainFlag); p != "" {
		more, err := r.loader().LoadCertificates(p)
		if err != nil {
			return nil, "", r.readError(err)
		}
		certs = append(certs, more...)
	}
	leaf := certs[0]
	for _, cert := range certs {
		if certio.KeyMatches(cert, key.Public()) {
			leaf = cert
			break
		}
	}
	return &tls12.Certificate{Chain: r.sendOrder(leaf, certs), Key: key}, certio.DisplayName(keyPath), nil
}

// sendOrder puts the leaf first and the given CAs of its chain after it, in
// issuing order; given certificates outside the chain are not sent.
func (r *run) sendOrder(leaf *x509.Certificate, given []*x509.Certificate) []*x509.Certificate {
	var others []*x509.Certificate
	for _, g := range given {
		if !g.Equal(leaf) {
			others = append(others, g)
		}
	}
	chain := check.NewChainBuilder(check.ChainOptions{}).Build(context.Background(), leaf, others, r.env.Now())
	out := []*x509.Certificate{leaf}
	for _, cc := range chain.Certificates[1:] {
		if cc.Source == check.SourceGiven {
			out = append(out, cc.Cert)
		}
	}
	for _, u := range chain.Unused {
		r.infof("%q is not in the chain of %q: it is not sent", u.Subject, leaf.Subject.CommonName)
	}
	return out
}

func (r *run) loadAnchors(path string) ([]*x509.Certificate, error) {
	certs, err := r.loader().LoadCertificates(path)
	if err != nil {
		return nil, r.readError(err)
	}
	return certs, nil
}

// labCredential is a lab role's certificate with the chain it sends.
func labCredential(l *lab.Lab, role lab.Role) *tls12.Certificate {
	cred := l.Credential(role)
	return &tls12.Certificate{Chain: append([]*x509.Certificate{cred.Cert}, cred.Intermediates()...), Key: cred.Key}
}

func (r *run) handshakePSP(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert handshake psp HOST:PORT --cert C --key K --ca FILE'", "handshake psp takes the provider's HOST:PORT, got %d arguments", c.NArg())
	}
	addr := c.Args().First()
	host, err := splitAddress(addr)
	if err != nil {
		return err
	}
	s, err := r.handshakeSetup(c)
	if err != nil {
		return err
	}
	cred, keyName, err := r.loadCredential(c, "cert", "key", "chain")
	if err != nil {
		return err
	}
	if p := c.String("p12"); p != "" {
		if cred != nil {
			return usageErr("give the client certificate one way", "--p12 and --cert both name the client certificate")
		}
		if cred, err = r.loadP12Credential(c, p); err != nil {
			return err
		}
		keyName = certio.DisplayName(p)
	}
	if cred == nil && s.lab != nil {
		cred, keyName = labCredential(s.lab, lab.RoleGAPClient), "the lab's gap-client key"
	}
	if cred == nil {
		return usageErr("give --cert C --key K (and --chain FILE), --p12 FILE, or --lab DIR", "the GAP client certificate (ORG AUTH_CLI, CN Client_Diapason_PSP) is required")
	}
	trust := handshake.Trust{}
	switch {
	case c.String("ca") != "":
		if trust.Anchors, err = r.loadAnchors(c.String("ca")); err != nil {
			return err
		}
		trust.Source = "--ca " + c.String("ca")
	case s.lab != nil:
		trust.Anchors, trust.Source = []*x509.Certificate{s.lab.CA(lab.CAGeoTrustRoot).Cert}, "the lab's geotrust-root"
	default:
		return usageErr("give the CA the provider's certificate chains to (its GeoTrust/DigiCert root, supplied by the provider)", "--ca is required")
	}
	name := c.String("servername")
	switch {
	case name != "":
	case net.ParseIP(host) == nil:
		name = host
	case s.lab != nil:
		name = lab.PSPFQDN
	default:
		r.infof("%s is an IP address: the provider's certificate is checked against it; give --servername to check its name", host)
		name = host
	}
	var ownCAs []*x509.Certificate
	if s.lab != nil {
		ownCAs = append(s.lab.Anchors(), s.lab.Intermediates()...)
	}
	res := handshake.Probe(c.Context, &handshake.ProbeConfig{
		Link: diapason.LinkPSP, Address: addr, ServerName: name, Credential: cred, KeyName: keyName, OwnCAs: ownCAs,
		Offer: s.offer, Timeout: s.timeout, Now: r.env.Now(), Clock: time.Now,
		Peer: &handshake.PeerPolicy{Profile: diapason.PSPServer, Trust: trust, Name: name,
			Revocation: handshake.RevocationPolicy{Mode: s.revocation, Checkers: s.checkers}},
	})
	return r.emitHandshake(c, "psp", res)
}

func (r *run) loadP12Credential(c *cli.Context, path string) (*tls12.Certificate, error) {
	pass := func() ([]byte, error) {
		return r.secret(c, unlockSecret, "the PKCS#12 file "+certio.DisplayName(path))
	}
	p, err := r.loader().LoadPKCS12(path, pass)
	if err != nil {
		if errors.Is(err, certio.ErrWrongPassphrase) {
			return nil, unknownErr(err, "the file is intact, the passphrase does not open it: check --passphrase-file or --passphrase-env")
		}
		return nil, r.readError(err)
	}
	return &tls12.Certificate{Chain: r.sendOrder(p.Leaf, p.CACerts), Key: p.Key}, nil
}

func (r *run) handshakeTPE(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageErr("run 'diapason-cert handshake tpe [HOST:PORT] --fqdn F'", "handshake tpe takes at most one HOST:PORT, got %d arguments", c.NArg())
	}
	s, err := r.handshakeSetup(c)
	if err != nil {
		return err
	}
	fqdn := strings.TrimSpace(c.String("fqdn"))
	if fqdn == "" && s.lab != nil {
		fqdn = s.lab.FQDN()
	}
	if fqdn == "" {
		return usageErr("give the FQDN the terminals are configured with, e.g. --fqdn gap.chu-exemple.fr", "--fqdn is required")
	}
	trust, terminal, keyName, err := r.terminalSide(c, s)
	if err != nil {
		return err
	}
	if c.NArg() == 1 {
		return r.handshakeTPEProbe(c, s, c.Args().First(), fqdn, trust, terminal, keyName)
	}
	return r.handshakeTPESelfTest(c, s, fqdn, trust, terminal, keyName)
}

// terminalSide is what a terminal trusts and presents, for `handshake tpe` and
// `simulate tpe`: the IGC-Santé root of --hierarchy (or of the server's issuer),
// --ca, or the lab's root; the --cert/--key/--chain credential or the lab's
// tpe-client, nil when neither is given.
func (r *run) terminalSide(c *cli.Context, s *handshakeSetup) (handshake.Trust, *tls12.Certificate, string, error) {
	var err error
	trust := handshake.Trust{IGCSante: true}
	if v := c.String("hierarchy"); v != "" {
		if trust.Hierarchy, err = diapason.ParseHierarchy(v); err != nil {
			return trust, nil, "", usageErr("", "--hierarchy: %v", err)
		}
	}
	switch {
	case c.String("ca") != "":
		if trust.Anchors, err = r.loadAnchors(c.String("ca")); err != nil {
			return trust, nil, "", err
		}
		trust.Source = "--ca " + c.String("ca")
	case s.lab != nil && (trust.Hierarchy == "" || trust.Hierarchy == diapason.HierarchyLab):
		trust.Anchors, trust.Source, trust.Hierarchy = []*x509.Certificate{s.lab.CA(lab.CAIGCRoot).Cert}, "the lab's igc-root", diapason.HierarchyLab
	case trust.Hierarchy == diapason.HierarchyLab:
		return trust, nil, "", usageErr("give the lab with --lab DIR, or its root with --ca", "--hierarchy lab has no embedded root")
	}
	terminal, keyName, err := r.loadCredential(c, "cert", "key", "chain")
	if err != nil {
		return trust, nil, "", err
	}
	if terminal == nil && s.lab != nil {
		terminal, keyName = labCredential(s.lab, lab.RoleTPEClient), "the lab's tpe-client key"
	}
	return trust, terminal, keyName, nil
}

func (r *run) handshakeTPEProbe(c *cli.Context, s *handshakeSetup, addr, fqdn string, trust handshake.Trust, terminal *tls12.Certificate, keyName string) error {
	for _, f := range []string{"server-cert", "server-key", "server-chain", "client-ca"} {
		if c.String(f) != "" {
			return usageErr("--server-cert, --server-key, --server-chain and --client-ca are for the self-test, without HOST:PORT", "--%s with HOST:PORT", f)
		}
	}
	if _, err := splitAddress(addr); err != nil {
		return err
	}
	var ownCAs []*x509.Certificate
	if s.lab != nil {
		ownCAs = append(s.lab.Anchors(), s.lab.Intermediates()...)
	}
	res := handshake.Probe(c.Context, &handshake.ProbeConfig{
		Link: diapason.LinkTPE, Address: addr, ServerName: fqdn, Credential: terminal, KeyName: keyName, OwnCAs: ownCAs,
		Offer: s.offer, Timeout: s.timeout, Now: r.env.Now(), Clock: time.Now,
		Peer: &handshake.PeerPolicy{Profile: diapason.TPEServer, Trust: trust, Name: fqdn,
			Revocation: handshake.RevocationPolicy{Mode: s.revocation, Checkers: s.checkers}},
	})
	return r.emitHandshake(c, "tpe", res)
}

func (r *run) handshakeTPESelfTest(c *cli.Context, s *handshakeSetup, fqdn string, trust handshake.Trust, terminal *tls12.Certificate, keyName string) error {
	server, serverKey, err := r.loadCredential(c, "server-cert", "server-key", "server-chain")
	if err != nil {
		return err
	}
	if server == nil && s.lab != nil {
		server, serverKey = labCredential(s.lab, lab.RoleGAPServer), "the lab's gap-server key"
	}
	if server == nil {
		return usageErr("give HOST:PORT to test a running GAP server, or the credential to self-test with --server-cert, --server-key and --server-chain (or --lab DIR)",
			"nothing to test")
	}
	cfg := &handshake.SelfTestConfig{
		FQDN: fqdn, Server: *server, ServerKeyName: serverKey, TerminalKeyName: keyName,
		ServerTrust: trust, ServerRevocation: handshake.RevocationPolicy{Mode: s.revocation, Checkers: s.checkers},
		Offer: s.offer, Timeout: s.timeout, Now: r.env.Now(), Clock: time.Now,
	}
	if terminal != nil {
		cfg.Terminal = terminal
		cfg.TerminalRevocation = handshake.RevocationPolicy{Mode: s.revocation, Required: true, Checkers: s.checkers}
		switch {
		case c.String("client-ca") != "":
			anchors, err := r.loadAnchors(c.String("client-ca"))
			if err != nil {
				return err
			}
			cfg.TerminalTrust = handshake.Trust{Anchors: anchors, Source: "--client-ca " + c.String("client-ca")}
		case s.lab != nil:
			cfg.TerminalTrust = handshake.Trust{Anchors: []*x509.Certificate{s.lab.CA(lab.CAIngeTrust).Cert}, Source: "the lab's ingetrust CA"}
		default:
			return usageErr("give the terminal CA (IngeTrust) the GAP listener trusts with --client-ca FILE, or leave out --cert to use an ephemeral terminal",
				"--client-ca is required with --cert in a self-test")
		}
	} else if c.String("client-ca") != "" {
		return usageErr("", "--client-ca without --cert: the ephemeral terminal needs no CA")
	}
	res, err := handshake.SelfTest(c.Context, cfg)
	if err != nil {
		return failErr(err, "")
	}
	return r.emitHandshake(c, "tpe", res)
}

// splitAddress checks HOST:PORT and returns the host.
func splitAddress(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || port == "" {
		return "", usageErr("give HOST:PORT, e.g. psp.example.fr:443 or 192.0.2.10:8443", "invalid address %q", addr)
	}
	return host, nil
}

// emitHandshake writes the report file if asked, then the result.
func (r *run) emitHandshake(c *cli.Context, sub string, res *handshake.Result) error {
	if path := c.String("report"); path != "" {
		md := handshake.Markdown(res, "diapason-cert "+appVersion())
		if _, err := certio.WriteFile(path, md, certio.WriteOptions{Mode: 0o644, Force: c.Bool("force"), Now: r.env.Now()}); err != nil {
			return r.writeError(err)
		}
		r.infof("report written to %s", path)
	}
	if !c.Bool("trace") {
		res.Trace = nil
		if res.SelfTest != nil && res.SelfTest.ServerSide != nil {
			res.SelfTest.ServerSide.Trace = nil
		}
	}
	status := map[handshake.Status]Status{handshake.StatusOK: StatusOK, handshake.StatusWarn: StatusWarn,
		handshake.StatusUnknown: StatusUnknown, handshake.StatusFail: StatusFail}[res.Status]
	return r.emit(status, res, func(w io.Writer) error { return r.renderHandshake(w, sub, res, c.Bool("trace")) })
}
