package handshaketest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
	"github.com/diapason-cert/diapason-cert/lab"
)

// Now is the time fixtures are judged at: the command-line tests' fixed clock.
// Give openssl AtTime(Now) so that it judges at the same time.
var Now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// LabNow is the lab's clock, a day before Now, so that its certificates and
// CRLs have started.
var LabNow = Now.Add(-24 * time.Hour)

// The fixtures' own keys: one for the roots, one for the intermediate, one for
// every end-entity certificate. Sharing keys between certificates of different
// names changes nothing to chain building and saves RSA key generation.
const (
	keyRoot         = "handshaketest-root"
	keyIntermediate = "handshaketest-intermediate"
	keyLeaf         = "handshaketest-leaf"
)

// Cred names a certificate file and its key file.
type Cred struct{ Cert, Key string }

// PKI is a lab stored on disk, with the defective credentials handshake tests
// need besides the lab's own ones. Every file is PEM.
type PKI struct {
	Dir string
	Lab *lab.Lab
	// ExpiredClient and RevokedClient are GAP client certificates (psp-client)
	// of the lab's IGC-Santé-like CA; RevokedClient is on its CRL.
	ExpiredClient, RevokedClient Cred
	// ExpiredPSPServer (GeoTrust-like) and ExpiredGAPServer (IGC-Santé-like)
	// are expired server certificates with the lab's names.
	ExpiredPSPServer, ExpiredGAPServer Cred
	// ForeignServer (CN and SAN psp.lab.test) and ForeignClient (CN
	// Client_Diapason_PSP) come from ForeignRoot, a CA no lab knows.
	ForeignServer, ForeignClient Cred
	ForeignRoot                  string
	// TestServer is a GAP server certificate (CN gap.lab.test) under CAs named
	// like the IGC-Santé TEST hierarchy, but with keys of their own; TestChain
	// is its intermediate, TestRoot the root.
	TestServer          Cred
	TestChain, TestRoot string
	// ECDSAGAPServer (CN gap.lab.test) and ECDSAClient (CN Client_Diapason_PSP)
	// have P-256 keys, which the Diapason suites (ECDHE_RSA) cannot use for a
	// server; the lab's IGC-Santé-like ORGANISATIONS CA issued them.
	ECDSAGAPServer, ECDSAClient Cred
	// IGCCAs holds the lab's IGC-Santé-like intermediate and root: the -CAfile
	// of a provider that accepts GAP client certificates.
	IGCCAs string
}

// Path is the path of a file of the lab directory ("gap-client.pem").
func (p *PKI) Path(name string) string { return filepath.Join(p.Dir, name) }

// NewPKI makes a lab and the extra credentials in a temporary directory. Keys
// come from the lab's process-wide cache, so it costs only signatures.
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	dir := t.TempDir()
	// The keys are made at once: RSA key generation is what takes time.
	var wg sync.WaitGroup
	for _, name := range []string{keyRoot, keyIntermediate, keyLeaf} {
		wg.Go(func() { lab.CachedKey(name, 2048) })
	}
	l, err := lab.New(lab.Options{Dir: dir, Now: LabNow, KeyCache: "handshaketest"})
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	p := &PKI{Dir: dir, Lab: l}
	old := func(years int) (time.Time, time.Time) {
		return Now.AddDate(-years, 0, -10), Now.AddDate(0, 0, -10)
	}
	nb, na := old(3)
	p.ExpiredClient = p.sign(t, "expired-client", diapason.ClientDiapasonPSP, diapason.PSPClient, nb, na)
	p.RevokedClient = p.sign(t, "revoked-client", diapason.ClientDiapasonPSP, diapason.PSPClient, LabNow, LabNow.AddDate(3, 0, 0))
	revoked, err := certio.Loader{}.LoadCertificates(p.RevokedClient.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Revoke(revoked[0], 1, LabNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	p.ExpiredGAPServer = p.sign(t, "expired-gap-server", l.FQDN(), diapason.TPEServer, nb, na)
	nb, na = Now.AddDate(0, -8, 0), Now.AddDate(0, 0, -10)
	p.ExpiredPSPServer = p.sign(t, "expired-psp-server", lab.PSPFQDN, diapason.PSPServer, nb, na)
	p.IGCCAs = p.write(t, "igc-cas.pem", pemCerts(l.CA(lab.CAIGCOrg).Cert, l.CA(lab.CAIGCRoot).Cert))
	p.foreign(t)
	p.testHierarchy(t)
	p.ecdsa(t)
	return p
}

func (p *PKI) ecdsa(t testing.TB) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	org := p.Lab.CA(lab.CAIGCOrg)
	fqdn := p.Lab.FQDN()
	p.ECDSAGAPServer = p.leafWith(t, "ecdsa-gap-server", key, dn.Attrs([2]string{"C", "FR"}, [2]string{"CN", fqdn}), []string{fqdn}, x509.ExtKeyUsageServerAuth, org.Cert, org.Key, 0)
	p.ECDSAClient = p.leafWith(t, "ecdsa-client", key, dn.Attrs([2]string{"C", "FR"}, [2]string{"CN", diapason.ClientDiapasonPSP}), nil, x509.ExtKeyUsageClientAuth, org.Cert, org.Key, 0)
}

