package preflight

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/csr"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
)

// Setting is one configuration setting. Its key is its name in the
// configuration file ("client.cert": key cert of section [client]); the
// command line derives a flag (--client-cert) and an environment variable
// (DIAPASON_CLIENT_CERT) from it.
type Setting struct {
	Key string
	// List settings take several values: an array in the file, a repeated
	// flag, commas in the environment.
	List bool
	// Path settings name files; relative ones in the configuration file are
	// read from its directory. URLs are left as they are.
	Path    bool
	Default string
	Usage   string
	// Example is the value the template shows; "" leaves the setting
	// commented out there.
	Example string
	apply   func(c *Config, v []string) error
}

// Flag is the setting's command-line flag name, without dashes.
func (s Setting) Flag() string { return strings.ReplaceAll(s.Key, ".", "-") }

// Env is the environment variable that gives the setting.
func (s Setting) Env() string {
	return "DIAPASON_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(s.Key))
}

// Section is the file section holding the setting, "" for the top level.
func (s Setting) Section() string {
	sec, _, ok := strings.Cut(s.Key, ".")
	if !ok {
		return ""
	}
	return sec
}

// Name is the setting's key inside its section.
func (s Setting) Name() string {
	if _, name, ok := strings.Cut(s.Key, "."); ok {
		return name
	}
	return s.Key
}

// Describe names the setting the three ways it can be given, for messages.
func (s Setting) Describe() string {
	return fmt.Sprintf("%s (--%s, %s)", s.Key, s.Flag(), s.Env())
}

// Apply sets the setting's values on c, checking them.
func (s Setting) Apply(c *Config, values []string) error {
	if err := s.apply(c, values); err != nil {
		return fmt.Errorf("%s: %w", s.Key, err)
	}
	return nil
}

// Lab is the key of the setting naming a lab directory: LabValues fills the
// other settings from it.
const Lab = "lab"

// sections are the file's sections in template order, with what each is.
var sections = []struct{ name, doc string }{
	{"client", "The GAP's client certificate for the provider link: IGC-Santé ORG AUTH_CLI, CN Client_Diapason_PSP.\n" +
		"Give cert and key (and chain, the intermediate ACI-EL-ORG), or the p12 the IGC-Santé platform delivered."},
	{"server", "The GAP server's certificate, which the terminals check: IGC-Santé SSL_SERVEUR, CN = fqdn."},
	{"provider", "The payment provider the GAP connects to (the live handshake runs when address is set)."},
	{"truststore", "The CA certificates of the GAP's truststore: IngeTrust (Ingenico) for the terminals,\n" +
		"GeoTrust (DigiCert) for the provider. Both files come from them, not from IGC-Santé."},
}

