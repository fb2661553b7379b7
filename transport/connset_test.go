package transport_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"

	"github.com/ktables/ktables/transport"
)

// TestConnSet: Close ends the connections kept (a read in flight fails at
// once) and refuses later ones; a connection closed by its user leaves the
// set.
func TestConnSet(t *testing.T) {
	var s transport.ConnSet
	a, peerA := net.Pipe()
	defer peerA.Close()
	ka, err := s.Add(a)
	if err != nil {
		t.Fatal(err)
	}
	b, peerB := net.Pipe()
	defer peerB.Close()
	kb, _ := s.Add(b)
	if err := kb.Close(); err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() { _, err := ka.Read(make([]byte, 1)); read <- err }()
	s.Close()
	if err := <-read; !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("read in flight after Close: %v, want the closed pipe", err)
	}
	c, peerC := net.Pipe()
	defer peerC.Close()
	if got, err := s.Add(c); got != nil || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Add after Close = %v, %v; want nil, net.ErrClosed", got, err)
	}
	if _, err := c.Write([]byte{1}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("a connection refused by a closed set stays open: %v", err)
	}
}

// TestConnSetDrop: Drop ends the connections kept (a read in flight fails
// at once) and keeps the set open for later ones.
func TestConnSetDrop(t *testing.T) {
	var s transport.ConnSet
	a, peerA := net.Pipe()
	defer peerA.Close()
	ka, _ := s.Add(a)
	read := make(chan error, 1)
	go func() { _, err := ka.Read(make([]byte, 1)); read <- err }()
	s.Drop()
	if err := <-read; !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("read in flight after Drop: %v, want the closed pipe", err)
	}
	b, peerB := net.Pipe()
	defer peerB.Close()
	kb, err := s.Add(b)
	if err != nil {
		t.Fatalf("Add after Drop: %v", err)
	}
	s.Close()
	if _, err := kb.Write([]byte{1}); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("a connection added after Drop outlives Close: %v", err)
	}
}

// request is a Kafka request header's first bytes: size, API key, version.
func request(key int16) []byte {
	p := make([]byte, 8)
	binary.BigEndian.PutUint32(p, 4)
	binary.BigEndian.PutUint16(p[4:], uint16(key))
	return p
}

// TestSniffSASL: a connection dying right after a SASL request is a broken
// exchange, counted once per connection; an answer to another request (not
// ApiVersions) is an authenticated connection, which resets the count.
func TestSniffSASL(t *testing.T) {
	var f transport.SASLFailures
	broken := func(key int16) {
		t.Helper()
		c, peer := net.Pipe()
		sc := transport.SniffSASL(c, &f)
		go func() { _, _ = io.ReadFull(peer, make([]byte, 8)); peer.Close() }()
		if _, err := sc.Write(request(key)); err != nil {
			t.Fatal(err)
		}
		for range 2 { // a second failing read is the same exchange
			if _, err := sc.Read(make([]byte, 4)); err == nil {
				t.Fatal("read after the peer closed succeeded")
			}
		}
		sc.Close()
	}
	answered := func(key int16) {
		t.Helper()
		c, peer := net.Pipe()
		defer peer.Close()
		sc := transport.SniffSASL(c, &f)
		go func() { _, _ = io.ReadFull(peer, make([]byte, 8)); _, _ = peer.Write([]byte{0, 0, 0, 0}) }()
		if _, err := sc.Write(request(key)); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(sc, make([]byte, 4)); err != nil {
			t.Fatal(err)
		}
		sc.Close()
	}
	broken(17) // SaslHandshake
	if f.Blamed() {
		t.Fatal("blamed after one broken exchange")
	}
	broken(3)    // Metadata: not an exchange
	answered(18) // ApiVersions: not proof of authentication
	broken(36)   // SaslAuthenticate
	if !f.Blamed() {
		t.Fatalf("not blamed after %d broken exchanges", transport.SASLFailThreshold)
	}
	answered(3)
	if f.Blamed() {
		t.Fatal("still blamed after an authenticated answer")
	}
}
