package commands

import (
	"context"
	"crypto/x509"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// causeSlugs returns the slugs of a handshake result's causes.
func causeSlugs(t *testing.T, r runResult) []string {
	t.Helper()
	doc := jsonDoc(t, r)
	var out []string
	causes, _ := doc["causes"].([]any)
	for _, c := range causes {
		out = append(out, c.(map[string]any)["slug"].(string))
	}
	return out
}

// hsCase is one command line against one server, with the exit code and the
// cause expected.
type hsCase struct {
	name   string
	server []string // openssl s_server arguments; nil: args hold the address
	args   []string
	code   int
	slug   string
	words  []string
}

func runHSCases(t *testing.T, cases []hsCase, addr func(t *testing.T, server []string) string) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := slices.Clone(tc.args)
			if tc.server != nil {
				args = append(args[:2:2], append([]string{addr(t, tc.server)}, args[2:]...)...)
			}
			r := runCLI(t, runOpts{}, append(args, "--output", "json")...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r)
			}
			if got := causeSlugs(t, r); tc.slug != "" && !slices.Contains(got, tc.slug) {
				t.Fatalf("causes %v, want %s\n%s", got, tc.slug, r)
			}
			text := runCLI(t, runOpts{}, args...)
			if text.code != tc.code {
				t.Fatalf("text: exit %d\n%s", text.code, text)
			}
			for _, w := range tc.words {
				if !strings.Contains(text.stdout+text.stderr, w) {
					t.Errorf("the text does not say %q\n%s", w, text)
				}
			}
		})
	}
}

func openSSL(t *testing.T, args []string) string {
	return handshaketest.StartServer(t, append(args, handshaketest.AtTime(fixedNow)...)...).Addr
}

