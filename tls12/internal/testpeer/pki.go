// Package testpeer makes certificate fixtures and runs openssl peers for the tls12 tests.
package testpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Cred is a leaf with its key and the intermediate it needs, in memory and
// as PEM files for openssl.
type Cred struct {
	// Chain is the leaf then the intermediate.
	Chain []*x509.Certificate
	Key   crypto.Signer
	// CertFile holds the leaf, ChainFile the intermediate, KeyFile the key.
	CertFile, ChainFile, KeyFile string
}

// PKI is a root and intermediate shaped like IGC-Santé, with a server and
// client credentials, plus an expired client and one from an unknown root.
type PKI struct {
	Root         *x509.Certificate
	Intermediate *x509.Certificate
	RogueRoot    *x509.Certificate
	// RootFile is the trusted root as PEM, the -CAfile of openssl peers.
	RootFile      string
	Server        Cred
	Client        Cred
	ExpiredClient Cred
	// RogueClient chains to RogueRoot, which nobody trusts.
	RogueClient Cred
	// ECDSAClient has a P-256 key, legal for a client even with ECDHE_RSA.
	ECDSAClient Cred
}

// Roots returns a pool holding the trusted root.
func (p *PKI) Roots() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return pool
}

var (
	once   sync.Once
	shared *PKI
)

// NewPKI returns the test PKI, generated once per test binary because RSA key
// generation is slow, with its files written under t.TempDir().
func NewPKI(t testing.TB) *PKI {
	t.Helper()
	once.Do(func() { shared = generate() })
	if shared == nil {
		t.Fatal("testpeer: generating the PKI failed")
	}
	p := *shared
	dir := t.TempDir()
	p.RootFile = writePEM(t, dir, "root.pem", "CERTIFICATE", p.Root.Raw)
	for name, c := range map[string]*Cred{"server": &p.Server, "client": &p.Client, "expired": &p.ExpiredClient, "rogue": &p.RogueClient, "ecdsa": &p.ECDSAClient} {
		c.CertFile = writePEM(t, dir, name+".pem", "CERTIFICATE", c.Chain[0].Raw)
		c.ChainFile = writePEM(t, dir, name+"-chain.pem", "CERTIFICATE", c.Chain[1].Raw)
		der, err := x509.MarshalPKCS8PrivateKey(c.Key)
		if err != nil {
			t.Fatal(err)
		}
		c.KeyFile = writePEM(t, dir, name+".key", "PRIVATE KEY", der)
	}
	return &p
}

func writePEM(t testing.TB, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func generate() *PKI {
	return generateKeys(2048, 365*24*time.Hour)
}

// generateKeys makes the PKI with bits-bit RSA keys, valid credentials
// lasting lifetime from now.
func generateKeys(bits int, lifetime time.Duration) *PKI {
	keys := make([]*rsa.PrivateKey, 5)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err == nil {
				keys[i] = k
			}
		})
	}
	wg.Wait()
	for _, k := range keys {
		if k == nil {
			return nil
		}
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil
	}
	rootKey, interKey, serverKey, clientKey, rogueKey := keys[0], keys[1], keys[2], keys[3], keys[4]
	now := time.Now()
	valid := [2]time.Time{now.Add(-time.Hour), now.Add(lifetime)}
	expired := [2]time.Time{now.Add(-2 * 365 * 24 * time.Hour), now.Add(-24 * time.Hour)}
	ou := []string{"IGC-SANTE TEST", "0002 187512751"}

	root := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "TEST AC RACINE", OrganizationalUnit: ou, Organization: []string{"ASIP-SANTE"}, Country: []string{"FR"}}, IsCA: true}, valid, rootKey, nil, nil)
	inter := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "TEST AC ORGANISATIONS", OrganizationalUnit: ou, Organization: []string{"ASIP-SANTE"}, Country: []string{"FR"}}, IsCA: true}, valid, interKey, root, rootKey)
	rogue := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Rogue Root"}, IsCA: true}, valid, rogueKey, nil, nil)
	rogueInter := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "Rogue Intermediate"}, IsCA: true}, valid, rogueKey, rogue, rogueKey)

	server := issue(&x509.Certificate{Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, valid, serverKey, inter, interKey)
	clientTmpl := func() *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: "Client_Diapason_PSP", Organization: []string{"Hopital Exemple"}},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	}
	return &PKI{
		Root:          root,
		Intermediate:  inter,
		RogueRoot:     rogue,
		Server:        Cred{Chain: []*x509.Certificate{server, inter}, Key: serverKey},
		Client:        Cred{Chain: []*x509.Certificate{issue(clientTmpl(), valid, clientKey, inter, interKey), inter}, Key: clientKey},
		ExpiredClient: Cred{Chain: []*x509.Certificate{issue(clientTmpl(), expired, clientKey, inter, interKey), inter}, Key: clientKey},
		RogueClient:   Cred{Chain: []*x509.Certificate{issue(clientTmpl(), valid, clientKey, rogueInter, rogueKey), rogueInter}, Key: clientKey},
		ECDSAClient:   Cred{Chain: []*x509.Certificate{issue(clientTmpl(), valid, ecKey, inter, interKey), inter}, Key: ecKey},
	}
}

