package preflight_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/preflight"
)

// Every setting has a flag and a variable derived from its key, and the
// template shows each of them.
func TestSettingNames(t *testing.T) {
	s, ok := preflight.LookupSetting("provider.server-name")
	if !ok || s.Flag() != "provider-server-name" || s.Env() != "DIAPASON_PROVIDER_SERVER_NAME" || s.Section() != "provider" || s.Name() != "server-name" {
		t.Errorf("%+v: %s %s %s %s", s, s.Flag(), s.Env(), s.Section(), s.Name())
	}
	tmpl := string(preflight.Template("header", nil))
	flags := map[string]bool{}
	for _, s := range preflight.Settings() {
		if flags[s.Flag()] {
			t.Errorf("two settings make the flag --%s", s.Flag())
		}
		flags[s.Flag()] = true
		if !strings.Contains(tmpl, "--"+s.Flag()+", "+s.Env()+".") || s.Usage == "" {
			t.Errorf("the template does not describe %s", s.Key)
		}
	}
}

// The template loads back: the examples it shows are valid settings, its
// relative paths are read from its directory, and a template filled with
// values gives those values back.
func TestTemplateLoadsBack(t *testing.T) {
	path := filepath.Join("etc", "gap", "diapason.toml")
	v, err := preflight.ParseTOML(path, preflight.Template("a header\nof two lines", nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := preflight.FromValues(v)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Client.Cert != filepath.Join("etc", "gap", "certs", "gap-client.pem") || cfg.Server.FQDN != "gap.hopital-exemple.fr" ||
		cfg.Hierarchy != diapason.HierarchyProduction || !slices.Equal(cfg.Truststore.IngeTrust, []string{filepath.Join("etc", "gap", "truststore", "ingetrust-ca.pem")}) {
		t.Errorf("%+v", cfg)
	}
	if _, set := v["client.p12"]; set {
		t.Errorf("client.p12 should be commented out: %v", v["client.p12"])
	}

	in := newInstallation(t)
	filled := preflight.Template("from a lab", in.values)
	back, err := preflight.ParseTOML("diapason.toml", filled)
	if err != nil {
		t.Fatalf("%v\n%s", err, filled)
	}
	for k, want := range in.values {
		if !reflect.DeepEqual(back[k], want) {
			t.Errorf("%s: %q, want %q", k, back[k], want)
		}
	}
	if _, err := preflight.FromValues(back); err != nil {
		t.Error(err)
	}
}

func TestParseTOML(t *testing.T) {
	v, err := preflight.ParseTOML("conf/diapason.toml", []byte(`
hierarchy = "test"
crl = "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG.crl"
[client]
p12 = "/abs/client.p12"
passphrase-env = "GAP_P12"
[truststore]
ingetrust = ["ingetrust.pem", "../shared/ingetrust-2.pem"]
geotrust = "geotrust.pem"
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"hierarchy": {"test"}, "crl": {"http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG.crl"},
		"client.p12": {"/abs/client.p12"}, "client.passphrase-env": {"GAP_P12"},
		"truststore.ingetrust": {"conf/ingetrust.pem", "shared/ingetrust-2.pem"}, "truststore.geotrust": {"conf/geotrust.pem"},
	}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("got %q\nwant %q", v, want)
	}

	for _, tc := range []struct{ name, doc, want string }{
		{"syntax", "hierarchy = test", "not valid TOML"},
		{"typo", "[client]\ncrt = \"x\"", "unknown setting client.crt (did you mean client.cert?)"},
		{"section", "[clients]\ncert = \"x\"", "unknown section [clients]"},
		{"secret", "[client]\npassphrase = \"hunter2\"", "secrets are never read from the configuration file"},
		{"password", "[server]\np12-password = \"hunter2\"", "secrets are never read from the configuration file"},
		{"type", "timeout = 10", "expected a string"},
		{"array", "hierarchy = [\"test\"]", "takes one value, not an array"},
		{"array of numbers", "crl = [1]", "expected an array of strings"},
		{"several", "a = \"1\"\nb = \"2\"", "2 problems: unknown setting a; unknown setting b"},
	} {
		_, err := preflight.ParseTOML("d.toml", []byte(tc.doc))
		var fe *preflight.FileError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "d.toml: ") {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if strings.Contains(fmtErr(err), "hunter2") {
			t.Errorf("%s: the secret is repeated: %v", tc.name, err)
		}
	}
	if _, err := preflight.ParseFile(filepath.Join(t.TempDir(), "none.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Values that cannot be right are refused before anything runs, and a value
// that may be a passphrase is not repeated.
func TestFromValuesRefusals(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    map[string][]string
		want string
	}{
		{"hierarchy", map[string][]string{"hierarchy": {"prod"}}, `hierarchy: unknown hierarchy "prod"`},
		{"warn", map[string][]string{"warn": {"soon"}}, "warn: "},
		{"revocation", map[string][]string{"revocation": {"strict"}}, "revocation: unknown revocation mode"},
		{"timeout", map[string][]string{"timeout": {"-1s"}}, "timeout: invalid duration"},
		{"address", map[string][]string{"provider.address": {"psp.example.fr"}}, "provider.address: invalid address"},
		{"fqdn", map[string][]string{"server.fqdn": {"*.example.fr"}}, "server.fqdn: invalid FQDN"},
		{"p12 and cert", map[string][]string{"client.p12": {"a.p12"}, "client.cert": {"c.pem"}}, "client.p12 and client.cert/client.key both"},
		{"key alone", map[string][]string{"server.key": {"k.pem"}}, "server.key without server.cert"},
		{"chain alone", map[string][]string{"server.chain": {"k.pem"}}, "server.chain without server.cert or server.p12"},
		{"two secrets", map[string][]string{"client.passphrase-file": {"f"}, "client.passphrase-env": {"V"}}, "both name the client passphrase"},
		{"lab", map[string][]string{"hierarchy": {"lab"}}, "hierarchy lab has no embedded root"},
	} {
		if _, err := preflight.FromValues(tc.v); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	_, err := preflight.FromValues(map[string][]string{"server.passphrase-env": {"correct horse battery"}})
	if err == nil || strings.Contains(err.Error(), "correct horse") {
		t.Errorf("passphrase as a variable name: %v", err)
	}
}

func TestLabValues(t *testing.T) {
	in := newInstallation(t)
	v := in.values
	if v["hierarchy"][0] != "lab" || v["server.fqdn"][0] != "gap.lab.test" || len(v["crl"]) != 5 ||
		v["client.cert"][0] != filepath.Join(in.dir, "gap-client.pem") || v["truststore.ingetrust"][0] != filepath.Join(in.dir, "ingetrust.pem") {
		t.Errorf("%q", v)
	}
	for _, k := range []string{"provider.address", "server.address"} {
		if _, ok := v[k]; ok {
			t.Errorf("a lab sets %s", k)
		}
	}
	if _, err := preflight.LabValues(filepath.Join(t.TempDir(), "nolab")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no lab: %v", err)
	}
}
