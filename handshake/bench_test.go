package handshake

import (
	"context"
	"crypto/x509"
	"net"
	"testing"

	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// BenchmarkJudge is the cost of judging a peer's chain (chain building, check
// findings, CRL lookup), what every handshake of a probe or server adds to the
// TLS work.
func BenchmarkJudge(b *testing.B) {
	p := handshaketest.NewPKI(b)
	cfg := pspProbe(p, "", nil)
	chain := labCred(p.Lab, lab.RolePSPServer).Chain
	for b.Loop() {
		if rep := cfg.Peer.Judge(context.Background(), chain, testNow); rep.Refusal != nil {
			b.Fatal(rep.Refusal.Message)
		}
	}
}

// BenchmarkProbe is one whole GAP probe (own-credential check, TCP, mutual
// 0xC028 handshake, judgement) against the simulated provider, both in this
// process: the client and server costs together.
func BenchmarkProbe(b *testing.B) {
	p := handshaketest.NewPKI(b)
	srv := providerServer(p)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				if tc, _ := srv.Handshake(context.Background(), c); tc != nil {
					tc.Close()
				}
			}()
		}
	}()
	cfg := pspProbe(p, ln.Addr().String(), labCred(p.Lab, lab.RoleGAPClient))
	cfg.OwnCAs = []*x509.Certificate{p.Lab.CA(lab.CAIGCRoot).Cert, p.Lab.CA(lab.CAIGCOrg).Cert}
	for b.Loop() {
		if res := Probe(context.Background(), cfg); res.Status != StatusOK {
			b.Fatalf("%s: %s", res.Status, res.Summary)
		}
	}
}
