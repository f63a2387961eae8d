package commands

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/urfave/cli/v2/altsrc"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/preflight"
)

// defaultConfigFile is read when present and no --config is given.
const defaultConfigFile = "diapason.toml"

// configEnv names the configuration file, like --config.
const configEnv = "DIAPASON_CONFIG"

// Where a setting's value came from, in order of precedence.
const (
	sourceFlag    = "flag"
	sourceEnv     = "environment"
	sourceFile    = "file"
	sourceLab     = "lab"
	sourceDefault = "default"
)

func (r *run) preflightCommand() *cli.Command {
	return &cli.Command{
		Name:      "preflight",
		Usage:     "check a whole GAP installation for Diapason, step by step, for CI: certificates, keys, chains, truststore, self-test and live handshakes",
		ArgsUsage: "[init]",
		Description: "Reads the installation from ./" + defaultConfigFile + " (or --config FILE, or $" + configEnv + "): the two IGC-Santé\n" +
			"credentials of the GAP, the FQDN, the truststore's IngeTrust and GeoTrust CAs, CRLs and optional live addresses.\n" +
			"Every setting can also be a flag, or an environment variable DIAPASON_<SECTION>_<NAME> (DIAPASON_CLIENT_CERT,\n" +
			"lists separated by commas); a flag wins over the environment, which wins over the file, which wins over --lab.\n" +
			"Passphrases come only from the file or variable that passphrase-file or passphrase-env names, and are never shown.\n" +
			"Each step is reported with its status and reason; the exit code is the worst step's (skipped steps are fine).\n" +
			"'diapason-cert preflight init' prints a commented configuration to start from (filled from --lab DIR when given);\n" +
			"'diapason-cert preflight --lab DIR' checks a lab at once (no live address: those steps are skipped).",
		Flags:  r.preflightFlags(),
		Action: r.preflight,
	}
}

// preflightFlags are the command's own flags and one per setting. The
// settings' flags are altsrc flags, so that the environment, the file and a
// lab can each set those the command line left unset.
func (r *run) preflightFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "read the installation from the TOML `FILE` (default ./" + defaultConfigFile + " when present) [$" + configEnv + "]"},
		&cli.StringFlag{Name: "junit", Usage: "also write the steps as a JUnit XML `FILE`, one test case per step, for GitLab, Jenkins or GitHub"},
		&cli.BoolFlag{Name: "force", Usage: "replace an existing --junit file, keeping a timestamped backup"},
	}
	for _, s := range preflight.Settings() {
		usage := s.Usage + " [$" + s.Env() + "]"
		switch {
		case s.Key == preflight.Lab:
			f := labFlag().(*cli.StringFlag)
			f.Usage = usage
			flags = append(flags, altsrc.NewStringFlag(f))
		case s.List:
			usage = s.Usage + ", repeatable [$" + s.Env() + ", separated by commas]"
			flags = append(flags, altsrc.NewStringSliceFlag(&cli.StringSliceFlag{Name: s.Flag(), Usage: usage}))
		default:
			flags = append(flags, altsrc.NewStringFlag(&cli.StringFlag{Name: s.Flag(), Usage: usage, Value: s.Default}))
		}
	}
	return flags
}

// settingValue is one setting as the run resolved it.
type settingValue struct {
	Key    string   `json:"key"`
	Values []string `json:"values"`
	Source string   `json:"source"`
}

// preflightResult is the command's result document.
type preflightResult struct {
	// Config is the configuration file read, "" for none.
	Config   string         `json:"config,omitempty"`
	Settings []settingValue `json:"settings"`
	JUnit    string         `json:"junit,omitempty"`
	*preflight.Report
}

