package faultnet_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ktables/ktables/faultnet"
)

// echoServer accepts connections and echoes what they send, until t ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func newProxy(t *testing.T) *faultnet.Proxy {
	t.Helper()
	p, err := faultnet.New(echoServer(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// roundTrip writes msg and reads len(msg) bytes back within d.
func roundTrip(c net.Conn, msg string, d time.Duration) (string, error) {
	if _, err := c.Write([]byte(msg)); err != nil {
		return "", err
	}
	return readN(c, len(msg), d)
}

func readN(c net.Conn, n int, d time.Duration) (string, error) {
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, n)
	got, err := io.ReadFull(c, buf)
	return string(buf[:got]), err
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

func set(t *testing.T, p interface {
	Set(faultnet.Direction, faultnet.Fault) error
}, dir faultnet.Direction, f faultnet.Fault) {
	t.Helper()
	if err := p.Set(dir, f); err != nil {
		t.Fatalf("Set(%v, %v): %v", dir, f.Mode, err)
	}
}

func TestPassForwards(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	if got, err := roundTrip(c, "hello", 5*time.Second); err != nil || got != "hello" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	if n := p.Conns(); n != 1 {
		t.Fatalf("Conns = %d, want 1", n)
	}
}

func TestResetOnData(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "a", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	set(t, p, faultnet.ToServer, faultnet.Fault{Mode: faultnet.Reset})
	_, err := roundTrip(c, "b", 5*time.Second)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("after Reset: %v, want connection reset", err)
	}
}

func TestResetConnsNow(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "a", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if n := p.ResetConns(); n != 1 {
		t.Fatalf("ResetConns = %d, want 1", n)
	}
	if _, err := readN(c, 1, 5*time.Second); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after ResetConns: %v, want connection reset", err)
	}
	// New connections are served.
	if got, err := roundTrip(dial(t, p.Addr()), "ok", 5*time.Second); err != nil || got != "ok" {
		t.Fatalf("new connection: %q, %v", got, err)
	}
}

func TestBlackholeDiscards(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	set(t, p, faultnet.ToServer, faultnet.Fault{Mode: faultnet.Blackhole})
	if _, err := roundTrip(c, "lost", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("under blackhole: %v, want a read timeout", err)
	}
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	// The discarded bytes never arrive; new ones do, on the same connection.
	if got, err := roundTrip(c, "kept", 5*time.Second); err != nil || got != "kept" {
		t.Fatalf("after heal: %q, %v, want %q", got, err, "kept")
	}
}

func TestPartitionStrandsLiveConnections(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	set(t, p, faultnet.Both, faultnet.Fault{Mode: faultnet.Partition})
	if _, err := roundTrip(c, "lost", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("under partition: %v, want a read timeout", err)
	}
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	// The connection stays open and silent: neither the lost bytes nor new
	// ones come through, and nothing closes it.
	if _, err := roundTrip(c, "more", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("stranded connection after heal: %v, want a read timeout", err)
	}
	if got, err := roundTrip(dial(t, p.Addr()), "new", 5*time.Second); err != nil || got != "new" {
		t.Fatalf("new connection after heal: %q, %v", got, err)
	}
}