// TestHandshakePSPCommand runs `handshake psp` against openssl s_server set up as
// a provider, every failure class included.
func TestHandshakePSPCommand(t *testing.T) {
	t.Parallel()
	handshaketest.NeedOpenSSL(t)
	p := handshaketest.NewPKI(t)
	f := p.Path
	provider := func(cert, key string, more ...string) []string {
		return append([]string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384", "-cert", cert, "-key", key, "-www"}, more...)
	}
	diapasonProvider := provider(f("psp-server.pem"), f("psp-server.key"), "-cert_chain", f("geotrust-ca.pem"),
		"-Verify", "2", "-verify_return_error", "-CAfile", p.IGCCAs, "-CRL", f("igc-org.crl.pem"), "-crl_check")
	gap := []string{"handshake", "psp"}
	files := func(cert, key string, more ...string) []string {
		return append(append(slices.Clone(gap), "--cert", cert, "--key", key, "--chain", f("igc-org.pem"), "--ca", f("geotrust-root.pem"),
			"--servername", lab.PSPFQDN, "--crl", f("geotrust-ca.crl.pem")), more...)
	}
	p12 := filepath.Join(p.Dir, "gap-client.p12")
	cred := p.Lab.Credential(lab.RoleGAPClient)
	pfx, err := pkcs12.Modern2023.Encode(cred.Key, cred.Cert, cred.Intermediates(), "s3cret-PFCNG")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p12, pfx, 0o600)
	os.WriteFile(f("p12.pass"), []byte("s3cret-PFCNG\n"), 0o600)
	// A full-chain PEM as --cert, the intermediate first: the leaf is the
	// certificate of the key, and the chain is sent in issuing order.
	leafPEM, _ := os.ReadFile(f("gap-client.pem"))
	orgPEM, _ := os.ReadFile(f("igc-org.pem"))
	os.WriteFile(f("fullchain.pem"), append(orgPEM, leafPEM...), 0o600)
	// A provider certificate signed by openssl that names no CRL and no OCSP
	// responder: its revocation cannot be checked, which is only an info line.
	noURLs := opensslProviderCert(t, p.Dir, f("psp-server.key"), f("geotrust-ca.pem"), f("geotrust-ca.key"))

	runHSCases(t, []hsCase{
		{name: "lab", server: diapasonProvider, args: append(slices.Clone(gap), "--lab", p.Dir), code: 0,
			words: []string{"verdict:", "OK: mutual TLS 1.2 handshake completed with 0xC028", "a Diapason suite", "ours listed:", "LAB AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"}},
		{name: "files, CRL file", server: diapasonProvider, args: files(f("gap-client.pem"), f("gap-client.key")), code: 0,
			words: []string{"revocation-good", "geotrust-ca.crl.pem"}},
		{name: "full-chain --cert", server: diapasonProvider,
			args: append(slices.Clone(gap), "--cert", f("fullchain.pem"), "--key", f("gap-client.key"), "--ca", f("geotrust-root.pem"), "--servername", lab.PSPFQDN,
				"--crl", f("geotrust-ca.crl.pem")), code: 0},
		{name: "PKCS#12 from the platform", server: diapasonProvider,
			args: append(slices.Clone(gap), "--p12", p12, "--passphrase-file", f("p12.pass"), "--ca", f("geotrust-root.pem"), "--servername", lab.PSPFQDN,
				"--crl", f("geotrust-ca.crl.pem")), code: 0},
		{name: "alias of the sheet", server: diapasonProvider, args: append(slices.Clone(gap), "--lab", p.Dir, "--cipher", diapason.DocumentedSuiteName), code: 0,
			words: []string{"not in the IANA registry: it stands for 0xC028"}},
		{name: "no revocation source for the provider", server: provider(noURLs, f("psp-server.key"), "-cert_chain", f("geotrust-ca.pem"),
			"-Verify", "2", "-verify_return_error", "-CAfile", p.IGCCAs),
			args: append(slices.Clone(gap), "--cert", f("gap-client.pem"), "--key", f("gap-client.key"), "--chain", f("igc-org.pem"), "--ca", f("geotrust-root.pem"), "--servername", lab.PSPFQDN),
			code: 0, words: []string{"INFO revocation-no-source", "optional for server certificates"}},
		// The provider's certificate names a CRL and an OCSP responder that nothing serves.
		{name: "provider's revocation sources unreachable, soft", server: diapasonProvider,
			args: append(slices.Clone(gap), "--cert", f("gap-client.pem"), "--key", f("gap-client.key"), "--chain", f("igc-org.pem"), "--ca", f("geotrust-root.pem"), "--servername", lab.PSPFQDN),
			code: 4, slug: "revocation-unknown", words: []string{"revocation status unknown", "connection refused"}},
		{name: "provider's revocation sources unreachable, hard", server: diapasonProvider,
			args: append(slices.Clone(gap), "--cert", f("gap-client.pem"), "--key", f("gap-client.key"), "--chain", f("igc-org.pem"), "--ca", f("geotrust-root.pem"),
				"--servername", lab.PSPFQDN, "--revocation", "hard"), code: 1, slug: "revocation-unknown", words: []string{"connection refused"}},
		{name: "provider's revocation off", server: diapasonProvider,
			args: append(slices.Clone(gap), "--cert", f("gap-client.pem"), "--key", f("gap-client.key"), "--chain", f("igc-org.pem"), "--ca", f("geotrust-root.pem"),
				"--servername", lab.PSPFQDN, "--revocation", "off"), code: 0},
		{name: "client expired", server: diapasonProvider, args: files(p.ExpiredClient.Cert, p.ExpiredClient.Key), code: 1, slug: "client-expired"},
		{name: "client revoked", server: diapasonProvider, args: files(p.RevokedClient.Cert, p.RevokedClient.Key), code: 1, slug: "client-revoked"},
		{name: "client CA not accepted", server: diapasonProvider, args: files(p.ForeignClient.Cert, p.ForeignClient.Key), code: 1, slug: "client-ca-not-accepted",
			words: []string{"it accepts: C=FR, O=ASIP-SANTE"}},
		{name: "client intermediate missing",
			server: provider(f("psp-server.pem"), f("psp-server.key"), "-cert_chain", f("geotrust-ca.pem"), "-Verify", "2", "-verify_return_error", "-CAfile", f("igc-root.pem")),
			args:   append(slices.Clone(gap), "--lab", p.Dir, "--cert", f("gap-client.pem"), "--key", f("gap-client.key")), code: 1, slug: "client-chain-incomplete",
			words: []string{"WARN sent-chain-incomplete", "without its intermediate"}},
		{name: "key not matching its certificate", server: diapasonProvider, args: files(f("gap-client.pem"), f("gap-server.key")), code: 1, slug: "key-mismatch"},
		{name: "provider chain untrusted", server: diapasonProvider,
			args: append(slices.Clone(gap), "--lab", p.Dir, "--ca", p.ForeignRoot), code: 1, slug: "chain-untrusted", words: []string{"alert unknown_ca (48) sent by this GAP"}},
		{name: "provider expired", server: provider(p.ExpiredPSPServer.Cert, p.ExpiredPSPServer.Key, "-cert_chain", f("geotrust-ca.pem")),
			args: append(slices.Clone(gap), "--lab", p.Dir), code: 1, slug: "expired"},
		{name: "provider intermediate missing", server: provider(f("psp-server.pem"), f("psp-server.key"), "-Verify", "2", "-CAfile", p.IGCCAs),
			args: append(slices.Clone(gap), "--lab", p.Dir), code: 1, slug: "chain-incomplete"},
		{name: "suite mismatch", server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-cert", f("psp-server.pem"), "-key", f("psp-server.key")},
			args: append(slices.Clone(gap), "--lab", p.Dir), code: 1, slug: "suite-mismatch"},
		{name: "TLS 1.3 only", server: []string{"-tls1_3", "-cert", f("psp-server.pem"), "-key", f("psp-server.key")},
			args: append(slices.Clone(gap), "--lab", p.Dir), code: 1, slug: "tls-version"},
		{name: "--cipher narrows", server: diapasonProvider, args: append(slices.Clone(gap), "--lab", p.Dir, "--cipher", "ECDHE-RSA-AES128-SHA256"),
			code: 1, slug: "suite-mismatch", words: []string{"[0xC027]"}},
		{name: "--cipher widens",
			server: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-cert", f("psp-server.pem"), "-key", f("psp-server.key"), "-cert_chain", f("geotrust-ca.pem"),
				"-Verify", "2", "-verify_return_error", "-CAfile", p.IGCCAs},
			args: append(slices.Clone(gap), "--lab", p.Dir, "--cipher", "diapason,ECDHE-RSA-AES128-GCM-SHA256"), code: 4, slug: "suite-not-diapason",
			words: []string{"0xC02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (not a Diapason suite)"}},
		{name: "no client certificate request", server: provider(f("psp-server.pem"), f("psp-server.key"), "-cert_chain", f("geotrust-ca.pem")),
			args: append(slices.Clone(gap), "--lab", p.Dir), code: 1, slug: "no-client-certificate-request"},
	}, openSSL)
}

