package transport

import (
	"errors"
	"net"
	"sync/atomic"
)

// LastError keeps the last connection failure since the last response, to
// say why a call ran out of time or why a client found no broker (see
// WithLastError). It is safe for concurrent use; the zero value holds
// nothing.
type LastError struct{ p atomic.Pointer[error] }

// Note records err as the last failure.
func (l *LastError) Note(err error) { l.p.Store(&err) }

// Clear forgets the last failure: a response arrived.
func (l *LastError) Clear() { l.p.Store(nil) }

// Err is the last failure, or nil; nil for a nil receiver.
func (l *LastError) Err() error {
	if l == nil {
		return nil
	}
	if p := l.p.Load(); p != nil {
		return *p
	}
	return nil
}

// ConnWatch watches the connections an adapter's dialer makes: it closes a
// broker's silent connections together (SilenceWatch), rejects responses
// that are not Kafka's before the client decodes them (FrameCheck, when
// Frames is set: plaintext only, as TLS is layered on top of the dialed
// connection), and keeps the last connection failure (Last). The zero
// value watches without checking frames.
type ConnWatch struct {
	// Frames turns the framing check on.
	Frames bool
	// MaxResponse is the largest acceptable response; zero means
	// DefaultMaxResponse.
	MaxResponse int32

	Silence SilenceWatch
	Last    LastError
}

// Dialed takes the result of a dial: a failure is noted and returned, a
// connection is returned watched.
func (w *ConnWatch) Dialed(c net.Conn, err error) (net.Conn, error) {
	if err != nil {
		w.Last.Note(err)
		return nil, err
	}
	return &checkedConn{Conn: w.Silence.Wrap(c), w: w, frames: FrameCheck{Max: w.MaxResponse}}, nil
}

type checkedConn struct {
	net.Conn
	w      *ConnWatch
	frames FrameCheck // Read's alone: Kafka clients read a connection from one goroutine
}

func (c *checkedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.w.Frames {
		if ferr := c.frames.Scan(p[:n]); ferr != nil {
			c.w.Last.Note(ferr)
			_ = c.Conn.Close()
			return 0, ferr
		}
	}
	if n > 0 {
		c.w.Last.Clear()
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		c.w.Last.Note(err)
	}
	return n, err
}
