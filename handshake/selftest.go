package handshake

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/tls12"
)

// SelfTestConfig configures the self-test of a GAP server credential: a GAP
// listener on loopback presents it, and a terminal probe connects to it, so an
// editor learns before deploying whether a terminal would accept it.
type SelfTestConfig struct {
	// FQDN is the name the terminals are configured with.
	FQDN          string
	Server        tls12.Certificate
	ServerKeyName string
	// Terminal is the terminal credential; nil makes an ephemeral one, which the
	// listener trusts and whose revocation it does not ask about.
	Terminal        *tls12.Certificate
	TerminalKeyName string
	// TerminalTrust and TerminalRevocation are the listener's policy for a
	// given Terminal.
	TerminalTrust      Trust
	TerminalRevocation RevocationPolicy
	// ServerTrust and ServerRevocation are the terminal's policy for the GAP
	// server's certificate.
	ServerTrust      Trust
	ServerRevocation RevocationPolicy
	Offer            Offer
	Timeout          time.Duration
	Now              time.Time
	Clock            func() time.Time
}

// SelfTestInfo is what a self-test adds to the terminal's result.
type SelfTestInfo struct {
	Listener string `json:"listener"`
	// Terminal is the subject of the terminal certificate used; Ephemeral says
	// it was made for the test.
	Terminal  string `json:"terminal"`
	Ephemeral bool   `json:"ephemeral"`
	// ServerCredential is the check of the credential under test.
	ServerCredential *check.CertReport `json:"server_credential"`
	// ServerSide is the listener's view of the handshake.
	ServerSide *ServerResult `json:"server_side,omitempty"`
}

// SelfTest runs the self-test. Its result is the terminal's, with the
// listener's view in SelfTest and its causes added.
func SelfTest(ctx context.Context, cfg *SelfTestConfig) (*Result, error) {
	leaf := cfg.Server.Chain[0]
	anchors, _, _ := cfg.ServerTrust.resolve(leaf, diapason.TPEServer)
	info := &SelfTestInfo{ServerCredential: ServerCredentialReport(ctx, cfg.Server, cfg.ServerKeyName, diapason.TPEServer, cfg.FQDN, anchors, cfg.Now)}
	client, server := sides(diapason.LinkTPE)
	if c, stop := serverCredentialStops(info.ServerCredential, cfg.ServerKeyName); stop {
		return &Result{Link: diapason.LinkTPE, Client: client, Server: server, At: cfg.Now.UTC(), SelfTest: info,
			Exchange: Exchange{Status: StatusFail, Summary: c.Message, Causes: []Cause{c}}}, nil
	}

	terminal, terminalTrust, terminalRevocation := cfg.Terminal, cfg.TerminalTrust, cfg.TerminalRevocation
	if terminal == nil {
		cred, ca, err := EphemeralTerminal(cfg.Now)
		if err != nil {
			return nil, err
		}
		terminal, info.Ephemeral = &cred, true
		terminalTrust = Trust{Anchors: []*x509.Certificate{ca}, Source: "the self-test's ephemeral terminal CA"}
		terminalRevocation = RevocationPolicy{Mode: RevocationOff}
	}
	info.Terminal = nameOf(terminal.Chain[0].RawSubject, terminal.Chain[0].Subject.String())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("opening the self-test listener on 127.0.0.1: %w", err)
	}
	info.Listener = ln.Addr().String()
	srv := &Server{
		Link: diapason.LinkTPE, Credential: cfg.Server, Offer: cfg.Offer, ClientCAs: terminalTrust.Anchors,
		Peer: &PeerPolicy{Profile: diapason.TPEClient, Trust: terminalTrust, Revocation: terminalRevocation},
		Now:  func() time.Time { return cfg.Now }, Clock: cfg.Clock, Timeout: cfg.Timeout,
	}
	sides := make(chan *ServerResult, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			sides <- nil
			return
		}
		tc, r := srv.Handshake(ctx, conn)
		if tc != nil {
			tc.Close()
		}
		sides <- r
	}()
	res := Probe(ctx, &ProbeConfig{
		Link: diapason.LinkTPE, Address: info.Listener, ServerName: cfg.FQDN, Credential: terminal, KeyName: cfg.TerminalKeyName,
		OwnCAs: terminalTrust.Anchors, Offer: cfg.Offer,
		Peer:    &PeerPolicy{Profile: diapason.TPEServer, Trust: cfg.ServerTrust, Name: cfg.FQDN, Revocation: cfg.ServerRevocation},
		Timeout: cfg.Timeout, Now: cfg.Now, Clock: cfg.Clock,
	})
	ln.Close()
	info.ServerSide = <-sides
	res.SelfTest = info
	if ss := info.ServerSide; ss != nil && ss.Status != StatusOK {
		for _, c := range ss.Causes {
			if !hasCause(res.Causes, c.Slug) {
				c.Message = "the GAP listener: " + c.Message
				res.Causes = append(res.Causes, c)
			}
		}
		res.Status = Worse(res.Status, ss.Status)
		res.Summary = summary(&res.Exchange, client, server)
	}
	return res, nil
}

// serverCredentialStops says when a server credential cannot be served at all.
func serverCredentialStops(own *check.CertReport, keyName string) (Cause, bool) {
	if c, stop := credentialStops(own, "--server-cert", keyName); stop {
		return c, true
	}
	for _, f := range own.Findings {
		if f.Slug == "key-not-rsa" {
			return fail("key-not-rsa", f.Message, "the Diapason suites (ECDHE_RSA) need an RSA server key: order the SSL_SERVEUR certificate for an RSA 2048 key"), true
		}
	}
	return Cause{}, false
}

func hasCause(cs []Cause, slug string) bool {
	for _, c := range cs {
		if c.Slug == slug {
			return true
		}
	}
	return false
}

// EphemeralTerminal makes a terminal credential and the CA that issued it, for
// a self-test. They live in memory only; they are valid from an hour before now
// for 90 days, beyond the expiry warning window, so that nothing about them
// distracts from the credential under test. The two RSA 2048 keys are made at
// once.
func EphemeralTerminal(now time.Time) (tls12.Certificate, *x509.Certificate, error) {
	var keys [2]*rsa.PrivateKey
	var errs [2]error
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return tls12.Certificate{}, nil, fmt.Errorf("making the ephemeral terminal's keys: %w", err)
		}
	}
	caKey, leafKey := keys[0], keys[1]
	start, end := now.Add(-time.Hour), now.AddDate(0, 0, 90)
	caTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Organization: []string{"diapason-cert self-test"}, CommonName: "diapason-cert self-test terminal CA (ephemeral)"},
		NotBefore:    start, NotAfter: end,
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return tls12.Certificate{}, nil, fmt.Errorf("making the ephemeral terminal CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls12.Certificate{}, nil, err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{Organization: []string{"diapason-cert self-test"}, CommonName: "diapason-cert self-test terminal (ephemeral)"},
		NotBefore:    start, NotAfter: end,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return tls12.Certificate{}, nil, fmt.Errorf("making the ephemeral terminal certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return tls12.Certificate{}, nil, err
	}
	return tls12.Certificate{Chain: []*x509.Certificate{leaf}, Key: leafKey}, ca, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}
