package tls12

import (
	"context"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

func credOf(c testpeer.Cred) Certificate {
	return Certificate{Chain: c.Chain, Key: c.Key}
}

// verifyChain is the certificate policy the tests give VerifyPeer: chain to
// the test root, at the current time.
func verifyChain(roots *x509.CertPool) func([]*x509.Certificate, ConnectionState) error {
	return func(chain []*x509.Certificate, _ ConnectionState) error {
		if len(chain) == 0 {
			return &VerifyError{Alert: AlertHandshakeFailure, Err: errNoCert}
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		_, err := chain[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
}

type testError string

func (e testError) Error() string { return string(e) }

const errNoCert = testError("no certificate")

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mutualConfigs returns a client and server configuration for a mutual
// handshake on the test PKI.
func mutualConfigs(t testing.TB) (client, server *Config) {
	pki := testpeer.NewPKI(t)
	client = &Config{
		Certificates: []Certificate{credOf(pki.Client)},
		ServerName:   "localhost",
		VerifyPeer:   verifyChain(pki.Roots()),
	}
	server = &Config{
		Certificates: []Certificate{credOf(pki.Server)},
		ClientAuth:   RequireClientCert,
		ClientCAs:    [][]byte{pki.Root.RawSubject},
		VerifyPeer:   verifyChain(pki.Roots()),
	}
	return client, server
}

// handshakeBoth runs both handshakes concurrently and returns their errors.
func handshakeBoth(t *testing.T, cc, sc *Conn) (clientErr, serverErr error) {
	ctx := testContext(t)
	done := make(chan error, 1)
	go func() { done <- sc.Handshake(ctx) }()
	clientErr = cc.Handshake(ctx)
	if clientErr != nil {
		// The server may wait for a flight that never comes.
		cc.Close()
	}
	return clientErr, <-done
}
