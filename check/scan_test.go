package check

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func collect(t *testing.T, k *Checker, paths []string, opts ScanOptions) []FileReport {
	t.Helper()
	var out []FileReport
	err := Scan(context.Background(), k, paths, opts, func(r *FileReport) FileReport { return *r },
		func(r FileReport) error { out = append(out, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func files(reps []FileReport) []string {
	var out []string
	for _, r := range reps {
		out = append(out, r.File)
	}
	return out
}

func TestScanDirectory(t *testing.T) {
	dir := t.TempDir()
	ca := pemOf(testpki.Reference(t, "ACI-EL-ORG.cer"))
	writeFile(t, filepath.Join(dir, "certs", "b.pem"), ca)
	writeFile(t, filepath.Join(dir, "certs", "a.pem"), ca)
	writeFile(t, filepath.Join(dir, "certs", "sub", "c.cer"), testpki.Reference(t, "ACR-EL.cer").Raw)
	writeFile(t, filepath.Join(dir, "certs", "README.txt"), []byte("these are our certificates\n"))
	writeFile(t, filepath.Join(dir, "certs", "empty.pem"), nil)
	writeFile(t, filepath.Join(dir, "certs", "truncated.pem"), ca[:200])
	writeFile(t, filepath.Join(dir, "certs", "zz.bin"), []byte{0, 1, 2, 3, 0xff})
	writeFile(t, filepath.Join(dir, "certs", ".git", "config"), []byte("[core]\n"))
	writeFile(t, filepath.Join(dir, "certs", ".hidden.pem"), ca)
	if err := os.Symlink(filepath.Join(dir, "certs", "sub"), filepath.Join(dir, "certs", "loop")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "single.pem"), ca)
	t.Chdir(dir)

	k := testChecker(Options{})
	reps := collect(t, k, []string{"single.pem", "certs", "missing.pem"}, ScanOptions{Workers: 3})
	want := []string{"single.pem", "certs/README.txt", "certs/a.pem", "certs/b.pem", "certs/empty.pem", "certs/loop",
		"certs/sub/c.cer", "certs/truncated.pem", "certs/zz.bin", "missing.pem"}
	if got := files(reps); !slices.Equal(got, want) {
		t.Fatalf("files %q\nwant %q", got, want)
	}
	for _, r := range reps {
		switch r.File {
		case "single.pem", "certs/a.pem", "certs/b.pem", "certs/sub/c.cer":
			if r.Error != "" || len(r.Certificates) != 1 {
				t.Errorf("%s: %+v", r.File, r)
			}
		case "missing.pem":
			if !r.Named || !strings.Contains(r.Error, "no such file") {
				t.Errorf("%s: %+v", r.File, r)
			}
		case "certs/loop":
			if r.Error != "a symbolic link to a directory, not followed" {
				t.Errorf("%s: %+v", r.File, r)
			}
		default:
			if r.Named || r.Error == "" {
				t.Errorf("%s: %+v", r.File, r)
			}
		}
	}
	// The same paths with one worker give the same reports in the same order.
	if got := files(collect(t, k, []string{"single.pem", "certs", "missing.pem"}, ScanOptions{Workers: 1})); !slices.Equal(got, want) {
		t.Errorf("one worker: %q", got)
	}
}

func TestScanStdin(t *testing.T) {
	data := pemOf(testpki.Reference(t, "ACI-EL-ORG-TEST.cer"))
	reps := collect(t, testChecker(Options{}), []string{"-"}, ScanOptions{Stdin: strings.NewReader(string(data))})
	if len(reps) != 1 || reps[0].File != "-" || len(reps[0].Certificates) != 1 || !reps[0].Named {
		t.Errorf("%+v", reps)
	}
}

// Whatever the number of files, no more than the window of reports exists between being
// prepared and being emitted, and the emitted order is the input order.
func TestScanBoundedAndOrdered(t *testing.T) {
	dir := t.TempDir()
	ca := pemOf(testpki.Reference(t, "ACI-EL-ORG.cer"))
	const n = 500
	for i := range n {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%04d.pem", i)), ca)
	}
	const workers = 3
	var prepared, emitted atomic.Int64
	var worst atomic.Int64
	var order []string
	err := Scan(context.Background(), testChecker(Options{}), []string{dir}, ScanOptions{Workers: workers},
		func(r *FileReport) string {
			inFlight := prepared.Add(1) - emitted.Load()
			for {
				w := worst.Load()
				if inFlight <= w || worst.CompareAndSwap(w, inFlight) {
					break
				}
			}
			return filepath.Base(r.File)
		},
		func(name string) error {
			emitted.Add(1)
			order = append(order, name)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(order) != n || !slices.IsSorted(order) {
		t.Errorf("%d files emitted, sorted %v", len(order), slices.IsSorted(order))
	}
	if limit := int64(2 * workers * scanBatch); worst.Load() > limit {
		t.Errorf("%d reports held at once, over the window of %d", worst.Load(), limit)
	}
}

func TestScanStopsOnEmitError(t *testing.T) {
	dir := t.TempDir()
	ca := pemOf(testpki.Reference(t, "ACI-EL-ORG.cer"))
	for i := range 50 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("f%02d.pem", i)), ca)
	}
	boom := errors.New("disk full")
	calls := 0
	err := Scan(context.Background(), testChecker(Options{}), []string{dir}, ScanOptions{Workers: 2},
		func(r *FileReport) string { return r.File },
		func(string) error {
			calls++
			if calls == 3 {
				return boom
			}
			return nil
		})
	if !errors.Is(err, boom) || calls != 3 {
		t.Errorf("err %v after %d calls", err, calls)
	}
}

// scanBench is a directory of generated certificates shaped like those of
// ../shared/bench/cmd/certgen: RSA-2048, one CA that is not among them, a quarter
// expired, a quarter expiring inside 30 days, subjects and SANs that vary.
var scanBench struct {
	once sync.Once
	dir  string
	err  error
}

const benchFiles = 1000

func benchDir(b *testing.B) string {
	scanBench.once.Do(func() {
		scanBench.dir, scanBench.err = os.MkdirTemp("", "check-bench-")
		if scanBench.err != nil {
			return
		}
		root := &testCA{key: testpki.SharedRSAKey()}
		tmpl := caTemplate("certbench CA")
		root.cert = testpki.Sign(b, tmpl, tmpl, root.key.Public(), root.key)
		for i := range benchFiles {
			var nb, na time.Time
			switch i % 4 {
			case 0:
				nb, na = testNow.AddDate(-2, 0, -i%300), testNow.AddDate(0, 0, -1-i%365)
			case 1:
				nb, na = testNow.AddDate(-1, 0, 0), testNow.Add(time.Duration(1+i%720)*time.Hour)
			default:
				nb, na = testNow.AddDate(0, 0, -i%365), testNow.AddDate(0, 0, 31+i%1000)
			}
			name := fmt.Sprintf("host-%05d.svc%d.example", i, i%50)
			t := leafTemplate(name)
			t.SerialNumber = big.NewInt(int64(1000000 + i))
			t.Subject.Organization, t.Subject.OrganizationalUnit, t.Subject.Country = []string{fmt.Sprintf("Org %d", i%100)}, []string{fmt.Sprintf("Unit %d", i%17)}, []string{"DE"}
			t.NotBefore, t.NotAfter = nb, na
			t.DNSNames = []string{name, fmt.Sprintf("alt-%05d.example", i)}
			t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
			c := root.issue(b, t, nil)
			p := filepath.Join(scanBench.dir, fmt.Sprintf("cert-%05d.pem", i))
			if scanBench.err = os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644); scanBench.err != nil {
				return
			}
		}
	})
	if scanBench.err != nil {
		b.Fatal(scanBench.err)
	}
	return scanBench.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if scanBench.dir != "" {
		os.RemoveAll(scanBench.dir)
	}
	os.Exit(code)
}

// BenchmarkScan measures the scan path over benchFiles files: reading, decoding,
// inspection, chain building and findings, in input order. Compare its ns/file with
// BenchmarkParseBound's, the lower bound of ../shared/bench/cmd/parsebound.
func BenchmarkScan(b *testing.B) {
	dir := benchDir(b)
	for _, workers := range []int{1, 0} {
		name := fmt.Sprintf("workers=%d", workers)
		if workers == 0 {
			name = "workers=default"
		}
		b.Run(name, func(b *testing.B) {
			k := NewChecker(Options{Warn: diapason.WarnWindow, Now: testNow})
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				err := Scan(context.Background(), k, []string{dir}, ScanOptions{Workers: workers},
					func(r *FileReport) Level { return Worst(r.Certificates[0].Findings) },
					func(Level) error { n++; return nil })
				if err != nil || n != benchFiles {
					b.Fatalf("%d files, %v", n, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFiles), "ns/file")
		})
	}
}

// BenchmarkParseBound is the lower bound of a scan on one goroutine: read, pem.Decode,
// x509.ParseCertificate and a NotAfter comparison, as cmd/parsebound does.
func BenchmarkParseBound(b *testing.B) {
	dir := benchDir(b)
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	soon := testNow.AddDate(0, 0, 30)
	for b.Loop() {
		expiring := 0
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			for {
				var blk *pem.Block
				if blk, data = pem.Decode(data); blk == nil {
					break
				}
				c, err := x509.ParseCertificate(blk.Bytes)
				if err != nil {
					b.Fatal(err)
				}
				if soon.After(c.NotAfter) {
					expiring++
				}
			}
		}
		if expiring == 0 {
			b.Fatal("no certificate expiring")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchFiles), "ns/file")
}
