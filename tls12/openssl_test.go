package tls12

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/diapason-cert/diapason-cert/tls12/internal/testpeer"
)

var opensslSuites = []struct {
	id   uint16
	name string
}{
	{TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, "ECDHE-RSA-AES256-SHA384"},
	{TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256"},
	{TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384"},
	{TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256"},
	{TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA"},
	{TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA"},
}

// opensslVariant is a suite with openssl's encrypt_then_mac on or off
// (-no_etm); GCM suites get one variant, as encrypt_then_mac does not apply.
type opensslVariant struct {
	id   uint16
	name string
	etm  bool
}

func (v opensslVariant) String() string {
	if suiteByID(v.id).aead {
		return v.name
	}
	if v.etm {
		return v.name + "/etm"
	}
	return v.name + "/no_etm"
}

// wantETM is whether the handshake must agree on encrypt_then_mac, which
// both sides offer unless -no_etm, and which AEAD suites must not use.
func (v opensslVariant) wantETM() bool { return v.etm && !suiteByID(v.id).aead }

func (v opensslVariant) args() []string {
	if v.etm {
		return nil
	}
	return []string{"-no_etm"}
}

func opensslVariants() []opensslVariant {
	var out []opensslVariant
	for _, s := range opensslSuites {
		out = append(out, opensslVariant{s.id, s.name, true})
		if !suiteByID(s.id).aead {
			out = append(out, opensslVariant{s.id, s.name, false})
		}
	}
	return out
}

// startOpenSSLServer runs s_server requiring and verifying a client
// certificate, reversing each line it receives (-rev).
func startOpenSSLServer(t *testing.T, pki *testpeer.PKI, cipher string, extra ...string) *testpeer.Process {
	args := []string{"-tls1_2", "-cipher", cipher, "-Verify", "2", "-verify_return_error", "-CAfile", pki.RootFile,
		"-cert", pki.Server.CertFile, "-key", pki.Server.KeyFile, "-cert_chain", pki.Server.ChainFile, "-rev", "-naccept", "1"}
	return testpeer.StartServer(t, append(args, extra...)...)
}

func TestOpenSSLServer(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	for _, v := range opensslVariants() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			srv := startOpenSSLServer(t, pki, v.name, v.args()...)
			cfg, _ := mutualConfigs(t)
			conn, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			c := Client(conn, cfg)
			defer c.Close()
			if err := c.Handshake(testContext(t)); err != nil {
				t.Fatal(err)
			}
			st := c.ConnectionState()
			if st.CipherSuite != v.id || st.EncryptThenMAC != v.wantETM() || !st.ExtendedMasterSecret || !st.SecureRenegotiation {
				t.Errorf("state: suite %s etm %v ems %v reneg %v", st.CipherSuiteName, st.EncryptThenMAC, st.ExtendedMasterSecret, st.SecureRenegotiation)
			}
			if !st.CertificateRequested || len(st.RequestedCAs) != 1 || !bytes.Equal(st.RequestedCAs[0], pki.Root.RawSubject) {
				t.Errorf("CertificateRequest CAs: %q", st.RequestedCAs)
			}
			if len(st.RequestedSignatureSchemes) == 0 || st.ClientSignatureScheme == 0 {
				t.Errorf("signature schemes: requested %v, used %s", st.RequestedSignatureSchemes, st.ClientSignatureScheme)
			}
			if _, err := c.Write([]byte("hello diapason\n")); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || line != "nosapaid olleh\n" {
				t.Fatalf("read %q: %v", line, err)
			}
		})
	}
}

// TestOpenSSLServerRefusesClient checks that s_server's refusal of our
// client certificate reaches us as the alert it chose.
func TestOpenSSLServerRefusesClient(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	for _, tc := range []struct {
		name      string
		cred      *testpeer.Cred
		alert     AlertDescription
		serverSay string
	}{
		{"unknown_ca", &pki.RogueClient, AlertUnknownCA, "unable to get local issuer certificate"},
		{"expired", &pki.ExpiredClient, AlertCertificateExpired, "certificate has expired"},
		{"missing", nil, AlertHandshakeFailure, "peer did not return a certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startOpenSSLServer(t, pki, "ECDHE-RSA-AES256-SHA384")
			cfg, _ := mutualConfigs(t)
			cfg.Certificates = nil
			if tc.cred != nil {
				cfg.Certificates = []Certificate{credOf(*tc.cred)}
			}
			conn, err := net.Dial("tcp", srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			c := Client(conn, cfg)
			defer c.Close()
			err = c.Handshake(testContext(t))
			var ae *AlertError
			if !errors.As(err, &ae) || ae.Sent || ae.Description != tc.alert {
				t.Fatalf("got %v, want received alert %s", err, tc.alert)
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.Step == "" {
				t.Errorf("no step in %v", err)
			}
			if err := srv.WaitOutput(tc.serverSay); err != nil {
				t.Error(err)
			}
		})
	}
}

// serveOnce accepts one connection with our server and runs fn on it.
func serveOnce(t *testing.T, cfg *Config, fn func(*Conn) error) (addr string, result <-chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		c := Server(conn, cfg)
		defer c.Close()
		if err := c.Handshake(testContext(t)); err != nil {
			done <- err
			return
		}
		done <- fn(c)
	}()
	return ln.Addr().String(), done
}

func clientArgs(pki *testpeer.PKI, cred *testpeer.Cred, cipher string, extra ...string) []string {
	args := []string{"-tls1_2", "-cipher", cipher, "-CAfile", pki.RootFile, "-verify_return_error", "-servername", "localhost", "-ign_eof"}
	if cred != nil {
		args = append(args, "-cert", cred.CertFile, "-key", cred.KeyFile, "-cert_chain", cred.ChainFile)
	}
	return append(args, extra...)
}

func TestOpenSSLClient(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	for _, v := range opensslVariants() {
		t.Run(v.String(), func(t *testing.T) {
			t.Parallel()
			_, cfg := mutualConfigs(t)
			var ourLog bytes.Buffer
			cfg.KeyLogWriter = &ourLog
			states := make(chan ConnectionState, 1)
			addr, done := serveOnce(t, cfg, func(c *Conn) error {
				states <- c.ConnectionState()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					return err
				}
				if line != "hello from openssl\n" {
					return testError("server read " + line)
				}
				_, err = c.Write([]byte("hello from diapason\n"))
				return err
			})
			keylog := filepath.Join(t.TempDir(), "keys.log")
			extra := append([]string{"-keylogfile", keylog}, v.args()...)
			cli := testpeer.StartClient(t, addr, []byte("hello from openssl\n"), clientArgs(pki, &pki.Client, v.name, extra...)...)
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			st := <-states
			if st.CipherSuite != v.id || st.EncryptThenMAC != v.wantETM() || !st.ExtendedMasterSecret || st.ServerName != "localhost" || len(st.PeerCertificates) != 2 {
				t.Errorf("state: suite %s etm %v ems %v sni %q", st.CipherSuiteName, st.EncryptThenMAC, st.ExtendedMasterSecret, st.ServerName)
			}
			if err := cli.Wait(); err != nil {
				t.Errorf("s_client: %v", err)
			}
			out := cli.Output()
			if !strings.Contains(out, "hello from diapason\n") || !strings.Contains(out, "Verify return code: 0 (ok)") {
				t.Errorf("s_client output lacks the reply or a verified chain")
			}
			theirs, err := os.ReadFile(keylog)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(theirs), ourLog.String()) || ourLog.Len() == 0 {
				t.Errorf("master secrets differ:\nopenssl: %s\nours:    %s", theirs, ourLog.String())
			}
		})
	}
}

