package handshake

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

func TestLadder(t *testing.T) {
	x := &Exchange{
		Handshake: HandshakeInfo{StoppedAt: "reading ChangeCipherSpec"},
		Trace: []TraceStep{
			{Direction: "sent", Message: "ClientHello", Summary: "version=TLS1.2"},
			{Direction: "received", Message: "ServerHelloDone"},
			{Direction: "received", Message: "Alert", Summary: "fatal unknown_ca"},
		},
	}
	want := []string{
		"GAP                                 provider:443",
		"|                                              |",
		"|-- ClientHello ------------------------------>|  version=TLS1.2",
		"|<-------------------------- ServerHelloDone --|",
		"|<=================== Alert fatal unknown_ca ==|  <== the handshake stopped here",
	}
	if got := Ladder("GAP", "provider:443", x); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ladder:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Without an alert, a last line says how it stopped.
	x.Trace, x.Handshake.Error = x.Trace[:1], "peer closed the connection without an alert: EOF"
	got := Ladder("GAP", "provider", x)
	if last := got[len(got)-1]; !strings.HasPrefix(last, "X ") || !strings.HasSuffix(last, "while reading ChangeCipherSpec: peer closed the connection without an alert: EOF") {
		t.Errorf("last line %q", last)
	}
}

// TestReportHoldsNoSecret writes the report of a completed handshake and of a
// refused one and looks for every form the keys could take.
func TestReportHoldsNoSecret(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	addr, side := serve(t, providerServer(p))
	ok := probe(t, pspProbe(p, addr, labCred(p.Lab, lab.RoleGAPClient)))
	<-side
	addr, side = serve(t, providerServer(p))
	refused := probe(t, pspProbe(p, addr, labCred(p.Lab, lab.RoleTPEClient)))
	<-side
	for _, res := range []*Result{ok, refused} {
		md := string(Markdown(res, "diapason-cert test"))
		for _, want := range []string{"# Diapason handshake report: GAP to provider", "| Verdict | **" + strings.ToUpper(string(res.Status)), "## Messages", "ClientHello"} {
			if !strings.Contains(md, want) {
				t.Errorf("report lacks %q:\n%s", want, md)
			}
		}
		for _, role := range []lab.Role{lab.RoleGAPClient, lab.RoleTPEClient, lab.RolePSPServer} {
			k := p.Lab.Credential(role).Key.(*rsa.PrivateKey)
			der, _ := x509.MarshalPKCS8PrivateKey(k)
			block := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
			d := k.D.Text(16)
			for _, secret := range []string{"PRIVATE KEY", block[40:100], d[:32], strings.ToUpper(d[:32]), fmt.Sprintf("% X", k.D.Bytes()[:16]), k.Primes[0].Text(10)[:32]} {
				if strings.Contains(md, secret) {
					t.Errorf("the report holds key material (%.20s…)", secret)
				}
			}
		}
	}
	if md := string(Markdown(refused, "t")); !strings.Contains(md, "client-ca-not-accepted") || !strings.Contains(md, "<== the handshake stopped here") {
		t.Errorf("refused report:\n%s", md)
	}
}
