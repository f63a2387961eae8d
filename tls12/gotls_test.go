package tls12

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

func goTLSCert(c testpeer.Cred) tls.Certificate {
	tc := tls.Certificate{PrivateKey: c.Key, Leaf: c.Chain[0]}
	for _, x := range c.Chain {
		tc.Certificate = append(tc.Certificate, x.Raw)
	}
	return tc
}

// goTLSSuites are the suites crypto/tls shares with this package: all but
// 0xC028.
var goTLSSuites = []uint16{
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
}

// goTLSConfig is crypto/tls limited to one suite, listed explicitly because
// it enables 0xC027 only when listed.
func goTLSConfig(pki *testpeer.PKI, cred testpeer.Cred, suite uint16, keyLog *bytes.Buffer) *tls.Config {
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		MaxVersion:   tls.VersionTLS12,
		CipherSuites: []uint16{suite},
		Certificates: []tls.Certificate{goTLSCert(cred)},
		RootCAs:      pki.Roots(),
		ClientCAs:    pki.Roots(),
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ServerName:   "localhost",
	}
	if keyLog != nil {
		cfg.KeyLogWriter = keyLog
	}
	return cfg
}

func TestGoTLSServer(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	for _, suite := range goTLSSuites {
		t.Run(CipherSuiteName(suite), func(t *testing.T) {
			t.Parallel()
			a, b := tcpPair(t)
			var goLog, ourLog bytes.Buffer
			srv := tls.Server(b, goTLSConfig(pki, pki.Server, suite, &goLog))
			served := make(chan error, 1)
			go func() {
				line, err := bufio.NewReader(srv).ReadString('\n')
				if err == nil {
					_, err = srv.Write([]byte(strings.ToUpper(line)))
				}
				served <- err
			}()
			cfg, _ := mutualConfigs(t)
			cfg.KeyLogWriter = &ourLog
			c := Client(a, cfg)
			if err := c.Handshake(testContext(t)); err != nil {
				t.Fatal(err)
			}
			// crypto/tls does not implement encrypt_then_mac.
			if st := c.ConnectionState(); st.CipherSuite != suite || !st.ExtendedMasterSecret || st.EncryptThenMAC {
				t.Errorf("state %+v", st)
			}
			if _, err := c.Write([]byte("ping from tls12\n")); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || line != "PING FROM TLS12\n" {
				t.Fatalf("read %q: %v", line, err)
			}
			if err := <-served; err != nil {
				t.Fatal(err)
			}
			if goLog.String() != ourLog.String() || ourLog.Len() == 0 {
				t.Errorf("key logs differ:\ncrypto/tls: %sours:       %s", goLog.String(), ourLog.String())
			}
			if st := srv.ConnectionState(); st.CipherSuite != suite || len(st.PeerCertificates) != 2 || !st.PeerCertificates[0].Equal(pki.Client.Chain[0]) {
				t.Errorf("crypto/tls saw suite %s, client chain %v", tls.CipherSuiteName(st.CipherSuite), st.PeerCertificates)
			}
		})
	}
}

func TestGoTLSClient(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	for _, suite := range goTLSSuites {
		t.Run(CipherSuiteName(suite), func(t *testing.T) {
			t.Parallel()
			a, b := tcpPair(t)
			var goLog, ourLog bytes.Buffer
			_, cfg := mutualConfigs(t)
			cfg.KeyLogWriter = &ourLog
			s := Server(b, cfg)
			served := make(chan error, 1)
			go func() {
				if err := s.Handshake(testContext(t)); err != nil {
					served <- err
					return
				}
				line, err := bufio.NewReader(s).ReadString('\n')
				if err == nil {
					_, err = s.Write([]byte(strings.ToUpper(line)))
				}
				served <- err
			}()
			cli := tls.Client(a, goTLSConfig(pki, pki.Client, suite, &goLog))
			if err := cli.HandshakeContext(testContext(t)); err != nil {
				t.Fatal(err)
			}
			if _, err := cli.Write([]byte("ping from crypto/tls\n")); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(cli).ReadString('\n')
			if err != nil || line != "PING FROM CRYPTO/TLS\n" {
				t.Fatalf("read %q: %v", line, err)
			}
			if err := <-served; err != nil {
				t.Fatal(err)
			}
			if goLog.String() != ourLog.String() || ourLog.Len() == 0 {
				t.Errorf("key logs differ:\ncrypto/tls: %sours:       %s", goLog.String(), ourLog.String())
			}
			if st := s.ConnectionState(); st.CipherSuite != suite || len(st.PeerCertificates) != 2 || st.ClientSignatureScheme == 0 || st.ServerName != "localhost" {
				t.Errorf("state %+v", st)
			}
		})
	}
}

// TestGoTLSClientWithoutCertificate checks crypto/tls learns why it was
// refused when it has no certificate to send.
func TestGoTLSClientWithoutCertificate(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	a, b := tcpPair(t)
	_, cfg := mutualConfigs(t)
	s := Server(b, cfg)
	served := make(chan error, 1)
	go func() { served <- s.Handshake(testContext(t)) }()
	gcfg := goTLSConfig(pki, pki.Client, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, nil)
	gcfg.Certificates = nil
	cli := tls.Client(a, gcfg)
	err := cli.HandshakeContext(testContext(t))
	if err == nil {
		// crypto/tls reports the alert on the first read after its Finished.
		_, err = cli.Read(make([]byte, 1))
	}
	cli.Close()
	if err == nil || !strings.Contains(err.Error(), "remote error: tls: handshake failure") {
		t.Errorf("crypto/tls got %v", err)
	}
	var ae *AlertError
	if err := <-served; !errors.As(err, &ae) || ae.Description != AlertHandshakeFailure {
		t.Errorf("server got %v", err)
	}
}
