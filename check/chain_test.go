package check

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func buildChain(leaf *x509.Certificate, given []*x509.Certificate, opts ChainOptions, now time.Time) Chain {
	return NewChainBuilder(opts).Build(context.Background(), leaf, given, now)
}

func chainSubjects(c Chain) []string {
	var out []string
	for _, cc := range c.Certificates {
		out = append(out, cc.Cert.Subject.CommonName)
	}
	return out
}

func wantChain(t *testing.T, c Chain, status ChainStatus, cns ...string) {
	t.Helper()
	if c.Status != status || strings.Join(chainSubjects(c), " > ") != strings.Join(cns, " > ") {
		t.Errorf("chain %s %q, want %s %q; findings %v", c.Status, chainSubjects(c), status, cns, c.Findings)
	}
}

// The real TEST sample is completed offline from the embedded TEST CAs, every link
// verified, and nothing is said about a clean chain.
func TestChainRealTestSampleCompletedOffline(t *testing.T) {
	leaf := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	c := buildChain(leaf, nil, ChainOptions{}, testNow)
	wantChain(t, c, ChainComplete, "testsign.test.asipsante.fr", "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "TEST AC RACINE IGC-SANTE ELEMENTAIRE")
	if len(c.Findings) != 0 {
		t.Errorf("findings on a complete chain: %v", c.Findings)
	}
	for i, cc := range c.Certificates {
		if !cc.SignatureVerified || cc.Hierarchy != diapason.HierarchyTest {
			t.Errorf("%d: %+v", i, cc)
		}
	}
	if got := c.Certificates[1]; got.Source != SourceEmbedded || got.File != "ACI-EL-ORG-TEST.cer" ||
		got.Subject != "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" {
		t.Errorf("intermediate %+v", got)
	}
	if !c.Certificates[2].Root || !c.Complete() {
		t.Errorf("root not marked, or chain not complete: %+v", c)
	}

	// Asking for the TEST hierarchy's root makes it trusted.
	c = buildChain(leaf, nil, ChainOptions{Anchors: []*x509.Certificate{embedded("ACR-EL-TEST.cer")}}, testNow)
	wantChain(t, c, ChainTrusted, "testsign.test.asipsante.fr", "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "TEST AC RACINE IGC-SANTE ELEMENTAIRE")
	if c.Certificates[2].Source != SourceAnchor || len(c.Findings) != 0 {
		t.Errorf("anchor: %+v", c)
	}
}

func TestChainHierarchyMix(t *testing.T) {
	leaf := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	prodInter := testpki.Reference(t, "ACI-EL-ORG.cer")

	// A TEST certificate bundled with the production intermediate.
	c := buildChain(leaf, []*x509.Certificate{prodInter}, ChainOptions{}, testNow)
	if f := slugs(c.Findings); f["hierarchy-mix"] != Fail {
		t.Errorf("TEST leaf + production intermediate: %v", c.Findings)
	}
	if len(c.Unused) != 1 || c.Unused[0].Cert != prodInter {
		t.Errorf("the production intermediate is not reported unused: %+v", c.Unused)
	}

	// A TEST certificate checked against the production root (--hierarchy production).
	c = buildChain(leaf, nil, ChainOptions{Anchors: []*x509.Certificate{embedded("ACR-EL.cer")}}, testNow)
	if f := slugs(c.Findings); f["hierarchy-mix"] != Fail || f["chain-untrusted"] != Fail {
		t.Errorf("TEST leaf, production anchor: %v", c.Findings)
	}

	// The reverse: a production certificate bundled with the TEST intermediate, or
	// checked with it as --chain.
	prodLeaf := productionLeaf(t)
	testInter := testpki.Reference(t, "ACI-EL-ORG-TEST.cer")
	c = buildChain(prodLeaf, []*x509.Certificate{testInter}, ChainOptions{}, testNow)
	if f := slugs(c.Findings); f["hierarchy-mix"] != Fail {
		t.Errorf("production leaf + TEST intermediate: %v", c.Findings)
	}
	c = buildChain(prodLeaf, nil, ChainOptions{Intermediates: []*x509.Certificate{testInter}}, testNow)
	if f := slugs(c.Findings); f["hierarchy-mix"] != Fail {
		t.Errorf("production leaf, TEST --chain: %v", c.Findings)
	}

	// A CA given with CAs of the other hierarchy is a truststore, not a mix.
	c = buildChain(prodInter, []*x509.Certificate{testpki.Reference(t, "ACR-EL-TEST.cer"), testpki.Reference(t, "ACR-EL.cer")}, ChainOptions{}, testNow)
	if len(c.Findings) != 0 {
		t.Errorf("truststore of both hierarchies: %v", c.Findings)
	}
	wantChain(t, c, ChainComplete, "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "AC RACINE IGC-SANTE ELEMENTAIRE")

	// Both roots as anchors is not a mix.
	both := ChainOptions{Anchors: []*x509.Certificate{embedded("ACR-EL.cer"), embedded("ACR-EL-TEST.cer")}}
	c = buildChain(leaf, nil, both, testNow)
	if len(c.Findings) != 0 || c.Status != ChainTrusted {
		t.Errorf("both roots: %+v", c)
	}
}

func TestChainOrdersAndDedupes(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	leaf := inter.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)
	given := []*x509.Certificate{root.cert, inter.cert, leaf, root.cert, inter.cert}
	c := buildChain(leaf, given, ChainOptions{}, testNow)
	wantChain(t, c, ChainComplete, "gap.chu-exemple.fr", "Inter", "Root")
	if len(c.Unused) != 0 || len(c.Findings) != 0 {
		t.Errorf("unused %v findings %v", c.Unused, c.Findings)
	}
	for _, cc := range c.Certificates {
		if !cc.SignatureVerified {
			t.Errorf("%s not verified", cc.Subject)
		}
	}
	if c.Certificates[1].Source != SourceGiven {
		t.Errorf("source %s", c.Certificates[1].Source)
	}

	// With the root as anchor: trusted. With an intermediate as anchor: trusted there.
	c = buildChain(leaf, []*x509.Certificate{inter.cert}, ChainOptions{Anchors: []*x509.Certificate{root.cert}}, testNow)
	wantChain(t, c, ChainTrusted, "gap.chu-exemple.fr", "Inter", "Root")
	c = buildChain(leaf, nil, ChainOptions{Anchors: []*x509.Certificate{inter.cert}}, testNow)
	wantChain(t, c, ChainTrusted, "gap.chu-exemple.fr", "Inter")
	// Shared intermediates (--chain) are used like given ones.
	c = buildChain(leaf, nil, ChainOptions{Intermediates: []*x509.Certificate{inter.cert, root.cert}}, testNow)
	wantChain(t, c, ChainComplete, "gap.chu-exemple.fr", "Inter", "Root")
}

func TestChainMissingIntermediate(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	leaf := inter.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)

	c := buildChain(leaf, []*x509.Certificate{root.cert}, ChainOptions{}, testNow)
	wantChain(t, c, ChainIncomplete, "gap.chu-exemple.fr")
	if c.Complete() || c.Missing == nil || c.Missing.Subject != "C=FR, O=Test PKI, CN=Inter" ||
		c.Missing.KeyID != diapason.Fingerprint(inter.cert.SubjectKeyId) {
		t.Errorf("missing: %+v", c.Missing)
	}
	// Without trust context it is only an info; with an anchor asked for, a failure.
	if f := slugs(c.Findings); f["chain-incomplete"] != Info || len(f) != 1 {
		t.Errorf("no anchors: %v", c.Findings)
	}
	c = buildChain(leaf, nil, ChainOptions{Anchors: []*x509.Certificate{root.cert}}, testNow)
	if f := slugs(c.Findings); f["chain-incomplete"] != Fail {
		t.Errorf("with anchors: %v", c.Findings)
	}
	if !strings.Contains(c.Findings[0].Message, "Inter") || !strings.Contains(c.Findings[0].Message, c.Missing.KeyID) {
		t.Errorf("message does not name the issuer and its key id: %s", c.Findings[0].Message)
	}
}

func TestChainStopsShortOfRoot(t *testing.T) {
	root := newRoot(t, "Public Root")
	inter := root.sub(t, "GeoTrust-like CA")
	leaf := inter.issue(t, leafTemplate("psp.example.com"), nil)

	c := buildChain(leaf, []*x509.Certificate{inter.cert}, ChainOptions{}, testNow)
	wantChain(t, c, ChainNoRoot, "psp.example.com", "GeoTrust-like CA")
	if f := slugs(c.Findings); f["chain-root-missing"] != Info || len(f) != 1 || !c.Complete() {
		t.Errorf("findings %v complete %v", c.Findings, c.Complete())
	}
	if !c.Certificates[0].SignatureVerified || c.Certificates[1].SignatureVerified {
		t.Errorf("signature flags: %+v", c.Certificates)
	}
	// Asked to end at another root, it is untrusted.
	other := newRoot(t, "Other Root")
	c = buildChain(leaf, []*x509.Certificate{inter.cert}, ChainOptions{Anchors: []*x509.Certificate{other.cert}}, testNow)
	if f := slugs(c.Findings); f["chain-untrusted"] != Fail {
		t.Errorf("untrusted: %v", c.Findings)
	}
	// A complete chain to a root that is not an anchor is untrusted too.
	c = buildChain(leaf, []*x509.Certificate{inter.cert, root.cert}, ChainOptions{Anchors: []*x509.Certificate{other.cert}}, testNow)
	if f := slugs(c.Findings); f["chain-untrusted"] != Fail || c.Status != ChainComplete {
		t.Errorf("complete, untrusted: %v %s", c.Findings, c.Status)
	}
}

func TestChainWrongSignature(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	// An impostor CA with the same name and key identifier but another key.
	impostorKey := testpki.ECKey(t)
	tmpl := caTemplate("Inter")
	tmpl.SubjectKeyId = inter.cert.SubjectKeyId
	impostor := &testCA{cert: root.issue(t, tmpl, impostorKey.Public()), key: impostorKey}
	leaf := impostor.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)

	c := buildChain(leaf, []*x509.Certificate{inter.cert, root.cert}, ChainOptions{}, testNow)
	if c.Status != ChainInvalid || c.Complete() || c.Certificates[0].SignatureVerified {
		t.Errorf("status %s, %+v", c.Status, c.Certificates)
	}
	if f := slugs(c.Findings); f["chain-signature-invalid"] != Fail {
		t.Errorf("findings %v", c.Findings)
	}
	wantChain(t, c, ChainInvalid, "gap.chu-exemple.fr", "Inter", "Root")
	// Given both, the one whose signature verifies is picked.
	c = buildChain(leaf, []*x509.Certificate{inter.cert, impostor.cert, root.cert}, ChainOptions{}, testNow)
	if c.Status != ChainComplete || c.Certificates[1].Cert != impostor.cert {
		t.Errorf("verified candidate not preferred: %s %v", c.Status, c.Findings)
	}
}

