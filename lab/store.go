package lab

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/diapason-cert/diapason-cert/certio"
)

// Files of a lab directory besides those lab.json names.
const (
	// ManifestFile names every file of the lab; `--lab DIR` reads it.
	ManifestFile = "lab.json"
	// IndexFile records the certificates the lab issued, for its OCSP answers.
	IndexFile = "issued.json"
)

// SchemaVersion is the version of lab.json and issued.json this package reads and writes.
const SchemaVersion = 1

// ErrNotEmpty: Write was asked to make a lab in a directory that already holds files.
var ErrNotEmpty = errors.New("the directory is not empty")

// RoleFiles are the files of one credential, relative to the lab directory.
type RoleFiles struct {
	Cert  string `json:"cert"`
	Key   string `json:"key"`
	Chain string `json:"chain"`
}

// CAFiles are the files of one CA, relative to the lab directory.
type CAFiles struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
	CRL  string `json:"crl"`
}

// Manifest is lab.json.
type Manifest struct {
	SchemaVersion int                `json:"schema_version"`
	URL           string             `json:"url"`
	FQDN          string             `json:"fqdn"`
	Roles         map[Role]RoleFiles `json:"roles"`
	CAs           map[CAName]CAFiles `json:"cas"`
}

type index struct {
	SchemaVersion int      `json:"schema_version"`
	Certificates  []Issued `json:"certificates"`
}

// defaultManifest lays the files out flat: <name>.pem, <name>.key,
// <role>.chain.pem and <ca>.crl.pem.
func defaultManifest(url, fqdn string) *Manifest {
	m := &Manifest{SchemaVersion: SchemaVersion, URL: url, FQDN: fqdn, Roles: map[Role]RoleFiles{}, CAs: map[CAName]CAFiles{}}
	for _, r := range Roles() {
		n := string(r)
		m.Roles[r] = RoleFiles{Cert: n + ".pem", Key: n + ".key", Chain: n + ".chain.pem"}
	}
	for _, c := range CANames() {
		n := string(c)
		m.CAs[c] = CAFiles{Cert: n + ".pem", Key: n + ".key", CRL: n + ".crl.pem"}
	}
	return m
}

// ParseManifest reads lab.json, checking that it names every role and CA
// with paths that stay inside the lab directory.
func ParseManifest(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not a lab manifest: %w", err)
	}
	if m.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("lab manifest schema_version %d: this version of diapason-cert reads %d", m.SchemaVersion, SchemaVersion)
	}
	url, err := NormaliseURL(m.URL)
	if err != nil {
		return nil, err
	}
	m.URL = url
	if err := checkHostname(m.FQDN); err != nil {
		return nil, fmt.Errorf("lab manifest fqdn: %w", err)
	}
	for _, r := range Roles() {
		f, ok := m.Roles[r]
		if !ok {
			return nil, fmt.Errorf("lab manifest names no %s credential", r)
		}
		for what, p := range map[string]string{"cert": f.Cert, "key": f.Key, "chain": f.Chain} {
			if err := checkLocal(p); err != nil {
				return nil, fmt.Errorf("lab manifest %s %s: %w", r, what, err)
			}
		}
	}
	for _, c := range CANames() {
		f, ok := m.CAs[c]
		if !ok {
			return nil, fmt.Errorf("lab manifest names no %s CA", c)
		}
		for what, p := range map[string]string{"cert": f.Cert, "key": f.Key, "crl": f.CRL} {
			if err := checkLocal(p); err != nil {
				return nil, fmt.Errorf("lab manifest %s %s: %w", c, what, err)
			}
		}
	}
	return &m, nil
}

// checkLocal refuses manifest paths that would read outside the lab
// directory: lab.json is input, and may come from anywhere.
func checkLocal(p string) error {
	if p == "" {
		return errors.New("no file named")
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) {
		return fmt.Errorf("%q is not a path inside the lab directory", p)
	}
	return nil
}

func parseIndex(data []byte) ([]Issued, error) {
	var ix index
	if err := json.Unmarshal(data, &ix); err != nil {
		return nil, fmt.Errorf("not a lab index: %w", err)
	}
	if ix.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("lab index schema_version %d: this version of diapason-cert reads %d", ix.SchemaVersion, SchemaVersion)
	}
	for i, c := range ix.Certificates {
		if _, ok := new(big.Int).SetString(c.Serial, 16); !ok || c.Serial == "" {
			return nil, fmt.Errorf("lab index entry %d: serial %q is not hexadecimal", i+1, c.Serial)
		}
		if !isCAName(c.CA) {
			return nil, fmt.Errorf("lab index entry %d: unknown CA %q", i+1, c.CA)
		}
	}
	return ix.Certificates, nil
}

