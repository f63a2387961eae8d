package certio

import (
	"crypto/x509"
	"fmt"
	"io"
)

// Loader reads inputs by path for the typed loaders. Its zero value reads files only.
// Each loader picks the items it needs and ignores the rest, so a combined
// certificate-and-key file serves as either; when none is there, the error says what
// the file holds instead.
type Loader struct {
	Stdin io.Reader // read for the path "-"; nil makes "-" an error
}

// Load reads and decodes the input at path.
func (l Loader) Load(path string) (*Contents, error) {
	data, err := ReadInput(path, l.Stdin)
	if err != nil {
		return nil, err
	}
	return Decode(path, data)
}

// LoadCertificates returns every certificate at path, PKCS#7 bundles included, in order.
func (l Loader) LoadCertificates(path string) ([]*x509.Certificate, error) {
	c, err := l.Load(path)
	if err != nil {
		return nil, err
	}
	certs := c.Certificates()
	if len(certs) == 0 {
		return nil, c.unexpected("certificate")
	}
	return certs, nil
}

// LoadCSR returns the one certificate request at path.
func (l Loader) LoadCSR(path string) (*x509.CertificateRequest, error) {
	it, err := l.loadOne(path, "certificate request", KindCSR)
	if err != nil {
		return nil, err
	}
	return it.Request, nil
}

// LoadPrivateKey returns the one private key at path, calling pass only if it is
// encrypted.
func (l Loader) LoadPrivateKey(path string, pass Passphrase) (*PrivateKey, error) {
	it, err := l.loadOne(path, "private key", KindPrivateKey, KindEncryptedKey)
	if err != nil {
		return nil, err
	}
	return it.UnlockKey(pass)
}

// LoadCRLs returns every CRL at path, PKCS#7 bundles included, in order.
func (l Loader) LoadCRLs(path string) ([]*x509.RevocationList, error) {
	c, err := l.Load(path)
	if err != nil {
		return nil, err
	}
	crls := c.CRLs()
	if len(crls) == 0 {
		return nil, c.unexpected("CRL")
	}
	return crls, nil
}

// LoadPKCS12 opens the PKCS#12 file at path, which must hold a private key and its
// certificate; see Item.UnlockPKCS12 for how pass is used.
func (l Loader) LoadPKCS12(path string, pass Passphrase) (*PKCS12, error) {
	it, err := l.loadOne(path, "PKCS#12 file", KindPKCS12)
	if err != nil {
		return nil, err
	}
	p, err := it.UnlockPKCS12(pass)
	switch {
	case err != nil:
		return nil, err
	case p.Key == nil:
		return nil, &FileError{Path: path, Err: &UnexpectedError{Want: "a PKCS#12 file with a private key",
			Found: "a truststore holding only certificates"}}
	case p.Leaf == nil:
		return nil, &FileError{Path: path, Err: fmt.Errorf("no certificate in the PKCS#12 file matches its private key (%d certificates)", len(p.CACerts))}
	}
	return p, nil
}

// loadOne returns the single item of one of kinds at path; want names it, without article.
func (l Loader) loadOne(path, want string, kinds ...Kind) (*Item, error) {
	c, err := l.Load(path)
	if err != nil {
		return nil, err
	}
	var found []*Item
	for _, it := range c.Items {
		for _, k := range kinds {
			if it.Kind == k {
				found = append(found, it)
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, c.unexpected(want)
	case 1:
		return found[0], nil
	}
	return nil, &FileError{Path: path, Err: fmt.Errorf("expected one %s, found %d", want, len(found))}
}

func (c *Contents) unexpected(want string) error {
	return &FileError{Path: c.Name, Err: &UnexpectedError{Want: article(want), Found: c.describe()}}
}
