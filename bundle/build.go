package bundle

import (
	"context"
	"crypto"
	"crypto/x509"
	"fmt"
	"slices"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// BuildRequest is what `bundle build` puts together.
type BuildRequest struct {
	// Leaf holds the certificates of the --cert file: the leaf, possibly with
	// some or all of its chain, in any order.
	Leaf []Source
	// Chain holds the other certificates given (--chain), in any order.
	Chain []Source
	// Key, when set, must be the leaf's key; it also picks the leaf among Leaf.
	Key     crypto.Signer
	KeyPath string
	// IncludeRoot puts the root at the end of the full chain; TLS peers do not
	// need it, as they must already trust it.
	IncludeRoot bool
	// Fetch, when set, downloads missing issuers from their AIA caIssuers URL.
	Fetch check.Fetcher
	// Profile, when set, is the Diapason profile the leaf must fit; FQDN is the
	// normalised server name of tpe-server.
	Profile *diapason.Profile
	FQDN    string
	Now     time.Time
}

// Bundle is a leaf with its ordered, checked chain.
type Bundle struct {
	Leaf CertInfo `json:"leaf"`
	// Profile is the Diapason profile the leaf was checked against: the one
	// asked for, else the one its role fits; "" when none applies.
	Profile     diapason.ProfileID `json:"profile,omitempty"`
	ChainStatus check.ChainStatus  `json:"chain_status"`
	// Certificates are the leaf and every issuer found, in order, with where
	// each came from and whether the full chain ships it.
	Certificates []ChainEntry `json:"certificates"`
	RootIncluded bool         `json:"root_included"`
	// Findings about the leaf and the chain; none of them stopped the bundle.
	Findings []check.Finding `json:"findings"`
	// FullChain is what a server sends: the leaf then its intermediates (and the
	// root with IncludeRoot).
	FullChain []*x509.Certificate `json:"-"`

	leaf *x509.Certificate
	key  crypto.Signer
}

// ChainEntry is one certificate of a bundle's chain.
type ChainEntry struct {
	Role string `json:"role"` // leaf, intermediate or root
	CertInfo
	Source check.Source `json:"source"`
	// From is the file the certificate was given in, the embedded file it was
	// taken from, or the URL it was downloaded from.
	From    string `json:"from,omitempty"`
	Shipped bool   `json:"shipped"`
}

// LeafCert returns the leaf certificate.
func (b *Bundle) LeafCert() *x509.Certificate { return b.leaf }

// Intermediates are the full chain without the leaf: what chain.pem holds.
func (b *Bundle) Intermediates() []*x509.Certificate { return b.FullChain[1:] }

// LeafError says the leaf could not be told apart or is not a leaf.
type LeafError struct {
	Path   string
	Reason string
	// Ambiguous is set when several leaves were given and nothing picks one:
	// the invocation, not a certificate, is at fault.
	Ambiguous bool
}

func (e *LeafError) Error() string { return certio.DisplayName(e.Path) + ": " + e.Reason }

// ChainError says the chain cannot be shipped: an issuer is missing, a
// signature does not verify, or CAs of another hierarchy were given. Slug is
// the finding that stopped it.
type ChainError struct {
	Slug    string
	Message string
	Missing *check.MissingCert // the issuer to add, for chain-incomplete
}

func (e *ChainError) Error() string { return e.Message }

// Build picks the leaf, checks the key against it, orders and completes its
// chain from what was given, the embedded IGC-Santé CAs and (with Fetch) AIA
// downloads, and checks every signature. A chain that cannot be completed, a
// broken signature and a mix of hierarchies are errors; the leaf's own defects
// (expired, wrong profile) are findings, so that the bundle is still made.
func Build(ctx context.Context, req BuildRequest) (*Bundle, error) {
	leaf, err := pickLeaf(req.Leaf, req.Key, req.KeyPath)
	if err != nil {
		return nil, err
	}
	b, err := assemble(ctx, leaf, append(append([]Source(nil), req.Leaf...), req.Chain...), req)
	if err != nil {
		return nil, err
	}
	b.key = req.Key
	return b, nil
}

// pickLeaf finds the leaf among the certificates of the --cert file: the one
// that matches the key, else the only one that is not a CA.
func pickLeaf(certs []Source, key crypto.Signer, keyPath string) (Source, error) {
	if len(certs) == 0 {
		return Source{}, &LeafError{Reason: "no certificate given"}
	}
	path := certs[0].Path
	var leaves []Source
	for _, s := range certs {
		if !isCA(s.Cert) && !slices.ContainsFunc(leaves, func(l Source) bool { return l.Cert.Equal(s.Cert) }) {
			leaves = append(leaves, s)
		}
	}
	if key != nil {
		for _, s := range certs {
			if !certio.KeyMatches(s.Cert, key) {
				continue
			}
			if isCA(s.Cert) {
				return Source{}, &LeafError{Path: s.Path, Reason: fmt.Sprintf("the key matches %q, which is a CA certificate, not the certificate of a server or client", subjectOf(s.Cert))}
			}
			return s, nil
		}
		if len(leaves) == 1 {
			return Source{}, &KeyMismatchError{Leaf: leaves[0].Cert, KeyPath: keyPath}
		}
		return Source{}, &LeafError{Path: path, Reason: fmt.Sprintf("no certificate of the file matches the private key %s", certio.DisplayName(keyPath))}
	}
	switch len(leaves) {
	case 0:
		return Source{}, &LeafError{Path: path, Reason: fmt.Sprintf("%q is a CA certificate, not the certificate of a server or client", subjectOf(certs[0].Cert))}
	case 1:
		return leaves[0], nil
	}
	return Source{}, &LeafError{Path: path, Ambiguous: true, Reason: fmt.Sprintf("the file holds %d end-entity certificates (%q, %q…); give the key with --key to pick one, or one certificate per file",
		len(leaves), subjectOf(leaves[0].Cert), subjectOf(leaves[1].Cert))}
}

// assemble builds and judges the chain of leaf from the certificates given.
func assemble(ctx context.Context, leafSource Source, given []Source, req BuildRequest) (*Bundle, error) {
	leaf := leafSource.Cert
	paths := map[string]string{Describe(leaf).SHA256: leafSource.Path}
	var certs []*x509.Certificate
	for _, s := range given {
		sum := Describe(s.Cert).SHA256
		if _, seen := paths[sum]; !seen {
			paths[sum] = s.Path
		}
		certs = append(certs, s.Cert)
	}
	var profile diapason.ProfileID
	if req.Profile != nil {
		profile = req.Profile.ID
	}
	checker := check.NewChecker(check.Options{Profile: profile, FQDN: req.FQDN, Warn: diapason.WarnWindow, Now: req.Now,
		Chains: check.NewChainBuilder(check.ChainOptions{Fetch: req.Fetch})})
	rep := checker.CheckCertificate(ctx, leaf, dedupe(certs))
	chain := *rep.Chain
	for _, f := range chain.Findings {
		if f.Level == check.Fail {
			return nil, &ChainError{Slug: f.Slug, Message: f.Message, Missing: chain.Missing}
		}
	}
	switch chain.Status {
	case check.ChainIncomplete:
		return nil, &ChainError{Slug: "chain-incomplete", Message: incompleteMessage(leaf, chain), Missing: chain.Missing}
	case check.ChainInvalid:
		return nil, &ChainError{Slug: "chain-signature-invalid", Message: "a signature of the chain does not verify"}
	}

	b := &Bundle{Leaf: Describe(leaf), ChainStatus: chain.Status, Profile: rep.Profile, leaf: leaf}
	b.Findings = append(b.Findings, hierarchyFindings(leaf, req.Profile)...)
	for _, f := range rep.Findings {
		if f.Slug == "chain-root-missing" && chain.Missing != nil {
			// check's wording points at --ca, which judges trust; a bundle only
			// needs to know that the root is the one thing it lacks.
			top := chain.Certificates[len(chain.Certificates)-1].Cert
			f.Message = fmt.Sprintf("the chain ends at %q, whose issuer %q, a root, was neither given nor embedded: the full chain is complete without it, as servers do not send the root, but the peers must trust that root",
				top.Subject.CommonName, chain.Missing.Subject)
		}
		b.Findings = append(b.Findings, f)
	}
	for i, cc := range chain.Certificates {
		e := ChainEntry{Role: "intermediate", CertInfo: Describe(cc.Cert), Source: cc.Source, From: cc.File}
		switch {
		case i == 0:
			e.Role = "leaf"
		case cc.Root:
			e.Role = "root"
		}
		if cc.Source == check.SourceLeaf || cc.Source == check.SourceGiven {
			e.From = paths[e.SHA256]
		}
		e.Shipped = !cc.Root || req.IncludeRoot
		b.Certificates = append(b.Certificates, e)
		if !e.Shipped {
			b.note("root-left-out", check.Info, "the root %q%s is left out of the full chain: peers must already trust it, and servers do not send it (--include-root adds it)",
				cc.Cert.Subject.CommonName, sourceNote(cc))
			continue
		}
		b.RootIncluded = b.RootIncluded || cc.Root
		b.FullChain = append(b.FullChain, cc.Cert)
		if cc.Source == check.SourceEmbedded && !cc.Root {
			b.note("chain-completed", check.Info, "the intermediate %q was added from the embedded %s (SHA-256 %s)", cc.Cert.Subject.CommonName, cc.File, cc.SHA256)
		}
	}
	for _, u := range chain.Unused {
		b.note("chain-unused", check.Warn, "%q was given but is not part of the chain of %q: it is left out", u.Subject, leaf.Subject.CommonName)
	}
	if b.Findings == nil {
		b.Findings = []check.Finding{}
	}
	sortFindings(b.Findings)
	return b, nil
}

func (b *Bundle) note(slug string, level check.Level, format string, args ...any) {
	b.Findings = append(b.Findings, check.Finding{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)})
}

