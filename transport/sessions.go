package transport

import (
	"io"
	"sync"
	"sync/atomic"
)

// Sessions is the close bookkeeping of an adapter's Transport: whether it
// is closed, and the fetch sessions it must close with it. Every adapter
// needs the same three moves (refuse a session once closed, forget a
// session closed on its own, close the rest on Close), so they live here
// once. It is safe for concurrent use; the zero value is open and empty.
type Sessions struct {
	mu sync.Mutex
	// closed is set under mu, which orders it against Add; it is atomic
	// because every call of a transport reads it (Closed), from as many
	// goroutines as write concurrently, and a mutex there serialized them
	// (issue 17).
	closed atomic.Bool
	open   map[io.Closer]struct{}
}

// Add registers s, to be closed by Close. It reports false, registering
// nothing, when Close has run: the caller then closes s itself and fails
// with ErrClosed.
func (ss *Sessions) Add(s io.Closer) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed.Load() {
		return false
	}
	if ss.open == nil {
		ss.open = make(map[io.Closer]struct{})
	}
	ss.open[s] = struct{}{}
	return true
}

// Remove forgets s (closed on its own). Removing an unknown session does
// nothing.
func (ss *Sessions) Remove(s io.Closer) {
	ss.mu.Lock()
	delete(ss.open, s)
	ss.mu.Unlock()
}

// Closed reports whether Close has run.
func (ss *Sessions) Closed() bool { return ss.closed.Load() }

// Close marks the transport closed and closes every registered session,
// outside the lock (a session's Close calls Remove). Only the first call
// does so and reports true; the caller then releases the rest of what it
// owns, so that its Close is idempotent.
func (ss *Sessions) Close() bool {
	ss.mu.Lock()
	if ss.closed.Load() {
		ss.mu.Unlock()
		return false
	}
	ss.closed.Store(true)
	open := make([]io.Closer, 0, len(ss.open))
	for s := range ss.open {
		open = append(open, s)
	}
	ss.mu.Unlock()
	for _, s := range open {
		_ = s.Close()
	}
	return true
}
