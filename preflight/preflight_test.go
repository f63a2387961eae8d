package preflight_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"maps"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/bundle"
	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/preflight"
	"github.com/diapason-cert/diapason-cert/tls12"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// installation is a lab on disk and the settings that describe it.
type installation struct {
	lab    *lab.Lab
	dir    string
	values map[string][]string
}

func newInstallation(t *testing.T) *installation {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	l, err := lab.New(lab.Options{Now: now, Dir: dir, KeyCache: "preflight"})
	if err != nil {
		t.Fatal(err)
	}
	v, err := preflight.LabValues(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &installation{lab: l, dir: dir, values: v}
}

// write puts a file next to the lab and returns its path.
func (in *installation) write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(in.dir), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// run checks an installation. Its self-test presents a lab terminal rather
// than an ephemeral one, whose two fresh RSA keys per run would make up most of
// the tests' time; TestEphemeralTerminal runs the default.
func run(t *testing.T, values map[string][]string, opts preflight.Options) *preflight.Report {
	t.Helper()
	cfg, err := preflight.FromValues(values)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Now.IsZero() {
		opts.Now = now
	}
	if opts.Terminal == nil {
		tl, err := lab.New(lab.Options{Now: now, KeyCache: "preflight"})
		if err != nil {
			t.Fatal(err)
		}
		tc := tl.Credential(lab.RoleTPEClient)
		opts.Terminal = &tls12.Certificate{Chain: []*x509.Certificate{tc.Cert}, Key: tc.Key}
		opts.TerminalCA = tl.CA(lab.CAIngeTrust).Cert
	}
	return preflight.Run(context.Background(), cfg, opts)
}

func certsPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func statuses(r *preflight.Report) map[preflight.StepID]preflight.Status {
	m := map[preflight.StepID]preflight.Status{}
	for _, s := range r.Steps {
		m[s.ID] = s.Status
	}
	return m
}

func step(t *testing.T, r *preflight.Report, id preflight.StepID) preflight.Step {
	t.Helper()
	for _, s := range r.Steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %s", id)
	return preflight.Step{}
}

func dump(r *preflight.Report) string {
	out, _ := json.MarshalIndent(r.Steps, "", "  ")
	return string(out)
}

// A complete lab installation passes every step; the live handshakes, without
// addresses, are skipped, which leaves the outcome a pass.
func TestLabInstallationPasses(t *testing.T) {
	in := newInstallation(t)
	r := run(t, in.values, preflight.Options{})
	if r.Status != preflight.Pass || len(r.Steps) != len(preflight.Steps()) {
		t.Fatalf("status %s:\n%s", r.Status, dump(r))
	}
	for i, s := range r.Steps {
		if s.ID != preflight.Steps()[i] {
			t.Errorf("step %d is %s, want %s: the order is fixed", i, s.ID, preflight.Steps()[i])
		}
		want := preflight.Pass
		if s.ID == preflight.StepProviderHandshake || s.ID == preflight.StepServerHandshake {
			want = preflight.Skip
		}
		if s.Status != want || s.Reason == "" || s.Title == "" {
			t.Errorf("%s: %s %q, want %s", s.ID, s.Status, s.Reason, want)
		}
	}
	if f := step(t, r, preflight.StepFiles); len(f.Files) != 15 {
		t.Errorf("files read: %d, want 15 (5 CRLs, igc-root, 3+3 credential files, 3 CA files)", len(f.Files))
	}
	if c := r.Counts; c.Pass != 16 || c.Skip != 2 {
		t.Errorf("counts %+v", c)
	}
}

// Without a terminal given, the self-test makes an ephemeral one.
func TestEphemeralTerminal(t *testing.T) {
	in := newInstallation(t)
	cfg, err := preflight.FromValues(in.values)
	if err != nil {
		t.Fatal(err)
	}
	r := preflight.Run(context.Background(), cfg, preflight.Options{Now: now})
	if s := step(t, r, preflight.StepServerSelfTest); s.Status != preflight.Pass {
		t.Errorf("%s %q", s.Status, s.Reason)
	}
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Each defect fails its own step, with its reason, and only that step: the
// others run and give what they give on the clean installation (a step that
// needs what the defect broke is skipped, naming the failed step).
func TestEachDefectFailsItsStep(t *testing.T) {
	base := newInstallation(t)
	clean := statuses(run(t, base.values, preflight.Options{}))
	client := base.lab.Credential(lab.RoleGAPClient)

	cases := []struct {
		name   string
		setup  func(t *testing.T, in *installation)
		step   preflight.StepID
		status preflight.Status
		slug   string
		reason string
		// also are the other steps that change, and how.
		also map[preflight.StepID]preflight.Status
	}{
		{name: "key mismatch", step: preflight.StepClientKey, status: preflight.Fail, slug: "key-mismatch", reason: "is not the key pair of this certificate",
			setup: func(t *testing.T, in *installation) { in.values["client.key"] = in.values["server.key"] }},
		{name: "missing intermediate", step: preflight.StepClientChain, status: preflight.Fail, slug: "chain-incomplete",
			reason: "LAB AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", also: map[preflight.StepID]preflight.Status{preflight.StepClientRevocation: preflight.Skip},
			setup: func(t *testing.T, in *installation) {
				in.values["client.chain"] = []string{in.write(t, "root-only.pem", certsPEM(in.lab.CA(lab.CAIGCRoot).Cert))}
			}},
		{name: "wrong CN", step: preflight.StepClientProfile, status: preflight.Fail, slug: "cn-mismatch", reason: `the CN is "Client_Diapason_GAP"`,
			setup: func(t *testing.T, in *installation) {
				org := in.lab.CA(lab.CAIGCOrg)
				tmpl := *client.Cert
				tmpl.Subject, tmpl.RawSubject = pkix.Name{Country: []string{"FR"}, Organization: []string{"LAB CENTRE HOSPITALIER EXEMPLE"}, CommonName: "Client_Diapason_GAP"}, nil
				tmpl.SerialNumber = big.NewInt(0x5eed)
				cert := testpki.Sign(t, &tmpl, org.Cert, client.Key.Public(), org.Key)
				in.values["client.cert"] = []string{in.write(t, "wrong-cn.pem", certsPEM(cert))}
			}},
		{name: "expired certificate", step: preflight.StepClientExpiry, status: preflight.Fail, slug: "expired", reason: "expired on 2025-11-27",
			setup: func(t *testing.T, in *installation) {
				der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: diapason.ClientDiapasonPSP}}, client.Key)
				if err != nil {
					t.Fatal(err)
				}
				req, _ := x509.ParseCertificateRequest(der)
				cert, err := in.lab.Sign(req, diapason.PSPClient, now.AddDate(-4, 0, 0), now.AddDate(-1, 0, 0))
				if err != nil {
					t.Fatal(err)
				}
				in.values["client.cert"] = []string{in.write(t, "expired.pem", certsPEM(cert))}
			}},
		{name: "missing truststore CA", step: preflight.StepTrustTerminals, status: preflight.Fail, reason: "no IngeTrust CA is configured",
			setup: func(t *testing.T, in *installation) { delete(in.values, "truststore.ingetrust") }},
		{name: "unreachable provider", step: preflight.StepProviderHandshake, status: preflight.Unknown, slug: "unreachable-refused", reason: "was refused",
			setup: func(t *testing.T, in *installation) { in.values["provider.address"] = []string{closedPort(t)} }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &installation{lab: base.lab, dir: base.dir, values: maps.Clone(base.values)}
			tc.setup(t, in)
			r := run(t, in.values, preflight.Options{})
			got := step(t, r, tc.step)
			if got.Status != tc.status || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("%s: %s %q, want %s with %q\n%s", tc.step, got.Status, got.Reason, tc.status, tc.reason, dump(r))
			}
			if tc.slug != "" && !slices.ContainsFunc(got.Findings, func(f check.Finding) bool { return f.Slug == tc.slug }) {
				t.Errorf("%s: no %s finding in %+v", tc.step, tc.slug, got.Findings)
			}
			if got.Fix == "" && tc.status == preflight.Fail {
				t.Errorf("%s: no fix", tc.step)
			}
			for _, s := range r.Steps {
				want, ok := tc.also[s.ID]
				if !ok {
					want = clean[s.ID]
				}
				if s.ID != tc.step && s.Status != want {
					t.Errorf("%s: %s (%s), want %s as on the clean installation", s.ID, s.Status, s.Reason, want)
				}
			}
			if r.Status != tc.status {
				t.Errorf("outcome %s, want %s", r.Status, tc.status)
			}
		})
	}
}