func isCAName(n CAName) bool {
	for _, c := range CANames() {
		if c == n {
			return true
		}
	}
	return false
}

func certPEM(certs ...*x509.Certificate) []byte {
	var b bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return b.Bytes()
}

func crlPEM(crl *x509.RevocationList) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw})
}

func (l *Lab) indexJSON() ([]byte, error) {
	issued := l.issued
	if issued == nil {
		issued = []Issued{}
	}
	data, err := json.MarshalIndent(index{SchemaVersion: SchemaVersion, Certificates: issued}, "", "  ")
	return append(data, '\n'), err
}

// Write stores the lab in dir, flat: certificates <name>.pem, keys <name>.key
// (0600), chains <role>.chain.pem, CRLs <ca>.crl.pem, then issued.json and
// lab.json last, so that a lab interrupted half-way is not taken for one.
// dir must be empty unless force is set; then existing files are replaced
// and kept as timestamped backups named after now. From then on the lab lives
// in dir: Sign and Revoke update its files.
func (l *Lab) Write(dir string, force bool, now time.Time) ([]certio.WriteResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !force {
		if err := checkEmpty(dir); err != nil {
			return nil, err
		}
	}
	// The directory holds private keys: its owner alone may list it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &certio.FileError{Path: dir, Err: fmt.Errorf("cannot create the lab directory: %w", unwrapPath(err))}
	}
	m := defaultManifest(l.url, l.fqdn)
	type file struct {
		name string
		data []byte
		key  bool
	}
	var files []file
	for _, n := range CANames() {
		ca, f := l.cas[n], m.CAs[n]
		keyPEM, err := certio.MarshalPrivateKeyPEM(ca.Key)
		if err != nil {
			return nil, err
		}
		files = append(files, file{f.Cert, certPEM(ca.Cert), false}, file{f.Key, keyPEM, true}, file{f.CRL, crlPEM(ca.CRL), false})
	}
	for _, r := range Roles() {
		c, f := l.creds[r], m.Roles[r]
		keyPEM, err := certio.MarshalPrivateKeyPEM(c.Key)
		if err != nil {
			return nil, err
		}
		files = append(files, file{f.Cert, certPEM(c.Cert), false}, file{f.Key, keyPEM, true}, file{f.Chain, certPEM(c.Chain...), false})
	}
	ix, err := l.indexJSON()
	if err != nil {
		return nil, err
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	files = append(files, file{IndexFile, ix, false}, file{ManifestFile, append(mj, '\n'), false})

	var out []certio.WriteResult
	for _, f := range files {
		mode := os.FileMode(0o644)
		if f.key {
			mode = 0o600
		}
		res, err := certio.WriteFile(filepath.Join(dir, f.name), f.data, certio.WriteOptions{Mode: mode, Force: force, Now: now})
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	l.dir, l.files = dir, m
	return out, nil
}

// CheckDir reports the error Write would give for dir, so that a caller can
// refuse before making keys: a file in the way or, without force, a
// directory that is not empty.
func CheckDir(dir string, force bool) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return &certio.FileError{Path: dir, Err: errors.New("is a file; a lab is made in a directory")}
	}
	if force {
		return nil
	}
	return checkEmpty(dir)
}

// checkEmpty refuses a directory with entries; a missing one is fine.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return &certio.FileError{Path: dir, Err: unwrapPath(err)}
	case len(entries) == 0:
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return &certio.FileError{Path: dir, Err: fmt.Errorf("%w: it already holds a lab (%s)", ErrNotEmpty, ManifestFile)}
	}
	return &certio.FileError{Path: dir, Err: fmt.Errorf("%w: a lab is made in an empty or new directory", ErrNotEmpty)}
}

// replaceFile atomically replaces one of the lab's own state files (a CRL,
// the index): a temporary file renamed over it, so readers such as a running
// `lab serve` see the old file or the new, never half of one. Unlike user
// outputs, no backup is kept: the previous CRL's entries live on in the new one.
func (l *Lab) replaceFile(rel string, data []byte) (string, error) {
	path := filepath.Join(l.dir, filepath.FromSlash(rel))
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", &certio.FileError{Path: path, Err: unwrapPath(err)}
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", &certio.FileError{Path: path, Err: fmt.Errorf("cannot update: %w", unwrapPath(err))}
	}
	return path, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Open reads the lab stored in dir through its lab.json. Every key must match
