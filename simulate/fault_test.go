package simulate

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// faultServer is a simulated server of link with fault, set up as the
// command does: the credential re-issued by the lab's CA, revoked in the lab.
func faultServer(t *testing.T, p *handshaketest.PKI, link diapason.LinkID, fault Fault) *Server {
	t.Helper()
	hs := tlsServer(p, link)
	ca, ok := p.Lab.IssuerOf(hs.Credential.Chain[0])
	if !ok {
		t.Fatal("the lab did not issue its own credential")
	}
	cred, what, err := Credential(fault, hs.Credential, &CA{Cert: ca.Cert, Key: ca.Key}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if fault.ChangesCredential() {
		if what == "" {
			t.Errorf("%s: no sentence says what is presented", fault)
		}
	}
	if fault == FaultRevoked {
		if _, err := p.Lab.Revoke(cred.Chain[0], 1, testNow.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	hs.Credential = cred
	switch fault {
	case FaultSuiteMismatch:
		hs.Offer = SuiteMismatchOffer()
	case FaultNoClientCertRequest:
		hs.NoClientCertRequest = true
	case FaultWrongCANames:
		hs.ClientCAs = []*x509.Certificate{WrongCAName()}
	}
	return &Server{TLS: hs, Fault: fault, Name: "test"}
}

// TestFaults checks that every fault is seen from the other side as the
// failure it claims to be, by our probe and by openssl s_client, and what the
// server logs of it.
func TestFaults(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	cases := []struct {
		fault Fault
		link  diapason.LinkID
		// probe is the probe's first cause; sClient what s_client prints.
		probe, sClient string
		// server is the server's first cause; "" for a completed handshake.
		server string
	}{
		{FaultExpired, diapason.LinkPSP, "expired", "certificate has expired", "server-certificate-refused"},
		{FaultNotYetValid, diapason.LinkTPE, "not-yet-valid", "certificate is not yet valid", "server-certificate-refused"},
		{FaultWrongCA, diapason.LinkPSP, "chain-untrusted", "self-signed certificate in certificate chain", "server-certificate-refused"},
		{FaultMissingIntermediate, diapason.LinkTPE, "chain-incomplete", "unable to get local issuer certificate", "server-certificate-refused"},
		{FaultRevoked, diapason.LinkTPE, "revoked", "certificate revoked", "server-certificate-refused"},
		{FaultCNMismatch, diapason.LinkTPE, "cn-mismatch", "hostname mismatch", "server-certificate-refused"},
		{FaultCNMismatch, diapason.LinkPSP, "name-mismatch", "hostname mismatch", "server-certificate-refused"},
		{FaultSuiteMismatch, diapason.LinkPSP, "suite-mismatch", "alert handshake failure", "suite-mismatch"},
		{FaultNoClientCertRequest, diapason.LinkTPE, "no-client-certificate-request", "", "no-client-certificate-request"},
		{FaultWrongCANames, diapason.LinkPSP, "client-ca-not-listed", "Wrong CA named on purpose", ""},
		{FaultAlertAfterHello, diapason.LinkTPE, "peer-alert", "alert internal error", "fault-alert-after-hello"},
		{FaultStall, diapason.LinkPSP, "stalled", "", "fault-stall"},
	}
	for _, tc := range cases {
		t.Run(string(tc.fault)+"/"+string(tc.link), func(t *testing.T) {
			t.Parallel()
			r := start(t, faultServer(t, p, tc.link, tc.fault))
			cfg := probeOf(p, tc.link, r.Addr)
			if tc.fault == FaultStall {
				cfg.Timeout = 500 * time.Millisecond
			}
			res := handshake.Probe(context.Background(), cfg)
			wantCause(t, res, tc.probe)
			if tc.fault == FaultAlertAfterHello {
				wantCause(t, res, "peer-alert", "internal_error", "reading ServerHello")
			}
			e := r.wait(t, "of the probe", func(Event) bool { return true })
			if got := first(e.Causes); got != tc.server {
				t.Errorf("server logged %q (%s), want %q", got, e.Summary, tc.server)
			}
			if e.Fault != tc.fault {
				t.Errorf("event fault %q", e.Fault)
			}

			out, err := handshaketest.RunClient(t, r.Addr, "", sClientTimeout(tc.fault), sClientArgs(p, tc.link, tc.fault)...)
			switch tc.fault {
			case FaultStall:
				if err == nil || strings.Contains(out, "Cipher is") {
					t.Fatalf("s_client completed a handshake with a stalled server (%v):\n%s", err, out)
				}
			case FaultNoClientCertRequest:
				if !strings.Contains(out, "Cipher is ECDHE-RSA-AES256-SHA384") || strings.Contains(out, "CertificateRequest") {
					t.Fatalf("s_client saw a certificate request, or no handshake:\n%s", out)
				}
			default:
				if !strings.Contains(out, tc.sClient) {
					t.Fatalf("s_client does not say %q (%v):\n%s", tc.sClient, err, out)
				}
			}
		})
	}
	// Clients that pick their certificate by the CA names, as crypto/tls
	// does, send none to a server naming the wrong CAs, and are refused.
	t.Run("wrong-ca-names/crypto-tls", func(t *testing.T) {
		t.Parallel()
		r := start(t, faultServer(t, p, diapason.LinkPSP, FaultWrongCANames))
		cred := p.Lab.Credential(lab.RoleGAPClient)
		roots := x509.NewCertPool()
		roots.AddCert(p.Lab.CA(lab.CAGeoTrustRoot).Cert)
		c, err := tls.Dial("tcp", r.Addr, &tls.Config{ServerName: lab.PSPFQDN, RootCAs: roots, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
			Certificates: []tls.Certificate{{Certificate: [][]byte{cred.Cert.Raw, p.Lab.CA(lab.CAIGCOrg).Cert.Raw}, PrivateKey: cred.Key}}})
		if err == nil {
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil || !strings.Contains(err.Error(), "handshake failure") {
			t.Fatalf("crypto/tls: %v", err)
		}
		r.wait(t, "no-client-certificate", slug("no-client-certificate"))
	})
}

func first(cs []handshake.Cause) string {
	if len(cs) == 0 {
		return ""
	}
	return cs[0].Slug
}

func sClientTimeout(f Fault) time.Duration {
	if f == FaultStall {
		return time.Second
	}
	return 20 * time.Second
}

// sClientArgs configure openssl s_client as the link's client, verifying
// the server as it should.
func sClientArgs(p *handshaketest.PKI, link diapason.LinkID, f Fault) []string {
	args := []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-SHA256", "-verify_return_error", "-msg"}
	args = append(args, handshaketest.AtTime(testNow)...)
	if link == diapason.LinkPSP {
		args = append(args, "-CAfile", p.Path("geotrust-root.pem"), "-cert", p.Path("gap-client.pem"), "-key", p.Path("gap-client.key"),
			"-cert_chain", p.Path("igc-org.pem"), "-servername", lab.PSPFQDN, "-verify_hostname", lab.PSPFQDN)
	} else {
		args = append(args, "-CAfile", p.Path("igc-root.pem"), "-cert", p.Path("tpe-client.pem"), "-key", p.Path("tpe-client.key"),
			"-servername", p.Lab.FQDN(), "-verify_hostname", p.Lab.FQDN())
	}
	if f == FaultRevoked {
		args = append(args, "-crl_check", "-CRL", p.Path("igc-org.crl.pem"))
	}
	return args
}

// TestCredential checks what each credential fault presents.
func TestCredential(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	cred := labCred(p.Lab, lab.RoleGAPServer)
	leaf := cred.Chain[0]
	org := p.Lab.CA(lab.CAIGCOrg)
	ca := &CA{Cert: org.Cert, Key: org.Key}
	get := func(f Fault) tls12.Certificate {
		t.Helper()
		out, _, err := Credential(f, cred, ca, testNow)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := out.Chain[0].CheckSignatureFrom(out.Chain[len(out.Chain)-1]); f != FaultMissingIntermediate && len(out.Chain) > 1 && err != nil {
			t.Errorf("%s: %v", f, err)
		}
		return out
	}
	if c := get(FaultExpired).Chain[0]; !c.NotAfter.Before(testNow) || c.NotBefore.Before(org.Cert.NotBefore) || string(c.RawSubject) != string(leaf.RawSubject) ||
		c.SerialNumber.Cmp(leaf.SerialNumber) == 0 || !c.PublicKey.(*rsa.PublicKey).Equal(leaf.PublicKey) {
		t.Errorf("expired: %s to %s", c.NotBefore, c.NotAfter)
	}
	if c := get(FaultNotYetValid).Chain[0]; !c.NotBefore.After(testNow) || c.NotAfter.After(org.Cert.NotAfter) {
		t.Errorf("not yet valid: %s to %s", c.NotBefore, c.NotAfter)
	}
	c := get(FaultCNMismatch).Chain[0]
	if want := "wrong." + leaf.Subject.CommonName; c.Subject.CommonName != want || len(c.DNSNames) != 1 || c.DNSNames[0] != want ||
		c.Subject.Organization[0] != leaf.Subject.Organization[0] {
		t.Errorf("cn-mismatch: %s %v", c.Subject, c.DNSNames)
	}
	if len(c.CRLDistributionPoints) == 0 || len(c.OCSPServer) == 0 {
		t.Error("the re-issued certificate lost its revocation addresses")
	}
	if w := get(FaultWrongCA).Chain; len(w) != 2 || w[1].Subject.CommonName != "Wrong CA (--fault wrong-ca)" || w[0].CheckSignatureFrom(w[1]) != nil {
		t.Errorf("wrong-ca chain %v", w)
	}
	if m := get(FaultMissingIntermediate).Chain; len(m) != 1 || !m[0].Equal(leaf) {
		t.Errorf("missing-intermediate chain %v", m)
	}
	if _, _, err := Credential(FaultMissingIntermediate, tls12.Certificate{Chain: cred.Chain[:1], Key: cred.Key}, nil, testNow); err == nil ||
		!strings.Contains(err.Error(), "no intermediate") {
		t.Errorf("missing-intermediate of a lone leaf: %v", err)
	}
	for _, f := range []Fault{FaultExpired, FaultNotYetValid, FaultCNMismatch, FaultRevoked} {
		if _, _, err := Credential(f, cred, nil, testNow); !errors.Is(err, ErrNeedsCA) {
			t.Errorf("%s without a CA: %v", f, err)
		}
	}
	if out, _, err := Credential(FaultStall, cred, nil, testNow); err != nil || !out.Chain[0].Equal(leaf) {
		t.Errorf("stall changed the credential: %v", err)
	}
}

func TestParseFault(t *testing.T) {
	t.Parallel()
	for _, fi := range Faults {
		if f, err := ParseFault(" " + strings.ToUpper(string(fi.Fault))); err != nil || f != fi.Fault {
			t.Errorf("%s: %v %v", fi.Fault, f, err)
		}
	}
	if f, err := ParseFault(""); err != nil || f != FaultNone {
		t.Errorf("empty: %v %v", f, err)
	}
	if _, err := ParseFault("expird"); err == nil || !strings.Contains(err.Error(), "not-yet-valid") {
		t.Errorf("unknown fault: %v", err)
	}
}