// TestOpenSSLClientRefused checks that VerifyPeer's refusal reaches s_client
// as the matching alert.
func TestOpenSSLClientRefused(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	for _, tc := range []struct {
		name  string
		cred  *testpeer.Cred
		alert AlertDescription
		step  string
	}{
		{"unknown_ca", &pki.RogueClient, AlertUnknownCA, "verifying peer certificate"},
		{"expired", &pki.ExpiredClient, AlertCertificateExpired, "verifying peer certificate"},
		{"missing", nil, AlertHandshakeFailure, "reading client Certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, cfg := mutualConfigs(t)
			addr, done := serveOnce(t, cfg, func(*Conn) error { return nil })
			cli := testpeer.StartClient(t, addr, nil, clientArgs(pki, tc.cred, "ECDHE-RSA-AES256-SHA384")...)
			err := <-done
			var ae *AlertError
			var he *HandshakeError
			if !errors.As(err, &ae) || !ae.Sent || ae.Description != tc.alert || !errors.As(err, &he) || he.Step != tc.step {
				t.Fatalf("got %v, want sent alert %s while %s", err, tc.alert, tc.step)
			}
			if cli.Wait() == nil {
				t.Error("s_client succeeded")
			}
			if want := "SSL alert number " + strconv.Itoa(int(tc.alert)); !strings.Contains(cli.Output(), want) {
				t.Errorf("s_client output lacks %q", want)
			}
		})
	}
}