// TestHandshakeTPECommand runs `handshake tpe` against openssl s_server set up as
// a GAP server, and self-tests.
func TestHandshakeTPECommand(t *testing.T) {
	t.Parallel()
	handshaketest.NeedOpenSSL(t)
	p := handshaketest.NewPKI(t)
	f := p.Path
	gapServer := func(cert, key string, chain ...string) []string {
		args := []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384", "-cert", cert, "-key", key, "-www",
			"-Verify", "2", "-verify_return_error", "-CAfile", f("ingetrust.pem"), "-CRL", f("ingetrust.crl.pem"), "-crl_check"}
		for _, c := range chain {
			args = append(args, "-cert_chain", c)
		}
		return args
	}
	diapasonGAP := gapServer(f("gap-server.pem"), f("gap-server.key"), f("igc-org.pem"))
	tpe := []string{"handshake", "tpe"}
	with := func(more ...string) []string { return append(slices.Clone(tpe), more...) }
	runHSCases(t, []hsCase{
		{name: "lab", server: diapasonGAP, args: with("--lab", p.Dir), code: 0},
		{name: "terminal revoked", server: diapasonGAP, args: with("--lab", p.Dir, "--cert", f("tpe-revoked.pem"), "--key", f("tpe-revoked.key")), code: 1, slug: "client-revoked"},
		{name: "CN is not the FQDN", server: diapasonGAP, args: with("--lab", p.Dir, "--fqdn", "gap.chu-exemple.fr"), code: 1, slug: "cn-mismatch",
			words: []string{`the CN is "gap.lab.test" but the terminals are configured with "gap.chu-exemple.fr"`}},
		{name: "no terminal certificate", server: diapasonGAP, args: with("--fqdn", "gap.lab.test", "--ca", f("igc-root.pem"), "--hierarchy", "lab"), code: 4,
			slug: "client-certificate-required"},
		{name: "server intermediate missing", server: gapServer(f("gap-server.pem"), f("gap-server.key")), args: with("--lab", p.Dir), code: 1, slug: "chain-incomplete"},
		{name: "server expired", server: gapServer(p.ExpiredGAPServer.Cert, p.ExpiredGAPServer.Key, f("igc-org.pem")), args: with("--lab", p.Dir), code: 1, slug: "expired"},
		{name: "TEST server, production terminal", server: gapServer(p.TestServer.Cert, p.TestServer.Key, p.TestChain),
			args: with("--lab", p.Dir, "--hierarchy", "production"), code: 1, slug: "hierarchy-mismatch", words: []string{"IGC-Santé TEST", "production root"}},
		{name: "TEST server, hierarchy of its issuer", server: gapServer(p.TestServer.Cert, p.TestServer.Key, p.TestChain),
			args: with("--fqdn", "gap.lab.test", "--cert", f("tpe-client.pem"), "--key", f("tpe-client.key")), code: 1, slug: "chain-untrusted",
			words: []string{"IGC-Santé TEST, the hierarchy of the certificate's issuer", "ACR-EL-TEST.cer"}},
	}, openSSL)
}

