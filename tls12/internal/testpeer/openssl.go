package testpeer

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

// Process is a running openssl s_server or s_client.
type Process struct {
	// Addr is where an s_server listens.
	Addr string
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// peerTimeout bounds every openssl process so that a stuck peer fails the
// test instead of hanging it.
const peerTimeout = 20 * time.Second

func start(t testing.TB, stdin io.Reader, stdout io.Writer, args ...string) *Process {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	p := &Process{done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, "openssl", args...)
	p.cmd.Stdin = stdin
	p.cmd.Stdout = io.MultiWriter(&p.out, stdout)
	p.cmd.Stderr = &p.out
	// openssl may leave a pipe open in a child; do not wait for it forever.
	p.cmd.WaitDelay = time.Second
	if err := p.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting openssl: %v", err)
	}
	go func() {
		p.err = p.cmd.Wait()
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.done
		if t.Failed() {
			t.Logf("openssl %s output:\n%s", strings.Join(args, " "), p.Output())
		}
	})
	return p
}

// StartServer runs openssl s_server on a free port of 127.0.0.1 and returns
// once it listens; args follow "s_server -accept 127.0.0.1:0".
func StartServer(t testing.TB, args ...string) *Process {
	t.Helper()
	pr, pw := io.Pipe()
	// s_server sends what it reads on stdin to the client: an open, silent
	// stdin keeps it from acting on EOF. An *os.File is handed to the child
	// as is, so no copying goroutine holds up Wait.
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, stdinR, pw, append([]string{"s_server", "-accept", "127.0.0.1:0"}, args...)...)
	stdinR.Close()
	t.Cleanup(func() { stdinW.Close() })
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
	go func() {
		<-p.done
		pw.Close()
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

// StartClient runs openssl s_client against addr, feeding it stdin; args
// follow "s_client -connect addr".
func StartClient(t testing.TB, addr string, stdin []byte, args ...string) *Process {
	t.Helper()
	return start(t, bytes.NewReader(stdin), io.Discard, append([]string{"s_client", "-connect", addr}, args...)...)
}

// Wait waits for the process to exit and returns its exit error.
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Output returns what the process printed so far, stdout and stderr mixed.
func (p *Process) Output() string { return p.out.String() }

// WaitOutput waits until the output contains s, or the process exits.
func (p *Process) WaitOutput(s string) error {
	for {
		if strings.Contains(p.Output(), s) {
			return nil
		}
		select {
		case <-p.done:
			if strings.Contains(p.Output(), s) {
				return nil
			}
			return fmt.Errorf("openssl exited (%v) without printing %q", p.err, s)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
