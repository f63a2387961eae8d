package bundle

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
)

// Names of the files intake writes in its output directory.
const (
	KeyFile       = "key.pem"
	CertFile      = "cert.pem"
	ChainFile     = "chain.pem"
	FullChainFile = "fullchain.pem"
	ManifestFile  = "manifest.json"
)

// IntakeRequest is a PKCS#12 file delivered by the CA, opened, to take apart.
type IntakeRequest struct {
	Path string // the PKCS#12 file, as the manifest names it
	P12  *certio.PKCS12
	// Chain holds extra issuers (--chain) for a file that lacks some.
	Chain []Source
	// Profile, when set, is what the certificate must fit; FQDN is the
	// normalised server name of tpe-server.
	Profile *diapason.Profile
	FQDN    string
	Fetch   check.Fetcher
	// IncludeRoot ends chain.pem and fullchain.pem with the root.
	IncludeRoot bool
	OutDir      string
	// KeyPassword, when set, encrypts key.pem (PKCS#8, PBES2 AES-256-CBC).
	KeyPassword []byte
	Now         time.Time
}

// Intake is a PKCS#12 file taken apart: its checked bundle and the files to write.
type Intake struct {
	Source string `json:"source"`
	*Bundle
	KeyEncrypted bool     `json:"key_encrypted"`
	Files        []*File  `json:"files"`
	Manifest     Manifest `json:"-"`
}

// Manifest is manifest.json: what intake wrote, for audits and for the next
// renewal. Paths are relative to the output directory.
type Manifest struct {
	SchemaVersion int                `json:"schema_version"`
	Source        string             `json:"source"`
	Created       time.Time          `json:"created"`
	Profile       diapason.ProfileID `json:"profile,omitempty"`
	Files         []ManifestEntry    `json:"files"`
	Certificates  []ManifestCert     `json:"certificates"`
}

// ManifestEntry is one file of the manifest.
type ManifestEntry struct {
	Name    string `json:"name"`
	Content string `json:"content"`
	Mode    string `json:"mode"`
	SHA256  string `json:"sha256"`
}

// ManifestCert is one certificate of the manifest: "leaf", "intermediate" or "root".
type ManifestCert struct {
	Role string `json:"role"`
	CertInfo
}

// TakeApart picks the leaf that matches the key (done by certio), completes
// and checks its chain and the profile, and prepares key.pem (mode 0600),
// cert.pem, chain.pem, fullchain.pem and manifest.json in OutDir. Nothing is
// written: WriteFiles does that.
func TakeApart(ctx context.Context, req IntakeRequest) (*Intake, error) {
	p := req.P12
	given := append([]Source(nil), req.Chain...)
	for _, c := range p.CACerts {
		given = append(given, Source{Cert: c, Path: req.Path})
	}
	b, err := assemble(ctx, Source{Cert: p.Leaf, Path: req.Path}, given,
		BuildRequest{IncludeRoot: req.IncludeRoot, Fetch: req.Fetch, Profile: req.Profile, FQDN: req.FQDN, Now: req.Now})
	if err != nil {
		return nil, err
	}
	b.key = p.Key
	in := &Intake{Source: req.Path, Bundle: b}

	var keyPEM []byte
	keyWhat := "private key (PKCS#8, not encrypted)"
	if req.KeyPassword != nil {
		keyPEM, err = certio.EncryptPrivateKeyPEM(p.Key, req.KeyPassword)
		keyWhat = "private key (PKCS#8, AES-256-CBC, PBKDF2-SHA256)"
		in.KeyEncrypted = true
	} else {
		keyPEM, err = certio.MarshalPrivateKeyPEM(p.Key)
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the private key: %w", err)
	}
	dir := req.OutDir
	in.Files = []*File{
		NewFile(filepath.Join(dir, KeyFile), keyWhat, keyPEM, true),
		NewFile(filepath.Join(dir, CertFile), "certificate", EncodePEM(b.FullChain[:1]), false),
		NewFile(filepath.Join(dir, ChainFile), "chain: "+countCAs(b.Intermediates()), EncodePEM(b.Intermediates()), false),
		NewFile(filepath.Join(dir, FullChainFile), "full chain: "+countCerts(len(b.FullChain)), b.FullChainPEM(), false),
	}

	in.Manifest = Manifest{SchemaVersion: 1, Source: req.Path, Created: req.Now.UTC(), Files: []ManifestEntry{}}
	if req.Profile != nil {
		in.Manifest.Profile = req.Profile.ID
	}
	for _, f := range in.Files {
		in.Manifest.Files = append(in.Manifest.Files, ManifestEntry{Name: filepath.Base(f.Path), Content: f.Content, Mode: f.Mode, SHA256: f.SHA256})
	}
	for i, c := range b.FullChain {
		role := "intermediate"
		switch {
		case i == 0:
			role = "leaf"
		case c.IsCA && c.CheckSignatureFrom(c) == nil:
			role = "root"
		}
		in.Manifest.Certificates = append(in.Manifest.Certificates, ManifestCert{Role: role, CertInfo: Describe(c)})
	}
	doc, err := json.MarshalIndent(in.Manifest, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest: %w", err)
	}
	in.Files = append(in.Files, NewFile(filepath.Join(dir, ManifestFile), "manifest: files, SHA-256, subject, notAfter", append(doc, '\n'), false))
	return in, nil
}

// countCAs says how many CA certificates a chain file holds; a root counts
// among them when it is included.
func countCAs(cas []*x509.Certificate) string {
	switch len(cas) {
	case 0:
		return "no CA certificate"
	case 1:
		return "1 CA certificate"
	}
	return fmt.Sprintf("%d CA certificates", len(cas))
}

func countCerts(n int) string {
	if n == 1 {
		return "1 certificate"
	}
	return fmt.Sprintf("%d certificates", n)
}
