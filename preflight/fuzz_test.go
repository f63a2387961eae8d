package preflight_test

import (
	"testing"

	"github.com/diapason-cert/diapason-cert/preflight"
)

// FuzzParseTOML feeds configuration files to the parser: it never panics, and
// what it accepts names known settings only, one value for a single setting,
// which FromValues then takes or refuses without panicking either.
func FuzzParseTOML(f *testing.F) {
	// Short seeds: the fuzzer minimises every new input it finds, one byte at a
	// time, and a whole template would take it minutes each.
	f.Add([]byte("hierarchy = \"lab\"\nigc-root = \"r.pem\"\ncrl = [\"a.crl\", \"http://x/y.crl\"]\n[client]\np12 = \"c.p12\"\npassphrase-env = \"P\"\n"))
	f.Add([]byte("warn = \"2w\"\ntimeout = \"5s\"\n[server]\ncert = \"s.pem\"\nkey = \"/k\"\nfqdn = \"GAP.Hôpital.fr\"\n[provider]\naddress = \"[::1]:443\"\n"))
	f.Add([]byte("hierarchy = \"test\"\n[client]\npassphrase = \"x\"\n"))
	f.Add([]byte("[truststore]\ningetrust = [\"a\", 1]\n[server]\naddress = \"h:1\"\nfqdn = \"\\u00e9.fr\"\n"))
	f.Add([]byte("crl = [[\"nested\"]]\n[client.sub]\nx = 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := preflight.ParseTOML("dir/diapason.toml", data)
		if err != nil {
			return
		}
		for key, values := range v {
			s, ok := preflight.LookupSetting(key)
			if !ok {
				t.Fatalf("accepted unknown setting %q", key)
			}
			if !s.List && len(values) != 1 {
				t.Fatalf("%s: %d values", key, len(values))
			}
		}
		if cfg, err := preflight.FromValues(v); err == nil && cfg == nil {
			t.Fatal("no configuration and no error")
		}
	})
}
