package tls12

import (
	"context"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cutConn closes itself once a number of bytes went one way, which stops
// both sides of a handshake at that point of the exchange.
type cutConn struct {
	net.Conn
	readLeft, writeLeft atomic.Int64
}

func (c *cutConn) Read(b []byte) (int, error) {
	if c.readLeft.Load() <= 0 {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(b[:min(int64(len(b)), c.readLeft.Load())])
	c.readLeft.Add(-int64(n))
	return n, err
}

func (c *cutConn) Write(b []byte) (int, error) {
	if int64(len(b)) > c.writeLeft.Load() {
		n, _ := c.Conn.Write(b[:max(0, c.writeLeft.Load())])
		c.writeLeft.Store(0)
		c.Conn.Close()
		return n, net.ErrClosed
	}
	c.writeLeft.Add(-int64(len(b)))
	return c.Conn.Write(b)
}

// abortedHandshake runs one client connection against addr, stopped in the
// way mode picks; it returns whether the handshake completed.
func abortedHandshake(t *testing.T, addr string, cfg, noCert *Config, mode int) bool {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	ctx := context.Background()
	conn := net.Conn(raw)
	switch mode % 7 {
	case 0:
		// Gone before saying anything.
		return false
	case 1:
		raw.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		io.Copy(io.Discard, raw)
		return false
	case 2:
		// Cut after some of what the server sends.
		cc := &cutConn{Conn: raw}
		cc.readLeft.Store(int64(mode*37) % 2200)
		cc.writeLeft.Store(1 << 20)
		conn = cc
	case 3:
		// Cut after some of what the client sends.
		cc := &cutConn{Conn: raw}
		cc.readLeft.Store(1 << 20)
		cc.writeLeft.Store(int64(mode*53) % 1600)
		conn = cc
	case 4:
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(mode%2000)*time.Microsecond)
		defer cancel()
	case 5:
		cfg = noCert
	}
	c := Client(conn, cfg)
	err = c.Handshake(ctx)
	if err == nil && mode%7 == 6 {
		// Complete, then gone without close_notify.
		c.Write([]byte("bye"))
		return true
	}
	c.Close()
	return err == nil
}

func openFiles() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestAbortedHandshakesLeakNothing runs 2000 handshakes stopped at every
// stage against an in-process server and checks that goroutines, heap and
// open files come back to where they were.
func TestAbortedHandshakesLeakNothing(t *testing.T) {
	pki := loadFixedPKI(t)
	scfg := transcriptConfig(pki, true)
	scfg.ClientAuth = RequireClientCert
	ccfg := transcriptConfig(pki, false)
	noCert := transcriptConfig(pki, false)
	noCert.Certificates = nil

	serve := func(n int) (completed int) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				wg.Go(func() {
					c := Server(conn, scfg)
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					if c.Handshake(ctx) == nil {
						c.SetReadDeadline(time.Now().Add(5 * time.Second))
						io.Copy(io.Discard, c)
					}
					c.Close()
				})
			}
		})
		for i := range n {
			if abortedHandshake(t, ln.Addr().String(), ccfg, noCert, i) {
				completed++
			}
		}
		ln.Close()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("server connections did not all end")
		}
		return completed
	}

	serve(140) // warm up lazily built tables and pools
	goroutines, heap, files := runtime.NumGoroutine(), heapInUse(), openFiles()
	const n = 2000
	completed := serve(n)
	if completed < n/7 || completed == n {
		t.Errorf("%d of %d handshakes completed: the abort modes do not work", completed, n)
	}

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after %d connections, %d before:\n%s", g, n, goroutines, buf[:runtime.Stack(buf, true)])
	}
	// A leaked Conn keeps at least its 4 KiB read buffer: 2000 of them
	// would be 8 MiB.
	if after := heapInUse(); after > heap+2<<20 {
		t.Errorf("heap grew from %d to %d bytes over %d connections", heap, after, n)
	}
	if f := openFiles(); f > files {
		t.Errorf("%d open files after %d connections, %d before", f, n, files)
	}
	t.Logf("%d handshakes, %d completed; goroutines %d, heap %d KiB, files %d", n, completed, goroutines, heap>>10, files)
}
