package commands

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/csr"
	"github.com/diapason-cert/diapason-cert/diapason"
)

func (r *run) csrCommand() *cli.Command {
	return &cli.Command{
		Name:  "csr",
		Usage: "make the key pair and CSR of one of the two IGC-Santé certificates, or check a CSR before sending it",
		Subcommands: []*cli.Command{
			{
				Name:      string(diapason.PSPClient),
				Usage:     "key + CSR for the GAP client certificate of the provider link (ORG AUTH_CLI, CN Client_Diapason_PSP)",
				ArgsUsage: " ",
				Flags:     csrFlags(false),
				Action:    r.csrCreate(diapason.PSPClient),
			},
			{
				Name:      string(diapason.TPEServer),
				Usage:     "key + CSR for the GAP server certificate terminals connect to (SSL_SERVEUR, CN = SAN = FQDN)",
				ArgsUsage: " ",
				Flags:     csrFlags(true),
				Action:    r.csrCreate(diapason.TPEServer),
			},
			{
				Name:      "inspect",
				Usage:     "verify a CSR's signature and check it against its profile before sending it",
				ArgsUsage: "FILE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "profile", Value: "auto", Usage: "profile to check against: psp-client, tpe-server or auto (from the CN)"},
					&cli.StringFlag{Name: "fqdn", Usage: "the server `FQDN` terminals will be configured with (tpe-server)"},
				},
				Action: r.csrInspect,
			},
		},
	}
}

func csrFlags(server bool) []cli.Flag {
	fs := []cli.Flag{}
	if server {
		fs = append(fs, &cli.StringFlag{Name: "fqdn", Usage: "the GAP server's `FQDN`, exactly as the terminals will be configured with it (required)"})
	}
	fs = append(fs,
		&cli.IntFlag{Name: "key-size", Value: csr.DefaultKeySize, Usage: "RSA key size: 2048 (what IGC-Santé issues), 3072 or 4096"},
		&cli.StringFlag{Name: "key", Usage: "reuse the private key in `FILE` (renewal) instead of generating one"},
		&cli.StringFlag{Name: "org", Usage: "organisation (O), the legal name of the structure"},
		&cli.StringFlag{Name: "ou", Usage: "organisational unit (OU): the structure identifier, 1+FINESS or 3+SIRET"},
		&cli.StringFlag{Name: "state", Usage: "state or province (ST), e.g. \"Côte-d'Or (21)\""},
		&cli.StringFlag{Name: "locality", Usage: "locality (L)"},
		&cli.StringFlag{Name: "out-dir", Value: ".", Usage: "write the key and CSR in `DIR`"},
		&cli.BoolFlag{Name: "encrypt", Usage: "encrypt the written key (PKCS#8, AES-256-CBC, PBKDF2-SHA256)"},
		&cli.BoolFlag{Name: "force", Usage: "replace existing output files, keeping a timestamped backup"},
	)
	return append(fs, secretFlags(true)...)
}

// csrResult is the JSON and text result of `csr psp-client|tpe-server`.
type csrResult struct {
	Profile       diapason.ProfileID `json:"profile"`
	Offer         string             `json:"offer"`
	Subject       string             `json:"subject"`
	FQDN          string             `json:"fqdn,omitempty"`
	PlatformValue string             `json:"platform_value"`
	Habilitation  *csr.Habilitation  `json:"habilitation,omitempty"`
	Key           csrKeyInfo         `json:"key"`
	CSR           csrFileInfo        `json:"csr"`
	NextSteps     []string           `json:"next_steps"`
}

type csrKeyInfo struct {
	Path      string `json:"path"`
	Type      string `json:"type"`
	Bits      int    `json:"bits"`
	Generated bool   `json:"generated"`
	Written   bool   `json:"written"`
	Encrypted bool   `json:"encrypted"`
	Backup    string `json:"backup,omitempty"`
}

type csrFileInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Backup string `json:"backup,omitempty"`
}