// its certificate and every CRL verify under its CA: a lab edited by hand
// into inconsistency is refused here rather than giving puzzling answers later.
func Open(dir string) (*Lab, error) {
	if fi, err := os.Stat(dir); err != nil {
		return nil, &certio.FileError{Path: dir, Err: unwrapPath(err)}
	} else if !fi.IsDir() {
		return nil, &certio.FileError{Path: dir, Err: errors.New("is a file; a lab is a directory made by lab init")}
	}
	mpath := filepath.Join(dir, ManifestFile)
	data, err := certio.ReadInput(mpath, nil)
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(data)
	if err != nil {
		return nil, &certio.FileError{Path: mpath, Err: err}
	}
	l := &Lab{dir: dir, files: m, url: m.URL, fqdn: m.FQDN, cas: map[CAName]*CA{}, creds: map[Role]*Credential{}}
	ld := certio.Loader{}
	at := func(rel string) string { return filepath.Join(dir, filepath.FromSlash(rel)) }

	for _, n := range CANames() {
		f := m.CAs[n]
		cert, key, err := loadPair(ld, at(f.Cert), at(f.Key))
		if err != nil {
			return nil, err
		}
		crls, err := ld.LoadCRLs(at(f.CRL))
		if err != nil {
			return nil, err
		}
		if err := crls[0].CheckSignatureFrom(cert); err != nil {
			return nil, &certio.FileError{Path: at(f.CRL), Err: fmt.Errorf("not signed by the %s CA: %w", n, err)}
		}
		if crls[0].Number == nil {
			return nil, &certio.FileError{Path: at(f.CRL), Err: errors.New("the CRL has no CRL number")}
		}
		l.cas[n] = &CA{Name: n, Cert: cert, Key: key, CRL: crls[0]}
	}
	for _, n := range CANames() {
		ca := l.cas[n]
		if string(ca.Cert.RawIssuer) == string(ca.Cert.RawSubject) && ca.Cert.CheckSignatureFrom(ca.Cert) == nil {
			continue
		}
		parent, ok := l.issuerOf(ca.Cert)
		if !ok {
			return nil, &certio.FileError{Path: at(m.CAs[n].Cert), Err: errors.New("this CA is neither self-signed nor signed by another CA of the lab")}
		}
		ca.Parent = parent.Name
	}
	for _, spec := range roleSpecs {
		f := m.Roles[spec.role]
		cert, key, err := loadPair(ld, at(f.Cert), at(f.Key))
		if err != nil {
			return nil, err
		}
		chain, err := ld.LoadCertificates(at(f.Chain))
		if err != nil {
			return nil, err
		}
		if cert.CheckSignatureFrom(chain[0]) != nil {
			return nil, &certio.FileError{Path: at(f.Chain), Err: fmt.Errorf("its first certificate did not sign %s", f.Cert)}
		}
		l.creds[spec.role] = &Credential{Role: spec.role, Profile: spec.profile, Cert: cert, Key: key, Chain: chain}
	}
	ipath := filepath.Join(dir, IndexFile)
	data, err = certio.ReadInput(ipath, nil)
	if err != nil {
		return nil, err
	}
	if l.issued, err = parseIndex(data); err != nil {
		return nil, &certio.FileError{Path: ipath, Err: err}
	}
	return l, nil
}

// loadPair reads a certificate and its unencrypted key and checks they match.
func loadPair(ld certio.Loader, certPath, keyPath string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := ld.LoadCertificates(certPath)
	if err != nil {
		return nil, nil, err
	}
	key, err := ld.LoadPrivateKey(keyPath, nil)
	if err != nil {
		return nil, nil, err
	}
	if !certio.KeyMatches(certs[0], key.Signer) {
		return nil, nil, &certio.FileError{Path: keyPath, Err: fmt.Errorf("this key is not the key of %s", certPath)}
	}
	return certs[0], key.Signer, nil
}

// saveIndex writes issued.json when the lab lives on disk. l.mu must be held.
func (l *Lab) saveIndex() error {
	if l.dir == "" {
		return nil
	}
	data, err := l.indexJSON()
	if err != nil {
		return err
	}
	_, err = l.replaceFile(IndexFile, data)
	return err
}
