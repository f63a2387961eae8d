// Package simulate stands in for Diapason peers: the provider and the GAP server as long-running TLS servers that judge their clients, misbehave on purpose and answer HTTP, and a fleet of terminals that loads a GAP server.
package simulate

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
	"github.com/diapason-cert/diapason-cert/handshake"
)

// Server serves one simulated link on a listener: each connection gets a
// handshake judged by TLS (or the fault's misbehaviour), one Event, and after
// a completed handshake an HTTP status page naming the client certificate.
type Server struct {
	TLS *handshake.Server
	// Fault is the connection-level misbehaviour; the credential and
	// handshake faults are already in TLS (see Credential).
	Fault Fault
	// Name is what the status page calls this server ("simulated provider").
	Name string
	// MaxConns bounds the connections served at once, and so memory and
	// goroutines: beyond it, new connections wait in the listen queue.
	// DefaultMaxConns if zero.
	MaxConns int
	// IdleTimeout bounds the wait for an HTTP request after the handshake;
	// DefaultIdleTimeout if zero.
	IdleTimeout time.Duration
	// Grace is how long handshakes under way may finish once Serve is asked
	// to stop; DefaultGrace if zero. Idle connections are closed at once.
	Grace time.Duration
	// Log receives one Event per connection, from one goroutine at a time.
	Log func(Event)
}

// Defaults of Server.
const (
	DefaultMaxConns    = 1024
	DefaultIdleTimeout = 10 * time.Second
	DefaultGrace       = 2 * time.Second
	// MaxHandshakeMessage bounds what one client makes the server buffer: a
	// Diapason chain is a few kilobytes.
	MaxHandshakeMessage = 64 << 10
)

// Stats counts what a Serve saw.
type Stats struct {
	Connections int64 `json:"connections"`
	OK          int64 `json:"ok"`
	Warn        int64 `json:"warn"`
	Fail        int64 `json:"fail"`
	// Requests counts the HTTP requests answered.
	Requests int64 `json:"requests"`
	// Causes counts the connections by their first cause, for those that
	// have one.
	Causes map[string]int64 `json:"causes"`
}

// Serve accepts connections on ln until ctx is done, then stops accepting,
// closes idle connections, gives handshakes under way Grace to finish, and
// returns once every connection is closed. It closes ln. The error is a
// listener failure; a stop asked by ctx returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) (Stats, error) {
	maxConns := s.MaxConns
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	grace := s.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	stats := Stats{Causes: map[string]int64{}}
	var logMu sync.Mutex
	log := func(e Event) {
		logMu.Lock()
		defer logMu.Unlock()
		stats.add(e)
		if s.Log != nil {
			s.Log(e)
		}
	}
	// Handshakes under way outlive ctx by the grace period; idle waits and
	// stalls end with ctx.
	hsCtx, cancelHS := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHS()
	stopGrace := context.AfterFunc(ctx, func() {
		ln.Close()
		time.AfterFunc(grace, cancelHS)
	})
	defer stopGrace()

	sem := make(chan struct{}, maxConns)
	var wg sync.WaitGroup
	var err error
	backoff := time.Duration(0)
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		conn, aerr := ln.Accept()
		if aerr != nil {
			<-sem
			if ctx.Err() != nil {
				break
			}
			if errors.Is(aerr, net.ErrClosed) {
				err = aerr
				break
			}
			// Out of file descriptors, a connection reset before it was
			// accepted: wait a little, as net/http does, and go on.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			continue
		}
		backoff = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			log(s.serveConn(hsCtx, ctx, conn))
		}()
	}
	ln.Close()
	wg.Wait()
	return stats, err
}

func (st *Stats) add(e Event) {
	st.Connections++
	switch e.Status {
	case handshake.StatusOK:
		st.OK++
	case handshake.StatusWarn:
		st.Warn++
	default:
		st.Fail++
	}
	if e.Request != nil {
		st.Requests++
	}
	if len(e.Causes) > 0 {
		st.Causes[e.Causes[0].Slug]++
	}
}

// serveConn serves one connection: hsCtx bounds the handshake, idleCtx the
// wait for a request and the stall.
func (s *Server) serveConn(hsCtx, idleCtx context.Context, conn net.Conn) Event {
	ev := Event{Remote: conn.RemoteAddr().String(), At: s.TLS.Now().UTC().Truncate(time.Millisecond), Fault: s.Fault}
	switch s.Fault {
	case FaultAlertAfterHello:
		s.alertAfterHello(hsCtx, conn, &ev)
		return ev
	case FaultStall:
		s.stall(idleCtx, conn, &ev)
		return ev
	}
	tc, res := s.TLS.Handshake(hsCtx, conn)
	ev.fromResult(res)
	if tc == nil {
		return ev
	}
	s.serveHTTP(idleCtx, tc, &ev)
	tc.Close()
	return ev
}

// Event is what a server saw of one connection: its verdict, and the HTTP
// request answered after the handshake.
type Event struct {
	Remote    string                  `json:"remote"`
	At        time.Time               `json:"at"`
	Status    handshake.Status        `json:"status"`
	Summary   string                  `json:"summary"`
	Causes    []handshake.Cause       `json:"causes"`
	Fault     Fault                   `json:"fault,omitempty"`
	Handshake handshake.HandshakeInfo `json:"handshake"`
	// Suite is the negotiated suite ("0xC028"), when one was.
	Suite             string             `json:"suite,omitempty"`
	ClientCertificate *ClientCertificate `json:"client_certificate,omitempty"`
	Revocation        *check.Revocation  `json:"revocation,omitempty"`
	Request           *Request           `json:"request,omitempty"`
}

// ClientCertificate is the certificate a client presented.
type ClientCertificate struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	Serial   string    `json:"serial,omitempty"`
	NotAfter time.Time `json:"not_after"`
	SHA256   string    `json:"sha256"`
}

// Request is an HTTP request answered after the handshake.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Proto  string `json:"proto"`
	Status int    `json:"status"`
}

func (e *Event) fromResult(res *handshake.ServerResult) {
	e.Status, e.Summary, e.Causes, e.Handshake = res.Status, res.Summary, res.Causes, res.Handshake
	if e.Causes == nil {
		e.Causes = []handshake.Cause{}
	}
	if res.Negotiated != nil {
		e.Suite = res.Negotiated.Suite.ID
	}
	if p := res.Peer; p != nil && len(p.Sent) > 0 {
		cc := &ClientCertificate{Subject: p.Sent[0].Subject, Issuer: p.Sent[0].Issuer, SHA256: p.Sent[0].SHA256}
		if c := p.Certificate; c != nil {
			cc.Serial, cc.NotAfter = c.Serial, c.NotAfter
		}
		e.ClientCertificate = cc
		e.Revocation = p.Revocation
	}
}