func TestPartitionNewConnectionsHang(t *testing.T) {
	p := newProxy(t)
	set(t, p, faultnet.Both, faultnet.Fault{Mode: faultnet.Partition})
	c := dial(t, p.Addr()) // loopback accepts; nothing goes through
	if _, err := roundTrip(c, "x", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("under partition: %v, want a read timeout", err)
	}
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	if got, err := readN(c, 1, 5*time.Second); err != nil || got != "x" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestRefuse(t *testing.T) {
	p := newProxy(t)
	live := dial(t, p.Addr())
	// A connection still in the listen backlog when Refuse starts is reset
	// with the listener: make sure this one was accepted.
	if _, err := roundTrip(live, "up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	set(t, p, faultnet.ToServer, faultnet.Fault{Mode: faultnet.Refuse})
	_, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial under Refuse: %v, want connection refused", err)
	}
	if got, err := roundTrip(live, "live", 5*time.Second); err != nil || got != "live" {
		t.Fatalf("live connection under Refuse: %q, %v", got, err)
	}
	if err := p.Heal(); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(dial(t, p.Addr()), "back", 5*time.Second); err != nil || got != "back" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
}

func TestLatencyDelays(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	const d = 100 * time.Millisecond
	set(t, p, faultnet.Both, faultnet.Fault{Mode: faultnet.Latency, Delay: d})
	start := time.Now()
	if got, err := roundTrip(c, "slow", 5*time.Second); err != nil || got != "slow" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	if el := time.Since(start); el < 2*d {
		t.Fatalf("round trip took %v, want at least %v (latency both ways)", el, 2*d)
	}
}

func TestDripSlowsBytes(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	const d = 20 * time.Millisecond
	set(t, p, faultnet.ToClient, faultnet.Fault{Mode: faultnet.Drip, Delay: d, Bytes: 2})
	start := time.Now()
	if got, err := roundTrip(c, "abcdefgh", 5*time.Second); err != nil || got != "abcdefgh" {
		t.Fatalf("round trip: %q, %v", got, err)
	}
	// Four drips of two bytes: three pauses at least.
	if el := time.Since(start); el < 3*d {
		t.Fatalf("drip took %v, want at least %v", el, 3*d)
	}
}

func TestCloseAfterBytes(t *testing.T) {
	p := newProxy(t)
	c := dial(t, p.Addr())
	set(t, p, faultnet.ToClient, faultnet.Fault{Mode: faultnet.CloseAfter, Bytes: 3})
	got, err := roundTrip(c, "hello", 5*time.Second)
	if got != "hel" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %q, %v; want %q then EOF", got, err, "hel")
	}
}

func TestInvalidFaults(t *testing.T) {
	p := newProxy(t)
	for _, tc := range []struct {
		dir faultnet.Direction
		f   faultnet.Fault
	}{
		{faultnet.Both, faultnet.Fault{Mode: faultnet.Latency}},
		{faultnet.Both, faultnet.Fault{Mode: faultnet.Drip, Delay: -time.Second}},
		{faultnet.Both, faultnet.Fault{Mode: faultnet.CloseAfter, Bytes: -1}},
		{faultnet.Both, faultnet.Fault{Mode: faultnet.Mode(99)}},
		{0, faultnet.Fault{}},
		{faultnet.Direction(8), faultnet.Fault{}},
	} {
		if err := p.Set(tc.dir, tc.f); !errors.Is(err, faultnet.ErrInvalidFault) {
			t.Errorf("Set(%v, %+v) = %v, want ErrInvalidFault", tc.dir, tc.f, err)
		}
	}
	var n faultnet.Network
	if err := n.Set(faultnet.Both, faultnet.Fault{Mode: faultnet.Latency}); !errors.Is(err, faultnet.ErrInvalidFault) {
		t.Errorf("Network.Set = %v, want ErrInvalidFault", err)
	}
}

// TestNetworkAdvertisesProxy: a server listening through Network.Listen
// sees the proxy's address as its own, and every byte goes through the
// proxy's faults, including those set before the server started.
func TestNetworkAdvertisesProxy(t *testing.T) {
	var n faultnet.Network
	t.Cleanup(func() { _ = n.Close() })
	set(t, &n, faultnet.ToClient, faultnet.Fault{Mode: faultnet.Blackhole})
	ln, err := n.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := n.Proxies()
	if len(ps) != 1 || ln.Addr().String() != ps[0].Addr() {
		t.Fatalf("listener Addr %v, proxies %v: want the proxy's address", ln.Addr(), ps)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	c := dial(t, ln.Addr().String())
	if _, err := roundTrip(c, "x", 200*time.Millisecond); !isTimeout(err) {
		t.Fatalf("fault set before Listen not applied: %v", err)
	}
	if err := n.Heal(); err != nil {
		t.Fatal(err)
	}
	if got, err := roundTrip(c, "y", 5*time.Second); err != nil || got != "y" {
		t.Fatalf("after heal: %q, %v", got, err)
	}
	if n.ResetConns() != 1 {
		t.Fatalf("ResetConns: want 1 connection")
	}
}

func TestCloseEndsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	target := echoServer(t)
	p, err := faultnet.New(target)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	if _, err := roundTrip(c, "a", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	set(t, p, faultnet.Both, faultnet.Fault{Mode: faultnet.Partition})
	_, _ = c.Write(bytes.Repeat([]byte("x"), 1<<20)) // held mid-flight
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := readN(c, 1, 5*time.Second); err == nil || isTimeout(err) {
		t.Fatalf("read after Close: %v, want the connection closed", err)
	}
	_ = c.Close()
	// Only the echo server's accept loop may remain (it ends with t).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines %d, base %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond) // polling a count, not synchronizing
	}
}
