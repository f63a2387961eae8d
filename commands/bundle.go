package commands

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/bundle"
	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/csr"
	"github.com/diapason-cert/diapason-cert/diapason"
)

func (r *run) bundleCommand() *cli.Command {
	return &cli.Command{
		Name:  "bundle",
		Usage: "package certificates as the GAP installs them: full chain and PKCS#12, the CA's PKCS#12 taken apart, truststores",
		Subcommands: []*cli.Command{
			{
				Name:      "build",
				Usage:     "order and complete a certificate's chain into a full-chain PEM and, with --p12, a PKCS#12 for Java or Windows",
				ArgsUsage: " ",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "cert", Usage: "the certificate `FILE` (PEM or DER; it may hold some of its chain, in any order) (required)"},
					&cli.StringSliceFlag{Name: "chain", Usage: "a `FILE` of intermediate certificates, in any order (repeatable)"},
					&cli.StringFlag{Name: "key", Usage: "the private key `FILE`: checked against the certificate; needed for --p12"},
					&cli.StringFlag{Name: "out", Value: "fullchain.pem", Usage: "write the full chain (certificate, then intermediates) to `FILE`"},
					&cli.StringFlag{Name: "p12", Usage: "also write the key and full chain as a PKCS#12 `FILE` (mode 0600)"},
					&cli.StringFlag{Name: "p12-profile", Value: string(bundle.P12Modern), Usage: "PKCS#12 protection: modern (AES-256, PBKDF2-SHA256; OpenSSL 1.1.1+, Java 12+, Windows Server 2019+) or compat (3DES, SHA-1; Windows Server 2016, Java 8)"},
					&cli.BoolFlag{Name: "include-root", Usage: "end the full chain with the root (TLS peers must already have it, so it is left out by default)"},
					&cli.BoolFlag{Name: "fetch", Usage: "download missing issuers from the certificate's AIA caIssuers URL (HTTP only, 10 s, 1 MiB)"},
					&cli.StringFlag{Name: "expect", Usage: "check the certificate against a profile: psp-client or tpe-server"},
					&cli.StringFlag{Name: "fqdn", Usage: "the server `FQDN` the terminals are configured with (--expect tpe-server)"},
					&cli.BoolFlag{Name: "force", Usage: "replace existing output files, keeping a timestamped backup"},
				}, secretFlags(true)...),
				Action: r.bundleBuild,
			},
			{
				Name:      "intake",
				Usage:     "take apart the PKCS#12 the IGC-Santé platform delivered: key (0600), certificate, chain, full chain, manifest, all checked",
				ArgsUsage: "FILE.p12",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "out-dir", Value: ".", Usage: "write key.pem, cert.pem, chain.pem, fullchain.pem and manifest.json in `DIR`"},
					&cli.StringFlag{Name: "expect", Usage: "check the certificate against a profile: psp-client or tpe-server"},
					&cli.StringFlag{Name: "fqdn", Usage: "the server `FQDN` the terminals are configured with (--expect tpe-server)"},
					&cli.BoolFlag{Name: "encrypt-key", Usage: "encrypt key.pem (PKCS#8, AES-256-CBC, PBKDF2-SHA256) with the --new-passphrase-* secret"},
					&cli.BoolFlag{Name: "include-root", Usage: "end chain.pem and fullchain.pem with the root (left out by default: TLS peers must already have it)"},
					&cli.StringSliceFlag{Name: "chain", Usage: "a `FILE` of intermediate certificates the PKCS#12 file lacks (repeatable)"},
					&cli.BoolFlag{Name: "fetch", Usage: "download missing issuers from the certificate's AIA caIssuers URL (HTTP only, 10 s, 1 MiB)"},
					&cli.BoolFlag{Name: "force", Usage: "replace existing output files, keeping a timestamped backup"},
				}, secretFlags(true)...),
				Action: r.bundleIntake,
			},
			{
				Name:      "truststore",
				Usage:     "the GAP's truststore (IngeTrust CA for the terminals, GeoTrust/DigiCert CA for the provider) as PEM and PKCS#12",
				ArgsUsage: " ",
				Flags: append([]cli.Flag{
					&cli.StringSliceFlag{Name: "ca", Usage: "a CA certificate `FILE` (PEM, DER or PKCS#7; repeatable) (required)"},
					&cli.StringFlag{Name: "out", Value: "trust.pem", Usage: "write the CA certificates as one PEM `FILE`"},
					&cli.StringFlag{Name: "p12", Usage: "also write a PKCS#12 truststore `FILE` that keytool lists, each CA under an alias made from its name"},
					&cli.StringFlag{Name: "p12-profile", Value: string(bundle.P12Modern), Usage: "PKCS#12 protection: modern or compat (see bundle build)"},
					&cli.BoolFlag{Name: "allow-leaf", Usage: "accept certificates that are not CAs (trusted as themselves only: pinning)"},
					&cli.BoolFlag{Name: "force", Usage: "replace existing output files, keeping a timestamped backup"},
				}, secretFlags(false)...),
				Action: r.bundleTruststore,
			},
		},
	}
}

