package transport

import (
	"context"
	"sync"
	"sync/atomic"
)

// Lazy holds a value made on first use by a call that cannot be cancelled
// (connecting a client whose constructor fetches metadata before it
// returns, as sarama.NewClient does). Callers wait under their context; the making goes on in its
// goroutine and its result is kept for later calls. A failed making is
// tried again by the next call.
type Lazy[T any] struct {
	// made is v once made: Get, called on every produce by every writer,
	// then loads it rather than taking mu, which serialized concurrent
	// writers (issue 17).
	made atomic.Pointer[T]

	mu   sync.Mutex
	v    T
	ok   bool
	err  error
	wait chan struct{} // non-nil while a making is in flight
}

// Set stores v as made.
func (l *Lazy[T]) Set(v T) {
	l.mu.Lock()
	l.v, l.ok = v, true
	l.made.Store(&v)
	l.mu.Unlock()
}

// Load returns the value if it was made, without making it: callers on a
// hot path check it before building the closure Get takes (a closure that
// escapes is an allocation per call).
func (l *Lazy[T]) Load() (T, bool) {
	if p := l.made.Load(); p != nil {
		return *p, true
	}
	var zero T
	return zero, false
}

// Get returns the value, making it with mk when there is none.
func (l *Lazy[T]) Get(ctx context.Context, mk func() (T, error)) (T, error) {
	if p := l.made.Load(); p != nil {
		return *p, nil
	}
	var zero T
	l.mu.Lock()
	if l.ok {
		v := l.v
		l.mu.Unlock()
		return v, nil
	}
	w := l.wait
	if w == nil {
		w = make(chan struct{})
		l.wait = w
		go func() {
			v, err := mk()
			l.mu.Lock()
			if err == nil {
				l.v, l.ok = v, true
				l.made.Store(&v)
			}
			l.err = err
			l.wait = nil
			close(w)
			l.mu.Unlock()
		}()
	}
	l.mu.Unlock()
	select {
	case <-w:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.ok {
			return l.v, nil
		}
		return zero, l.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Settle waits for a making in flight and returns the value, if made.
func (l *Lazy[T]) Settle() (T, bool) {
	l.mu.Lock()
	w := l.wait
	l.mu.Unlock()
	if w != nil {
		<-w
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v, l.ok
}

// result is what a call run by Run returns.
type result[T any] struct {
	v   T
	err error
}

// Run calls fn, which cannot be cancelled (a client that takes no
// contexts, such as sarama), and returns its result, or ctx's error as soon
// as ctx is done. fn then goes on in its goroutine until the client's own
// timeouts end it, or until Close closes the connections under it; its
// result is dropped.
func Run[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	ch := make(chan result[T], 1)
	go func() {
		v, err := fn()
		ch <- result[T]{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
