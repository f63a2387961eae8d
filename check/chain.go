package check

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/dn"
)

// Source says where a certificate of a chain came from.
type Source string

// The sources, in the order the builder prefers them when two certificates could issue
// the same one: a trust anchor ends the chain where the user wants it to end, what the
// user gave beats what the tool carries, and downloads come last.
const (
	SourceLeaf     Source = "leaf"
	SourceAnchor   Source = "anchor"
	SourceGiven    Source = "given"
	SourceEmbedded Source = "embedded"
	SourceFetched  Source = "fetched"
)

func (s Source) rank() int {
	switch s {
	case SourceAnchor:
		return 0
	case SourceGiven:
		return 1
	case SourceEmbedded:
		return 2
	}
	return 3
}

// ChainStatus is how far a chain could be built.
type ChainStatus string

const (
	// ChainTrusted: the chain ends at a trust anchor and every signature verifies.
	ChainTrusted ChainStatus = "trusted"
	// ChainComplete: the chain ends at a self-signed root that is not a trust anchor
	// (or no anchor was given).
	ChainComplete ChainStatus = "complete"
	// ChainNoRoot: the chain ends at a CA whose issuer, taken to be a root, was neither
	// given nor embedded. Roots are not shipped in a full chain, so this is complete for
	// a server to send.
	ChainNoRoot ChainStatus = "no-root"
	// ChainIncomplete: an issuer below the top CA is missing (Chain.Missing names it).
	ChainIncomplete ChainStatus = "incomplete"
	// ChainInvalid: a certificate's signature does not verify with its issuer's key.
	ChainInvalid ChainStatus = "invalid-signature"
)

// Chain is a certificate and its issuers, in order.
type Chain struct {
	// Certificates holds the leaf first, then each issuer; the root is last when known.
	Certificates []ChainCert  `json:"certificates"`
	Status       ChainStatus  `json:"status"`
	Missing      *MissingCert `json:"missing,omitempty"`
	// Unused are the certificates given to Build that are not part of the chain.
	Unused []ChainCert `json:"unused,omitempty"`
	// Findings are about the chain; CertReport.Findings repeats them.
	Findings []Finding `json:"findings,omitempty"`
}

// Complete reports whether nothing is missing for a server to send the chain: it ends at
// a root, at a trust anchor, or one step short of a root, with every signature valid.
func (c *Chain) Complete() bool {
	switch c.Status {
	case ChainTrusted, ChainComplete, ChainNoRoot:
		return true
	}
	return false
}

// ChainCert is one certificate of a chain.
type ChainCert struct {
	Cert      *x509.Certificate  `json:"-"`
	Subject   string             `json:"subject"`
	SHA256    string             `json:"sha256"`
	Source    Source             `json:"source"`
	Hierarchy diapason.Hierarchy `json:"hierarchy"`
	// File names an embedded certificate (ACI-EL-ORG.cer) or the URL it was fetched from.
	File string `json:"file,omitempty"`
	// Root is set for a self-signed certificate.
	Root bool `json:"root,omitempty"`
	// SignatureVerified is set when the signature was verified with the key of the next
	// certificate (with its own key for a root).
	SignatureVerified bool `json:"signature_verified"`
	// Revocation is the answer about a CA of the chain when revocation was checked.
	Revocation *Revocation `json:"revocation,omitempty"`
}

// MissingCert describes the issuer a chain lacks, so the user can find and add it.
type MissingCert struct {
	// Subject is the issuer's distinguished name as the certificate below names it.
	Subject string `json:"subject"`
	// KeyID is the certificate's authority key identifier: the issuer's subject key identifier.
	KeyID string `json:"key_id,omitempty"`
	// File is the name of the file to add, URL where to download it; either may be empty.
	File string `json:"file,omitempty"`
	URL  string `json:"url,omitempty"`
}

// ChainOptions configure a ChainBuilder. Issuers are looked for among the certificates
// given to Build, the Intermediates, the Anchors, the embedded IGC-Santé CAs and, with
// Fetch, the certificates named by AIA caIssuers URLs.
type ChainOptions struct {
	// Anchors are the trust anchors (--ca, a lab's roots, the root of --hierarchy). When
	// there are any, a chain must end at one of them or it is a failure; without, trust
	// is not judged and a chain that cannot be completed is only an info.
	Anchors []*x509.Certificate
	// Intermediates are offered to every chain (--chain).
	Intermediates []*x509.Certificate
	// Fetch, when set, downloads the issuer named by a certificate's AIA caIssuers URL
	// when no other source has it; LDAP URLs are skipped.
	Fetch Fetcher
}

