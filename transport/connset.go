package transport

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// ConnSet keeps the open connections of a dialer, for clients whose own
// Close cannot end a request in flight (sarama holds a broker's lock for
// a whole round trip, so closing a broker waits behind a long poll):
// closing the sockets underneath ends such a request at once. It is safe
// for concurrent use; the zero value is an empty, open set.
type ConnSet struct {
	mu    sync.Mutex
	conns map[*setConn]struct{}
	done  bool
}

// Add keeps c until it is closed. After Close it closes c and returns
// net.ErrClosed.
func (s *ConnSet) Add(c net.Conn) (net.Conn, error) {
	sc := &setConn{Conn: c, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	if s.conns == nil {
		s.conns = make(map[*setConn]struct{})
	}
	s.conns[sc] = struct{}{}
	return sc, nil
}

// Close closes every connection kept and makes later Adds fail.
func (s *ConnSet) Close() {
	s.mu.Lock()
	s.done = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

// Drop closes every connection kept; the set stays open, and later
// connections are kept as before. It ends a request in flight on a set
// that serves one connection at a time.
func (s *ConnSet) Drop() {
	s.mu.Lock()
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range conns {
		_ = c.Conn.Close()
	}
}

type setConn struct {
	net.Conn
	s *ConnSet
}

func (c *setConn) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// Kafka API keys the SASL sniffer looks at.
const (
	apiKeySASLHandshake    = 17
	apiKeyAPIVersions      = 18
	apiKeySASLAuthenticate = 36
)

// SniffSASL watches the SASL exchange of a plaintext connection c from its
// bytes, for clients that offer no hook into authentication (sarama) and
// write each request with one Write (size, API key, version...): a read
// that fails right after a SASL request counts as a broken exchange in f
// (once per connection), and the first answer to any other request but
// ApiVersions as an authenticated connection. Errors of a FrameCheck
// (NotKafkaError) are not the exchange's and count as neither.
func SniffSASL(c net.Conn, f *SASLFailures) net.Conn {
	return &saslConn{Conn: c, f: f}
}

type saslConn struct {
	net.Conn
	f       *SASLFailures
	lastKey atomic.Int32 // API key of the last request written
	authed  atomic.Bool  // a non-SASL request was answered
	once    sync.Once
}

func (c *saslConn) Write(p []byte) (int, error) {
	if !c.authed.Load() && len(p) >= 6 {
		c.lastKey.Store(int32(binary.BigEndian.Uint16(p[4:6])))
	}
	return c.Conn.Write(p)
}

func (c *saslConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if _, notKafka := errors.AsType[*NotKafkaError](err); notKafka || c.authed.Load() {
		return n, err
	}
	switch key := c.lastKey.Load(); {
	case err != nil && (key == apiKeySASLHandshake || key == apiKeySASLAuthenticate):
		c.once.Do(func() { c.f.Failed() })
	case err == nil && n > 0 && key != apiKeySASLHandshake && key != apiKeySASLAuthenticate && key != apiKeyAPIVersions:
		c.authed.Store(true)
		c.f.Succeeded()
	}
	return n, err
}