func TestHandshakeTPESelfTest(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	f := p.Path
	crls := httptest.NewServer(lab.Handler(p.Lab, func() time.Time { return fixedNow }, nil))
	t.Cleanup(crls.Close)
	self := func(more ...string) []string { return append([]string{"handshake", "tpe", "--lab", p.Dir}, more...) }
	given := func(more ...string) []string {
		return append([]string{"handshake", "tpe", "--fqdn", "gap.lab.test", "--server-cert", f("gap-server.pem"), "--server-key", f("gap-server.key"),
			"--server-chain", f("igc-org.pem"), "--ca", f("igc-root.pem"), "--hierarchy", "lab"}, more...)
	}
	runHSCases(t, []hsCase{
		{name: "lab credentials", args: self(), code: 0, words: []string{"(self-test)", "LAB TPE 00000001"}},
		{name: "given files, ephemeral terminal", args: given("--crl", f("igc-org.crl.pem")), code: 0, words: []string{"(made for this test)"}},
		{name: "given files, server's revocation sources unreachable", args: given(), code: 4, slug: "revocation-unknown"},
		{name: "CN is not the FQDN", args: given("--fqdn", "gap2.lab.test"), code: 1, slug: "cn-mismatch"},
		{name: "server key not matching", args: given("--server-key", f("gap-client.key")), code: 1, slug: "key-mismatch"},
		{name: "server intermediate missing", args: given("--server-chain", ""), code: 1, slug: "chain-incomplete"},
		{name: "revoked terminal, lab CRL", args: self("--cert", f("tpe-revoked.pem"), "--key", f("tpe-revoked.key")), code: 1, slug: "revoked"},
		{name: "revoked terminal, CRL over HTTP", args: given("--cert", f("tpe-revoked.pem"), "--key", f("tpe-revoked.key"), "--client-ca", f("ingetrust.pem"),
			"--crl", crls.URL+"/crl/ingetrust.crl"), code: 1, slug: "revoked"},
		{name: "terminal without revocation source", args: given("--cert", f("tpe-client.pem"), "--key", f("tpe-client.key"), "--client-ca", f("ingetrust.pem")),
			code: 1, slug: "revocation-unavailable", words: []string{"--crl FILE|URL", "--revocation off", "names no CRL or OCSP address"}},
		{name: "terminal revocation off", args: given("--cert", f("tpe-client.pem"), "--key", f("tpe-client.key"), "--client-ca", f("ingetrust.pem"), "--revocation", "off"),
			code: 0},
	}, nil)
}