// ChainBuilder builds chains against one configuration. It is safe for concurrent use,
// and remembers signature checks between CA certificates and AIA downloads, so that
// building the chains of many certificates of one CA checks the CA's own links once.
type ChainBuilder struct {
	opts      ChainOptions
	byName    map[string][]candidate // shared candidates by raw subject
	anchorKey map[string]bool        // raw subject + SPKI of every anchor
	// anchorHier and interHier hold a CA of each hierarchy among the anchors and among
	// the intermediates the user supplied for every chain.
	anchorHier, interHier map[diapason.Hierarchy]*x509.Certificate
	pool                  map[*x509.Certificate]ChainCert // precomputed entries of the shared candidates
	sigs                  sync.Map                        // link key → error, for CA children only
	sigCount              atomic.Int64
	fetchMu               sync.Mutex
	fetched               map[string]*fetchEntry
}

type candidate struct {
	cert   *x509.Certificate
	source Source
	file   string
}

// fetchEntry remembers one URL's download; its lock makes concurrent builds that need
// the same URL wait for one download instead of each making their own.
type fetchEntry struct {
	mu    sync.Mutex
	done  bool
	certs []*x509.Certificate
	err   error
}

// maxChainLength stops runaway chains; real ones have three or four certificates.
const maxChainLength = 10

// NewChainBuilder prepares a builder.
func NewChainBuilder(opts ChainOptions) *ChainBuilder {
	b := &ChainBuilder{
		opts: opts, byName: map[string][]candidate{}, anchorKey: map[string]bool{},
		anchorHier: hierarchies(opts.Anchors), interHier: hierarchies(opts.Intermediates), fetched: map[string]*fetchEntry{},
		pool: map[*x509.Certificate]ChainCert{},
	}
	seen := map[string]bool{}
	add := func(c *x509.Certificate, s Source, file string) {
		if seen[string(c.Raw)] {
			return
		}
		seen[string(c.Raw)] = true
		cand := candidate{c, s, file}
		b.byName[string(c.RawSubject)] = append(b.byName[string(c.RawSubject)], cand)
		b.pool[c] = newChainCert(cand)
	}
	for _, a := range opts.Anchors {
		b.anchorKey[anchorID(a)] = true
		add(a, SourceAnchor, "")
	}
	for _, c := range opts.Intermediates {
		add(c, SourceGiven, "")
	}
	for _, ca := range diapason.IGCSanteCAs() {
		add(ca.Cert, SourceEmbedded, ca.File)
	}
	return b
}

// hierarchies maps each hierarchy of production, TEST and lab to one of the CAs of it.
func hierarchies(certs []*x509.Certificate) map[diapason.Hierarchy]*x509.Certificate {
	m := map[diapason.Hierarchy]*x509.Certificate{}
	for _, c := range certs {
		if h := diapason.HierarchyOf(c); c.IsCA && h != diapason.HierarchyOther && m[h] == nil {
			m[h] = c
		}
	}
	return m
}

// anchorID identifies a trust anchor by name and key (RFC 5280 §6.1.1), so that a
// re-issued copy of an anchor is trusted like the original.
func anchorID(c *x509.Certificate) string {
	return string(c.RawSubject) + "\x00" + string(c.RawSubjectPublicKeyInfo)
}

// Build orders leaf and its issuers, taken from given (any order, duplicates allowed) and
// the builder's sources, checks every signature link and judges the result. now picks,
// among equivalent issuers, one valid at that time.
func (b *ChainBuilder) Build(ctx context.Context, leaf *x509.Certificate, given []*x509.Certificate, now time.Time) Chain {
	return b.build(ctx, leaf, given, now, nil)
}