func (r *run) csrCreate(profileID diapason.ProfileID) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return usageErr(fmt.Sprintf("run 'diapason-cert csr %s --help'", profileID), "unexpected argument %q", c.Args().First())
		}
		profile := diapason.MustProfile(profileID)
		req := csr.Request{Profile: profile, Subject: csr.Subject{
			Organisation: c.String("org"), StructureID: c.String("ou"),
			State: c.String("state"), Locality: c.String("locality"),
		}}
		res := csrResult{Profile: profile.ID, Offer: profile.Offer}
		if profile.CNIsFQDN {
			if !c.IsSet("fqdn") {
				return usageErr("the CN of the SSL_SERVEUR certificate is the server name the terminals are configured with, e.g. --fqdn gap.chu-exemple.fr", "--fqdn is required for %s", profileID)
			}
			fqdn, err := csr.NormaliseFQDN(c.String("fqdn"))
			if err != nil {
				return usageErr("", "%v", err)
			}
			if fqdn != strings.TrimSuffix(strings.TrimSpace(c.String("fqdn")), ".") {
				r.infof("the FQDN is written %s in the certificate; configure the terminals with exactly that", fqdn)
			}
			h, err := csr.HabilitationFor(fqdn)
			if err != nil {
				return usageErr("", "%v", err)
			}
			req.FQDN, res.FQDN, res.Habilitation = fqdn, fqdn, &h
		}
		res.PlatformValue = profile.PlatformValue(req.FQDN)

		dir := c.String("out-dir")
		keyPath := filepath.Join(dir, string(profileID)+".key")
		csrPath := filepath.Join(dir, string(profileID)+".csr")
		force := c.Bool("force")
		writeKey := !c.IsSet("key") || c.Bool("encrypt")
		outputs := []string{csrPath}
		if writeKey {
			outputs = append(outputs, keyPath)
		}
		// The directory holds a private key: create it for its owner only.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return failErr(fmt.Errorf("creating the output directory: %w", err), "")
		}
		// Refuse before generating anything: key generation takes seconds.
		if err := certio.CheckWritable(force, outputs...); err != nil {
			return r.writeError(err)
		}

		var key crypto.Signer
		var keyWasEncrypted bool
		if path := c.String("key"); path != "" {
			if c.IsSet("key-size") {
				return usageErr("", "--key-size and --key both set: the size of a reused key is the key's own")
			}
			k, enc, err := r.loadKey(c, path)
			if err != nil {
				return err
			}
			key, keyWasEncrypted = k, enc
			res.Key.Path = path
		} else {
			bits := c.Int("key-size")
			stop := r.spinner(fmt.Sprintf("generating an RSA %d key", bits))
			k, err := csr.GenerateKey(bits)
			stop()
			if err != nil {
				return usageErr("", "%v", err)
			}
			key, res.Key.Generated = k, true
		}
		req.Key = key
		info := check.DescribeKey(key.Public())
		res.Key.Type, res.Key.Bits = info.Type, info.Bits

		der, err := csr.Create(req)
		if err != nil {
			return failErr(err, "")
		}
		res.Subject = req.Name().String()

		if writeKey {
			var pemKey []byte
			if c.Bool("encrypt") {
				role := protectSecret
				if keyWasEncrypted || newSecret.given(c) {
					role = newSecret
				}
				pw, err := r.secret(c, role, "the new key "+keyPath)
				if err != nil {
					return err
				}
				if pemKey, err = certio.EncryptPrivateKeyPEM(key, pw); err != nil {
					return failErr(err, "")
				}
			} else if pemKey, err = certio.MarshalPrivateKeyPEM(key); err != nil {
				return failErr(err, "")
			}
			wr, err := certio.WriteFile(keyPath, pemKey, certio.WriteOptions{Mode: 0o600, Force: force, Now: r.env.Now()})
			if err != nil {
				return r.writeError(err)
			}
			res.Key.Path, res.Key.Written, res.Key.Encrypted, res.Key.Backup = keyPath, true, c.Bool("encrypt"), wr.Backup
		} else {
			res.Key.Encrypted = keyWasEncrypted
		}
		csrPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
		wr, err := certio.WriteFile(csrPath, csrPEM, certio.WriteOptions{Mode: 0o644, Force: force, Now: r.env.Now()})
		if err != nil {
			return r.writeError(err)
		}
		sum := sha256.Sum256(der)
		res.CSR = csrFileInfo{Path: csrPath, SHA256: diapason.Fingerprint(sum[:]), Backup: wr.Backup}
		res.NextSteps = csrNextSteps(profile, res)
		return r.emit(StatusOK, res, func(w io.Writer) error { return r.renderCSR(w, res) })
	}
}

func csrNextSteps(p diapason.Profile, res csrResult) []string {
	steps := []string{}
	if res.Habilitation != nil {
		steps = append(steps, fmt.Sprintf("make sure your test cards are entitled (form 414) to the domain %s, the widest one, not only %s", res.Habilitation.Request, res.FQDN))
	}
	steps = append(steps,
		fmt.Sprintf("on the IGC-Santé platform (%s), order %s and enter %q", diapason.PlatformURL, p.Offer, res.PlatformValue),
		fmt.Sprintf("upload %s as your own CSR (do not let the platform generate the key)", res.CSR.Path),
		fmt.Sprintf("when the certificate arrives, make its full chain with: diapason-cert bundle build --cert CERT --key %s (the intermediate ACI-EL-ORG, or its TEST twin, is added from the copies embedded in the tool; add --p12 FILE for a Java or Windows server)", shellQuote(res.Key.Path)),
	)
	if p.CNIsFQDN {
		steps = append(steps, fmt.Sprintf("configure every terminal with the FQDN %s, identical to the CN", res.FQDN))
	}
	return steps
}