func TestHandshakeUsage(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	f := p.Path
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"handshake", "psp"}, "takes the provider's HOST:PORT"},
		{[]string{"handshake", "psp", "psp.example.fr", "--lab", p.Dir}, "invalid address"},
		{[]string{"handshake", "psp", "127.0.0.1:1", "--cert", f("gap-client.pem"), "--key", f("gap-client.key")}, "--ca is required"},
		{[]string{"handshake", "psp", "127.0.0.1:1", "--ca", f("geotrust-root.pem")}, "GAP client certificate (ORG AUTH_CLI, CN Client_Diapason_PSP) is required"},
		{[]string{"handshake", "psp", "127.0.0.1:1", "--lab", p.Dir, "--cipher", "RC4-MD5"}, "unknown cipher suite"},
		{[]string{"handshake", "psp", "127.0.0.1:1", "--lab", p.Dir, "--revocation", "maybe"}, "unknown revocation mode"},
		{[]string{"handshake", "psp", "127.0.0.1:1", "--lab", p.Dir, "--cert", f("gap-client.pem")}, "--cert without --key"},
		{[]string{"handshake", "psp", "127.0.0.1:1", "--lab", p.Dir, "--p12", "x.p12", "--cert", f("gap-client.pem"), "--key", f("gap-client.key")}, "--p12 and --cert"},
		{[]string{"handshake", "tpe", "127.0.0.1:1", "--ca", f("igc-root.pem")}, "--fqdn is required"},
		{[]string{"handshake", "tpe", "--fqdn", "gap.lab.test"}, "nothing to test"},
		{[]string{"handshake", "tpe", "--fqdn", "gap.lab.test", "--hierarchy", "lab", "--server-cert", f("gap-server.pem"), "--server-key", f("gap-server.key")}, "--hierarchy lab has no embedded root"},
		{[]string{"handshake", "tpe", "--fqdn", "gap.lab.test", "--ca", f("igc-root.pem"), "--cert", f("tpe-client.pem"), "--key", f("tpe-client.key"), "--server-cert", f("gap-server.pem"), "--server-key", f("gap-server.key")}, "--client-ca is required"},
		{[]string{"handshake", "tpe", "127.0.0.1:1", "--lab", p.Dir, "--server-cert", f("gap-server.pem")}, "--server-cert with HOST:PORT"},
	}
	for _, tc := range cases {
		r := runCLI(t, runOpts{}, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: want exit 2 saying %q\n%s", tc.args, tc.want, r)
		}
	}
	if r := runCLI(t, runOpts{}, "handshake", "psp", "127.0.0.1:1", "--lab", filepath.Join(p.Dir, "nope")); r.code != 3 {
		t.Errorf("a missing lab: %s", r)
	}
}