// build is Build for a leaf already inspected (pre), whose names and digest are reused.
func (b *ChainBuilder) build(ctx context.Context, leaf *x509.Certificate, given []*x509.Certificate, now time.Time, pre *Certificate) Chain {
	st := &buildState{b: b, ctx: ctx, now: now, pre: pre}
	st.used[0], st.nused = leaf, 1
	for _, g := range given {
		if !st.isUsed(g) && !slices.ContainsFunc(st.given, func(c candidate) bool { return bytes.Equal(c.cert.Raw, g.Raw) }) {
			st.given = append(st.given, candidate{g, SourceGiven, ""})
		}
	}
	st.build(leaf)
	for _, g := range st.given {
		if !st.isUsed(g.cert) {
			st.chain.Unused = append(st.chain.Unused, newChainCert(g))
		}
	}
	st.checkMix(leaf)
	if st.chain.Findings == nil {
		st.chain.Findings = []Finding{}
	}
	return st.chain
}

type buildState struct {
	b       *ChainBuilder
	ctx     context.Context
	now     time.Time
	given   []candidate
	fetched []candidate
	// used holds the chain's certificates so far: at most maxChainLength, compared
	// by their DER, without a map allocated per build.
	used    [maxChainLength]*x509.Certificate
	nused   int
	chain   Chain
	invalid bool
	pre     *Certificate
}

