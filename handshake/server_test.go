package handshake

import (
	"context"
	"crypto/x509"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// serve runs srv on a loopback listener for one connection and returns its
// address and a channel with the server's result.
func serve(t *testing.T, srv *Server) (string, <-chan *ServerResult) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan *ServerResult, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			out <- nil
			return
		}
		tc, r := srv.Handshake(context.Background(), conn)
		if tc != nil {
			tc.Close()
		}
		out <- r
	}()
	return ln.Addr().String(), out
}

// providerServer is a simulated provider: it requires the GAP client
// certificate from the lab's IGC-Santé-like CAs, revocation mandatory.
func providerServer(p *handshaketest.PKI) *Server {
	igc := []*x509.Certificate{p.Lab.CA(lab.CAIGCRoot).Cert}
	return &Server{
		Link: diapason.LinkPSP, Credential: *labCred(p.Lab, lab.RolePSPServer), Offer: DiapasonOffer(), ClientCAs: igc,
		Peer: &PeerPolicy{Profile: diapason.PSPClient, Trust: Trust{Anchors: igc, Source: "test"},
			Revocation: RevocationPolicy{Mode: RevocationSoft, Required: true, Checkers: labCRLs(p.Lab)}},
		Now: func() time.Time { return testNow }, Clock: time.Now, Timeout: 5 * time.Second,
	}
}

// gapServer is a simulated GAP server facing terminals.
func gapServer(p *handshaketest.PKI) *Server {
	inge := []*x509.Certificate{p.Lab.CA(lab.CAIngeTrust).Cert}
	return &Server{
		Link: diapason.LinkTPE, Credential: *labCred(p.Lab, lab.RoleGAPServer), Offer: DiapasonOffer(), ClientCAs: inge,
		Peer: &PeerPolicy{Profile: diapason.TPEClient, Trust: Trust{Anchors: inge, Source: "test"},
			Revocation: RevocationPolicy{Mode: RevocationSoft, Required: true, Checkers: labCRLs(p.Lab)}},
		Now: func() time.Time { return testNow }, Clock: time.Now, Timeout: 5 * time.Second,
	}
}

func TestAgainstOwnServers(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	t.Run("provider", func(t *testing.T) {
		addr, side := serve(t, providerServer(p))
		res := probe(t, pspProbe(p, addr, labCred(p.Lab, lab.RoleGAPClient)))
		srv := <-side
		if res.Status != StatusOK || srv.Status != StatusOK {
			t.Fatalf("probe %s %v, server %s %v", res.Status, slugs(res.Causes), srv.Status, slugs(srv.Causes))
		}
		if srv.Peer.Revocation == nil || srv.Peer.Revocation.Status != "good" || srv.Negotiated.Suite.ID != "0xC028" {
			t.Errorf("server side %+v %+v", srv.Peer.Revocation, srv.Negotiated)
		}
	})
	t.Run("GAP server", func(t *testing.T) {
		addr, side := serve(t, gapServer(p))
		res := probe(t, tpeProbe(p, addr, labCred(p.Lab, lab.RoleTPEClient)))
		if srv := <-side; res.Status != StatusOK || srv.Status != StatusOK {
			t.Fatalf("probe %s %v, server %s %v", res.Status, slugs(res.Causes), srv.Status, slugs(srv.Causes))
		}
	})
	t.Run("revoked terminal", func(t *testing.T) {
		addr, side := serve(t, gapServer(p))
		res := probe(t, tpeProbe(p, addr, labCred(p.Lab, lab.RoleTPERevoked)))
		wantCause(t, res, StatusFail, "client-revoked")
		srv := <-side
		if srv.Status != StatusFail || len(srv.Causes) == 0 || srv.Causes[0].Slug != "revoked" {
			t.Errorf("server side %s %v", srv.Status, slugs(srv.Causes))
		}
	})
	t.Run("terminal without revocation source", func(t *testing.T) {
		srv := gapServer(p)
		srv.Peer = &PeerPolicy{Profile: diapason.TPEClient, Trust: srv.Peer.Trust, Revocation: RevocationPolicy{Mode: RevocationSoft, Required: true}}
		addr, side := serve(t, srv)
		wantCause(t, probe(t, tpeProbe(p, addr, labCred(p.Lab, lab.RoleTPEClient))), StatusFail, "client-certificate-unknown", "revocation")
		got := <-side
		if got.Status != StatusFail || got.Causes[0].Slug != "revocation-unavailable" {
			t.Fatalf("server side %s %v", got.Status, slugs(got.Causes))
		}
		for _, w := range []string{"--crl FILE|URL", "--revocation off", "names no CRL or OCSP"} {
			if !strings.Contains(got.Causes[0].Message, w) {
				t.Errorf("the refusal does not give the way out %q: %s", w, got.Causes[0].Message)
			}
		}
	})
	t.Run("suite mismatch", func(t *testing.T) {
		srv := providerServer(p)
		srv.Offer = Offer{Suites: []uint16{tls12.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}}
		addr, side := serve(t, srv)
		cfg := pspProbe(p, addr, labCred(p.Lab, lab.RoleGAPClient))
		cfg.Offer = Offer{Suites: []uint16{tls12.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384}}
		wantCause(t, probe(t, cfg), StatusFail, "suite-mismatch", "[0xC028]")
		if got := <-side; got.Causes[0].Slug != "suite-mismatch" {
			t.Errorf("server side %v", slugs(got.Causes))
		}
	})
	t.Run("GAP client refused by the provider's CN rule", func(t *testing.T) {
		addr, side := serve(t, providerServer(p))
		cred := labCred(p.Lab, lab.RoleGAPServer) // an IGC-Santé certificate, but the server one
		res := probe(t, pspProbe(p, addr, cred))
		wantCause(t, res, StatusFail, "client-certificate-refused")
		wantCause(t, res, StatusFail, "own-cn-mismatch", "Client_Diapason_PSP")
		if got := <-side; got.Causes[0].Slug != "cn-mismatch" {
			t.Errorf("server side %v", slugs(got.Causes))
		}
	})
}

