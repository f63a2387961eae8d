package handshake

import (
	"slices"
	"testing"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// TestPSPAgainstOpenSSL runs the GAP's probe against openssl s_server set up as a
// Diapason provider: 0xC028 only, client certificate required, verified against
// the IGC-Santé-like CAs, and its revocation checked on the CRL.
func TestPSPAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	provider := handshaketest.StartServer(t, openSSLArgs(p.Path("psp-server.pem"), p.Path("psp-server.key"),
		"-cert_chain", p.Path("geotrust-ca.pem"), "-Verify", "2", "-verify_return_error", "-CAfile", p.IGCCAs,
		"-CRL", p.Path("igc-org.crl.pem"), "-crl_check")...)

	t.Run("accepted", func(t *testing.T) {
		res := probe(t, pspProbe(p, provider.Addr, labCred(p.Lab, lab.RoleGAPClient)))
		if res.Status != StatusOK || !res.Handshake.Completed {
			t.Fatalf("status %s, causes %v: %s", res.Status, slugs(res.Causes), res.Summary)
		}
		if n := res.Negotiated; n.Suite.ID != "0xC028" || !n.Suite.Diapason || !n.ExtendedMasterSecret {
			t.Errorf("negotiated %+v", n)
		}
		cr := res.CertificateRequest
		if cr == nil || !cr.Requested || len(cr.AcceptedCAs) != 2 || len(cr.OurCAsListed) != 2 || cr.CertificateSent == "" {
			t.Errorf("certificate request %+v", cr)
		}
		if res.Peer.Revocation == nil || res.Peer.Revocation.Status != "good" {
			t.Errorf("provider revocation %+v", res.Peer.Revocation)
		}
		if res.Connect.DurationMS <= 0 || res.Handshake.DurationMS <= 0 {
			t.Errorf("durations not measured: %+v %+v", res.Connect, res.Handshake)
		}
	})
	t.Run("client expired", func(t *testing.T) {
		res := probe(t, pspProbe(p, provider.Addr, fileCred(t, p.ExpiredClient, p.Path("igc-org.pem"))))
		wantCause(t, res, StatusFail, "client-expired", "expired", "renew")
		if a := res.Handshake.Alert; a == nil || a.Sent || a.Name != "certificate_expired" {
			t.Errorf("alert %+v", a)
		}
	})
	t.Run("client revoked", func(t *testing.T) {
		res := probe(t, pspProbe(p, provider.Addr, fileCred(t, p.RevokedClient, p.Path("igc-org.pem"))))
		wantCause(t, res, StatusFail, "client-revoked", "revoked")
	})
	t.Run("client from a CA the provider does not accept", func(t *testing.T) {
		res := probe(t, pspProbe(p, provider.Addr, fileCred(t, p.ForeignClient)))
		wantCause(t, res, StatusFail, "client-ca-not-accepted", "Foreign Test Root", "it accepts:", "LAB AC RACINE IGC-SANTE ELEMENTAIRE")
	})
	t.Run("no client certificate", func(t *testing.T) {
		res := probe(t, pspProbe(p, provider.Addr, nil))
		wantCause(t, res, StatusFail, "no-client-certificate", "--cert")
	})
	t.Run("key not matching its certificate", func(t *testing.T) {
		cred := labCred(p.Lab, lab.RoleGAPClient)
		cred.Key = p.Lab.Credential(lab.RoleGAPServer).Key
		res := probe(t, pspProbe(p, provider.Addr, cred))
		wantCause(t, res, StatusFail, "key-mismatch", "not the key pair")
		if res.Connect.Connected {
			t.Error("a credential whose key is not its certificate's was used to connect")
		}
	})
	t.Run("server chain untrusted", func(t *testing.T) {
		cfg := pspProbe(p, provider.Addr, labCred(p.Lab, lab.RoleGAPClient))
		cfg.Peer.Trust.Anchors = loadCerts(t, p.ForeignRoot)
		res := probe(t, cfg)
		wantCause(t, res, StatusFail, "chain-untrusted", "LAB GeoTrust-like Global Root G2", "--ca")
		if a := res.Handshake.Alert; a == nil || !a.Sent || a.Name != "unknown_ca" {
			t.Errorf("alert %+v", a)
		}
		if err := provider.WaitOutput("alert unknown ca"); err != nil {
			t.Error(err)
		}
	})
	t.Run("client key not RSA", func(t *testing.T) {
		// openssl accepts an ECDSA client certificate; Diapason does not.
		res := probe(t, pspProbe(p, provider.Addr, fileCred(t, p.ECDSAClient, p.Path("igc-org.pem"))))
		if !res.Handshake.Completed {
			t.Fatalf("%s %v", res.Status, slugs(res.Causes))
		}
		wantCause(t, res, StatusFail, "own-key-not-rsa", "ECDSA", "RSA")
	})
	t.Run("server name mismatch", func(t *testing.T) {
		cfg := pspProbe(p, provider.Addr, labCred(p.Lab, lab.RoleGAPClient))
		cfg.ServerName, cfg.Peer.Name = "payments.example.fr", "payments.example.fr"
		wantCause(t, probe(t, cfg), StatusFail, "name-mismatch", "psp.lab.test", "payments.example.fr")
	})
}