// TestHandshakeNetwork covers the peers that cannot be judged or do not speak TLS.
func TestHandshakeNetwork(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	listen := func(t *testing.T, serve func(net.Conn)) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go serve(c)
			}
		}()
		return ln.Addr().String()
	}
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	httpPort := listen(t, func(c net.Conn) {
		c.Read(make([]byte, 1024))
		c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
		c.Close()
	})
	stalled := listen(t, func(c net.Conn) {
		time.Sleep(3 * time.Second)
		c.Close()
	})
	runHSCases(t, []hsCase{
		{name: "closed port", args: []string{"handshake", "psp", closed, "--lab", p.Dir}, code: 3, slug: "unreachable-refused", words: []string{"UNKNOWN", "refused"}},
		{name: "closed port, nagios", args: []string{"handshake", "tpe", closed, "--lab", p.Dir, "--exit-codes", "nagios"}, code: 3, slug: "unreachable-refused"},
		{name: "not TLS", args: []string{"handshake", "psp", httpPort, "--lab", p.Dir}, code: 1, slug: "not-tls", words: []string{`first bytes "HTTP/`}},
		{name: "stalled", args: []string{"handshake", "tpe", stalled, "--lab", p.Dir, "--timeout", "300ms"}, code: 1, slug: "stalled", words: []string{"within 300ms"}},
	}, nil)
}

// serveOnce runs a simulated server for one connection.
func serveOnce(t *testing.T, srv *handshake.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if tc, _ := srv.Handshake(context.Background(), c); tc != nil {
			tc.Close()
		}
	}()
	return ln.Addr().String()
}

// simulatedProvider is a provider made of this tool's own server, so that the
// golden files do not depend on the openssl version.
func simulatedProvider(p *handshaketest.PKI) *handshake.Server {
	l := p.Lab
	cred := l.Credential(lab.RolePSPServer)
	igc := []*x509.Certificate{l.CA(lab.CAIGCRoot).Cert}
	return &handshake.Server{
		Link: diapason.LinkPSP, Credential: tls12.Certificate{Chain: append([]*x509.Certificate{cred.Cert}, cred.Intermediates()...), Key: cred.Key},
		Offer: handshake.DiapasonOffer(), ClientCAs: igc, Now: func() time.Time { return fixedNow }, Timeout: 5 * time.Second,
		Peer: &handshake.PeerPolicy{Profile: diapason.PSPClient, Trust: handshake.Trust{Anchors: igc, Source: "test"},
			Revocation: handshake.RevocationPolicy{Mode: handshake.RevocationOff}},
	}
}

var (
	portRun     = regexp.MustCompile(`127\.0\.0\.1:\d+`)
	msRun       = regexp.MustCompile(`("(duration_ms|at_ms)": )[0-9.e-]+|in [0-9.]+ ms`)
	verifyData  = regexp.MustCompile(`verify_data=[0-9a-f]+`)
	keyIDRun    = regexp.MustCompile(`([0-9A-F]{2}:){15,}[0-9A-F]{2}`)
	serialField = regexp.MustCompile(`("serial": ")[0-9A-F]+|serial [0-9A-F]+`)
)

// scrubHandshake replaces what changes between runs: ports, durations,
// digests and serials of freshly signed certificates, Finished values.
func scrubHandshake(s, dir string) string {
	s = scrub(s, dir)
	s = portRun.ReplaceAllString(s, "127.0.0.1:PORT")
	s = msRun.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, "in ") {
			return "in N ms"
		}
		return m[:strings.Index(m, ": ")+2] + "0"
	})
	s = verifyData.ReplaceAllString(s, "verify_data=X")
	s = keyIDRun.ReplaceAllString(s, "$$KEYID")
	return serialField.ReplaceAllStringFunc(s, func(m string) string {
		if strings.HasPrefix(m, `"serial"`) {
			return `"serial": "SERIAL`
		}
		return "serial SERIAL"
	})
}