func TestSelfTest(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	base := func() *SelfTestConfig {
		return &SelfTestConfig{
			FQDN: p.Lab.FQDN(), Server: *labCred(p.Lab, lab.RoleGAPServer), ServerKeyName: "the key",
			ServerTrust: Trust{Anchors: []*x509.Certificate{p.Lab.CA(lab.CAIGCRoot).Cert}, Source: "test", Hierarchy: diapason.HierarchyLab},
			Offer:       DiapasonOffer(), Timeout: 5 * time.Second, Now: testNow, Clock: time.Now,
		}
	}
	run := func(cfg *SelfTestConfig) *Result {
		res, err := SelfTest(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Run("ephemeral terminal", func(t *testing.T) {
		res := run(base())
		if res.Status != StatusOK || !res.SelfTest.Ephemeral || res.SelfTest.ServerSide.Status != StatusOK {
			t.Fatalf("%s %v: %s", res.Status, slugs(res.Causes), res.Summary)
		}
		if res.SelfTest.ServerSide.Peer.Revocation.Status != RevocationNotChecked {
			t.Errorf("the ephemeral terminal's revocation was asked about: %+v", res.SelfTest.ServerSide.Peer.Revocation)
		}
	})
	t.Run("CN is not the FQDN", func(t *testing.T) {
		cfg := base()
		cfg.FQDN = "gap.chu-exemple.fr"
		wantCause(t, run(cfg), StatusFail, "cn-mismatch", "gap.chu-exemple.fr")
	})
	t.Run("key not matching", func(t *testing.T) {
		cfg := base()
		cfg.Server.Key = p.Lab.Credential(lab.RoleGAPClient).Key
		res := run(cfg)
		wantCause(t, res, StatusFail, "key-mismatch")
		if res.SelfTest.Listener != "" {
			t.Error("a listener was started for a credential that cannot work")
		}
	})
	t.Run("server key not RSA", func(t *testing.T) {
		cfg := base()
		cfg.Server = *fileCred(t, p.ECDSAGAPServer, p.Path("igc-org.pem"))
		wantCause(t, run(cfg), StatusFail, "key-not-rsa", "ECDSA", "RSA 2048")
	})
	t.Run("given terminal, revoked", func(t *testing.T) {
		cfg := base()
		cfg.Terminal = labCred(p.Lab, lab.RoleTPERevoked)
		cfg.TerminalTrust = Trust{Anchors: []*x509.Certificate{p.Lab.CA(lab.CAIngeTrust).Cert}, Source: "test"}
		cfg.TerminalRevocation = RevocationPolicy{Mode: RevocationSoft, Required: true, Checkers: labCRLs(p.Lab)}
		res := run(cfg)
		wantCause(t, res, StatusFail, "client-revoked")
		wantCause(t, res, StatusFail, "revoked", "the GAP listener")
	})
}

// TestServerMisconfigured is a provider that does not ask for a client
// certificate, and one that names the wrong CAs in its request, as probes
// see them.
func TestServerMisconfigured(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	t.Run("no certificate request", func(t *testing.T) {
		srv := providerServer(p)
		srv.NoClientCertRequest = true
		addr, side := serve(t, srv)
		wantCause(t, probe(t, pspProbe(p, addr, labCred(p.Lab, lab.RoleGAPClient))), StatusFail, "no-client-certificate-request", "not mutual TLS")
		got := <-side
		if got.Status != StatusWarn || got.Causes[0].Slug != "no-client-certificate-request" || got.Peer != nil {
			t.Errorf("server side %s %v", got.Status, slugs(got.Causes))
		}
	})
	t.Run("CA names not the client's", func(t *testing.T) {
		srv := providerServer(p)
		srv.ClientCAs = []*x509.Certificate{p.Lab.CA(lab.CAGeoTrustRoot).Cert}
		addr, side := serve(t, srv)
		res := probe(t, pspProbe(p, addr, labCred(p.Lab, lab.RoleGAPClient)))
		wantCause(t, res, StatusWarn, "client-ca-not-listed", "GeoTrust-like", "sends none")
		if got := <-side; got.Status != StatusOK {
			t.Errorf("server side %s %v", got.Status, slugs(got.Causes))
		}
	})
	t.Run("CA names listing the root only", func(t *testing.T) {
		srv := providerServer(p) // names igc-root, the issuer of the intermediate sent
		addr, side := serve(t, srv)
		res := probe(t, pspProbe(p, addr, labCred(p.Lab, lab.RoleGAPClient)))
		if res.Status != StatusOK {
			t.Errorf("%s %v", res.Status, slugs(res.Causes))
		}
		<-side
	})
}