// TestPSPServerFaultsAgainstOpenSSL covers the provider's own mistakes.
func TestPSPServerFaultsAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	verify := []string{"-Verify", "2", "-verify_return_error", "-CAfile", p.IGCCAs}
	cases := []struct {
		name   string
		args   []string
		status Status
		slug   string
		words  []string
	}{
		{"server expired", openSSLArgs(p.ExpiredPSPServer.Cert, p.ExpiredPSPServer.Key, append([]string{"-cert_chain", p.Path("geotrust-ca.pem")}, verify...)...),
			StatusFail, "expired", []string{"expired on"}},
		{"server intermediate missing", openSSLArgs(p.Path("psp-server.pem"), p.Path("psp-server.key"), verify...),
			StatusFail, "chain-incomplete", []string{"LAB GeoTrust-like TLS RSA CA G1"}},
		{"suite mismatch", []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256", "-cert", p.Path("psp-server.pem"), "-key", p.Path("psp-server.key")},
			StatusFail, "suite-mismatch", []string{"0xC028, 0xC027", "cipher suite in common"}},
		{"TLS 1.3 only", []string{"-tls1_3", "-cert", p.Path("psp-server.pem"), "-key", p.Path("psp-server.key")},
			StatusFail, "tls-version", []string{"TLS 1.3"}},
		{"no client certificate request", openSSLArgs(p.Path("psp-server.pem"), p.Path("psp-server.key"), "-cert_chain", p.Path("geotrust-ca.pem")),
			StatusFail, "no-client-certificate-request", []string{"mutual TLS"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			provider := handshaketest.StartServer(t, tc.args...)
			res := probe(t, pspProbe(p, provider.Addr, labCred(p.Lab, lab.RoleGAPClient)))
			wantCause(t, res, tc.status, tc.slug, tc.words...)
		})
	}
	t.Run("client intermediate missing", func(t *testing.T) {
		t.Parallel()
		// A provider that holds only the root cannot build the chain of a
		// certificate sent without its intermediate.
		provider := handshaketest.StartServer(t, openSSLArgs(p.Path("psp-server.pem"), p.Path("psp-server.key"),
			"-cert_chain", p.Path("geotrust-ca.pem"), "-Verify", "2", "-verify_return_error", "-CAfile", p.Path("igc-root.pem"))...)
		cred := labCred(p.Lab, lab.RoleGAPClient)
		cred.Chain = cred.Chain[:1]
		res := probe(t, pspProbe(p, provider.Addr, cred))
		wantCause(t, res, StatusFail, "client-chain-incomplete", "LAB AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "--chain")
		if !slices.ContainsFunc(res.Own.Findings, func(f check.Finding) bool { return f.Slug == "sent-chain-incomplete" }) {
			t.Errorf("own findings %+v", res.Own.Findings)
		}
	})
}

