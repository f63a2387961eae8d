package commands

import (
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/lab"
)

// TestBundleLabCredentials runs the three subcommands on a lab's credentials,
// shaped like the real IGC-Santé, IngeTrust and GeoTrust ones: each is clean.
func TestBundleLabCredentials(t *testing.T) {
	l, err := lab.New(lab.Options{Now: fixedNow, KeyCache: "bundle"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	server, client := l.Credential(lab.RoleGAPServer), l.Credential(lab.RoleGAPClient)
	put(t, dir, "server.pem", certsPEM(server.Cert))
	put(t, dir, "server.key", keyPEM(t, server.Key))
	put(t, dir, "server-chain.pem", certsPEM(server.Intermediates()...))
	put(t, dir, "root.pem", certsPEM(server.Anchor()))
	put(t, dir, "client.pem", certsPEM(client.Cert))
	put(t, dir, "client.key", keyPEM(t, client.Key))
	put(t, dir, "client-chain.pem", certsPEM(client.Chain...))
	put(t, dir, "pw", []byte(p12Password+"\n"))

	r := runCLI(t, runOpts{}, "bundle", "build", "--cert", "server.pem", "--chain", "server-chain.pem", "--key", "server.key",
		"--expect", "tpe-server", "--fqdn", l.FQDN(), "--p12", "server.p12", "--passphrase-file", "pw")
	if r.code != 0 || strings.Contains(r.stdout, "FAIL") || strings.Contains(r.stdout, "WARN") {
		t.Fatalf("the lab's GAP server credential:\n%s", r)
	}
	verifyFullChain(t, dir, "fullchain.pem")
	if got := keytoolAliases(t, "server.p12", p12Password); got["1"] != "PrivateKeyEntry" {
		t.Errorf("keytool lists %v", got)
	}

	runTool(t, "openssl", "pkcs12", "-export", "-in", "client.pem", "-inkey", "client.key", "-certfile", "client-chain.pem",
		"-out", "client.p12", "-passout", "file:pw")
	r = runCLI(t, runOpts{}, "bundle", "intake", "client.p12", "--out-dir", "psp", "--expect", "psp-client", "--passphrase-file", "pw")
	if r.code != 0 || strings.Contains(r.stdout, "FAIL") || strings.Contains(r.stdout, "WARN") {
		t.Fatalf("the lab's GAP client credential:\n%s", r)
	}

	put(t, dir, "ingetrust.pem", certsPEM(l.CA(lab.CAIngeTrust).Cert))
	put(t, dir, "geotrust.pem", certsPEM(l.CA(lab.CAGeoTrustCA).Cert, l.CA(lab.CAGeoTrustRoot).Cert))
	r = runCLI(t, runOpts{}, "bundle", "truststore", "--ca", "ingetrust.pem", "--ca", "geotrust.pem", "--p12", "trust.p12", "--passphrase-file", "pw")
	if r.code != 0 {
		t.Fatalf("truststore:\n%s", r)
	}
	if got := keytoolAliases(t, "trust.p12", p12Password); len(got) != 3 {
		t.Errorf("keytool lists %v", got)
	}
}