func (r *run) preflight(c *cli.Context) error {
	template := false
	switch {
	case c.NArg() == 1 && c.Args().First() == "init":
		if r.global.output == outputJSON {
			return usageErr("run 'diapason-cert preflight init' without --output json", "preflight init prints a TOML configuration, not JSON")
		}
		template = true
	case c.NArg() > 0:
		return usageErr("run 'diapason-cert preflight' to check, or 'diapason-cert preflight init > "+defaultConfigFile+"' to start a configuration",
			"preflight takes no argument but init, got %q", c.Args().First())
	}
	file := ""
	if !template {
		var err error
		if file, err = r.configFile(c); err != nil {
			return err
		}
	}
	sources, err := r.applySettings(c, file)
	if err != nil {
		return err
	}
	values := map[string][]string{}
	var settings []settingValue
	for _, s := range preflight.Settings() {
		src := sources[s.Flag()]
		if src == "" {
			if s.Default == "" {
				continue
			}
			src = sourceDefault
		}
		v := []string{c.String(s.Flag())}
		if s.List {
			v = c.StringSlice(s.Flag())
		}
		values[s.Key] = v
		settings = append(settings, settingValue{Key: s.Key, Values: v, Source: src})
	}
	if template {
		return r.preflightInit(c, values, sources)
	}
	if len(settings) == countDefaults() {
		return usageErr(fmt.Sprintf("write one with 'diapason-cert preflight init > %s' and edit it, give --config FILE, or try a lab with --lab DIR", defaultConfigFile),
			"nothing to check: no %s here and no setting given", defaultConfigFile)
	}
	cfg, err := preflight.FromValues(values)
	if err != nil {
		return usageErr("run 'diapason-cert preflight --help' for the settings", "%v", err)
	}
	junit := c.String("junit")
	if junit != "" {
		if err := certio.CheckWritable(c.Bool("force"), junit); err != nil {
			return r.writeError(err)
		}
	}
	rep := preflight.Run(c.Context, cfg, preflight.Options{Now: r.env.Now(), Clock: time.Now, Getenv: r.env.Getenv, CRLCache: r.crlCache(c)})
	res := &preflightResult{Config: file, Settings: settings, Report: rep}
	if junit != "" {
		data, err := preflight.JUnit(rep, "diapason-cert preflight")
		if err != nil {
			return failErr(err, "")
		}
		if _, err := certio.WriteFile(junit, data, certio.WriteOptions{Mode: 0o644, Force: c.Bool("force"), Now: r.env.Now()}); err != nil {
			return r.writeError(err)
		}
		res.JUnit = junit
		r.infof("JUnit report written to %s", junit)
	}
	return r.emit(preflightStatus(rep.Status), res, func(w io.Writer) error { return r.renderPreflight(w, res) })
}

func countDefaults() int {
	n := 0
	for _, s := range preflight.Settings() {
		if s.Default != "" {
			n++
		}
	}
	return n
}

// configFile is the configuration file to read: --config, $DIAPASON_CONFIG,
// else ./diapason.toml when it exists; "" for none.
func (r *run) configFile(c *cli.Context) (string, error) {
	path, named := c.String("config"), "--config"
	if path == "" {
		path, named = r.env.Getenv(configEnv), configEnv
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return "", usageErr("check the path, or write a configuration with 'diapason-cert preflight init > "+defaultConfigFile+"'",
				"%s %s: %v", named, path, unwrapPath(err))
		}
		return path, nil
	}
	if _, err := os.Stat(defaultConfigFile); err == nil {
		return defaultConfigFile, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", usageErr("", "%s: %v", defaultConfigFile, unwrapPath(err))
	}
	return "", nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// applySettings fills the settings the command line left unset: from the