// serve runs a handshake.Server on loopback until the test ends.
func serve(t *testing.T, srv *handshake.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				if tc, _ := srv.Handshake(ctx, conn); tc != nil {
					tc.Close()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// With addresses, both live handshakes run: as the GAP towards a simulated
// provider, and as a terminal towards a simulated GAP server, which asks for
// the terminal's certificate as it should.
func TestLiveHandshakes(t *testing.T) {
	in := newInstallation(t)
	l := in.lab
	psp, gap := l.Credential(lab.RolePSPServer), l.Credential(lab.RoleGAPServer)
	nowFn := func() time.Time { return now }
	provider := serve(t, &handshake.Server{Link: diapason.LinkPSP, Offer: handshake.DiapasonOffer(), Now: nowFn,
		Credential: tls12.Certificate{Chain: append([]*x509.Certificate{psp.Cert}, psp.Intermediates()...), Key: psp.Key},
		ClientCAs:  []*x509.Certificate{l.CA(lab.CAIGCRoot).Cert},
		Peer: &handshake.PeerPolicy{Profile: diapason.PSPClient, Trust: handshake.Trust{Anchors: []*x509.Certificate{l.CA(lab.CAIGCRoot).Cert}},
			Revocation: handshake.RevocationPolicy{Mode: handshake.RevocationOff}}})
	server := serve(t, &handshake.Server{Link: diapason.LinkTPE, Offer: handshake.DiapasonOffer(), Now: nowFn,
		Credential: tls12.Certificate{Chain: append([]*x509.Certificate{gap.Cert}, gap.Intermediates()...), Key: gap.Key},
		ClientCAs:  []*x509.Certificate{l.CA(lab.CAIngeTrust).Cert},
		Peer: &handshake.PeerPolicy{Profile: diapason.TPEClient, Trust: handshake.Trust{Anchors: []*x509.Certificate{l.CA(lab.CAIngeTrust).Cert}},
			Revocation: handshake.RevocationPolicy{Mode: handshake.RevocationOff}}})
	in.values["provider.address"] = []string{provider}
	in.values["server.address"] = []string{server}
	r := run(t, in.values, preflight.Options{})
	if r.Status != preflight.Pass || r.Counts.Pass != len(r.Steps) {
		t.Fatalf("status %s:\n%s", r.Status, dump(r))
	}
	if s := step(t, r, preflight.StepProviderHandshake); !strings.Contains(s.Reason, "accepts the GAP client certificate, and the GAP trusts psp.lab.test's: mutual TLS 1.2 handshake with 0xC028 (ECDHE-RSA-AES256-SHA384)") {
		t.Errorf("provider: %q", s.Reason)
	}
	if s := step(t, r, preflight.StepServerHandshake); !strings.Contains(s.Reason, "asked for the terminal's certificate, as it should") {
		t.Errorf("GAP server: %q", s.Reason)
	}

	// A provider that is not the one the truststore trusts is refused.
	in.values["provider.ca"] = in.values["igc-root"]
	in.values["truststore.geotrust"] = in.values["igc-root"]
	r = run(t, in.values, preflight.Options{})
	if s := step(t, r, preflight.StepProviderHandshake); s.Status != preflight.Fail || !slices.ContainsFunc(s.Findings, func(f check.Finding) bool {
		return strings.Contains(f.Message, "unknown_ca") || strings.Contains(f.Slug, "untrusted")
	}) {
		t.Errorf("provider with the wrong CA: %s %q %+v", s.Status, s.Reason, s.Findings)
	}
}

// Nothing configured: each missing piece fails the step that needs it, the
// steps that depend on it are skipped, and nothing is read.
func TestNothingConfigured(t *testing.T) {
	r := run(t, map[string][]string{}, preflight.Options{})
	want := map[preflight.StepID]preflight.Status{
		preflight.StepFiles: preflight.Skip, preflight.StepClientProfile: preflight.Fail, preflight.StepServerProfile: preflight.Fail,
		preflight.StepTrustTerminals: preflight.Fail, preflight.StepTrustProvider: preflight.Fail,
	}
	for _, s := range r.Steps {
		w, ok := want[s.ID]
		if !ok {
			w = preflight.Skip
		}
		if s.Status != w {
			t.Errorf("%s: %s %q, want %s", s.ID, s.Status, s.Reason, w)
		}
		if s.Status == preflight.Fail && (s.Fix == "" || !strings.Contains(s.Fix, "DIAPASON_")) {
			t.Errorf("%s: fix %q does not say how to set the setting", s.ID, s.Fix)
		}
	}
}

// A PKCS#12 and an encrypted key, unlocked from a variable and a file: the
// passphrases appear nowhere in the report, its JSON or its JUnit form.
func TestSecretsNeverReported(t *testing.T) {
	const secret, other = "Pr3flight-S3cret!", "An0ther-S3cret?"
	in := newInstallation(t)
	client, server := in.lab.Credential(lab.RoleGAPClient), in.lab.Credential(lab.RoleGAPServer)
	p12, _, err := bundle.EncodeKeyStore(client.Key, client.Cert, client.Intermediates(), []byte(secret), bundle.P12Modern)
	if err != nil {
		t.Fatal(err)
	}
	key, err := certio.EncryptPrivateKeyPEM(server.Key, []byte(other))
	if err != nil {
		t.Fatal(err)
	}
	v := in.values
	delete(v, "client.cert")
	delete(v, "client.key")
	delete(v, "client.chain")
	v["client.p12"] = []string{in.write(t, "client.p12", p12)}
	v["client.passphrase-env"] = []string{"PF_P12_PASSPHRASE"}
	v["server.key"] = []string{in.write(t, "server.key", key)}
	v["server.passphrase-file"] = []string{in.write(t, "server.pass", []byte(other+"\n"))}
	env := map[string]string{"PF_P12_PASSPHRASE": secret}
	r := run(t, v, preflight.Options{Getenv: func(k string) string { return env[k] }})
	if r.Status != preflight.Pass {
		t.Fatalf("status %s:\n%s", r.Status, dump(r))
	}
	doc, _ := json.Marshal(r)
	junit, err := preflight.JUnit(r, "preflight")
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(doc), string(junit), dump(r)} {
		if strings.Contains(out, secret) || strings.Contains(out, other) {
			t.Fatalf("a passphrase appears in the report:\n%s", out)
		}
	}

	// Wrong, then missing: the file step says so, the credential's steps wait.
	env["PF_P12_PASSPHRASE"] = "not it"
	r = run(t, v, preflight.Options{Getenv: func(k string) string { return env[k] }})
	f := step(t, r, preflight.StepFiles)
	if f.Status != preflight.Fail || !strings.Contains(f.Reason, "client.p12") || !strings.Contains(f.Fix, "passphrase") {
		t.Errorf("wrong passphrase: %s %q fix %q", f.Status, f.Reason, f.Fix)
	}
	if s := step(t, r, preflight.StepClientKey); s.Status != preflight.Skip || !strings.Contains(s.Reason, "client.p12 could not be read") {
		t.Errorf("client-key after a wrong passphrase: %s %q", s.Status, s.Reason)
	}
	delete(v, "client.passphrase-env")
	r = run(t, v, preflight.Options{})
	if f := step(t, r, preflight.StepFiles); !strings.Contains(f.Fix, "client.passphrase-file or client.passphrase-env") {
		t.Errorf("no passphrase: %q fix %q", f.Reason, f.Fix)
	}
}

// The JUnit file parses, holds one test case per step, and counts failures,
// errors and skips as the steps do.
func TestJUnit(t *testing.T) {
	in := newInstallation(t)
	in.values["client.key"] = in.values["server.key"]
	in.values["server.address"] = []string{closedPort(t)}
	r := run(t, in.values, preflight.Options{Clock: time.Now})
	data, err := preflight.JUnit(r, "diapason-cert preflight")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name      string `xml:"name,attr"`
			Tests     int    `xml:"tests,attr"`
			Timestamp string `xml:"timestamp,attr"`
			Cases     []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Type string `xml:"type,attr"`
				} `xml:"error"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != len(r.Steps) || doc.Tests != len(r.Steps) || doc.Suites[0].Tests != len(r.Steps) {
		t.Fatalf("%d suites, cases %d, want one suite of %d\n%s", len(doc.Suites), len(doc.Suites[0].Cases), len(r.Steps), data)
	}
	if doc.Failures != 1 || doc.Errors != 1 || doc.Skipped != 1 || doc.Suites[0].Timestamp != "2026-11-27T12:00:00" {
		t.Errorf("failures %d errors %d skipped %d timestamp %s\n%s", doc.Failures, doc.Errors, doc.Skipped, doc.Suites[0].Timestamp, data)
	}
	for i, c := range doc.Suites[0].Cases {
		s := r.Steps[i]
		if !strings.HasPrefix(c.Name, string(s.ID)+": ") || c.Classname == "" || c.Time == "" {
			t.Errorf("case %d: %q %q %q for step %s", i, c.Name, c.Classname, c.Time, s.ID)
		}
		if (c.Failure != nil) != (s.Status == preflight.Fail) || (c.Error != nil) != (s.Status == preflight.Unknown) || (c.Skipped != nil) != (s.Status == preflight.Skip) {
			t.Errorf("case %s does not match its step's status %s", c.Name, s.Status)
		}
	}
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil && (c.Failure.Type != "key-mismatch" || !strings.Contains(c.Failure.Text, "fix: ")) {
			t.Errorf("failure %+v", c.Failure)
		}
		if c.Error != nil && c.Error.Type != "unreachable-refused" {
			t.Errorf("error %+v", c.Error)
		}
	}
}

// reference is a file of the real IGC-Santé hierarchy kept in the repository.
func reference(name string) string {
	return filepath.Join("..", "testdata", "reference", "igc-sante", name)
}

// The real, expired IGC-Santé TEST sample: its chain is judged against the
// embedded TEST root, the intermediate must be in the files, and a
// production configuration says which hierarchy it belongs to.
func TestRealIGCSanteTestCertificate(t *testing.T) {
	v := map[string][]string{"hierarchy": {"test"}, "client.cert": {reference("samples/TEST-ORG-SIGN-2021.pem")},
		"client.chain": {reference("ACI-EL-ORG-TEST.cer")}}
	r := run(t, v, preflight.Options{})
	for id, want := range map[preflight.StepID]struct {
		status preflight.Status
		reason string
	}{
		preflight.StepClientChain:     {preflight.Pass, "trusted: testsign.test.asipsante.fr ← TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS ← TEST AC RACINE IGC-SANTE ELEMENTAIRE"},
		preflight.StepClientHierarchy: {preflight.Pass, "IGC-Santé TEST, like its chain"},
		preflight.StepClientExpiry:    {preflight.Fail, "expired on 2024-12-23"},
		preflight.StepClientKey:       {preflight.Fail, "no private key is configured"},
		preflight.StepFiles:           {preflight.Pass, "2 files read"},
	} {
		if s := step(t, r, id); s.Status != want.status || !strings.Contains(s.Reason, want.reason) {
			t.Errorf("%s: %s %q, want %s %q", id, s.Status, s.Reason, want.status, want.reason)
		}
	}

	delete(v, "client.chain")
	r = run(t, v, preflight.Options{})
	if s := step(t, r, preflight.StepClientChain); s.Status != preflight.Fail || !strings.Contains(s.Reason, "(the tool found it as ACI-EL-ORG-TEST.cer)") ||
		!strings.Contains(s.Fix, "put ACI-EL-ORG-TEST.cer in client.chain") {
		t.Errorf("without the intermediate: %s %q fix %q", s.Status, s.Reason, s.Fix)
	}

	v["hierarchy"] = []string{"production"}
	r = run(t, v, preflight.Options{})
	if s := step(t, r, preflight.StepClientHierarchy); s.Status != preflight.Fail || !strings.Contains(s.Reason, "belongs to IGC-Santé TEST, but the installation is configured for IGC-Santé production") {
		t.Errorf("TEST certificate in production: %s %q", s.Status, s.Reason)
	}
}

// The live terminal-side handshake against Go's crypto/tls as the GAP server
// (0xC027, the Diapason suite it implements): a server that asks for the
// terminal's certificate passes, one that does not fails, as Diapason links
// are mutual TLS.
func TestServerHandshakeAgainstCryptoTLS(t *testing.T) {
	in := newInstallation(t)
	gap := in.lab.Credential(lab.RoleGAPServer)
	chain := [][]byte{gap.Cert.Raw}
	for _, c := range gap.Intermediates() {
		chain = append(chain, c.Raw)
	}
	for _, tc := range []struct {
		auth   tls.ClientAuthType
		status preflight.Status
		slug   string
	}{
		{tls.RequireAnyClientCert, preflight.Pass, ""},
		{tls.NoClientCert, preflight.Fail, "no-client-certificate-request"},
	} {
		ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
			Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: gap.Key}},
			MinVersion:   tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
			ClientAuth:   tc.auth,
			Time:         func() time.Time { return now },
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					_ = conn.(*tls.Conn).Handshake()
					conn.Close()
				}()
			}
		}()
		v := maps.Clone(in.values)
		v["server.address"] = []string{ln.Addr().String()}
		r := run(t, v, preflight.Options{})
		ln.Close()
		s := step(t, r, preflight.StepServerHandshake)
		if s.Status != tc.status || (tc.slug != "" && !slices.ContainsFunc(s.Findings, func(f check.Finding) bool { return f.Slug == tc.slug })) {
			t.Errorf("client auth %v: %s %q %+v", tc.auth, s.Status, s.Reason, s.Findings)
		}
	}
}

// CA files made by openssl: a CA is taken into the truststore, a
// certificate that is not a CA is refused. openssl dates them from this
// machine's clock, so they are judged by it.
func TestTruststoreOpenSSLCertificates(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	in := newInstallation(t)
	dir := t.TempDir()
	mk := func(name, bc string) string {
		p := filepath.Join(dir, name+".pem")
		out, err := exec.Command("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", filepath.Join(dir, name+".key"),
			"-out", p, "-days", "3650", "-subj", "/O=Ingenico-like/CN="+name, "-addext", "basicConstraints=critical,"+bc).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl: %v\n%s", err, out)
		}
		return p
	}
	v := maps.Clone(in.values)
	v["truststore.ingetrust"] = []string{mk("openssl-ca", "CA:TRUE")}
	clock := preflight.Options{Now: time.Now().Add(time.Minute)}
	if s := step(t, run(t, v, clock), preflight.StepTrustTerminals); s.Status != preflight.Pass || !strings.Contains(s.Reason, "1 CA certificate: openssl-ca") {
		t.Errorf("openssl CA: %s %q", s.Status, s.Reason)
	}
	v["truststore.ingetrust"] = []string{mk("openssl-leaf", "CA:FALSE")}
	if s := step(t, run(t, v, clock), preflight.StepTrustTerminals); s.Status != preflight.Fail || !strings.Contains(s.Reason, "is not a CA certificate") {
		t.Errorf("openssl leaf: %s %q", s.Status, s.Reason)
	}
}
