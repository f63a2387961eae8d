package simulate

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// Benchmarks of whole connections over loopback, both sides in this process;
// cpu-µs/op is the process's CPU per handshake, both sides together. Pairs
// that share one side differ by the other side's cost:
//
//	go test ./simulate -run '^$' -bench . -count 6 > bench.txt
//	benchstat -col /server -filter '/client:gotls' bench.txt  # simulated GAP server against crypto/tls's
//	benchstat -col /client bench.txt -filter '/server:gotls'  # simulate's fleet against a crypto/tls client loop
//
// bench/simulate.sh measures the two sides apart, as separate processes
// pinned to one core each, against the reference programs and openssl.

// reportCPU reports the process CPU per operation since start.
func reportCPU(b *testing.B, start time.Duration, ops int) {
	if ops > 0 {
		b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(ops), "cpu-µs/op")
	}
}

// goTLSServer serves crypto/tls mutual-TLS handshakes as the reference
// tlsserver does: 0xC027, a client certificate required and verified, then close.
func goTLSServer(b *testing.B, p *handshaketest.PKI) string {
	cred := p.Lab.Credential(lab.RoleGAPServer)
	pool := x509.NewCertPool()
	pool.AddCert(p.Lab.CA(lab.CAIngeTrust).Cert)
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cred.Cert.Raw, p.Lab.CA(lab.CAIGCOrg).Cert.Raw}, PrivateKey: cred.Key}},
		ClientCAs:    pool, ClientAuth: tls.RequireAndVerifyClientCert, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}, SessionTicketsDisabled: true,
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				tc := tls.Server(c, cfg)
				if tc.Handshake() == nil {
					tc.Close()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// goTLSClient is a terminal as the reference tlsload is: crypto/tls, 0xC027.
func goTLSClient(p *handshaketest.PKI) *tls.Config {
	cred := p.Lab.Credential(lab.RoleTPEClient)
	roots := x509.NewCertPool()
	roots.AddCert(p.Lab.CA(lab.CAIGCRoot).Cert)
	return &tls.Config{ServerName: p.Lab.FQDN(), RootCAs: roots, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256},
		Certificates: []tls.Certificate{{Certificate: [][]byte{cred.Cert.Raw}, PrivateKey: cred.Key}}}
}

func dialGoTLS(addr string, cfg *tls.Config) error {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// BenchmarkServer is one terminal connection to a GAP server: the simulated
// one (judging the terminal with revocation, logging an event) or crypto/tls.
func BenchmarkServer(b *testing.B) {
	p := handshaketest.NewPKI(b)
	sim := start(b, &Server{TLS: tlsServer(p, diapason.LinkTPE), Name: "bench"})
	client := goTLSClient(p)
	b.Run("server=simulate/client=gotls/suite=C027", func(b *testing.B) {
		start := processCPU()
		for b.Loop() {
			if err := dialGoTLS(sim.Addr, client); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start, b.N)
	})
	gotls := goTLSServer(b, p)
	b.Run("server=gotls/client=gotls/suite=C027", func(b *testing.B) {
		start := processCPU()
		for b.Loop() {
			if err := dialGoTLS(gotls, client); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start, b.N)
	})
	cfg := probeOf(p, diapason.LinkTPE, sim.Addr)
	cfg.Peer.Remember, cfg.NoTrace = time.Second, true
	cfg.Own = handshake.OwnReport(context.Background(), cfg)
	b.Run("server=simulate/client=probe/suite=C028", func(b *testing.B) {
		start := processCPU()
		for b.Loop() {
			if res := handshake.Probe(context.Background(), cfg); res.Status != handshake.StatusOK {
				b.Fatalf("%s: %s", res.Status, res.Summary)
			}
		}
		reportCPU(b, start, b.N)
	})
}

// BenchmarkFleet is terminal handshakes with a crypto/tls GAP server, made
// by the simulated fleet or by a crypto/tls client loop, 4 at a time.
func BenchmarkFleet(b *testing.B) {
	p := handshaketest.NewPKI(b)
	addr := goTLSServer(b, p)
	b.Run("server=gotls/client=fleet", func(b *testing.B) {
		cfg := probeOf(p, diapason.LinkTPE, addr)
		cfg.Peer.Remember = time.Second
		start := processCPU()
		res := (&Fleet{Probe: *cfg, Count: b.N, Concurrency: 4, Duration: time.Hour}).Run(context.Background())
		if res.Failed > 0 {
			b.Fatalf("%+v", res.Failures)
		}
		reportCPU(b, start, b.N)
	})
	b.Run("server=gotls/client=gotls", func(b *testing.B) {
		client := goTLSClient(p)
		start := processCPU()
		work := make(chan struct{}, b.N)
		for range b.N {
			work <- struct{}{}
		}
		close(work)
		done := make(chan struct{})
		for range 4 {
			go func() {
				for range work {
					if err := dialGoTLS(addr, client); err != nil {
						b.Error(err)
					}
				}
				done <- struct{}{}
			}()
		}
		for range 4 {
			<-done
		}
		reportCPU(b, start, b.N)
	})
}
