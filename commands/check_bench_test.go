package commands

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchCerts writes n certificates shaped like ../shared/bench/cmd/certgen's (RSA 2048,
// one CA not among them, a quarter expired, a quarter expiring inside 30 days).
func benchCerts(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "certbench CA", Organization: []string{"certbench"}},
		NotBefore: fixedNow.AddDate(-5, 0, 0), NotAfter: fixedNow.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, key.Public(), key)
	if err != nil {
		b.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	for i := range n {
		nb, na := fixedNow.AddDate(0, 0, -i%365), fixedNow.AddDate(0, 0, 31+i%1000)
		switch i % 4 {
		case 0:
			nb, na = fixedNow.AddDate(-2, 0, -i%300), fixedNow.AddDate(0, 0, -1-i%365)
		case 1:
			nb, na = fixedNow.AddDate(-1, 0, 0), fixedNow.Add(time.Duration(1+i%720)*time.Hour)
		}
		name := fmt.Sprintf("host-%05d.svc%d.example", i, i%50)
		t := &x509.Certificate{SerialNumber: big.NewInt(int64(1000000 + i)),
			Subject:   pkix.Name{CommonName: name, Organization: []string{fmt.Sprintf("Org %d", i%100)}, OrganizationalUnit: []string{fmt.Sprintf("Unit %d", i%17)}, Country: []string{"DE"}},
			NotBefore: nb, NotAfter: na, DNSNames: []string{name, fmt.Sprintf("alt-%05d.example", i)},
			KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, t, ca, key.Public(), key)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("cert-%05d.pem", i)), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// BenchmarkCheckJSON is `check DIR --output json` in-process, output discarded: the whole
// path issue 6's 10,000-file target measures, minus process start-up. Compare its ns/file
// with check's BenchmarkParseBound.
func BenchmarkCheckJSON(b *testing.B) {
	const n = 1000
	dir := benchCerts(b, n)
	for _, output := range []string{"json", "text", "prometheus"} {
		b.Run(output, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var stderr strings.Builder
				env := Env{Stdout: io.Discard, Stderr: &stderr, Now: func() time.Time { return fixedNow }}
				if code := Run(context.Background(), env, []string{"diapason-cert", "check", dir, "--output", output}); code != exitFail {
					b.Fatalf("exit %d: %s", code, stderr.String())
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/file")
		})
	}
}