// Between two certificates of one CA (same name and key, renewed), the one valid now wins.
func TestChainPrefersIssuerValidNow(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	old := caTemplate("Inter")
	old.NotBefore, old.NotAfter = testNow.AddDate(-10, 0, 0), testNow.AddDate(-1, 0, 0)
	expired := root.issue(t, old, inter.key.Public())
	leaf := inter.issue(t, leafTemplate("gap.chu-exemple.fr"), nil)
	c := buildChain(leaf, []*x509.Certificate{expired, inter.cert}, ChainOptions{}, testNow)
	if c.Certificates[1].Cert != inter.cert {
		t.Errorf("picked the expired copy")
	}
}

func TestChainSelfSigned(t *testing.T) {
	key := testpki.ECKey(t)
	tmpl := leafTemplate("self.example")
	self := testpki.Sign(t, tmpl, tmpl, key.Public(), key)
	c := buildChain(self, nil, ChainOptions{}, testNow)
	wantChain(t, c, ChainComplete, "self.example")
	if !c.Certificates[0].Root || len(c.Findings) != 0 {
		t.Errorf("%+v", c)
	}
	// Pinned as an anchor, it is trusted.
	c = buildChain(self, nil, ChainOptions{Anchors: []*x509.Certificate{self}}, testNow)
	wantChain(t, c, ChainTrusted, "self.example")
}