// bundleBuildResult is the result of `bundle build` and `bundle intake`.
type bundleBuildResult struct {
	Source string `json:"source,omitempty"` // the PKCS#12 file of intake
	*bundle.Bundle
	KeyEncrypted *bool           `json:"key_encrypted,omitempty"`
	Files        []*bundle.File  `json:"files"`
	PKCS12       *bundle.P12Info `json:"pkcs12,omitempty"`
	Status       string          `json:"status"`
	status       Status
}

// bundleTrustResult is the result of `bundle truststore`.
type bundleTrustResult struct {
	*bundle.TrustStore
	Files  []*bundle.File  `json:"files"`
	PKCS12 *bundle.P12Info `json:"pkcs12,omitempty"`
	Status string          `json:"status"`
	status Status
}

func (r *run) bundleBuild(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("the files are named with --cert, --chain and --key", "unexpected argument %q", c.Args().First())
	}
	certPath := c.String("cert")
	if certPath == "" {
		return usageErr("run 'diapason-cert bundle build --cert CERT [--key KEY]'", "--cert is required")
	}
	profile, fqdn, err := expectedProfile(c)
	if err != nil {
		return err
	}
	out, p12Path, keyPath := c.String("out"), c.String("p12"), c.String("key")
	p12Profile, err := p12ProfileFlag(c, p12Path != "")
	if err != nil {
		return err
	}
	if p12Path != "" && keyPath == "" {
		return usageErr("give the certificate's private key with --key", "--p12 needs the private key: a PKCS#12 file holds the key with its chain")
	}
	force := c.Bool("force")
	// Refuse before asking for any passphrase.
	if err := r.checkBundleOutputs("bundle build", out, p12Path, force); err != nil {
		return err
	}
	leafSources, err := r.loadSources(certPath, "--cert")
	if err != nil {
		return err
	}
	var chain []bundle.Source
	for _, p := range c.StringSlice("chain") {
		s, err := r.loadSources(p, "--chain")
		if err != nil {
			return err
		}
		chain = append(chain, s...)
	}
	req := bundle.BuildRequest{Leaf: leafSources, Chain: chain, KeyPath: keyPath, IncludeRoot: c.Bool("include-root"),
		Fetch: fetcher(c), Profile: profile, FQDN: fqdn, Now: r.env.Now()}
	keyWasEncrypted := false
	if keyPath != "" {
		key, encrypted, err := r.loadKeyFile(c, keyPath)
		if err != nil {
			return err
		}
		req.Key, keyWasEncrypted = key, encrypted
	}
	b, err := bundle.Build(c.Context, req)
	if err != nil {
		return bundleErr(err)
	}
	res := bundleBuildResult{Bundle: b}
	res.Files = []*bundle.File{bundle.NewFile(out, fmt.Sprintf("full chain: %s (PEM)", certCount(len(b.FullChain))), b.FullChainPEM(), false)}
	if p12Path != "" {
		role := protectSecret
		if keyWasEncrypted || newSecret.given(c) {
			role = newSecret
		}
		pw, err := r.secret(c, role, "the PKCS#12 file "+p12Path)
		if err != nil {
			return err
		}
		der, info, err := b.KeyStore(pw, p12Profile)
		if err != nil {
			return bundleErr(err)
		}
		res.PKCS12 = &info
		res.Files = append(res.Files, bundle.NewFile(p12Path, p12Content(info), der, true))
		b.Findings = append(b.Findings, bundle.P12Findings(info)...)
	}
	if err := bundle.WriteFiles(res.Files, force, r.env.Now()); err != nil {
		return r.writeError(err)
	}
	res.status = findingsStatus(b.Findings)
	res.Status = res.status.String()
	return r.emit(res.status, res, func(w io.Writer) error { return r.renderBundle(w, res) })
}