func sourceNote(cc check.ChainCert) string {
	switch cc.Source {
	case check.SourceEmbedded:
		return " (embedded " + cc.File + ")"
	case check.SourceFetched:
		return " (downloaded)"
	}
	return ""
}

// incompleteMessage names the missing issuer and the file to add.
func incompleteMessage(leaf *x509.Certificate, chain check.Chain) string {
	m := chain.Missing
	if m == nil {
		return fmt.Sprintf("the chain of %q cannot be completed", leaf.Subject.CommonName)
	}
	below := chain.Certificates[len(chain.Certificates)-1].Cert.Subject.CommonName
	msg := fmt.Sprintf("the chain of %q cannot be completed: the issuer of %q, %q, was neither given nor embedded", leaf.Subject.CommonName, below, m.Subject)
	switch {
	case m.File != "" && m.URL != "":
		msg += fmt.Sprintf("; add %s (%s) with --chain", m.File, m.URL)
	case m.File != "":
		msg += fmt.Sprintf("; add %s with --chain", m.File)
	default:
		msg += "; add the issuer's certificate with --chain (the CA that issued the certificate publishes it)"
	}
	return msg
}

// FullChainPEM is the full chain as PEM, leaf first.
func (b *Bundle) FullChainPEM() []byte { return EncodePEM(b.FullChain) }

// KeyStore encodes the bundle (it needs the key) as a PKCS#12 file: the key,
// the leaf and the intermediates (and the root with IncludeRoot).
func (b *Bundle) KeyStore(password []byte, profile P12Profile) ([]byte, P12Info, error) {
	if b.key == nil {
		return nil, P12Info{}, fmt.Errorf("a PKCS#12 file holds the private key: give it with --key")
	}
	return EncodeKeyStore(b.key, b.leaf, b.Intermediates(), password, profile)
}

// P12Findings are what the user should know about a written PKCS#12 file.
func P12Findings(info P12Info) []check.Finding { return passwordFinding(info) }

// sortFindings puts failures first, then warnings, keeping the order otherwise.
func sortFindings(fs []check.Finding) {
	rank := map[check.Level]int{check.Fail: 0, check.Warn: 1}
	slices.SortStableFunc(fs, func(a, b check.Finding) int {
		ra, ok := rank[a.Level]
		if !ok {
			ra = 2
		}
		rb, ok := rank[b.Level]
		if !ok {
			rb = 2
		}
		return ra - rb
	})
}