// A certificate naming an embedded IGC-Santé CA as issuer, with another key identifier,
// was issued by a newer version of that CA: the user is told which file to add.
// productionLeaf is a certificate naming the production ORGANISATIONS CA as its issuer,
// with another key identifier: what a newer version of that CA would issue.
func productionLeaf(t *testing.T) *x509.Certificate {
	t.Helper()
	prodInter := testpki.Reference(t, "ACI-EL-ORG.cer")
	key := testpki.ECKey(t)
	fakeParent := &x509.Certificate{RawSubject: prodInter.RawSubject, SubjectKeyId: []byte{1, 2, 3, 4}, PublicKey: key.Public()}
	return testpki.Sign(t, leafTemplate(diapason.ClientDiapasonPSP), fakeParent, testpki.SharedRSAKey().Public(), key)
}

func TestChainMissingNewerIGCSanteIntermediate(t *testing.T) {
	leaf := productionLeaf(t)

	c := buildChain(leaf, nil, ChainOptions{}, testNow)
	if c.Status != ChainIncomplete || c.Missing == nil {
		t.Fatalf("%+v", c)
	}
	m := c.Missing
	if m.File != "ACI-EL-ORG.cer" || m.URL != diapason.IntermediateURL || m.KeyID != "01:02:03:04" ||
		m.Subject != "C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE, CN=AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" {
		t.Errorf("missing %+v", m)
	}
	if msg := c.Findings[0].Message; !strings.Contains(msg, "ACI-EL-ORG.cer") || !strings.Contains(msg, diapason.IntermediateURL) {
		t.Errorf("message: %s", msg)
	}
}