func (r *run) bundleIntake(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert bundle intake FILE.p12 [--out-dir DIR]'", "bundle intake takes one PKCS#12 file, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	profile, fqdn, err := expectedProfile(c)
	if err != nil {
		return err
	}
	dir := c.String("out-dir")
	var outputs []string
	for _, name := range []string{bundle.KeyFile, bundle.CertFile, bundle.ChainFile, bundle.FullChainFile, bundle.ManifestFile} {
		outputs = append(outputs, filepath.Join(dir, name))
	}
	force := c.Bool("force")
	// Refuse before asking for the password when the directory is there to look
	// at; WriteFiles checks again, and a new directory holds nothing to replace.
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		if err := certio.CheckWritable(force, outputs...); err != nil {
			return r.writeError(err)
		}
	}
	asked := false
	pass := func() ([]byte, error) {
		asked = true
		return r.secret(c, unlockSecret, "the PKCS#12 file "+certio.DisplayName(path))
	}
	p12, err := r.loader().LoadPKCS12(path, pass)
	if err != nil {
		return r.pkcs12Error(path, err)
	}
	var chain []bundle.Source
	for _, p := range c.StringSlice("chain") {
		s, err := r.loadSources(p, "--chain")
		if err != nil {
			return err
		}
		chain = append(chain, s...)
	}
	req := bundle.IntakeRequest{Path: path, P12: p12, Chain: chain, Profile: profile, FQDN: fqdn,
		Fetch: fetcher(c), IncludeRoot: c.Bool("include-root"), OutDir: dir, Now: r.env.Now()}
	if c.Bool("encrypt-key") {
		role := protectSecret
		if asked || newSecret.given(c) {
			role = newSecret
		}
		if req.KeyPassword, err = r.secret(c, role, "the key "+filepath.Join(dir, bundle.KeyFile)); err != nil {
			return err
		}
	} else if newSecret.given(c) {
		return usageErr("add --encrypt-key to encrypt key.pem with it", "--new-passphrase-file/--new-passphrase-env protect key.pem only with --encrypt-key")
	}
	in, err := bundle.TakeApart(c.Context, req)
	if err != nil {
		return bundleErr(err)
	}
	// The directory will hold a private key: create it for its owner only.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return failErr(fmt.Errorf("creating the output directory: %w", err), "")
	}
	if err := bundle.WriteFiles(in.Files, force, r.env.Now()); err != nil {
		return r.writeError(err)
	}
	encrypted := in.KeyEncrypted
	res := bundleBuildResult{Source: path, Bundle: in.Bundle, KeyEncrypted: &encrypted, Files: in.Files, status: findingsStatus(in.Findings)}
	res.Status = res.status.String()
	return r.emit(res.status, res, func(w io.Writer) error { return r.renderBundle(w, res) })
}