func (st *buildState) isUsed(c *x509.Certificate) bool {
	for _, u := range st.used[:st.nused] {
		if u == c || bytes.Equal(u.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func (st *buildState) note(slug string, level Level, format string, args ...any) {
	st.chain.Findings = append(st.chain.Findings, Finding{Slug: slug, Level: level, Message: fmt.Sprintf(format, args...)})
}

// failOrInfo is the level of a chain that cannot be judged: a failure when a trust
// anchor was asked for, otherwise only an info, so that an expiry scan without trust
// context does not fail.
func (st *buildState) failOrInfo() Level {
	if len(st.b.opts.Anchors) > 0 {
		return Fail
	}
	return Info
}

func (st *buildState) build(leaf *x509.Certificate) {
	cur := st.chainCert(candidate{cert: leaf, source: SourceLeaf})
	for {
		c := cur.Cert
		if len(st.b.anchorKey) > 0 && st.b.anchorKey[anchorID(c)] {
			st.finish(cur, ChainTrusted)
			return
		}
		var selfErr error
		if bytes.Equal(c.RawSubject, c.RawIssuer) {
			if selfErr = st.b.verify(c, c); selfErr == nil {
				cur.Root, cur.SignatureVerified = true, true
				st.finish(cur, ChainComplete)
				return
			}
		}
		if len(st.chain.Certificates) == maxChainLength-1 {
			st.chain.Certificates = append(st.chain.Certificates, cur)
			st.note("chain-incomplete", st.failOrInfo(), "the chain is longer than %d certificates; it was not followed further", maxChainLength)
			st.chain.Status = ChainIncomplete
			return
		}
		next, err, ok := st.issuer(c)
		if !ok && selfErr != nil {
			// Self-issued, no other CA of that name, and its own key does not verify it:
			// a damaged root, not a missing issuer.
			st.chain.Certificates = append(st.chain.Certificates, cur)
			st.chain.Status = ChainInvalid
			st.note("chain-signature-invalid", Fail, "%q is self-issued but its signature does not verify with its own key (%v): the file is damaged or altered",
				commonName(c), selfErr)
			return
		}
		if !ok {
			st.chain.Certificates = append(st.chain.Certificates, cur)
			st.missing(c)
			return
		}
		if err != nil {
			st.invalid = true
			st.note("chain-signature-invalid", Fail, "the signature of %q does not verify with the key of %q (%s): %v; "+
				"the certificate was altered, or that file holds another CA with the same name",
				commonName(c), commonName(next.cert), describeSource(next), err)
		}
		cur.SignatureVerified = err == nil
		st.chain.Certificates = append(st.chain.Certificates, cur)
		st.used[st.nused] = next.cert
		st.nused++
		cur = st.chainCert(next)
	}
}

func (st *buildState) chainCert(c candidate) ChainCert {
	if cc, ok := st.b.pool[c.cert]; ok && cc.Source == c.source {
		return cc
	}
	if p := st.pre; p != nil && p.Cert == c.cert {
		return ChainCert{Cert: c.cert, Subject: p.Subject, SHA256: p.SHA256, Source: c.source, Hierarchy: p.Hierarchy}
	}
	return newChainCert(c)
}

// finish ends the chain at its top certificate.
func (st *buildState) finish(top ChainCert, status ChainStatus) {
	st.chain.Certificates = append(st.chain.Certificates, top)
	st.chain.Status = status
	if st.invalid {
		st.chain.Status = ChainInvalid
		return
	}
	if status == ChainComplete && len(st.b.opts.Anchors) > 0 {
		st.note("chain-untrusted", Fail, "the chain ends at the root %q, which is not among the trust anchors given; "+
			"if that root is the right one, give it with --ca", commonName(top.Cert))
	}
}

// issuer picks the issuer of c: among the certificates named like c's issuer (and with
// its key identifier, when both say one), the first whose signature verifies, in the
// order of preference. ok is false when there is none; err is set when none verifies.
func (st *buildState) issuer(c *x509.Certificate) (next candidate, err error, ok bool) {
	cands := st.candidates(c)
	if len(cands) == 0 && st.b.opts.Fetch != nil {
		st.fetch(c)
		cands = st.candidates(c)
	}
	if len(cands) == 0 {
		return candidate{}, nil, false
	}
	var firstErr error
	for _, cand := range cands {
		if err := st.b.verify(c, cand.cert); err == nil {
			return cand, nil, true
		} else if firstErr == nil {
			firstErr = err
		}
	}
	return cands[0], firstErr, true
}

// candidates lists the possible issuers of c, best first. The shared anchors are
// considered before the certificates given to Build, and these before the other shared
// ones, so that a certificate present twice keeps its most telling source.
func (st *buildState) candidates(c *x509.Certificate) []candidate {
	var out []candidate
	consider := func(cand candidate) {
		p := cand.cert
		if !bytes.Equal(p.RawSubject, c.RawIssuer) || st.isUsed(p) ||
			slices.ContainsFunc(out, func(o candidate) bool { return bytes.Equal(o.cert.Raw, p.Raw) }) {
			return
		}
		if len(c.AuthorityKeyId) > 0 && len(p.SubjectKeyId) > 0 && !bytes.Equal(c.AuthorityKeyId, p.SubjectKeyId) {
			return
		}
		// A version 3 certificate can only issue when basicConstraints says it is a CA
		// (RFC 5280 §4.2.1.9); version 1 roots predate the extension.
		if p.Version >= 3 && !(p.BasicConstraintsValid && p.IsCA) {
			return
		}
		out = append(out, cand)
	}
	for _, cand := range st.b.byName[string(c.RawIssuer)] {
		if cand.source == SourceAnchor {
			consider(cand)
		}
	}
	for _, cand := range st.given {
		consider(cand)
	}
	for _, cand := range st.b.byName[string(c.RawIssuer)] {
		consider(cand)
	}
	for _, cand := range st.fetched {
		consider(cand)
	}
	slices.SortStableFunc(out, func(a, b candidate) int {
		if r := a.source.rank() - b.source.rank(); r != 0 {
			return r
		}
		av, bv := st.validAt(a.cert), st.validAt(b.cert)
		switch {
		case av && !bv:
			return -1
		case bv && !av:
			return 1
		}
		return b.cert.NotAfter.Compare(a.cert.NotAfter)
	})
	return out
}

func (st *buildState) validAt(c *x509.Certificate) bool {
	return !st.now.Before(c.NotBefore) && !st.now.After(c.NotAfter)
}

// maxSigs bounds the remembered links, so that memory stays flat in a scan of files
// that each bring their own CAs; past it, links are checked every time.
const maxSigs = 4096

// verify checks that parent's key made child's signature. Links between CA certificates
// are remembered: a scan of many leaves of one CA checks the CA's own chain once.
// CheckSignature (not CheckSignatureFrom) is used so that a SHA-1 signature, still
// found on old roots, verifies; the issuer's CA status is checked by candidates.
func (b *ChainBuilder) verify(child, parent *x509.Certificate) error {
	if !child.IsCA {
		return parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	}
	key := string(child.Signature) + "\x00" + string(parent.RawSubjectPublicKeyInfo)
	if v, ok := b.sigs.Load(key); ok {
		err, _ := v.(error)
		return err
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	if b.sigCount.Load() < maxSigs {
		if _, loaded := b.sigs.LoadOrStore(key, err); !loaded {
			b.sigCount.Add(1)
		}
	}
	return err
}

// fetch follows c's AIA caIssuers URLs. Downloads are remembered by URL, so that the
// leaves of one CA cause one download.
func (st *buildState) fetch(c *x509.Certificate) {
	for _, u := range c.IssuingCertificateURL {
		scheme, _, _ := strings.Cut(u, ":")
		switch strings.ToLower(scheme) {
		case "http", "https":
		case "ldap", "ldaps":
			st.note("aia-ldap-skipped", Info, "the issuer's LDAP address %s was not followed: only HTTP is", u)
			continue
		default:
			st.note("aia-fetch-failed", Info, "the issuer's address %s was not followed: only HTTP is", u)
			continue
		}
		certs, err := st.b.fetchOnce(st.ctx, u)
		if err != nil {
			st.note("aia-fetch-failed", Info, "downloading the issuer of %q from %s failed: %v", commonName(c), u, err)
			continue
		}
		for _, f := range certs {
			st.fetched = append(st.fetched, candidate{f, SourceFetched, u})
		}
		st.note("aia-fetched", Info, "the issuer of %q was downloaded from %s; add it to your chain file so that nothing needs downloading", commonName(c), u)
		return
	}
}

func (b *ChainBuilder) fetchOnce(ctx context.Context, u string) ([]*x509.Certificate, error) {
	b.fetchMu.Lock()
	e := b.fetched[u]
	if e == nil {
		e = &fetchEntry{}
		b.fetched[u] = e
	}
	b.fetchMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return e.certs, e.err
	}
	var certs []*x509.Certificate
	data, err := b.opts.Fetch(ctx, u)
	if err == nil {
		var contents *certio.Contents
		if contents, err = certio.Decode(u, data); err == nil {
			if certs = contents.Certificates(); len(certs) == 0 {
				err = fmt.Errorf("the download holds no certificate")
			}
		}
	}
	// A cancelled context is not the URL's fault: do not remember it.
	if ctx.Err() == nil {
		e.done, e.certs, e.err = true, certs, err
	}
	return certs, err
}

// missing ends an incomplete chain at c, whose issuer was not found.
func (st *buildState) missing(c *x509.Certificate) {
	m := &MissingCert{}
	if p := st.pre; p != nil && p.Cert == c {
		m.Subject = p.Issuer
	} else {
		m.Subject = nameString(c.RawIssuer, &c.Issuer)
	}
	if len(c.AuthorityKeyId) > 0 {
		m.KeyID = diapason.Fingerprint(c.AuthorityKeyId)
	}
	m.File, m.URL = suggestIssuerFile(c)
	st.chain.Missing = m
	add := ""
	switch {
	case m.File != "" && m.URL != "":
		add = fmt.Sprintf("add %s (%s) with --chain", m.File, m.URL)
	case m.File != "":
		add = fmt.Sprintf("add %s with --chain", m.File)
	default:
		add = "add the issuer's certificate with --chain (ask the CA that issued it)"
	}
	keyID := ""
	if m.KeyID != "" {
		keyID = ", key identifier " + m.KeyID
	}
	switch {
	case st.invalid:
		st.chain.Status = ChainInvalid
	case c.IsCA:
		st.chain.Status = ChainNoRoot
		if len(st.b.opts.Anchors) > 0 {
			st.note("chain-untrusted", Fail, "the chain ends at %q and does not reach a trust anchor: its issuer %q%s was not found; "+
				"give that CA with --ca if it is the one you trust", commonName(c), m.Subject, keyID)
		} else {
			st.note("chain-root-missing", Info, "the chain ends at %q, whose issuer %q%s, presumably a root, was neither given nor embedded; "+
				"servers do not send the root, but clients must have it; give it with --ca to check trust", commonName(c), m.Subject, keyID)
		}
	default:
		st.chain.Status = ChainIncomplete
		what := "cannot be checked"
		if len(st.b.opts.Anchors) > 0 {
			what = "is incomplete"
		}
		st.note("chain-incomplete", st.failOrInfo(), "the chain of %q %s: its issuer %q%s is neither given nor embedded; %s",
			commonName(c), what, m.Subject, keyID, add)
	}
}

// embeddedCAs is the embedded IGC-Santé CAs, read once: diapason hands out a copy at
// each call, which a scan would otherwise make for every certificate without a chain.
var embeddedCAs = sync.OnceValue(diapason.IGCSanteCAs)

// testIntermediateURL is where the TEST ORGANISATIONS intermediate is published, as the
// AIA of real IGC-Santé TEST certificates says.
const testIntermediateURL = "http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-EL-ORG-TEST.cer"

// suggestIssuerFile names the file holding c's issuer. A missing issuer named like an
// embedded IGC-Santé CA is a newer version of it (another key), published under the
// same file name; otherwise the AIA caIssuers URL says where the issuer is.
func suggestIssuerFile(c *x509.Certificate) (file, link string) {
	for _, u := range c.IssuingCertificateURL {
		if pu, err := url.Parse(u); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") {
			file, link = path.Base(pu.Path), u
			break
		}
	}
	for _, ca := range embeddedCAs() {
		if !bytes.Equal(ca.Cert.RawSubject, c.RawIssuer) {
			continue
		}
		file = ca.File
		if link == "" {
			switch ca.File {
			case "ACI-EL-ORG.cer":
				link = diapason.IntermediateURL
			case "ACI-EL-ORG-TEST.cer":
				link = testIntermediateURL
			}
		}
	}
	return file, link
}

// checkMix finds a certificate of one hierarchy (IGC-Santé production, TEST, or a lab)
// combined with CAs of another: the most common real-world mistake. The CAs given with
// an end-entity certificate must all belong to its hierarchy; the builder's shared anchors, and
// its shared intermediates, must include some of it when they include another (checking
// against both roots is not a mix, checking against the production root alone is).
func (st *buildState) checkMix(leaf *x509.Certificate) {
	h := diapason.HierarchyOf(leaf)
	if h == diapason.HierarchyOther {
		return
	}
	var other *x509.Certificate
	// A CA given with CAs of another hierarchy is a truststore trusting both, not a mix.
	for _, g := range st.given {
		if gh := diapason.HierarchyOf(g.cert); !leaf.IsCA && g.cert.IsCA && gh != h && gh != diapason.HierarchyOther {
			other = g.cert
			break
		}
	}
	for _, shared := range []map[diapason.Hierarchy]*x509.Certificate{st.b.anchorHier, st.b.interHier} {
		if other != nil || shared[h] != nil {
			continue
		}
		for _, oh := range []diapason.Hierarchy{diapason.HierarchyProduction, diapason.HierarchyTest, diapason.HierarchyLab} {
			if oh != h && shared[oh] != nil {
				other = shared[oh]
				break
			}
		}
	}
	if other == nil {
		return
	}
	oh := diapason.HierarchyOf(other)
	fix := "use the CA certificates of the same hierarchy"
	switch h {
	case diapason.HierarchyTest:
		fix = "a TEST certificate chains to ACI-EL-ORG-TEST.cer and ACR-EL-TEST.cer"
	case diapason.HierarchyProduction:
		fix = "a production certificate chains to ACI-EL-ORG.cer and ACR-EL.cer"
	}
	st.note("hierarchy-mix", Fail, "%q belongs to %s but is combined with %q, a CA of %s: %s",
		commonName(leaf), h.Label(), commonName(other), oh.Label(), fix)
}

func newChainCert(c candidate) ChainCert {
	sum := sha256.Sum256(c.cert.Raw)
	return ChainCert{
		Cert: c.cert, Subject: nameString(c.cert.RawSubject, &c.cert.Subject),
		SHA256: diapason.Fingerprint(sum[:]), Source: c.source,
		Hierarchy: diapason.HierarchyOf(c.cert), File: c.file,
	}
}

func describeSource(c candidate) string {
	switch {
	case c.source == SourceEmbedded:
		return "the embedded " + c.file
	case c.source == SourceFetched:
		return "downloaded from " + c.file
	case c.source == SourceAnchor:
		return "a trust anchor given"
	}
	return "a certificate given"
}

// nameString shows a raw name as issued, falling back to Go's rendering of parsed when
// the name uses an encoding the dn package does not read.
func nameString(raw []byte, parsed *pkix.Name) string {
	n, err := dn.Parse(raw)
	if err != nil {
		return parsed.String()
	}
	return n.String()
}

// commonName names a certificate in a sentence: its CN, else its whole subject.
func commonName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return nameString(c.RawSubject, &c.Subject)
}