func TestChainAIAFetch(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	tmpl := leafTemplate("gap.chu-exemple.fr")
	tmpl.IssuingCertificateURL = []string{"ldap://annuaire.example/cn=Inter", "http://pki.example/inter.cer"}
	leaf := inter.issue(t, tmpl, nil)
	var calls atomic.Int32
	fetch := func(_ context.Context, u string) ([]byte, error) {
		calls.Add(1)
		if u != "http://pki.example/inter.cer" {
			return nil, fmt.Errorf("unexpected URL %s", u)
		}
		return inter.cert.Raw, nil
	}
	b := NewChainBuilder(ChainOptions{Fetch: fetch, Intermediates: []*x509.Certificate{root.cert}})
	for range 3 {
		c := b.Build(context.Background(), leaf, nil, testNow)
		wantChain(t, c, ChainComplete, "gap.chu-exemple.fr", "Inter", "Root")
		if f := slugs(c.Findings); f["aia-ldap-skipped"] != Info || f["aia-fetched"] != Info {
			t.Errorf("findings %v", c.Findings)
		}
		if c.Certificates[1].Source != SourceFetched || c.Certificates[1].File != "http://pki.example/inter.cer" {
			t.Errorf("fetched entry %+v", c.Certificates[1])
		}
	}
	if calls.Load() != 1 {
		t.Errorf("%d downloads for one URL", calls.Load())
	}

	// Without Fetch nothing is downloaded and the file to add is named from the AIA.
	c := buildChain(leaf, nil, ChainOptions{}, testNow)
	if c.Missing == nil || c.Missing.File != "inter.cer" || c.Missing.URL != "http://pki.example/inter.cer" {
		t.Errorf("missing %+v", c.Missing)
	}

	// A failed download is said, and the chain stays incomplete.
	failing := func(context.Context, string) ([]byte, error) { return nil, errors.New("connection refused") }
	c = buildChain(leaf, nil, ChainOptions{Fetch: failing}, testNow)
	if f := slugs(c.Findings); f["aia-fetch-failed"] != Info || f["chain-incomplete"] != Info {
		t.Errorf("failed fetch: %v", c.Findings)
	}
}

func TestHTTPFetcher(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("certificate bytes")) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/to-ldap", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ldap://annuaire.example/x", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	fetch := HTTPFetcher(300*time.Millisecond, 1024)
	ctx := context.Background()
	if data, err := fetch(ctx, srv.URL+"/ok"); err != nil || string(data) != "certificate bytes" {
		t.Errorf("ok: %q %v", data, err)
	}
	for path, want := range map[string]string{
		"/big": "over the limit", "/missing": "404", "/slow": "Timeout", "/to-ldap": "not followed",
	} {
		if _, err := fetch(ctx, srv.URL+path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := fetch(ctx, "ldap://annuaire.example/x"); err == nil || !strings.Contains(err.Error(), "only http") {
		t.Errorf("ldap: %v", err)
	}
}

// CA-to-CA signature checks are remembered: the same link verified twice gives the
// same answer without a second check, even for a copy parsed separately.
func TestChainSignatureCache(t *testing.T) {
	root := newRoot(t, "Root")
	inter := root.sub(t, "Inter")
	b := NewChainBuilder(ChainOptions{Intermediates: []*x509.Certificate{root.cert}})
	if err := b.verify(inter.cert, root.cert); err != nil {
		t.Fatal(err)
	}
	copyOf, _ := x509.ParseCertificate(inter.cert.Raw)
	n := 0
	b.sigs.Range(func(any, any) bool { n++; return true })
	if err := b.verify(copyOf, root.cert); err != nil || n != 1 {
		t.Errorf("cache entries %d, err %v", n, err)
	}
	// A leaf link is not remembered: leaves are checked once each.
	leaf := inter.issue(t, leafTemplate("x.example"), nil)
	_ = b.verify(leaf, inter.cert)
	n = 0
	b.sigs.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("leaf link cached: %d entries", n)
	}
}