func (r *run) bundleTruststore(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErr("the CA files are named with --ca", "unexpected argument %q", c.Args().First())
	}
	cas := c.StringSlice("ca")
	if len(cas) == 0 {
		return usageErr("run 'diapason-cert bundle truststore --ca INGETRUST.pem --ca GEOTRUST.pem'", "--ca is required")
	}
	out, p12Path := c.String("out"), c.String("p12")
	p12Profile, err := p12ProfileFlag(c, p12Path != "")
	if err != nil {
		return err
	}
	force := c.Bool("force")
	if err := r.checkBundleOutputs("bundle truststore", out, p12Path, force); err != nil {
		return err
	}
	var sources []bundle.Source
	for _, p := range cas {
		s, err := r.loadSources(p, "--ca")
		if err != nil {
			return err
		}
		sources = append(sources, s...)
	}
	ts, err := bundle.NewTrustStore(sources, c.Bool("allow-leaf"), r.env.Now())
	if err != nil {
		return bundleErr(err)
	}
	res := bundleTrustResult{TrustStore: ts}
	res.Files = []*bundle.File{bundle.NewFile(out, fmt.Sprintf("truststore: %s (PEM)", certCount(len(ts.Entries))), bundle.EncodePEM(ts.Certificates()), false)}
	if p12Path != "" {
		pw, err := r.secret(c, protectSecret, "the truststore "+p12Path)
		if err != nil {
			return err
		}
		der, info, err := bundle.EncodeTrustStore(ts.Entries, pw, p12Profile)
		if err != nil {
			return bundleErr(err)
		}
		res.PKCS12 = &info
		res.Files = append(res.Files, bundle.NewFile(p12Path, p12Content(info), der, true))
		ts.Findings = append(ts.Findings, bundle.P12Findings(info)...)
	}
	if err := bundle.WriteFiles(res.Files, force, r.env.Now()); err != nil {
		return r.writeError(err)
	}
	res.status = findingsStatus(ts.Findings)
	res.Status = res.status.String()
	return r.emit(res.status, res, func(w io.Writer) error { return r.renderTrustStore(w, res) })
}

// expectedProfile reads --expect and --fqdn.
func expectedProfile(c *cli.Context) (*diapason.Profile, string, error) {
	expect, fqdnFlag := c.String("expect"), c.String("fqdn")
	if expect == "" {
		if fqdnFlag != "" {
			return nil, "", usageErr("add --expect tpe-server", "--fqdn is checked against the tpe-server profile only")
		}
		return nil, "", nil
	}
	if expect != string(diapason.PSPClient) && expect != string(diapason.TPEServer) {
		return nil, "", usageErr("", "--expect %q: the GAP's certificates are psp-client or tpe-server", expect)
	}
	p := diapason.MustProfile(diapason.ProfileID(expect))
	if !p.CNIsFQDN {
		if fqdnFlag != "" {
			return nil, "", usageErr("", "--fqdn is for --expect tpe-server: the psp-client CN is always %s", diapason.ClientDiapasonPSP)
		}
		return &p, "", nil
	}
	if fqdnFlag == "" {
		return nil, "", usageErr("the CN of the SSL_SERVEUR certificate must be the name the terminals are configured with, e.g. --fqdn gap.chu-exemple.fr", "--expect tpe-server needs --fqdn")
	}
	fqdn, err := csr.NormaliseFQDN(fqdnFlag)
	if err != nil {
		return nil, "", usageErr("", "%v", err)
	}
	return &p, fqdn, nil
}

func p12ProfileFlag(c *cli.Context, writing bool) (bundle.P12Profile, error) {
	if c.IsSet("p12-profile") && !writing {
		return "", usageErr("add --p12 FILE", "--p12-profile applies to the PKCS#12 file written with --p12")
	}
	p, err := bundle.ParseP12Profile(c.String("p12-profile"))
	if err != nil {
		return "", usageErr("modern suits OpenSSL 1.1.1+, Java 12+ and Windows Server 2019+; compat older stacks", "%v", err)
	}
	return p, nil
}

func fetcher(c *cli.Context) check.Fetcher {
	if !c.Bool("fetch") {
		return nil
	}
	return check.HTTPFetcher(check.AIATimeout, check.AIAMaxBytes)
}

// loadSources reads every certificate of a file named by flag.
func (r *run) loadSources(path, flag string) ([]bundle.Source, error) {
	certs, err := r.loader().LoadCertificates(path)
	if err != nil {
		if holdsKey(err) {
			return nil, unknownErr(err, fmt.Sprintf("%s names a private key: were --cert and --key swapped?", flag))
		}
		return nil, r.readError(err)
	}
	out := make([]bundle.Source, len(certs))
	for i, c := range certs {
		out[i] = bundle.Source{Cert: c, Path: path}
	}
	return out, nil
}

