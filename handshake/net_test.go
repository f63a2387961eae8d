package handshake

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// listen serves each connection with f on a loopback port.
func listen(t *testing.T, f func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go f(c)
		}
	}()
	return ln.Addr().String()
}

func TestUnreachableAndSilentPeers(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	cred := labCred(p.Lab, lab.RoleGAPClient)

	t.Run("closed port", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		res := probe(t, pspProbe(p, addr, cred))
		wantCause(t, res, StatusUnknown, "unreachable-refused", addr, "nothing listens")
		if res.Connect.Connected || res.Connect.Error == "" {
			t.Errorf("connect %+v", res.Connect)
		}
	})
	t.Run("DNS", func(t *testing.T) {
		cfg := pspProbe(p, "psp.invalid:443", cred)
		cfg.Dial = func(context.Context, string, string) (net.Conn, error) {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "psp.invalid", IsNotFound: true}}
		}
		wantCause(t, probe(t, cfg), StatusUnknown, "unreachable-dns", `"psp.invalid"`, "no such host")
	})
	t.Run("no TCP answer", func(t *testing.T) {
		cfg := pspProbe(p, "192.0.2.1:443", cred)
		cfg.Timeout = 50 * time.Millisecond
		cfg.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done() // a dropped SYN: nothing comes back
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: ctx.Err()}
		}
		wantCause(t, probe(t, cfg), StatusUnknown, "unreachable-timeout", "no TCP answer", "50ms")
	})
	t.Run("not TLS", func(t *testing.T) {
		addr := listen(t, func(c net.Conn) {
			c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
			time.Sleep(100 * time.Millisecond)
			c.Close()
		})
		wantCause(t, probe(t, pspProbe(p, addr, cred)), StatusFail, "not-tls", "does not speak TLS", `first bytes "SSH-2"`)
	})
	t.Run("stalled", func(t *testing.T) {
		addr := listen(t, func(c net.Conn) {
			time.Sleep(2 * time.Second)
			c.Close()
		})
		cfg := pspProbe(p, addr, cred)
		cfg.Timeout = 200 * time.Millisecond
		res := probe(t, cfg)
		wantCause(t, res, StatusFail, "stalled", "did not answer the ClientHello within 200ms")
		if res.Handshake.StoppedAt != "reading ServerHello" {
			t.Errorf("stopped at %q", res.Handshake.StoppedAt)
		}
	})
	t.Run("closed after hello", func(t *testing.T) {
		addr := listen(t, func(c net.Conn) {
			buf := make([]byte, 512)
			c.Read(buf)
			c.Close()
		})
		wantCause(t, probe(t, pspProbe(p, addr, cred)), StatusFail, "closed-after-hello", "without an alert")
	})
}
