package transport

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// SilenceWatch notices a silent network path to a broker. Kafka clients
// learn that a connection went silent (a network partition, a middlebox
// that dropped its state) only when a request on it passes its read
// deadline, and then only for that connection: every other connection to
// the same broker stays in the pool, and each costs its next request a
// full timeout of its own, one after another, long after the network
// healed (issue 16 item 9).
//
// Connections wrapped by one SilenceWatch share that knowledge: when a read
// on one passes its deadline, the others to the same address that have
// heard nothing since at least as long are closed, so that their next
// request fails at once (a network error, retriable) and the client dials
// anew. Adapters wrap every connection their dialer makes. It is safe for
// concurrent use; the zero value is ready.
type SilenceWatch struct {
	mu    sync.Mutex
	conns map[*watchedConn]struct{}
}

// Wrap returns c watched by w. Closing the returned connection forgets it.
func (w *SilenceWatch) Wrap(c net.Conn) net.Conn {
	wc := &watchedConn{Conn: c, w: w, addr: c.RemoteAddr().String()}
	wc.heard.Store(time.Now().UnixNano())
	w.mu.Lock()
	if w.conns == nil {
		w.conns = make(map[*watchedConn]struct{})
	}
	w.conns[wc] = struct{}{}
	w.mu.Unlock()
	return wc
}

// silent closes the connections to c's address that heard nothing since c
// last did.
func (w *SilenceWatch) silent(c *watchedConn) {
	since := c.heard.Load()
	w.mu.Lock()
	var dead []*watchedConn
	for o := range w.conns {
		if o != c && o.addr == c.addr && o.heard.Load() <= since {
			dead = append(dead, o)
		}
	}
	w.mu.Unlock()
	for _, o := range dead {
		_ = o.Close()
	}
}

func (w *SilenceWatch) forget(c *watchedConn) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
}

type watchedConn struct {
	net.Conn
	w     *SilenceWatch
	addr  string
	heard atomic.Int64 // unix nanos of the last byte read, or of the dial
	once  sync.Once
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.heard.Store(time.Now().UnixNano())
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.w.silent(c)
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.once.Do(func() { c.w.forget(c) })
	return c.Conn.Close()
}
