package bundle

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/internal/testpki"
)

func slugLevels(fs []check.Finding) map[string]check.Level {
	m := map[string]check.Level{}
	for _, f := range fs {
		m[f.Slug] = f.Level
	}
	return m
}

var depthLine = regexp.MustCompile(`(?m)^depth=\d+: (.*?)( \(untrusted\))?$`)

// opensslChain has `openssl verify -untrusted -show_chain` verify the leaf,
// the first certificate of fullchain, with the rest of it as the untrusted
// chain, and returns the subjects of the chain OpenSSL built, leaf first.
func opensslChain(t *testing.T, root *x509.Certificate, fullchain []byte, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	full := writeFile(t, dir, "fullchain.pem", fullchain)
	leaf := writeFile(t, dir, "leaf.pem", EncodePEM(mustParsePEM(t, fullchain)[:1]))
	ca := writeFile(t, dir, "root.pem", EncodePEM([]*x509.Certificate{root}))
	args := append([]string{"verify", "-show_chain", "-CAfile", ca, "-untrusted", full}, extra...)
	out, err := run(t, "openssl", append(args, leaf)...)
	if err != nil || !strings.Contains(out, ": OK") {
		t.Fatalf("openssl verify: %v\n%s", err, out)
	}
	var got []string
	for _, m := range depthLine.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1])
	}
	return got
}

func mustParsePEM(t *testing.T, data []byte) []*x509.Certificate {
	t.Helper()
	certs, err := parsePEM(data)
	if err != nil || len(certs) == 0 {
		t.Fatalf("%d certificates: %v", len(certs), err)
	}
	return certs
}

// opensslSubject renders a name the way `openssl verify -show_chain` does.
func opensslSubject(c *x509.Certificate) string {
	var parts []string
	for _, rdn := range c.Subject.ToRDNSequence() {
		for _, atv := range rdn {
			name := map[string]string{"2.5.4.6": "C", "2.5.4.10": "O", "2.5.4.11": "OU", "2.5.4.3": "CN", "2.5.4.8": "ST"}[atv.Type.String()]
			parts = append(parts, fmt.Sprintf("%s = %v", name, atv.Value))
		}
	}
	return strings.Join(parts, ", ")
}

func TestBuildOrdersShuffledInput(t *testing.T) {
	p := newPKI(t, "Shuffle", "gap.chu-exemple.fr")
	for seed := range uint64(4) {
		in := []Source{{p.leaf, "in.pem"}, {p.inter, "in.pem"}, {p.root, "in.pem"}, {p.inter, "in.pem"}}
		rand.New(rand.NewPCG(seed, 1)).Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		for _, includeRoot := range []bool{false, true} {
			b, err := Build(context.Background(), BuildRequest{Leaf: in, Key: p.leafKey, IncludeRoot: includeRoot, Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			want := []*x509.Certificate{p.leaf, p.inter}
			if includeRoot {
				want = append(want, p.root)
			}
			if !slices.EqualFunc(b.FullChain, want, (*x509.Certificate).Equal) || b.RootIncluded != includeRoot {
				t.Fatalf("seed %d include-root %v: full chain %v", seed, includeRoot, subjects(b.FullChain))
			}
			got := opensslChain(t, p.root, b.FullChainPEM())
			var wantSubjects []string
			for _, c := range []*x509.Certificate{p.leaf, p.inter, p.root} {
				wantSubjects = append(wantSubjects, opensslSubject(c))
			}
			if !slices.Equal(got, wantSubjects) {
				t.Errorf("openssl built %q, want %q", got, wantSubjects)
			}
			if b.Certificates[0].From != "in.pem" || b.Certificates[0].Role != "leaf" || b.Certificates[2].Role != "root" || b.Certificates[2].Shipped != includeRoot {
				t.Errorf("entries %+v", b.Certificates)
			}
			if levels := slugLevels(b.Findings); !includeRoot && levels["root-left-out"] != check.Info {
				t.Errorf("no note about the root left out: %+v", b.Findings)
			}
		}
	}
}

func subjects(cs []*x509.Certificate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Subject.CommonName)
	}
	return out
}

