package simulate

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/diapason-cert/diapason-cert/diapason"
	"github.com/diapason-cert/diapason-cert/handshake"
	"github.com/diapason-cert/diapason-cert/handshake/handshaketest"
	"github.com/diapason-cert/diapason-cert/lab"
)

// TestFleet256 is 256 terminals handshaking at once with a simulated GAP
// server: none may fail.
func TestFleet256(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	r := start(t, &Server{TLS: tlsServer(p, diapason.LinkTPE), Name: "test"})
	f := &Fleet{Probe: *probeOf(p, diapason.LinkTPE, r.Addr), Count: 256, Concurrency: 256, Duration: time.Minute}
	f.Probe.Timeout = 30 * time.Second
	res := f.Run(context.Background())
	if res.Failed != 0 || res.Succeeded != 256 || res.Status != handshake.StatusOK || res.Stopped != "count" || res.Suites["0xC028"] != 256 {
		t.Fatalf("%+v", res)
	}
	if l := res.Latency; !(l.Min > 0 && l.Min <= l.P50 && l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max && l.Mean > 0) || res.Rate <= 0 {
		t.Errorf("latency %+v rate %v", l, res.Rate)
	}
	if done, failed := f.Progress(); done != 256 || failed != 0 {
		t.Errorf("progress %d %d", done, failed)
	}
	if st := r.stop(); st.OK != 256 || st.Connections != 256 {
		t.Errorf("server stats %+v", st)
	}
}

func TestFleetFailures(t *testing.T) {
	t.Parallel()
	p := handshaketest.NewPKI(t)
	r := start(t, &Server{TLS: tlsServer(p, diapason.LinkTPE), Name: "test"})
	t.Run("grouped by cause", func(t *testing.T) {
		cfg := probeOf(p, diapason.LinkTPE, r.Addr)
		revoked := labCred(p.Lab, lab.RoleTPERevoked)
		cfg.Credential = &revoked
		res := (&Fleet{Probe: *cfg, Count: 6, Concurrency: 3, Duration: time.Minute}).Run(context.Background())
		if res.Failed != 6 || len(res.Failures) != 1 || res.Failures[0].Slug != "client-revoked" || res.Failures[0].Count != 6 ||
			res.Failures[0].Fix == "" || res.Status != handshake.StatusFail || res.Latency.P50 != 0 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		res := (&Fleet{Probe: *probeOf(p, diapason.LinkTPE, addr), Count: 3, Concurrency: 1, Duration: time.Minute}).Run(context.Background())
		if res.Failed != 3 || res.Failures[0].Slug != "unreachable-refused" || res.Status != handshake.StatusUnknown {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("bounded in time", func(t *testing.T) {
		t0 := time.Now()
		res := (&Fleet{Probe: *probeOf(p, diapason.LinkTPE, r.Addr), Count: 1_000_000, Concurrency: 2, Duration: 300 * time.Millisecond}).Run(context.Background())
		if res.Stopped != "duration" || res.Attempted == 0 || res.Attempted >= 1_000_000 || time.Since(t0) > 10*time.Second {
			t.Fatalf("%+v after %s", res, time.Since(t0))
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res := (&Fleet{Probe: *probeOf(p, diapason.LinkTPE, r.Addr), Count: 1_000_000, Concurrency: 2, Duration: time.Minute}).Run(ctx)
		if res.Stopped != "interrupted" || res.Failed != 0 {
			t.Fatalf("%+v", res)
		}
	})
}

func TestHistogram(t *testing.T) {
	t.Parallel()
	var h histogram
	if h.quantile(0.5) != 0 || h.mean() != 0 {
		t.Fatal("empty histogram")
	}
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(c.q)
		if d := got - c.want; d < -c.want/100 || d > c.want/100 {
			t.Errorf("q%.2f = %s, want %s within 1%%", c.q, got, c.want)
		}
	}
	if h.min != time.Millisecond || h.max != time.Second || h.mean() != 500500*time.Microsecond {
		t.Errorf("min %s max %s mean %s", h.min, h.max, h.mean())
	}
	h.add(0)
	if h.quantile(0) != 0 {
		t.Errorf("zero duration: %s", h.quantile(0))
	}
}