// loadKeyFile is loadKey with the hint for a certificate given as the key.
func (r *run) loadKeyFile(c *cli.Context, path string) (key crypto.Signer, encrypted bool, err error) {
	key, encrypted, err = r.loadKey(c, path)
	var ue *certio.UnexpectedError
	if found := ""; err != nil && errors.As(err, &ue) {
		found = strings.ToLower(ue.Found)
		if strings.Contains(found, "certificate") && !strings.Contains(found, "request") {
			return nil, false, unknownErr(errors.Unwrap(err), "--key names a certificate: were --cert and --key swapped?")
		}
	}
	return key, encrypted, err
}

// holdsKey recognises the error of a certificate loader given a key file.
func holdsKey(err error) bool {
	var ue *certio.UnexpectedError
	return errors.As(err, &ue) && strings.Contains(strings.ToLower(ue.Found), "private key")
}

// pkcs12Error explains why a PKCS#12 file did not open; a wrong password is
// its own case, never a stack of ASN.1 errors.
func (r *run) pkcs12Error(path string, err error) error {
	if errors.Is(err, certio.ErrWrongPassphrase) {
		return unknownErr(fmt.Errorf("%s: wrong password: the PKCS#12 file does not open with it; nothing was written", certio.DisplayName(path)),
			"the file is intact, the password is not its own: check --passphrase-file or --passphrase-env (the platform showed the password when the file was downloaded)")
	}
	return r.readError(err)
}

// bundleErr classifies the errors of the bundle package.
func bundleErr(err error) error {
	var (
		chainErr *bundle.ChainError
		mismatch *bundle.KeyMismatchError
		leafErr  *bundle.LeafError
		notCA    *bundle.NotCAError
		pwErr    *bundle.PasswordError
	)
	switch {
	case errors.As(err, &chainErr):
		hint := ""
		switch m := chainErr.Missing; {
		case chainErr.Slug == "hierarchy-mix":
			hint = "TEST and production certificates never chain to each other: give the CA files of the certificate's own hierarchy, or none (the IGC-Santé CAs are embedded)"
		case m != nil && m.URL != "":
			hint = fmt.Sprintf("download %s and add it with --chain, or run again with --fetch", m.URL)
		case m != nil:
			hint = "add the issuer's certificate with --chain, or run again with --fetch if the certificate names where its issuer is published"
		}
		return failErr(fmt.Errorf("%s; nothing was written", chainErr.Message), hint)
	case errors.As(err, &mismatch):
		return failErr(fmt.Errorf("%w; nothing was written", err), "were --cert and --key swapped, or is the key that of another request? the key is the one the CSR was made with")
	case errors.As(err, &leafErr):
		if leafErr.Ambiguous {
			return usageErr("", "%v", err)
		}
		return failErr(err, "--cert is the certificate of the server or client; CA certificates go with --chain")
	case errors.As(err, &notCA):
		return failErr(fmt.Errorf("%w; nothing was written", err), "a truststore holds the CAs that issue the peers' certificates; add --allow-leaf to pin this certificate anyway")
	case errors.As(err, &pwErr):
		return usageErr("choose a password of ASCII letters, digits and punctuation: Java reads no other", "%v", err)
	}
	return failErr(err, "")
}

func certCount(n int) string {
	if n == 1 {
		return "1 certificate"
	}
	return fmt.Sprintf("%d certificates", n)
}

// p12Content says what a written PKCS#12 file holds and how keytool names it.
func p12Content(info bundle.P12Info) string {
	kind, what := "", fmt.Sprintf("key + %s, keytool alias %q", certCount(info.Certificates), info.Aliases[0])
	if info.Kind == "truststore" {
		kind, what = " truststore,", certCount(info.Certificates)+" under the aliases above"
	}
	checked := ""
	if info.Verified {
		checked = "; re-opened and checked"
	}
	return fmt.Sprintf("PKCS#12%s %s (%s): %s%s", kind, info.Profile, info.Encryption, what, checked)
}

