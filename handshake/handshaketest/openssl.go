// Package handshaketest provides real peers and a fixture PKI for tests of the handshake package and of the commands that use it.
package handshaketest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// OpenSSL is a running openssl s_server.
type OpenSSL struct {
	// Addr is where it listens, on 127.0.0.1.
	Addr string
	out  syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// peerTimeout bounds every openssl process, so that a stuck peer fails a test
// rather than hanging it.
const peerTimeout = 30 * time.Second

// NeedOpenSSL skips the test when the openssl binary is missing.
func NeedOpenSSL(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
}

// StartServer runs `openssl s_server -accept 127.0.0.1:0 ARGS…` and returns once
// it listens; it is stopped when the test ends, and its output is logged if
// the test failed.
func StartServer(t testing.TB, args ...string) *OpenSSL {
	t.Helper()
	NeedOpenSSL(t)
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	p := &OpenSSL{done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_server", "-accept", "127.0.0.1:0"}, args...)...)
	// s_server acts on EOF of its stdin: keep it open and silent.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, io.MultiWriter(&p.out, pw), &p.out
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting openssl: %v", err)
	}
	stdinR.Close()
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		stdinW.Close()
		if t.Failed() {
			t.Logf("openssl s_server %s:\n%s", strings.Join(args, " "), p.Output())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ACCEPT "); ok {
				addr <- a
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case p.Addr = <-addr:
	case <-p.done:
		t.Fatalf("openssl s_server exited before listening: %v\n%s", p.err, p.Output())
	case <-time.After(peerTimeout):
		t.Fatalf("openssl s_server did not listen\n%s", p.Output())
	}
	return p
}

// Output is what the server printed so far.
func (p *OpenSSL) Output() string { return p.out.String() }

// WaitOutput waits until the output holds s, for at most 5 seconds: s_server
// prints its verdict on a client after the client has seen the alert.
func (p *OpenSSL) WaitOutput(s string) error {
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.Output(), s) {
		if time.Now().After(deadline) {
			return fmt.Errorf("openssl s_server did not print %q", s)
		}
		select {
		case <-p.done:
			if !strings.Contains(p.Output(), s) {
				return fmt.Errorf("openssl s_server exited (%v) without printing %q", p.err, s)
			}
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// AtTime is the -attime option that makes openssl judge certificates and CRLs
// at now rather than by the machine's clock, as the tests' fixed clock does.
func AtTime(now time.Time) []string {
	return []string{"-attime", fmt.Sprint(now.Unix())}
}

// RunClient runs `openssl s_client -connect addr ARGS…` with stdin as its
// input and returns what it printed (stdout and stderr). A client still
// running after timeout is killed: the error then says so, and what it
// printed until then is returned.
func RunClient(t testing.TB, addr, stdin string, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	NeedOpenSSL(t)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "openssl", append([]string{"s_client", "-connect", addr}, args...)...)
	var out syncBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("openssl s_client still running after %s: %w", timeout, ctx.Err())
	}
	return out.String(), err
}
