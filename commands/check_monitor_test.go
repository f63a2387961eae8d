package commands

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/diapason-cert/diapason-cert/internal/testpki"
	"github.com/diapason-cert/diapason-cert/lab"
)

// The metrics of a scan are read by Prometheus's own text-format parser: every family
// with its help and type, one series per certificate, labels as in the JSON result.
func TestCheckPrometheus(t *testing.T) {
	dir := t.TempDir()
	l := scanFixture(t, dir)
	// A subject with every character the format escapes.
	key, _ := lab.CachedKey("check-prom", 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "a \"quoted\" back\\slash\nnew line", Organization: []string{"Hôpital"}},
		NotBefore: fixedNow.AddDate(0, -1, 0), NotAfter: fixedNow.AddDate(1, 0, 0)}
	odd := testpki.Sign(t, tmpl, tmpl, key.Public(), key)
	writeTestFile(t, filepath.Join(dir, "certs", "odd", "odd.pem"), certPEM(odd))
	t.Chdir(dir)

	r := runCLI(t, runOpts{}, "check", "certs", "--output", "prometheus")
	if r.code != exitFail {
		t.Errorf("exit %d\n%s", r.code, r)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("not the text format: %v\n%s", err, r.stdout)
	}
	for _, name := range []string{"diapason_cert_status", "diapason_cert_not_after_seconds", "diapason_cert_not_before_seconds"} {
		f := families[name]
		if f == nil || f.GetHelp() == "" || f.GetType().String() != "GAUGE" || len(f.GetMetric()) != 8 {
			t.Fatalf("%s: %v", name, f)
		}
	}
	if families["diapason_cert_revoked"] != nil {
		t.Error("revocation metrics without --revocation")
	}
	series := map[string]map[string]string{}
	for _, m := range families["diapason_cert_not_after_seconds"].GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		series[labels["file"]+" "+labels["serial"]] = labels
		labels["value"] = time.Unix(int64(m.GetGauge().GetValue()), 0).UTC().Format(time.DateOnly)
	}
	server := l.Credential(lab.RoleGAPServer).Cert
	want := map[string]string{"file": "certs/gap-server.pem", "role": "gap-server", "hierarchy": "lab",
		"subject": "C=FR, ST=Côte-d'Or (21), O=LAB CENTRE HOSPITALIER EXEMPLE, OU=399999999900013, CN=gap.lab.test",
		"value":   server.NotAfter.UTC().Format(time.DateOnly)}
	got := series["certs/gap-server.pem "+strings.ToUpper(server.SerialNumber.Text(16))]
	for k, v := range want {
		if got[k] != v {
			t.Errorf("gap-server %s = %q, want %q (%v)", k, got[k], v, got)
		}
	}
	jr := runCLI(t, runOpts{}, "check", "certs/odd/odd.pem", "--output", "json")
	subject := jsonDoc(t, jr)["files"].([]any)[0].(map[string]any)["certificates"].([]any)[0].(map[string]any)["subject"].(string)
	if got := series["certs/odd/odd.pem 4D"]["subject"]; got != subject || !strings.Contains(got, "\n") {
		t.Errorf("escaped subject read back as %q, want %q", got, subject)
	}
	statuses := map[string]float64{}
	for _, m := range families["diapason_cert_status"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "file" {
				statuses[lp.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if statuses["certs/igc/TEST-ORG-SIGN-2021.pem"] != 2 || statuses["certs/expiring.pem"] != 1 || statuses["certs/psp.pem"] != 0 {
		t.Errorf("statuses %v", statuses)
	}
	files := families["diapason_cert_check_files"]
	if files == nil || len(files.GetMetric()) != 3 || families["diapason_cert_check_status"].GetMetric()[0].GetGauge().GetValue() != 2 {
		t.Errorf("run metrics: %v %v", files, families["diapason_cert_check_status"])
	}
	if ts := families["diapason_cert_check_timestamp_seconds"]; ts == nil || int64(ts.GetMetric()[0].GetGauge().GetValue()) != fixedNow.Unix() {
		t.Errorf("timestamp %v", ts)
	}
}

// With --revocation, each certificate says whether it is revoked.
func TestCheckPrometheusRevocation(t *testing.T) {
	newServedLab(t)
	r := runCLI(t, cacheEnv(t), "check", "lab/tpe-revoked.pem", "lab/tpe-client.pem", "--lab", "lab", "--revocation", "soft", "--output", "prometheus")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	revoked := map[string]float64{}
	for _, m := range families["diapason_cert_revoked"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "file" {
				revoked[lp.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if revoked["lab/tpe-revoked.pem"] != 1 || revoked["lab/tpe-client.pem"] != 0 || r.code != exitFail {
		t.Errorf("revoked %v\n%s", revoked, r)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// The timeline of a scan at the fixed now, and the same in colour on a terminal.
func TestCheckTimelineGolden(t *testing.T) {
	dir := t.TempDir()
	scanFixture(t, dir)
	t.Chdir(dir)
	r := runCLI(t, runOpts{}, "check", "certs", "--timeline")
	if r.code != exitFail || strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("exit %d\n%s", r.code, r)
	}
	golden(t, "check-timeline.txt", scrub(r.stdout, dir))
	tty := runCLI(t, runOpts{tty: true}, "check", "certs", "--timeline")
	if !strings.Contains(tty.stdout, "\x1b[") {
		t.Errorf("no colour on a terminal:\n%s", tty.stdout)
	}
	if plain := ansi.ReplaceAllString(tty.stdout, ""); plain != r.stdout {
		t.Errorf("the coloured timeline says something else:\n%s", plain)
	}
}