func TestHandshakeGolden(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"handshake-psp-ok", []string{"--lab", p.Dir, "--trace"}, 0},
		{"handshake-psp-refused", []string{"--lab", p.Dir, "--cert", p.ForeignClient.Cert, "--key", p.ForeignClient.Key, "--trace"}, 1},
	}
	for _, tc := range cases {
		for _, format := range []string{"txt", "json"} {
			addr := serveOnce(t, simulatedProvider(p))
			args := append([]string{"handshake", "psp", addr, "--output", map[string]string{"txt": "text", "json": "json"}[format]}, tc.args...)
			r := runCLI(t, runOpts{}, args...)
			if r.code != tc.code {
				t.Fatalf("%s: exit %d\n%s", tc.name, r.code, r)
			}
			golden(t, tc.name+"."+format, scrubHandshake(r.stdout, p.Dir))
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	r := runCLI(t, runOpts{}, "handshake", "psp", closed, "--lab", p.Dir, "--output", "json")
	if r.code != 3 {
		t.Fatalf("closed port: %s", r)
	}
	if _, traced := jsonDoc(t, r)["trace"]; traced {
		t.Error("the JSON holds the trace without --trace")
	}
	golden(t, "handshake-psp-unreachable.json", scrubHandshake(r.stdout, p.Dir))
}

func TestHandshakeReport(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	report := filepath.Join(t.TempDir(), "report.md")
	addr := serveOnce(t, simulatedProvider(p))
	r := runCLI(t, runOpts{}, "handshake", "psp", addr, "--lab", p.Dir, "--cert", p.ForeignClient.Cert, "--key", p.ForeignClient.Key, "--report", report)
	if r.code != 1 || !strings.Contains(r.stderr, "report written to "+report) {
		t.Fatalf("%s", r)
	}
	md, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Diapason handshake report: GAP to provider", "client-ca-not-accepted", "## Messages", "<== the handshake stopped here", "Foreign Test Root"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	key, err := os.ReadFile(p.ForeignClient.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyBody := strings.Split(string(key), "\n")[3]
	if strings.Contains(string(md), "PRIVATE KEY") || strings.Contains(string(md), keyBody) {
		t.Errorf("the report holds key material:\n%s", md)
	}
	// An existing report is kept unless --force.
	addr = serveOnce(t, simulatedProvider(p))
	if r := runCLI(t, runOpts{}, "handshake", "psp", addr, "--lab", p.Dir, "--report", report); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("an existing report was replaced without --force: %s", r)
	}
	addr = serveOnce(t, simulatedProvider(p))
	if r := runCLI(t, runOpts{}, "handshake", "psp", addr, "--lab", p.Dir, "--report", report, "--force"); r.code != 0 {
		t.Errorf("--force: %s", r)
	}
}

// opensslProviderCert has openssl issue a provider certificate (CN = SAN =
// psp.lab.test, serverAuth) from the given CA, with no CRL or OCSP address.
// `openssl ca` is used for its -startdate: the tests run at a fixed date.
func opensslProviderCert(t *testing.T, dir, key, caCert, caKey string) string {
	t.Helper()
	ca := filepath.Join(dir, "openssl-ca")
	os.MkdirAll(ca, 0o700)
	os.WriteFile(filepath.Join(ca, "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(ca, "serial"), []byte("1000\n"), 0o600)
	cfg := filepath.Join(ca, "ca.cnf")
	os.WriteFile(cfg, []byte(`[ca]
default_ca = lab
[lab]
database = `+filepath.Join(ca, "index.txt")+`
serial = `+filepath.Join(ca, "serial")+`
new_certs_dir = `+ca+`
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = server
[any]
commonName = supplied
[server]
subjectAltName = DNS:psp.lab.test
extendedKeyUsage = serverAuth
keyUsage = critical,digitalSignature,keyEncipherment
`), 0o600)
	csr, out := filepath.Join(ca, "psp.csr"), filepath.Join(dir, "psp-nourl.pem")
	start := fixedNow.AddDate(0, 0, -10).Format("20060102150405Z")
	end := fixedNow.AddDate(0, 0, 190).Format("20060102150405Z")
	for _, args := range [][]string{
		{"req", "-new", "-key", key, "-subj", "/C=FR/O=LAB PSP/CN=psp.lab.test", "-out", csr},
		{"ca", "-batch", "-notext", "-config", cfg, "-cert", caCert, "-keyfile", caKey, "-startdate", start, "-enddate", end, "-in", csr, "-out", out},
	} {
		if msg, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %s: %v\n%s", args[0], err, msg)
		}
	}
	return out
}
