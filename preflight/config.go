// Package preflight checks a whole GAP installation for Diapason, step by step, as a CI pipeline runs it before a release.
package preflight

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
)

// Config describes one GAP installation: its two IGC-Santé credentials, the
// CAs of its truststore, the revocation sources and the addresses to try live.
// Paths are as the user gave them (relative ones already resolved against the
// configuration file's directory by ParseFile).
type Config struct {
	Hierarchy diapason.Hierarchy `json:"hierarchy"`
	// IGCRoot is a file holding the IGC-Santé root to trust instead of the
	// embedded one of Hierarchy: a lab's igc-root.pem. Required for the lab.
	IGCRoot    string                   `json:"igc_root,omitempty"`
	Client     Credential               `json:"client"`
	Server     Server                   `json:"server"`
	Provider   Provider                 `json:"provider"`
	Truststore Truststore               `json:"truststore"`
	CRLs       []string                 `json:"crl"`
	Warn       diapason.Period          `json:"-"`
	Revocation handshake.RevocationMode `json:"revocation"`
	Timeout    time.Duration            `json:"-"`
}

// Credential is a certificate with its key, from PEM/DER files or a PKCS#12.
type Credential struct {
	Cert  string `json:"cert,omitempty"`
	Key   string `json:"key,omitempty"`
	Chain string `json:"chain,omitempty"`
	P12   string `json:"p12,omitempty"`
	// Secret says where the passphrase of an encrypted key or PKCS#12 is; the
	// passphrase itself is never part of a configuration.
	Secret Secret `json:"secret"`
}

// Secret names the file or the environment variable holding a passphrase.
type Secret struct {
	File string `json:"passphrase_file,omitempty"`
	Env  string `json:"passphrase_env,omitempty"`
}

// Server is the GAP server: its credential, the FQDN the terminals are
// configured with, and the address a live terminal-side handshake connects to.
type Server struct {
	Credential
	FQDN    string `json:"fqdn,omitempty"`
	Address string `json:"address,omitempty"`
}

// Provider is the payment provider the GAP connects to.
type Provider struct {
	Address string `json:"address,omitempty"`
	// ServerName is checked against the provider's certificate; the host of
	// Address when empty.
	ServerName string `json:"server_name,omitempty"`
	// CA is what the provider says its certificate chains to; when given it
	// must be in the truststore, and the live handshake trusts it alone.
	CA []string `json:"ca,omitempty"`
}

// Truststore is the GAP's truststore: the terminals' CA (IngeTrust) and the
// provider's (GeoTrust).
type Truststore struct {
	IngeTrust []string `json:"ingetrust"`
	GeoTrust  []string `json:"geotrust"`
}

// NewConfig returns the configuration every setting's default describes.
func NewConfig() *Config {
	c := &Config{}
	for _, s := range Settings() {
		if s.Default != "" {
			if err := s.apply(c, []string{s.Default}); err != nil {
				panic(fmt.Sprintf("preflight: default of %s: %v", s.Key, err))
			}
		}
	}
	return c
}

// configured reports whether the credential names anything to read.
func (c Credential) configured() bool {
	return c.Cert != "" || c.Key != "" || c.P12 != "" || c.Chain != ""
}

// Validate refuses settings that contradict each other: they describe no
// installation that could be checked.
func (c *Config) Validate() error {
	var errs []error
	for _, cr := range []struct {
		name string
		c    Credential
	}{{"client", c.Client}, {"server", c.Server.Credential}} {
		n, cred := cr.name, cr.c
		switch {
		case cred.P12 != "" && (cred.Cert != "" || cred.Key != ""):
			errs = append(errs, fmt.Errorf("%s.p12 and %s.cert/%s.key both name the %s credential: give one of them", n, n, n, n))
		case cred.Key != "" && cred.Cert == "":
			errs = append(errs, fmt.Errorf("%s.key without %s.cert: give the certificate of that key", n, n))
		case cred.Chain != "" && cred.Cert == "" && cred.P12 == "":
			errs = append(errs, fmt.Errorf("%s.chain without %s.cert or %s.p12: give the certificate the chain belongs to", n, n, n))
		}
		if cred.Secret.File != "" && cred.Secret.Env != "" {
			errs = append(errs, fmt.Errorf("%s.passphrase-file and %s.passphrase-env both name the %s passphrase: give one", n, n, n))
		}
	}
	if c.Hierarchy == diapason.HierarchyLab && c.IGCRoot == "" {
		errs = append(errs, errors.New("hierarchy lab has no embedded root: give the lab (lab, --lab DIR) or its root (igc-root)"))
	}
	return joinErrors(errs)
}

// checkAddress accepts HOST:PORT.
func checkAddress(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("invalid address %q: give HOST:PORT, like psp.example.fr:443 or 192.0.2.10:8443", s)
	}
	return nil
}

// hostOf is the host of a HOST:PORT address already checked.
func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return strings.Trim(host, "[]")
}