// environment, then the file, then the lab, each through an altsrc input
// source, which sets only flags not set before it. It returns where each
// flag's value came from.
func (r *run) applySettings(c *cli.Context, file string) (map[string]string, error) {
	sources := map[string]string{}
	var flags []cli.Flag
	for _, f := range c.Command.Flags {
		if _, ok := f.(altsrc.FlagInputSourceExtension); ok {
			flags = append(flags, f)
			if c.IsSet(f.Names()[0]) {
				sources[f.Names()[0]] = sourceFlag
			}
		}
	}
	apply := func(name, source string, values map[string][]string) error {
		m := map[interface{}]interface{}{}
		for key, v := range values {
			s, _ := preflight.LookupSetting(key)
			if s.List {
				list := make([]interface{}, len(v))
				for i, e := range v {
					list[i] = e
				}
				m[s.Flag()] = list
			} else if len(v) > 0 {
				m[s.Flag()] = v[0]
			}
		}
		if err := altsrc.ApplyInputSourceValues(c, altsrc.NewMapInputSource(name, m), flags); err != nil {
			return usageErr("", "%s: %v", name, err)
		}
		for _, f := range flags {
			if n := f.Names()[0]; sources[n] == "" && c.IsSet(n) {
				sources[n] = source
			}
		}
		return nil
	}
	if err := apply("the environment", sourceEnv, r.settingsFromEnv()); err != nil {
		return nil, err
	}
	if file != "" {
		values, err := preflight.ParseFile(file)
		if err != nil {
			return nil, usageErr("run 'diapason-cert preflight init' for a commented example of every setting", "%v", err)
		}
		if err := apply(file, sourceFile, values); err != nil {
			return nil, err
		}
	}
	if dir := c.String("lab"); dir != "" {
		values, err := preflight.LabValues(dir)
		if err != nil {
			return nil, r.labError(err)
		}
		if err := apply("the lab "+dir, sourceLab, values); err != nil {
			return nil, err
		}
	}
	return sources, nil
}

// settingsFromEnv reads the DIAPASON_… variables; lists are separated by commas.
func (r *run) settingsFromEnv() map[string][]string {
	out := map[string][]string{}
	for _, s := range preflight.Settings() {
		v := r.env.Getenv(s.Env())
		if v == "" {
			continue
		}
		if !s.List {
			out[s.Key] = []string{v}
			continue
		}
		var list []string
		for _, e := range strings.Split(v, ",") {
			if e = strings.TrimSpace(e); e != "" {
				list = append(list, e)
			}
		}
		out[s.Key] = list
	}
	return out
}

// preflightInit prints the template, with the values the flags, the
// environment and the lab gave.
func (r *run) preflightInit(c *cli.Context, values map[string][]string, sources map[string]string) error {
	if c.String("junit") != "" {
		return usageErr("", "--junit is for a run: init only prints a configuration")
	}
	given := map[string][]string{}
	for _, s := range preflight.Settings() {
		if src := sources[s.Flag()]; src != "" && s.Key != preflight.Lab {
			given[s.Key] = values[s.Key]
		}
	}
	header := "diapason-cert preflight: one GAP installation for Diapason (made by diapason-cert " + appVersion() + ").\n" +
		"Run 'diapason-cert preflight' in this file's directory, or give --config FILE.\n" +
		"Every setting can also be a flag (--client-cert) or an environment variable (DIAPASON_CLIENT_CERT);\n" +
		"a flag wins over the environment, which wins over this file. Relative paths are read from this file's directory.\n" +
		"Secrets never go in this file: name the file (passphrase-file) or the variable (passphrase-env) holding them."
	if dir := c.String("lab"); dir != "" {
		header += "\nFilled from the lab " + dir + ", with its paths as given to --lab."
	}
	// --output json was refused: the template is the result, as text.
	return r.emit(StatusOK, struct{}{}, func(w io.Writer) error {
		_, err := w.Write(preflight.Template(header, given))
		return err
	})
}

// preflightStatus maps the worst step to the exit status: a skipped step is fine.
func preflightStatus(s preflight.Status) Status {
	switch s {
	case preflight.Fail:
		return StatusFail
	case preflight.Unknown:
		return StatusUnknown
	case preflight.Warn:
		return StatusWarn
	}
	return StatusOK
}
