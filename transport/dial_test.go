package transport_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/ktables/ktables/transport"
)

type fixedResolver map[string][]string

func (r fixedResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	return r[host], nil
}

func TestResolvingDial(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	// The first address refuses; the second (given as host:port, with a
	// port that must lose to the dialed one) answers.
	dial := transport.ResolvingDial(&net.Dialer{}, fixedResolver{"broker": {"127.0.0.2:1", "127.0.0.1:9"}, "none": nil})
	c, err := dial(context.Background(), "tcp", net.JoinHostPort("broker", port))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	_ = c.Close()
	var dnsErr *net.DNSError
	if _, err := dial(context.Background(), "tcp", "none:9092"); !errors.As(err, &dnsErr) {
		t.Fatalf("no addresses: %v", err)
	}
	if _, err := dial(context.Background(), "tcp", "no-port"); err == nil {
		t.Fatal("an address without a port dialed")
	}
}