// TestOpenSSLRenegotiationRefused has s_client ask for renegotiation ("R"
// on its stdin) and checks our server refuses with no_renegotiation.
func TestOpenSSLRenegotiationRefused(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	_, cfg := mutualConfigs(t)
	var log traceLog
	cfg.Trace = log.add
	addr, done := serveOnce(t, cfg, func(c *Conn) error {
		_, err := c.Read(make([]byte, 10))
		return err
	})
	args := slices.DeleteFunc(clientArgs(pki, &pki.Client, "ECDHE-RSA-AES256-SHA384"), func(a string) bool { return a == "-ign_eof" })
	cli := testpeer.StartClient(t, addr, []byte("R\n"), args...)
	var ae *AlertError
	if err := <-done; !errors.As(err, &ae) || ae.Sent || ae.Description != AlertHandshakeFailure {
		t.Errorf("server: %v", err)
	}
	cli.Wait()
	if !strings.Contains(cli.Output(), "no renegotiation") {
		t.Errorf("s_client did not report the refusal")
	}
	// After the handshake: the renegotiating ClientHello, our warning, and
	// openssl's fatal alert; no close_notify after a fatal alert.
	var tail []string
	for _, e := range log.events[13:] {
		tail = append(tail, e.Direction.String()+" "+e.Step+" "+e.Summary)
	}
	want := []string{"received ClientHello " + log.events[13].Summary, "sent Alert warning no_renegotiation", "received Alert fatal handshake_failure"}
	if !slices.Equal(tail, want) {
		t.Errorf("trace after the handshake: %q", tail)
	}
}

// TestOpenSSLECDSAClientCertificate checks ECDSA CertificateVerify both
// ways: a client key need not match the suite's RSA authentication.
func TestOpenSSLECDSAClientCertificate(t *testing.T) {
	t.Parallel()
	pki := testpeer.NewPKI(t)
	t.Run("our client", func(t *testing.T) {
		t.Parallel()
		srv := startOpenSSLServer(t, pki, "ECDHE-RSA-AES256-SHA384")
		cfg, _ := mutualConfigs(t)
		cfg.Certificates = []Certificate{credOf(pki.ECDSAClient)}
		conn, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		c := Client(conn, cfg)
		defer c.Close()
		if err := c.Handshake(testContext(t)); err != nil {
			t.Fatal(err)
		}
		if s := c.ConnectionState().ClientSignatureScheme; s != ECDSAWithSHA256 {
			t.Errorf("CertificateVerify signed with %s", s)
		}
		c.Write([]byte("ecdsa\n"))
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "asdce\n" {
			t.Fatalf("read %q: %v", line, err)
		}
	})
	t.Run("our server", func(t *testing.T) {
		t.Parallel()
		_, cfg := mutualConfigs(t)
		states := make(chan ConnectionState, 1)
		addr, done := serveOnce(t, cfg, func(c *Conn) error {
			states <- c.ConnectionState()
			_, err := c.Write([]byte("ecdsa ok\n"))
			return err
		})
		cli := testpeer.StartClient(t, addr, nil, clientArgs(pki, &pki.ECDSAClient, "ECDHE-RSA-AES256-SHA384")...)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if st := <-states; st.ClientSignatureScheme != ECDSAWithSHA256 || !st.PeerCertificates[0].Equal(pki.ECDSAClient.Chain[0]) {
			t.Errorf("state %+v", st)
		}
		cli.Wait()
		if !strings.Contains(cli.Output(), "ecdsa ok") {
			t.Errorf("s_client did not get the reply")
		}
	})
}