// TestTPEAgainstOpenSSL runs the terminal's probe against openssl s_server set
// up as a GAP server: terminal certificates required, IngeTrust-like CA, CRL.
func TestTPEAgainstOpenSSL(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	gapArgs := func(cert, key string, chain ...string) []string {
		args := openSSLArgs(cert, key, "-Verify", "2", "-verify_return_error", "-CAfile", p.Path("ingetrust.pem"),
			"-CRL", p.Path("ingetrust.crl.pem"), "-crl_check")
		for _, c := range chain {
			args = append(args, "-cert_chain", c)
		}
		return args
	}
	gap := handshaketest.StartServer(t, gapArgs(p.Path("gap-server.pem"), p.Path("gap-server.key"), p.Path("igc-org.pem"))...)

	t.Run("accepted", func(t *testing.T) {
		res := probe(t, tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient)))
		if res.Status != StatusOK {
			t.Fatalf("status %s, causes %v: %s", res.Status, slugs(res.Causes), res.Summary)
		}
	})
	t.Run("terminal revoked", func(t *testing.T) {
		res := probe(t, tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPERevoked)))
		wantCause(t, res, StatusFail, "client-revoked")
	})
	t.Run("CN is not the FQDN", func(t *testing.T) {
		cfg := tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient))
		cfg.ServerName, cfg.Peer.Name = "gap2.lab.test", "gap2.lab.test"
		wantCause(t, probe(t, cfg), StatusFail, "cn-mismatch", `"gap.lab.test"`, `"gap2.lab.test"`)
	})
	t.Run("no terminal certificate", func(t *testing.T) {
		res := probe(t, tpeProbe(p, gap.Addr, nil))
		wantCause(t, res, StatusWarn, "client-certificate-required", "as it should")
	})
	t.Run("lab server, terminal on the embedded roots", func(t *testing.T) {
		cfg := tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient))
		cfg.Peer.Trust = Trust{IGCSante: true}
		wantCause(t, probe(t, cfg), StatusFail, "no-trust-anchor", "--lab")
	})
	t.Run("server key not RSA", func(t *testing.T) {
		args := gapArgs(p.ECDSAGAPServer.Cert, p.ECDSAGAPServer.Key, p.Path("igc-org.pem"))
		args[2] = "ECDHE-RSA-AES256-SHA384:ECDHE-ECDSA-AES256-SHA384"
		gap := handshaketest.StartServer(t, args...)
		wantCause(t, probe(t, tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient))), StatusFail, "suite-mismatch", "ECDSA certificate cannot serve ECDHE_RSA")
	})
	t.Run("server intermediate missing", func(t *testing.T) {
		gap := handshaketest.StartServer(t, gapArgs(p.Path("gap-server.pem"), p.Path("gap-server.key"))...)
		wantCause(t, probe(t, tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient))), StatusFail, "chain-incomplete")
	})
	t.Run("server expired", func(t *testing.T) {
		gap := handshaketest.StartServer(t, gapArgs(p.ExpiredGAPServer.Cert, p.ExpiredGAPServer.Key, p.Path("igc-org.pem"))...)
		wantCause(t, probe(t, tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient))), StatusFail, "expired", "renewal")
	})
	t.Run("TEST certificate, production terminal", func(t *testing.T) {
		gap := handshaketest.StartServer(t, gapArgs(p.TestServer.Cert, p.TestServer.Key, p.TestChain)...)
		cfg := tpeProbe(p, gap.Addr, labCred(p.Lab, lab.RoleTPEClient))
		cfg.Peer.Trust = Trust{IGCSante: true, Hierarchy: diapason.HierarchyProduction}
		res := probe(t, cfg)
		wantCause(t, res, StatusFail, "hierarchy-mismatch", "IGC-Santé TEST", "production")
		if res.Causes[0].Slug != "hierarchy-mismatch" {
			t.Errorf("the hierarchy mismatch is not the first cause: %v", slugs(res.Causes))
		}

		cfg.Peer = &PeerPolicy{Profile: diapason.TPEServer, Name: p.Lab.FQDN(), Trust: Trust{IGCSante: true}}
		res = probe(t, cfg)
		if tr := res.Peer.Trust; tr.Hierarchy != diapason.HierarchyTest || !tr.HierarchyFromPeer || !slices.Contains(tr.Anchors, "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC RACINE IGC-SANTE ELEMENTAIRE") {
			t.Errorf("trust by the issuer's hierarchy: %+v", tr)
		}
		wantCause(t, res, StatusFail, "chain-untrusted")

		cfg.Peer = &PeerPolicy{Profile: diapason.TPEServer, Name: p.Lab.FQDN(),
			Trust: Trust{IGCSante: true, Hierarchy: diapason.HierarchyTest, Anchors: loadCerts(t, p.TestRoot), Source: "--ca"}}
		if res = probe(t, cfg); res.Status != StatusOK {
			t.Errorf("with --ca naming the root: %s %v: %s", res.Status, slugs(res.Causes), res.Summary)
		}
	})
}
