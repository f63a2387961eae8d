package tls12

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"maps"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

// Benchmarks, compared with benchstat (figures in the closing note):
//
//	go test ./tls12 -run '^$' -bench 'Handshake|Record' -count 10 > bench.txt
//	benchstat -col /suite -filter '/impl:tls12' bench.txt  # 0xC028 against 0xC027
//	benchstat -col /impl -filter '/suite:C027' bench.txt   # against crypto/tls
//
// Handshakes are full mutual-TLS 1.2 handshakes, both sides in-process over
// net.Pipe, with the 2048-bit test PKI and chain verification on both sides,
// as a Diapason client and server do. Besides wall time they report
// cpu-ns/op, the process CPU time (both sides, GC included) per handshake,
// which other load on a shared machine does not inflate.

var benchSuites = []uint16{
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
}

func shortSuite(id uint16) string { return fmt.Sprintf("C0%02X", id&0xFF) }

// pipeHandshake runs one handshake over net.Pipe with client and server
// functions that each return their handshake error.
func pipeHandshake(b *testing.B, client func(net.Conn) error, server func(net.Conn) error) {
	a, s := net.Pipe()
	defer a.Close()
	defer s.Close()
	errc := make(chan error, 1)
	go func() { errc <- server(s) }()
	if err := client(a); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}

func BenchmarkHandshake(b *testing.B) {
	pki := testpeer.NewPKI(b)
	ctx := context.Background()
	for _, suite := range benchSuites {
		b.Run("impl=tls12/suite="+shortSuite(suite), func(b *testing.B) {
			ccfg, scfg := mutualConfigs(b)
			ccfg.CipherSuites = []uint16{suite}
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				pipeHandshake(b,
					func(c net.Conn) error { return Client(c, ccfg).Handshake(ctx) },
					func(c net.Conn) error { return Server(c, scfg).Handshake(ctx) })
			}
			reportCPU(b, start)
		})
		if suite == TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 {
			continue // crypto/tls does not implement it
		}
		b.Run("impl=gotls/suite="+shortSuite(suite), func(b *testing.B) {
			ccfg := goTLSConfig(pki, pki.Client, suite, nil)
			scfg := goTLSConfig(pki, pki.Server, suite, nil)
			scfg.SessionTicketsDisabled = true
			b.ReportAllocs()
			start := processCPU()
			for b.Loop() {
				pipeHandshake(b,
					func(c net.Conn) error { return tls.Client(c, ccfg).HandshakeContext(ctx) },
					func(c net.Conn) error { return tls.Server(c, scfg).HandshakeContext(ctx) })
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkRecord seals and opens application data records of 1 KiB and of
// the 16 KiB maximum, for every suite and both CBC MAC orders.
func BenchmarkRecord(b *testing.B) {
	ciphers := suiteCiphers(b)
	for _, name := range slices.Sorted(maps.Keys(ciphers)) {
		pair := ciphers[name]
		for _, size := range []int{1024, maxPlaintext} {
			payload := bytes.Repeat([]byte{'d'}, size)
			b.Run(fmt.Sprintf("suite=%s/op=seal/size=%d", name, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				var n uint64
				var buf []byte
				start := processCPU()
				for b.Loop() {
					// As a connection does, into a reused send buffer.
					var err error
					if buf, err = pair[0].seal(buf[:0], n, recordApplicationData, payload, rand.Reader); err != nil {
						b.Fatal(err)
					}
					n++
				}
				reportCPUThroughput(b, start, size)
			})
			b.Run(fmt.Sprintf("suite=%s/op=open/size=%d", name, size), func(b *testing.B) {
				rec, _ := pair[0].seal(nil, 1, recordApplicationData, payload, rand.Reader)
				buf := make([]byte, len(rec))
				b.SetBytes(int64(size))
				start := processCPU()
				for b.Loop() {
					// CBC decrypts in place: open a fresh copy each time.
					copy(buf, rec)
					if _, err := pair[1].open(1, recordApplicationData, buf); err != nil {
						b.Fatal(err)
					}
				}
				reportCPUThroughput(b, start, size)
			})
		}
	}
}

// reportCPU reports the process CPU time per iteration since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// reportCPUThroughput reports megabytes per second of process CPU time.
func reportCPUThroughput(b *testing.B, start time.Duration, size int) {
	b.ReportMetric(float64(size)*float64(b.N)/(processCPU()-start).Seconds()/1e6, "cpu-MB/s")
}