// TestBuildRealTESTSample completes the chain of the real IGC-Santé TEST
// certificate from the embedded TEST CAs, offline, and OpenSSL agrees.
func TestBuildRealTESTSample(t *testing.T) {
	leaf := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	b, err := Build(context.Background(), BuildRequest{Leaf: []Source{{leaf, "TEST-ORG-SIGN-2021.pem"}}, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	inter := embedded(t, "ACI-EL-ORG-TEST.cer")
	if len(b.FullChain) != 2 || !b.FullChain[1].Equal(inter) || b.ChainStatus != check.ChainComplete {
		t.Fatalf("chain %v status %s", subjects(b.FullChain), b.ChainStatus)
	}
	if b.Leaf.Hierarchy != diapason.HierarchyTest {
		t.Errorf("hierarchy %s", b.Leaf.Hierarchy)
	}
	levels := slugLevels(b.Findings)
	for slug, level := range map[string]check.Level{"expired": check.Fail, "hierarchy-test": check.Info, "chain-completed": check.Info, "root-left-out": check.Info} {
		if levels[slug] != level {
			t.Errorf("finding %s: %q, want %q (%+v)", slug, levels[slug], level, b.Findings)
		}
	}
	// The sample expired in 2024: verify as of its lifetime.
	got := opensslChain(t, testpki.Reference(t, "ACR-EL-TEST.cer"), b.FullChainPEM(), "-attime", "1700000000")
	if len(got) != 3 || !strings.Contains(got[1], "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS") || !strings.Contains(got[2], "TEST AC RACINE") {
		t.Errorf("openssl chain %q", got)
	}
}

func TestBuildRefusals(t *testing.T) {
	sample := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	p := newPKI(t, "Refusals", "Client_Diapason_PSP")
	other := newPKI(t, "Refusals", "other")
	ctx := context.Background()

	// A TEST certificate with the production intermediate.
	_, err := Build(ctx, BuildRequest{Leaf: []Source{{sample, "s.pem"}}, Chain: []Source{{testpki.Reference(t, "ACI-EL-ORG.cer"), "ACI-EL-ORG.cer"}}, Now: testNow})
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Slug != "hierarchy-mix" || !strings.Contains(err.Error(), "IGC-Santé TEST") || !strings.Contains(err.Error(), "IGC-Santé production") {
		t.Errorf("mixed hierarchy: %v", err)
	}

	// A certificate named as issued by the TEST intermediate, signed by another key:
	// its issuer is missing and the file to add is named.
	forged := leafTemplate("forged")
	forged.AuthorityKeyId = []byte{1, 2, 3}
	tmplIssuer := *p.inter
	tmplIssuer.RawSubject = sample.RawIssuer
	forgedCert := testpki.Sign(t, forged, &tmplIssuer, p.leafKey.Public(), p.interKey)
	_, err = Build(ctx, BuildRequest{Leaf: []Source{{forgedCert, "f.pem"}}, Now: testNow})
	if !errors.As(err, &ce) || ce.Slug != "chain-incomplete" || ce.Missing == nil || ce.Missing.File != "ACI-EL-ORG-TEST.cer" ||
		!strings.Contains(err.Error(), "add ACI-EL-ORG-TEST.cer (") {
		t.Errorf("missing IGC-Santé issuer: %v", err)
	}
	_, err = Build(ctx, BuildRequest{Leaf: []Source{{p.leaf, "l.pem"}}, Now: testNow})
	if !errors.As(err, &ce) || ce.Slug != "chain-incomplete" || !strings.Contains(err.Error(), `"C=FR, O=CHU Exemple, CN=Refusals Issuing CA"`) {
		t.Errorf("missing issuer: %v", err)
	}

	var km *KeyMismatchError
	_, err = Build(ctx, BuildRequest{Leaf: []Source{{p.leaf, "l.pem"}, {p.inter, "l.pem"}}, Key: other.leafKey, KeyPath: "other.key", Now: testNow})
	if !errors.As(err, &km) || !strings.Contains(err.Error(), "other.key is not the key of the certificate") {
		t.Errorf("key mismatch: %v", err)
	}
	var le *LeafError
	_, err = Build(ctx, BuildRequest{Leaf: []Source{{p.inter, "ca.pem"}}, Now: testNow})
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "ca.pem: ") || !strings.Contains(err.Error(), "is a CA certificate") {
		t.Errorf("a CA as leaf: %v", err)
	}
	_, err = Build(ctx, BuildRequest{Leaf: []Source{{p.leaf, "two.pem"}, {other.leaf, "two.pem"}}, Now: testNow})
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "2 end-entity certificates") {
		t.Errorf("two leaves: %v", err)
	}
}