func (r *run) renderCSR(w io.Writer, res csrResult) error {
	keyState := "not encrypted"
	if res.Key.Encrypted {
		keyState = "encrypted"
	}
	keyWhat := fmt.Sprintf("%s %d private key, %s", res.Key.Type, res.Key.Bits, keyState)
	keyAction := "reused, not written"
	switch {
	case res.Key.Written && res.Key.Generated:
		keyAction = "new, mode 0600"
	case res.Key.Written:
		keyAction = "rewritten, mode 0600"
	}
	rows := [][]string{{res.Key.Path, keyWhat, keyAction}}
	if res.Key.Backup != "" {
		rows = append(rows, []string{res.Key.Backup, "the replaced key", "backup"})
	}
	rows = append(rows, []string{res.CSR.Path, "certificate request (PEM)", "new"})
	if res.CSR.Backup != "" {
		rows = append(rows, []string{res.CSR.Backup, "the replaced CSR", "backup"})
	}
	renderPairs(w, [][2]string{
		{"profile", fmt.Sprintf("%s (%s)", res.Profile, res.Offer)},
		{"subject", res.Subject},
	})
	if err := renderTable(w, []string{"File", "Content", "State"}, rows); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTo order on the IGC-Santé platform (PFCNG):")
	order := [][2]string{
		{"  offer", res.Offer},
		{"  value to enter", r.colour.bold.Sprint(res.PlatformValue)},
	}
	if h := res.Habilitation; h != nil {
		order = append(order, [2]string{"  habilitation domain", r.colour.bold.Sprint(h.Request) + " (form 414: the widest domain)"})
	}
	renderPairs(w, order)
	if h := res.Habilitation; h != nil && !h.Listed {
		fmt.Fprintf(w, "  note: %s is not under a public suffix the tool knows; the platform checks that the domain exists\n", h.Domain)
	}
	fmt.Fprintln(w, "\nNext steps:")
	for i, s := range res.NextSteps {
		fmt.Fprintf(w, "  %d. %s\n", i+1, s)
	}
	return nil
}

// csrInspectResult is the result of `csr inspect`.
type csrInspectResult struct {
	File string `json:"file"`
	csr.Report
	Status string `json:"status"`
}

func (r *run) csrInspect(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageErr("run 'diapason-cert csr inspect FILE'", "csr inspect takes one CSR file, got %d arguments", c.NArg())
	}
	path := c.Args().First()
	var profile diapason.ProfileID
	switch p := c.String("profile"); p {
	case "auto", "":
	case string(diapason.PSPClient), string(diapason.TPEServer):
		profile = diapason.ProfileID(p)
	default:
		return usageErr("", "--profile %q: a CSR is for psp-client or tpe-server (or auto)", p)
	}
	fqdn := ""
	if c.IsSet("fqdn") {
		var err error
		if fqdn, err = csr.NormaliseFQDN(c.String("fqdn")); err != nil {
			return usageErr("", "%v", err)
		}
	}
	req, err := r.loadCSR(path)
	if err != nil {
		return err
	}
	rep, err := csr.Inspect(req, profile, fqdn)
	if err != nil {
		return unknownErr(fmt.Errorf("%s: %w", certio.DisplayName(path), err), "")
	}
	status := findingsStatus(rep.Findings)
	res := csrInspectResult{File: path, Report: rep, Status: status.String()}
	return r.emit(status, res, func(w io.Writer) error {
		detected := ""
		if rep.ProfileDetected {
			detected = " (detected from the CN)"
		}
		sig := r.colour.ok.Sprint("valid")
		if !rep.SignatureValid {
			sig = r.colour.fail.Sprint("INVALID")
		}
		sans := strings.Join(rep.DNSNames, ", ")
		if sans == "" {
			sans = "none"
		}
		renderPairs(w, [][2]string{
			{"file", certio.DisplayName(path)},
			{"profile", string(rep.Profile) + detected},
			{"subject", rep.Subject},
			{"DNS SANs", sans},
			{"key", rep.Key.String()},
			{"signature", rep.SignatureAlgorithm + ", " + sig},
			{"platform value", rep.PlatformValue},
			{"status", r.colour.status(status)},
		})
		r.renderFindings(w, rep.Findings)
		return nil
	})
}

// findingsStatus maps the worst finding to a status: a fail is FAIL, a warn
// is WARN, infos never change the exit code.
func findingsStatus(fs []check.Finding) Status {
	switch check.Worst(fs) {
	case check.Fail:
		return StatusFail
	case check.Warn:
		return StatusWarn
	}
	return StatusOK
}

func (r *run) renderFindings(w io.Writer, fs []check.Finding) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintln(w)
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
		fmt.Fprintf(w, "%s %s: %s\n", tag, f.Slug, f.Message)
	}
}

// loadCSR reads the one CSR of a file.
func (r *run) loadCSR(path string) (*x509.CertificateRequest, error) {
	req, err := r.loader().LoadCSR(path)
	if err != nil {
		return nil, r.readError(err)
	}
	return req, nil
}