// settingList is built once; Settings hands out copies.
var settingList = []Setting{
	{Key: "hierarchy", Default: string(diapason.HierarchyProduction), Example: string(diapason.HierarchyProduction),
		Usage: "the IGC-Santé `HIERARCHY` of both GAP certificates: production, test, or lab (a lab made by 'diapason-cert lab init')",
		apply: func(c *Config, v []string) (err error) { c.Hierarchy, err = diapason.ParseHierarchy(v[0]); return err }},
	{Key: "warn", Default: diapason.WarnWindow.String(), Example: diapason.WarnWindow.String(),
		Usage: "warn when a certificate expires within this `PERIOD` (30d, 2w, 1y, 12h)",
		apply: func(c *Config, v []string) (err error) { c.Warn, err = diapason.ParsePeriod(v[0]); return err }},
	{Key: "revocation", Default: string(handshake.RevocationSoft), Example: string(handshake.RevocationSoft),
		Usage: "revocation checks (the CRLs given, then the CRLs and OCSP responders the certificates name), `MODE`: off, soft (no answer is a warning) or hard (no answer is a failure)",
		apply: func(c *Config, v []string) (err error) {
			c.Revocation, err = handshake.ParseRevocationMode(v[0])
			return err
		}},
	{Key: "crl", List: true, Path: true,
		Usage: "CRL `FILE`s or http(s) URLs to check revocation against (IGC-Santé publishes them at the URLs its certificates name)",
		apply: func(c *Config, v []string) error { c.CRLs = v; return nil }},
	{Key: "timeout", Default: handshake.DefaultTimeout.String(), Example: handshake.DefaultTimeout.String(),
		Usage: "give up on a connection, a handshake or a CRL download after this `DURATION`",
		apply: func(c *Config, v []string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v[0]))
			if err != nil || d <= 0 {
				return fmt.Errorf("invalid duration %q: give a positive duration like 10s", v[0])
			}
			c.Timeout = d
			return nil
		}},
	{Key: "igc-root", Path: true,
		Usage: "trust the IGC-Santé root in this `FILE` instead of the embedded one of the hierarchy (a lab's igc-root.pem)",
		apply: func(c *Config, v []string) error { c.IGCRoot = v[0]; return nil }},
	{Key: Lab, Path: true,
		Usage: "a lab `DIR` made by 'diapason-cert lab init': fills every certificate, key, CA and CRL setting left empty, and the hierarchy",
		apply: func(*Config, []string) error { return nil }},

	credSetting("client", "cert", certUsage, "certs/gap-client.pem", clientOf, func(cr *Credential, v string) { cr.Cert = v }),
	credSetting("client", "key", keyUsage, "certs/gap-client.key", clientOf, func(cr *Credential, v string) { cr.Key = v }),
	credSetting("client", "chain", chainUsage, "certs/ACI-EL-ORG.cer", clientOf, func(cr *Credential, v string) { cr.Chain = v }),
	credSetting("client", "p12", p12Usage, "", clientOf, func(cr *Credential, v string) { cr.P12 = v }),
	credSetting("client", "passphrase-file", passFileUsage, "", clientOf, func(cr *Credential, v string) { cr.Secret.File = v }),
	envSetting("client", clientOf),

	credSetting("server", "cert", certUsage, "certs/gap-server.pem", serverOf, func(cr *Credential, v string) { cr.Cert = v }),
	credSetting("server", "key", keyUsage, "certs/gap-server.key", serverOf, func(cr *Credential, v string) { cr.Key = v }),
	credSetting("server", "chain", chainUsage, "certs/ACI-EL-ORG.cer", serverOf, func(cr *Credential, v string) { cr.Chain = v }),
	credSetting("server", "p12", p12Usage, "", serverOf, func(cr *Credential, v string) { cr.P12 = v }),
	credSetting("server", "passphrase-file", passFileUsage, "", serverOf, func(cr *Credential, v string) { cr.Secret.File = v }),
	envSetting("server", serverOf),
	{Key: "server.fqdn", Example: "gap.hopital-exemple.fr",
		Usage: "the `FQDN` the terminals are configured with: the server certificate's CN must be exactly this name",
		apply: func(c *Config, v []string) (err error) { c.Server.FQDN, err = csr.NormaliseFQDN(v[0]); return err }},
	{Key: "server.address",
		Usage: "`HOST:PORT` where the terminals reach the GAP server: a live handshake is tried there, as a terminal",
		apply: func(c *Config, v []string) error { c.Server.Address = v[0]; return checkAddress(v[0]) }},

	{Key: "provider.address",
		Usage: "`HOST:PORT` of the provider's Diapason service: a live handshake is tried there, as the GAP",
		apply: func(c *Config, v []string) error { c.Provider.Address = v[0]; return checkAddress(v[0]) }},
	{Key: "provider.server-name",
		Usage: "the provider's server `NAME`, checked against its certificate (default: the host of address)",
		apply: func(c *Config, v []string) error { c.Provider.ServerName = strings.TrimSpace(v[0]); return nil }},
	{Key: "provider.ca", List: true, Path: true,
		Usage: "the CA `FILE` the provider says its certificate chains to: it must be in the truststore",
		apply: func(c *Config, v []string) error { c.Provider.CA = v; return nil }},

	{Key: "truststore.ingetrust", List: true, Path: true, Example: "truststore/ingetrust-ca.pem",
		Usage: "the IngeTrust CA `FILE`s the GAP server trusts the terminals' certificates with",
		apply: func(c *Config, v []string) error { c.Truststore.IngeTrust = v; return nil }},
	{Key: "truststore.geotrust", List: true, Path: true, Example: "truststore/geotrust-root.pem",
		Usage: "the GeoTrust/DigiCert CA `FILE`s the GAP trusts the provider's certificate with",
		apply: func(c *Config, v []string) error { c.Truststore.GeoTrust = v; return nil }},
}

func clientOf(c *Config) *Credential { return &c.Client }
func serverOf(c *Config) *Credential { return &c.Server.Credential }

// The usages of the credential settings; %s is the side, client or server.
const (
	certUsage     = "the GAP %s certificate `FILE` (PEM or DER; a full-chain PEM too)"
	keyUsage      = "the private key `FILE` of the GAP %s certificate"
	chainUsage    = "the `FILE` of the intermediate certificates the GAP %s certificate is sent with (ACI-EL-ORG.cer)"
	p12Usage      = "instead of cert and key: the PKCS#12 `FILE` of the GAP %s certificate, as the IGC-Santé platform delivered it"
	passFileUsage = "the `FILE` whose first line is the passphrase of the GAP %s key or PKCS#12"
)

func credSetting(section, name, usage, example string, cred func(*Config) *Credential, set func(*Credential, string)) Setting {
	return Setting{Key: section + "." + name, Path: true, Usage: fmt.Sprintf(usage, section), Example: example,
		apply: func(c *Config, v []string) error { set(cred(c), v[0]); return nil }}
}

// envSetting names the variable holding a passphrase. A value that cannot be
// a variable's name is refused without being repeated: it may be the
// passphrase itself, put there by mistake.
func envSetting(section string, cred func(*Config) *Credential) Setting {
	return Setting{Key: section + ".passphrase-env",
		Usage: fmt.Sprintf("the environment variable `NAME` holding the passphrase of the GAP %s key or PKCS#12 (its name, never the passphrase)", section),
		apply: func(c *Config, v []string) error {
			if !isEnvName(v[0]) {
				return errors.New("is not the name of an environment variable (letters, digits and _, like GAP_P12_PASSPHRASE); " +
					"the value is not repeated here in case it is the passphrase itself, which never belongs in a setting")
			}
			cred(c).Secret.Env = v[0]
			return nil
		}}
}

func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Settings lists every setting, in the order of the template.
func Settings() []Setting {
	return append([]Setting(nil), settingList...)
}

// LookupSetting finds a setting by its key.
func LookupSetting(key string) (Setting, bool) {
	for _, s := range settingList {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// FromValues builds a configuration from the values of the settings given
// (by key), the defaults standing for the others, and validates it.
func FromValues(values map[string][]string) (*Config, error) {
	c := NewConfig()
	var errs []error
	for _, s := range settingList {
		v := values[s.Key]
		if len(v) == 0 || (!s.List && strings.TrimSpace(v[0]) == "") {
			continue
		}
		if err := s.Apply(c, v); err != nil {
			errs = append(errs, err)
		}
	}
	if err := joinErrors(errs); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