func TestBuildUnusedAndFetched(t *testing.T) {
	p := newPKI(t, "Fetch", "gap.chu-exemple.fr")
	stranger := newPKI(t, "Stranger", "x")
	tmpl := leafTemplate("gap.chu-exemple.fr")
	tmpl.IssuingCertificateURL = []string{"ldap://ldap.exemple.fr/cn=ca", "http://ca.exemple.fr/issuing.cer"}
	leaf := p.issue(t, tmpl)
	var asked []string
	fetch := func(_ context.Context, url string) ([]byte, error) {
		asked = append(asked, url)
		return p.inter.Raw, nil
	}
	b, err := Build(context.Background(), BuildRequest{Leaf: []Source{{leaf, "l.pem"}}, Chain: []Source{{stranger.inter, "s.pem"}}, Fetch: fetch, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []string{"http://ca.exemple.fr/issuing.cer"}) || b.Certificates[1].Source != check.SourceFetched || b.Certificates[1].From != "http://ca.exemple.fr/issuing.cer" {
		t.Errorf("asked %v, chain %+v", asked, b.Certificates)
	}
	levels := slugLevels(b.Findings)
	if levels["aia-ldap-skipped"] != check.Info || levels["aia-fetched"] != check.Info || levels["chain-unused"] != check.Warn || levels["chain-root-missing"] != check.Info {
		t.Errorf("findings %+v", b.Findings)
	}
}

// TestBuildProfileOfRealSample checks the real TEST signing certificate against
// the client profile: its EKU (emailProtection) and CN do not fit, per RFC 5280.
func TestBuildProfileOfRealSample(t *testing.T) {
	leaf := testpki.Reference(t, "samples/TEST-ORG-SIGN-2021.pem")
	p := diapason.MustProfile(diapason.PSPClient)
	b, err := Build(context.Background(), BuildRequest{Leaf: []Source{{leaf, "s.pem"}}, Profile: &p, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	levels := slugLevels(b.Findings)
	for _, slug := range []string{"eku-mismatch", "cn-mismatch", "expired"} {
		if levels[slug] != check.Fail {
			t.Errorf("%s: %q (%+v)", slug, levels[slug], b.Findings)
		}
	}
	if b.Profile != diapason.PSPClient || b.Findings[0].Level != check.Fail {
		t.Errorf("profile %q, findings not sorted: %+v", b.Profile, b.Findings)
	}
	if _, ok := levels["key-usage-mismatch"]; ok {
		t.Errorf("keyUsage digitalSignature is there: %+v", b.Findings)
	}

	// A certificate of no known hierarchy: info without a profile, a failure with one.
	other := newPKI(t, "Other", "Client_Diapason_PSP")
	b, err = Build(context.Background(), BuildRequest{Leaf: []Source{{other.leaf, "l.pem"}}, Chain: []Source{{other.inter, "c.pem"}}, Now: testNow})
	if err != nil || slugLevels(b.Findings)["hierarchy-unknown"] != check.Info {
		t.Errorf("no profile: %v %+v", err, b)
	}
	b, err = Build(context.Background(), BuildRequest{Leaf: []Source{{other.leaf, "l.pem"}}, Chain: []Source{{other.inter, "c.pem"}}, Profile: &p, Now: testNow})
	if err != nil || slugLevels(b.Findings)["hierarchy-unknown"] != check.Fail {
		t.Errorf("psp-client: %v %+v", err, b)
	}
}

// TestBuildProductionLeafWithTESTCAs is the reverse mix: a certificate named as
// issued by the production intermediate, given with the TEST one.
func TestBuildProductionLeafWithTESTCAs(t *testing.T) {
	p := newPKI(t, "Reverse", "gap.chu-exemple.fr")
	prodInter := *p.inter
	prodInter.RawSubject = testpki.Reference(t, "ACI-EL-ORG.cer").RawSubject
	leaf := testpki.Sign(t, leafTemplate("gap.chu-exemple.fr"), &prodInter, p.leafKey.Public(), p.interKey)
	if diapason.HierarchyOf(leaf) != diapason.HierarchyProduction {
		t.Fatalf("the fixture is not named as a production certificate")
	}
	_, err := Build(context.Background(), BuildRequest{Leaf: []Source{{leaf, "prod.pem"}}, Chain: []Source{{testpki.Reference(t, "ACI-EL-ORG-TEST.cer"), "ACI-EL-ORG-TEST.cer"}}, Now: testNow})
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Slug != "hierarchy-mix" || !strings.Contains(err.Error(), "IGC-Santé production") || !strings.Contains(err.Error(), "IGC-Santé TEST") {
		t.Errorf("production certificate with the TEST intermediate: %v", err)
	}
}
