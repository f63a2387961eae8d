package lab

import (
	"crypto"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// lab.json is read from any directory given as --lab: it must never panic,
// and what it accepts must name only files inside the lab.
func FuzzParseManifest(f *testing.F) {
	good, err := json.Marshal(defaultManifest(DefaultURL, DefaultFQDN))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(strings.Replace(string(good), `"gap-client.key"`, `"../../etc/shadow"`, 1)))
	f.Add([]byte(strings.Replace(string(good), `"gap-client.key"`, `"/etc/shadow"`, 1)))
	f.Add([]byte(`{"schema_version":1}`))
	f.Add([]byte(`{"schema_version":1,"url":"http://x/","fqdn":"a.b","roles":null,"cas":{}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			return
		}
		for _, r := range Roles() {
			for _, p := range []string{m.Roles[r].Cert, m.Roles[r].Key, m.Roles[r].Chain} {
				if !filepath.IsLocal(filepath.FromSlash(p)) {
					t.Fatalf("accepted a path outside the lab: %q", p)
				}
			}
		}
		for _, n := range CANames() {
			for _, p := range []string{m.CAs[n].Cert, m.CAs[n].Key, m.CAs[n].CRL} {
				if !filepath.IsLocal(filepath.FromSlash(p)) {
					t.Fatalf("accepted a path outside the lab: %q", p)
				}
			}
		}
		if _, err := NormaliseURL(m.URL); err != nil {
			t.Fatalf("accepted URL %q: %v", m.URL, err)
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(`{"schema_version":1,"certificates":[{"ca":"igc-org","serial":"1D5DE25E","subject":"CN=x","not_before":"2026-11-27T12:00:00Z","not_after":"2029-11-27T12:00:00Z"}]}`))
	f.Add([]byte(`{"schema_version":1,"certificates":[]}`))
	f.Add([]byte(`{"schema_version":1,"certificates":[{"ca":"nope","serial":"-1"}]}`))
	f.Add([]byte(`{"schema_version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		issued, err := parseIndex(data)
		if err != nil {
			return
		}
		for _, is := range issued {
			if !isCAName(is.CA) {
				t.Fatalf("accepted CA %q", is.CA)
			}
		}
	})
}

// The OCSP responder parses whatever a client posts: every input gets an
// OCSP response that parses, never a panic.
func FuzzOCSPRequest(f *testing.F) {
	l, err := sharedLab()
	if err != nil {
		f.Fatal(err)
	}
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
		req, err := ocsp.CreateRequest(l.Credential(RoleTPERevoked).Cert, l.CA(CAIngeTrust).Cert, &ocsp.RequestOptions{Hash: h})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(req)
	}
	f.Add([]byte{0x30, 0x00})
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Entry
		resp := l.respondOCSP(data, testNow, &e)
		if e.Answer == "" {
			t.Fatal("no answer recorded")
		}
		if _, err := ocsp.ParseResponse(resp, nil); err != nil {
			if _, ok := err.(ocsp.ResponseError); !ok {
				t.Fatalf("the answer does not parse: %v", err)
			}
		}
	})
}