// sign has the lab issue a certificate for a new request, as the platform does.
func (p *PKI) sign(t testing.TB, name, cn string, profile diapason.ProfileID, notBefore, notAfter time.Time) Cred {
	t.Helper()
	key, err := lab.CachedKey(keyLeaf, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}
	if profile == diapason.TPEServer || profile == diapason.PSPServer {
		tmpl.DNSNames = []string{cn}
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := p.Lab.Sign(req, profile, notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	return Cred{Cert: p.write(t, name+".pem", pemCerts(cert)), Key: p.writeKey(t, name+".key", key)}
}

// foreign makes a root no lab trusts and two leaves under it.
func (p *PKI) foreign(t testing.TB) {
	t.Helper()
	rootKey, root := p.ca(t, dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "Foreign Test PKI"}, [2]string{"CN", "Foreign Test Root"}), nil, nil)
	p.ForeignRoot = p.write(t, "foreign-root.pem", pemCerts(root))
	p.ForeignServer = p.leaf(t, "foreign-server", dn.Attrs([2]string{"CN", lab.PSPFQDN}), []string{lab.PSPFQDN}, x509.ExtKeyUsageServerAuth, root, rootKey, 398)
	p.ForeignClient = p.leaf(t, "foreign-client", dn.Attrs([2]string{"CN", diapason.ClientDiapasonPSP}), nil, x509.ExtKeyUsageClientAuth, root, rootKey, 365*3)
}

// testHierarchy makes CAs whose names are those of the IGC-Santé TEST
// hierarchy (with "FAKE" in their CNs so they are not mistaken for the
// embedded ones) and a GAP server certificate under them.
func (p *PKI) testHierarchy(t testing.TB) {
	t.Helper()
	name := func(cn string) dn.Name {
		return dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "ASIP-SANTE"}, [2]string{"OU", "0002 187512751"}, [2]string{"OU", "IGC-SANTE TEST"}, [2]string{"CN", cn})
	}
	rootKey, root := p.ca(t, name("FAKE TEST AC RACINE IGC-SANTE ELEMENTAIRE"), nil, nil)
	orgKey, org := p.ca(t, name("FAKE TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"), root, rootKey)
	p.TestRoot = p.write(t, "fake-test-root.pem", pemCerts(root))
	p.TestChain = p.write(t, "fake-test-org.pem", pemCerts(org))
	subject := dn.Attrs([2]string{"C", "FR"}, [2]string{"O", "CENTRE HOSPITALIER FAKE"}, [2]string{"OU", "399999999900013"}, [2]string{"CN", p.Lab.FQDN()})
	p.TestServer = p.leaf(t, "fake-test-gap-server", subject, []string{p.Lab.FQDN()}, x509.ExtKeyUsageServerAuth, org, orgKey, 0)
}

func (p *PKI) ca(t testing.TB, subject dn.Name, parent *x509.Certificate, parentKey crypto.Signer) (crypto.Signer, *x509.Certificate) {
	t.Helper()
	name := keyRoot
	if parent != nil {
		name = keyIntermediate
	}
	key, err := lab.CachedKey(name, 2048)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := dn.Marshal(subject)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), RawSubject: raw,
		NotBefore: LabNow.AddDate(-5, 0, 0), NotAfter: LabNow.AddDate(15, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	return key, testpki.Sign(t, tmpl, parent, key.Public(), parentKey)
}

// leaf issues an end-entity certificate from LabNow for days days (3
// calendar years when zero).
func (p *PKI) leaf(t testing.TB, name string, subject dn.Name, dnsNames []string, eku x509.ExtKeyUsage, ca *x509.Certificate, caKey crypto.Signer, days int) Cred {
	t.Helper()
	key, err := lab.CachedKey(keyLeaf, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return p.leafWith(t, name, key, subject, dnsNames, eku, ca, caKey, days)
}

func (p *PKI) leafWith(t testing.TB, name string, key crypto.Signer, subject dn.Name, dnsNames []string, eku x509.ExtKeyUsage,
	ca *x509.Certificate, caKey crypto.Signer, days int) Cred {
	t.Helper()
	raw, err := dn.Marshal(subject)
	if err != nil {
		t.Fatal(err)
	}
	end := LabNow.AddDate(3, 0, 0)
	if days > 0 {
		end = LabNow.AddDate(0, 0, days)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), RawSubject: raw, DNSNames: dnsNames,
		NotBefore: LabNow, NotAfter: end,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku},
	}
	cert := testpki.Sign(t, tmpl, ca, key.Public(), caKey)
	return Cred{Cert: p.write(t, name+".pem", pemCerts(cert)), Key: p.writeKey(t, name+".key", key)}
}

func (p *PKI) write(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := p.Path(name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *PKI) writeKey(t testing.TB, name string, key crypto.Signer) string {
	t.Helper()
	data, err := certio.MarshalPrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	return p.write(t, name, data)
}

func pemCerts(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}
