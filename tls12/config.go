package tls12

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
	"time"
)

// Certificate is a chain to present and the private key of its leaf.
type Certificate struct {
	// Chain is the leaf first, then the intermediates the peer needs.
	Chain []*x509.Certificate
	Key   crypto.Signer
}

// ClientAuth says whether a server asks for a client certificate.
type ClientAuth int

// Client certificate policies of a server.
const (
	NoClientCert ClientAuth = iota
	// RequestClientCert asks for a certificate and accepts an empty answer.
	RequestClientCert
	// RequireClientCert fails the handshake with handshake_failure when the
	// client sends no certificate.
	RequireClientCert
)

// CertificateRequestInfo is what a server's CertificateRequest asked for.
type CertificateRequestInfo struct {
	// AcceptableCAs are the DER-encoded distinguished names of
	// certificate_authorities, possibly none.
	AcceptableCAs    [][]byte
	SignatureSchemes []SignatureScheme
	CertificateTypes []uint8
}

// Config configures a client or a server. A Config may be shared by many
// connections and must not be changed once in use.
type Config struct {
	// Certificates are this side's credentials. A server presents the first;
	// a client picks one as GetClientCertificate documents.
	Certificates []Certificate
	// GetClientCertificate, if set, chooses the client certificate; a nil
	// result or empty chain sends an empty Certificate message. Without it,
	// the client takes the first of Certificates issued by one of the
	// acceptable CAs, else the first of Certificates, so that the server's
	// verdict on it can be observed.
	GetClientCertificate func(*CertificateRequestInfo) (*Certificate, error)
	// CipherSuites in preference order; nil means CipherSuites().
	CipherSuites []uint16
	// Groups for ECDHE in preference order; nil means X25519, P-256, P-384.
	Groups []Group
	// ServerName is sent as server_name unless it is an IP address.
	ServerName string
	ClientAuth ClientAuth
	// ClientCAs are the DER-encoded subjects (x509.Certificate.RawSubject) a
	// server names in its CertificateRequest.
	ClientCAs [][]byte
	// VerifyPeer decides on the peer's chain, which the engine does not
	// judge: it only checks that the peer signed the handshake with the
	// leaf's key. An error fails the handshake with an alert chosen from a
	// *VerifyError, else x509.UnknownAuthorityError (unknown_ca), an expired
	// x509.CertificateInvalidError (certificate_expired), else
	// bad_certificate. A server calls it with an empty chain when the
	// client sent none under RequestClientCert. Nil accepts any chain.
	VerifyPeer func(chain []*x509.Certificate, state ConnectionState) error
	// MaxHandshakeMessage bounds the body of one handshake message from the
	// peer, and so what a peer can make this side buffer: a longer message
	// is refused with illegal_parameter as soon as its header arrives. Zero
	// means DefaultMaxHandshakeMessage. Certificate chains and
	// CertificateRequests naming many CAs are the largest messages.
	MaxHandshakeMessage int
	// DisableEncryptThenMAC and DisableEMS turn off RFC 7366 and RFC 7627,
	// to reproduce a peer that lacks them.
	DisableEncryptThenMAC bool
	DisableEMS            bool
	// Rand defaults to crypto/rand.Reader.
	Rand io.Reader
	// Time stamps trace events; it defaults to time.Now.
	Time func() time.Time
	// Trace, if set, receives every handshake message, ChangeCipherSpec and
	// alert sent or received, synchronously; a Read and a Close running at
	// the same time may call it concurrently.
	Trace func(TraceEvent)
	// KeyLogWriter, if set, receives NSS key log lines (CLIENT_RANDOM) so
	// that a capture of the connection can be decrypted.
	KeyLogWriter io.Writer
}

// DefaultMaxHandshakeMessage is the default Config.MaxHandshakeMessage,
// room for a chain of dozens of certificates.
const DefaultMaxHandshakeMessage = 128 << 10

func (c *Config) maxHandshakeMessage() int {
	if c.MaxHandshakeMessage > 0 {
		return c.MaxHandshakeMessage
	}
	return DefaultMaxHandshakeMessage
}

func (c *Config) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

func (c *Config) now() time.Time {
	if c.Time != nil {
		return c.Time()
	}
	return time.Now()
}

func (c *Config) suites() ([]*cipherSuite, error) {
	ids := c.CipherSuites
	if ids == nil {
		ids = defaultCipherSuites
	}
	var out []*cipherSuite
	for _, id := range ids {
		s := suiteByID(id)
		if s == nil {
			return nil, fmt.Errorf("cipher suite %s is not implemented", CipherSuiteName(id))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cipher suite configured")
	}
	return out, nil
}

func (c *Config) groups() ([]Group, error) {
	gs := c.Groups
	if gs == nil {
		gs = defaultGroups
	}
	for _, g := range gs {
		if _, ok := g.curve(); !ok {
			return nil, fmt.Errorf("group %s is not implemented", g)
		}
	}
	if len(gs) == 0 {
		return nil, fmt.Errorf("no group configured")
	}
	return gs, nil
}

func (c *Config) clientCertificate(info *CertificateRequestInfo) (*Certificate, error) {
	if c.GetClientCertificate != nil {
		return c.GetClientCertificate(info)
	}
	if len(c.Certificates) == 0 {
		return nil, nil
	}
	for i := range c.Certificates {
		if issuedByOneOf(&c.Certificates[i], info.AcceptableCAs) {
			return &c.Certificates[i], nil
		}
	}
	return &c.Certificates[0], nil
}

func issuedByOneOf(cert *Certificate, names [][]byte) bool {
	for _, x := range cert.Chain {
		if slices.ContainsFunc(names, func(n []byte) bool {
			return bytes.Equal(n, x.RawIssuer) || bytes.Equal(n, x.RawSubject)
		}) {
			return true
		}
	}
	return false
}

func (cert *Certificate) check() error {
	if len(cert.Chain) == 0 || cert.Chain[0] == nil {
		return fmt.Errorf("certificate has an empty chain")
	}
	if cert.Key == nil {
		return fmt.Errorf("certificate %q has no private key", cert.Chain[0].Subject)
	}
	return nil
}
