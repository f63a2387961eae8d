package bundle

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func TestTrustStoreInterop(t *testing.T) {
	inge := newPKI(t, "IngeTrust", "terminal-0001")
	geo := newPKI(t, "GeoTrust TLS RSA", "psp.exemple.fr")
	twin := testpki.Sign(t, caTemplate("IngeTrust Root CA"), nil, inge.rootKey.Public(), inge.rootKey) // same name, another certificate
	ts, err := NewTrustStore([]Source{
		{inge.root, "ingetrust.pem"}, {geo.inter, "geotrust.pem"}, {inge.root, "again.pem"}, {twin, "twin.pem"},
	}, false, testNow)
	if err != nil {
		t.Fatal(err)
	}
	var aliases []string
	for _, e := range ts.Entries {
		aliases = append(aliases, e.Alias)
	}
	if want := []string{"ingetrust-root-ca", "geotrust-tls-rsa-issuing-ca", "ingetrust-root-ca-2"}; !slices.Equal(aliases, want) {
		t.Errorf("aliases %q, want %q (duplicates dropped, names made unique)", aliases, want)
	}
	if len(ts.Findings) != 0 {
		t.Errorf("findings %+v", ts.Findings)
	}
	dir := t.TempDir()
	for _, profile := range []P12Profile{P12Modern, P12Compat} {
		der, info, err := EncodeTrustStore(ts.Entries, []byte("changeit"), profile)
		if err != nil || !info.Verified || info.Kind != "truststore" || !slices.Equal(info.Aliases, aliases) {
			t.Fatalf("%s: %v %+v", profile, err, info)
		}
		path := writeFile(t, dir, string(profile)+"-trust.p12", der)
		if out, err := run(t, "openssl", "pkcs12", "-info", "-noout", "-in", path, "-passin", "pass:changeit"); err != nil {
			t.Errorf("openssl refused the %s truststore: %v\n%s", profile, err, out)
		}
		entries := keytoolList(t, path, "changeit")
		for _, a := range aliases {
			if entries[a] != "trustedCertEntry" {
				t.Errorf("%s: keytool lists %v, want %q as trustedCertEntry", profile, entries, a)
			}
		}
	}
	if got := string(EncodePEM(ts.Certificates())); strings.Count(got, "BEGIN CERTIFICATE") != 3 {
		t.Errorf("PEM bundle:\n%s", got)
	}
}

func TestTrustStoreRefusesLeaves(t *testing.T) {
	p := newPKI(t, "Leafy", "gap.chu-exemple.fr")
	_, err := NewTrustStore([]Source{{p.root, "root.pem"}, {p.leaf, "server.pem"}}, false, testNow)
	var nc *NotCAError
	if !errors.As(err, &nc) || nc.Path != "server.pem" || !strings.Contains(err.Error(), "CN=gap.chu-exemple.fr") {
		t.Fatalf("a leaf: %v", err)
	}
	ts, err := NewTrustStore([]Source{{p.root, "root.pem"}, {p.leaf, "server.pem"}}, true, testNow)
	if err != nil || len(ts.Entries) != 2 || len(ts.Findings) != 1 || ts.Findings[0].Slug != "truststore-leaf" {
		t.Fatalf("--allow-leaf: %v %+v", err, ts)
	}
	if ts.Entries[1].Alias != "gap-chu-exemple-fr" {
		t.Errorf("alias %q", ts.Entries[1].Alias)
	}
}

func TestTrustStoreExpiry(t *testing.T) {
	key := testpki.ECKey(t)
	old := caTemplate("Old CA")
	old.NotBefore, old.NotAfter = testNow.AddDate(-10, 0, 0), testNow.AddDate(0, 0, -1)
	soon := caTemplate("Soon CA")
	soon.NotAfter = testNow.AddDate(0, 0, 10)
	ts, err := NewTrustStore([]Source{{testpki.Sign(t, old, nil, key.Public(), key), "old.pem"}, {testpki.Sign(t, soon, nil, key.Public(), key), "soon.pem"}}, false, testNow)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]check.Level{}
	for _, f := range ts.Findings {
		got[f.Slug] = f.Level
	}
	if got["ca-expired"] != check.Fail || got["ca-expiring"] != check.Warn {
		t.Errorf("findings %+v", ts.Findings)
	}
}
