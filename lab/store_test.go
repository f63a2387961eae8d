package lab

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
)

func TestWriteOpenRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lab")
	l := freshLab(t, Options{Dir: dir})
	if l.Dir() != dir {
		t.Errorf("Dir() = %q", l.Dir())
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("lab directory mode %v (%v), want 0700: it holds keys", fi.Mode().Perm(), err)
	}

	// lab.json has exactly the documented shape.
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(maps.Keys(doc)); !slices.Equal(got, []string{"cas", "fqdn", "roles", "schema_version", "url"}) {
		t.Errorf("lab.json keys %v", got)
	}
	if doc["schema_version"] != 1.0 || doc["url"] != DefaultURL || doc["fqdn"] != DefaultFQDN {
		t.Errorf("lab.json header %v %v %v", doc["schema_version"], doc["url"], doc["fqdn"])
	}
	roles, cas := doc["roles"].(map[string]any), doc["cas"].(map[string]any)
	if len(roles) != 5 || len(cas) != 5 {
		t.Fatalf("%d roles, %d CAs", len(roles), len(cas))
	}
	for _, r := range Roles() {
		f := roles[string(r)].(map[string]any)
		if got := slices.Sorted(maps.Keys(f)); !slices.Equal(got, []string{"cert", "chain", "key"}) || f["cert"] != string(r)+".pem" || f["key"] != string(r)+".key" {
			t.Errorf("role %s files %v", r, f)
		}
		if fi, err := os.Stat(filepath.Join(dir, f["key"].(string))); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s key mode %v (%v), want 0600", r, fi.Mode().Perm(), err)
		}
	}
	for _, n := range CANames() {
		f := cas[string(n)].(map[string]any)
		if f["cert"] != string(n)+".pem" || f["key"] != string(n)+".key" || f["crl"] != string(n)+".crl.pem" {
			t.Errorf("CA %s files %v", n, f)
		}
		if fi, err := os.Stat(filepath.Join(dir, f["key"].(string))); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s key mode %v (%v), want 0600", n, fi.Mode().Perm(), err)
		}
	}

	o, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range allCerts(l) {
		if !allCerts(o)[name].Equal(c) {
			t.Errorf("%s differs after Open", name)
		}
	}
	for _, r := range Roles() {
		a, b := l.Credential(r), o.Credential(r)
		if !slices.EqualFunc(a.Chain, b.Chain, (*x509.Certificate).Equal) || b.Profile != a.Profile || b.Key == nil {
			t.Errorf("%s credential differs after Open", r)
		}
	}
	for _, n := range CANames() {
		if l.CA(n).Parent != o.CA(n).Parent || o.CA(n).CRL.Number.Int64() != 1 {
			t.Errorf("CA %s differs after Open", n)
		}
	}
	if !slices.Equal(l.IssuedCertificates(), o.IssuedCertificates()) || len(o.IssuedCertificates()) != 7 {
		t.Errorf("index: %d entries after Open, %d before", len(o.IssuedCertificates()), len(l.IssuedCertificates()))
	}

	// Sign and Revoke on an opened lab update its files.
	c, err := o.Sign(testCSR(t, "csr", diapason.ClientDiapasonPSP), diapason.PSPClient, testNow, testNow.AddDate(3, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Revoke(c, 1, testNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.IssuedCertificates()); n != 8 {
		t.Errorf("%d index entries after Sign, want 8", n)
	}
	if crl := again.CA(CAIGCOrg).CRL; crl.Number.Int64() != 2 || len(crl.RevokedCertificateEntries) != 1 {
		t.Errorf("CRL on disk after Revoke: number %v, %d entries", crl.Number, len(crl.RevokedCertificateEntries))
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestWriteRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	l := freshLab(t, Options{})
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Write(dir, false, testNow); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "empty or new directory") {
		t.Errorf("non-empty directory: %v", err)
	}
	labDir := t.TempDir()
	if _, err := l.Write(labDir, false, testNow); err != nil {
		t.Fatal(err)
	}
	other := freshLab(t, Options{})
	if _, err := other.Write(labDir, false, testNow); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "already holds a lab") {
		t.Errorf("existing lab: %v", err)
	}
	res, err := other.Write(labDir, true, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Backup == "" {
		t.Errorf("forced write kept no backup: %+v", res[0])
	}
	o, err := Open(labDir)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Credential(RoleGAPClient).Cert.Equal(other.Credential(RoleGAPClient).Cert) {
		t.Error("the forced write did not replace the lab")
	}
}

func TestOpenErrors(t *testing.T) {
	base := t.TempDir()
	good := filepath.Join(base, "good")
	freshLab(t, Options{Dir: good})
	manifest, err := os.ReadFile(filepath.Join(good, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	// variant copies the good lab and lets f damage it.
	variant := func(name string, f func(dir string)) string {
		dir := filepath.Join(base, name)
		if err := os.CopyFS(dir, os.DirFS(good)); err != nil {
			t.Fatal(err)
		}
		f(dir)
		return dir
	}
	write := func(dir, file string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		dir  string
		want string
	}{
		{"missing directory", filepath.Join(base, "nope"), "no such file or directory"},
		{"a file", filepath.Join(good, "lab.json"), "is a file"},
		{"no manifest", variant("nomanifest", func(d string) { os.Remove(filepath.Join(d, ManifestFile)) }), "lab.json: no such file"},
		{"bad JSON", variant("badjson", func(d string) { write(d, ManifestFile, []byte("{\"schema_version\": 1,")) }), "not a lab manifest"},
		{"future version", variant("v2", func(d string) {
			write(d, ManifestFile, []byte(strings.Replace(string(manifest), `"schema_version": 1`, `"schema_version": 2`, 1)))
		}), "schema_version 2"},
		{"escaping path", variant("escape", func(d string) {
			write(d, ManifestFile, []byte(strings.Replace(string(manifest), `"igc-org.key"`, `"../good/igc-org.key"`, 1)))
		}), "not a path inside the lab directory"},
		{"missing role", variant("norole", func(d string) {
			var m map[string]any
			_ = json.Unmarshal(manifest, &m)
			delete(m["roles"].(map[string]any), "gap-server")
			data, _ := json.Marshal(m)
			write(d, ManifestFile, data)
		}), "names no gap-server credential"},
		{"swapped key", variant("swapped", func(d string) {
			k, _ := os.ReadFile(filepath.Join(d, "gap-server.key"))
			write(d, "gap-client.key", k)
		}), "not the key of"},
		{"foreign CRL", variant("crl", func(d string) {
			c, _ := os.ReadFile(filepath.Join(d, "igc-root.crl.pem"))
			write(d, "igc-org.crl.pem", c)
		}), "not signed by the igc-org CA"},
		{"missing file", variant("nocert", func(d string) { os.Remove(filepath.Join(d, "psp-server.pem")) }), "psp-server.pem: no such file"},
		{"bad index", variant("index", func(d string) {
			write(d, IndexFile, []byte(`{"schema_version":1,"certificates":[{"ca":"igc-org","serial":"XYZ"}]}`))
		}), "not hexadecimal"},
	} {
		_, err := Open(tc.dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
	if _, err := Open(filepath.Join(base, "nope")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing lab is not fs.ErrNotExist: %v", err)
	}
}
