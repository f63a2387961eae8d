package tls12

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestSelfMutualHandshake(t *testing.T) {
	for _, tc := range []struct {
		name    string
		suite   uint16
		noETM   bool
		noEMS   bool
		group   Group
		wantMAC bool
	}{
		{name: "C028", suite: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, group: X25519},
		{name: "C027", suite: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, group: P256},
		{name: "C028-MtE-noEMS", suite: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384, noETM: true, noEMS: true, group: P384},
		{name: "C030", suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, group: X25519},
		{name: "C02F-noEMS", suite: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, noEMS: true, group: P256},
		{name: "C014", suite: TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, group: P384},
		{name: "C013-MtE", suite: TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, noETM: true, group: X25519},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ccfg, scfg := mutualConfigs(t)
			ccfg.CipherSuites = []uint16{tc.suite}
			ccfg.DisableEncryptThenMAC = tc.noETM
			ccfg.DisableEMS = tc.noEMS
			ccfg.Groups = []Group{tc.group}
			a, b := tcpPair(t)
			cc, sc := Client(a, ccfg), Server(b, scfg)
			if cerr, serr := handshakeBoth(t, cc, sc); cerr != nil || serr != nil {
				t.Fatalf("client: %v\nserver: %v", cerr, serr)
			}
			for _, st := range []ConnectionState{cc.ConnectionState(), sc.ConnectionState()} {
				wantETM := !tc.noETM && !suiteByID(tc.suite).aead
				if !st.HandshakeComplete || st.CipherSuite != tc.suite || st.Group != tc.group ||
					st.EncryptThenMAC != wantETM || st.ExtendedMasterSecret == tc.noEMS || !st.SecureRenegotiation {
					t.Errorf("state %+v", st)
				}
				if len(st.PeerCertificates) != 2 {
					t.Errorf("peer chain of %d certificates", len(st.PeerCertificates))
				}
			}
			if st := sc.ConnectionState(); st.ServerName != "localhost" || st.ClientSignatureScheme != PSSWithSHA256 {
				t.Errorf("server state %+v", st)
			}
			if st := cc.ConnectionState(); !st.CertificateRequested || len(st.RequestedCAs) != 1 {
				t.Errorf("client state %+v", st)
			}
			exchange(t, cc, sc)
		})
	}
}

// exchange sends data both ways, including a message longer than one record,
// then closes the client and checks the server sees a clean EOF.
func exchange(t *testing.T, cc, sc *Conn) {
	t.Helper()
	big := bytes.Repeat([]byte("diapason "), 5000)
	go func() {
		cc.Write(big)
	}()
	got := make([]byte, len(big))
	if _, err := io.ReadFull(sc, got); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("server read: %v", err)
	}
	if _, err := sc.Write([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(cc, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("client read %q: %v", buf, err)
	}
	cc.Close()
	if n, err := sc.Read(buf); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("server read after close: %d, %v", n, err)
	}
}