func (r *run) renderBundle(w io.Writer, res bundleBuildResult) error {
	b := res.Bundle
	chainState := string(b.ChainStatus)
	switch b.ChainStatus {
	case check.ChainComplete:
		chainState = "complete up to its root"
	case check.ChainNoRoot:
		chainState = "complete up to a root that was neither given nor embedded"
	}
	pairs := [][2]string{}
	if res.Source != "" {
		pairs = append(pairs, [2]string{"PKCS#12", certio.DisplayName(res.Source)})
	}
	pairs = append(pairs,
		[2]string{"certificate", b.Leaf.Subject},
		[2]string{"hierarchy", b.Leaf.Hierarchy.Label()},
	)
	if b.Profile != "" {
		p := diapason.MustProfile(b.Profile)
		pairs = append(pairs, [2]string{"profile", fmt.Sprintf("%s (%s), checked", p.ID, p.Role)})
	}
	pairs = append(pairs,
		[2]string{"chain", chainState},
		[2]string{"status", r.colour.status(res.status)},
	)
	renderPairs(w, pairs)
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(b.Certificates))
	for i, e := range b.Certificates {
		from := certio.DisplayName(e.From)
		switch e.Source {
		case check.SourceEmbedded:
			from = "embedded " + e.From
		case check.SourceFetched:
			from = "downloaded from " + e.From
		}
		shipped := "yes"
		if !e.Shipped {
			shipped = "no"
		}
		rows = append(rows, []string{fmt.Sprint(i + 1), e.Role, shortName(e.CertInfo), from, e.NotAfter.Format("2006-01-02"), shipped})
	}
	if err := renderTable(w, []string{"#", "Role", "Certificate", "From", "Not after", "In full chain"}, rows); err != nil {
		return err
	}
	if err := r.renderFiles(w, res.Files); err != nil {
		return err
	}
	r.renderFindings(w, b.Findings)
	return nil
}

func (r *run) renderTrustStore(w io.Writer, res bundleTrustResult) error {
	renderPairs(w, [][2]string{{"status", r.colour.status(res.status)}})
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		rows = append(rows, []string{e.Alias, shortName(e.CertInfo), certio.DisplayName(e.Path), e.NotAfter.Format("2006-01-02")})
	}
	if err := renderTable(w, []string{"Alias", "CA", "From", "Not after"}, rows); err != nil {
		return err
	}
	if err := r.renderFiles(w, res.Files); err != nil {
		return err
	}
	r.renderFindings(w, res.Findings)
	return nil
}

func (r *run) renderFiles(w io.Writer, files []*bundle.File) error {
	fmt.Fprintln(w)
	rows := make([][]string, 0, len(files))
	for _, f := range files {
		state := "new, mode " + f.Mode
		if f.Backup != "" {
			state = "replaced, mode " + f.Mode + "; old one kept as " + f.Backup
		}
		rows = append(rows, []string{f.Path, f.Content, state})
	}
	return renderTable(w, []string{"File", "Content", "State"}, rows)
}

// shortName is how tables name a certificate: its CN, else its whole subject.
func shortName(info bundle.CertInfo) string {
	if info.CommonName != "" {
		return info.CommonName
	}
	return info.Subject
}

// shellQuote renders a path for a command line the user may paste.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"$`\\!*?&;|<>()[]{}#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkBundleOutputs refuses --out and --p12 values that cannot be written:
// the same file twice, stdout (the result table goes there), or existing
// files without --force.
func (r *run) checkBundleOutputs(cmd, out, p12Path string, force bool) error {
	outputs := []string{out}
	if p12Path != "" {
		if filepath.Clean(p12Path) == filepath.Clean(out) {
			return usageErr("", "--out and --p12 name the same file %s", out)
		}
		outputs = append(outputs, p12Path)
	}
	if out == "-" || p12Path == "-" {
		return usageErr("name a file: the result table goes to stdout", "%s writes files, not stdout", cmd)
	}
	if err := certio.CheckWritable(force, outputs...); err != nil {
		return r.writeError(err)
	}
	return nil
}
