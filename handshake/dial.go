package handshake

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/diapason-cert/diapason-cert/check"
)

// DialFunc opens the TCP connection of a probe; net.Dialer.DialContext by default.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// LevelUnknown is the level of a cause that kept the tool from judging: the
// peer could not be reached.
const LevelUnknown check.Level = "unknown"

// dial connects within timeout and says, when it cannot, which of the usual
// network failures it was.
func dial(ctx context.Context, d DialFunc, address, server string, timeout time.Duration) (net.Conn, *Cause) {
	if d == nil {
		d = (&net.Dialer{}).DialContext
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := d(ctx, "tcp", address)
	if err == nil {
		return conn, nil
	}
	c := unreachable(err, address, server, timeout)
	return nil, &c
}

func unreachable(err error, address, server string, timeout time.Duration) Cause {
	var dnsErr *net.DNSError
	var netErr net.Error
	c := Cause{Level: LevelUnknown}
	switch {
	case errors.As(err, &dnsErr):
		c.Slug = "unreachable-dns"
		c.Message = fmt.Sprintf("the %s's name %q does not resolve: %s", server, dnsErr.Name, dnsErr.Err)
		c.Fix = "check the host name, and this machine's DNS configuration (resolv.conf, hosts file)"
	case errors.Is(err, syscall.ECONNREFUSED):
		c.Slug = "unreachable-refused"
		c.Message = fmt.Sprintf("the connection to %s was refused: nothing listens on that port, or a firewall rejects it", address)
		c.Fix = fmt.Sprintf("check the port, and that the %s's service is running", server)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		c.Slug = "unreachable-timeout"
		c.Message = fmt.Sprintf("no TCP answer from %s within %s", address, timeout)
		c.Fix = "a firewall drops the packets or the host is down: check the address, the route and the firewall rules (or raise --timeout)"
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		c.Slug = "unreachable-network"
		c.Message = fmt.Sprintf("no route to %s: %v", address, err)
		c.Fix = "check the address and this machine's network (routes, VPN)"
	case errors.Is(err, context.Canceled):
		c.Slug = "interrupted"
		c.Message = "interrupted before the connection was made"
	default:
		c.Slug = "unreachable"
		c.Message = fmt.Sprintf("cannot connect to %s: %v", address, err)
	}
	return c
}
