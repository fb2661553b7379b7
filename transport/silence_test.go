package transport_test

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/ktables/ktables/transport"
)

// A read passing its deadline on one connection closes the other
// connections to the same address that were silent as long, and only
// those (issue 16 item 9).
func TestSilenceWatchClosesSilentSiblings(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	other, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	var w transport.SilenceWatch
	dial := func(addr string) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return w.Wrap(c)
	}
	idle := dial(ln.Addr().String())         // silent since before the timeout
	elsewhere := dial(other.Addr().String()) // another broker
	stuck := dial(ln.Addr().String())
	for range 2 {
		<-accepted
	}
	_ = stuck.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := stuck.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("stuck read: %v, want a deadline error", err)
	}
	if _, err := idle.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("idle sibling write: %v, want it closed", err)
	}
	if _, err := elsewhere.Write([]byte("x")); err != nil {
		t.Fatalf("connection to another address: %v, want it untouched", err)
	}
}
