package transport

import (
	"context"
	"net"
)

// Resolver looks up a host's addresses, as net.Resolver does; kafka-go's
// kafka.Resolver has this shape.
type Resolver interface {
	LookupHost(ctx context.Context, host string) (addrs []string, err error)
}

// ResolvingDial returns a dial function that resolves the host of each
// address with r and dials its addresses with d in turn, returning the
// first connection or the last failure. A resolver may answer host:port;
// the port of the address dialed wins. It is how a client's custom
// resolver (a service registry, a test's fixed map) keeps working for a
// dialer that has none.
func ResolvingDial(d *net.Dialer, r Resolver) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		addrs, err := r.LookupHost(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(addrs) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host}
		}
		var last error
		for _, a := range addrs {
			if h, _, err := net.SplitHostPort(a); err == nil {
				a = h // resolvers may return host:port
			}
			c, err := d.DialContext(ctx, network, net.JoinHostPort(a, port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		return nil, last
	}
}