var serial int64

// issue signs tmpl with parentKey (self-signed when parent is nil); key is
// the subject's key.
func issue(tmpl *x509.Certificate, validity [2]time.Time, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) *x509.Certificate {
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = validity[0], validity[1]
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if tmpl.IsCA {
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return cert
}

// fixedFiles are the files WriteFixedPKI writes, by what they hold.
var fixedFiles = []string{"root.pem", "inter.pem", "server.pem", "server.key", "client.pem", "client.key"}

// WriteFixedPKI writes into dir a root, an intermediate, a server and a
// client with bits-bit RSA keys, valid for a century: fixtures such as
// recorded transcripts must not change between runs.
func WriteFixedPKI(dir string, bits int) error {
	p := generateKeys(bits, 100*365*24*time.Hour)
	if p == nil {
		return errors.New("testpeer: generating the PKI failed")
	}
	serverKey, err := x509.MarshalPKCS8PrivateKey(p.Server.Key)
	if err != nil {
		return err
	}
	clientKey, err := x509.MarshalPKCS8PrivateKey(p.Client.Key)
	if err != nil {
		return err
	}
	ders := [][]byte{p.Root.Raw, p.Intermediate.Raw, p.Server.Chain[0].Raw, serverKey, p.Client.Chain[0].Raw, clientKey}
	for i, der := range ders {
		typ := "CERTIFICATE"
		if strings.HasSuffix(fixedFiles[i], ".key") {
			typ = "PRIVATE KEY"
		}
		if err := os.WriteFile(filepath.Join(dir, fixedFiles[i]), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// LoadFixedPKI reads what WriteFixedPKI wrote into dir, which must be an
// absolute path for openssl peers to find the files.
func LoadFixedPKI(t testing.TB, dir string) *PKI {
	t.Helper()
	var ders [][]byte
	for _, name := range fixedFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := pem.Decode(data)
		if b == nil {
			t.Fatalf("%s: no PEM block", name)
		}
		ders = append(ders, b.Bytes)
	}
	parse := func(der []byte) *x509.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	key := func(der []byte) crypto.Signer {
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			t.Fatalf("%T is not a signer", k)
		}
		return s
	}
	root, inter := parse(ders[0]), parse(ders[1])
	path := func(name string) string { return filepath.Join(dir, name) }
	return &PKI{
		Root:         root,
		Intermediate: inter,
		RootFile:     path("root.pem"),
		Server:       Cred{Chain: []*x509.Certificate{parse(ders[2]), inter}, Key: key(ders[3]), CertFile: path("server.pem"), ChainFile: path("inter.pem"), KeyFile: path("server.key")},
		Client:       Cred{Chain: []*x509.Certificate{parse(ders[4]), inter}, Key: key(ders[5]), CertFile: path("client.pem"), ChainFile: path("inter.pem"), KeyFile: path("client.key")},
	}
}
