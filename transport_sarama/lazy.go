package saramatransport

import (
	"context"
	"sync"
)

// lazy holds a value made on first use by a call that cannot be cancelled
// (connecting a sarama client: sarama.NewClient fetches metadata before it
// returns). Callers wait under their context; the making goes on in its
// goroutine and its result is kept for later calls. A failed making is
// tried again by the next call.
type lazy[T any] struct {
	mu   sync.Mutex
	v    T
	ok   bool
	err  error
	wait chan struct{} // non-nil while a making is in flight
}

// set stores v as made.
func (l *lazy[T]) set(v T) {
	l.mu.Lock()
	l.v, l.ok = v, true
	l.mu.Unlock()
}

// get returns the value, making it with mk when there is none.
func (l *lazy[T]) get(ctx context.Context, mk func() (T, error)) (T, error) {
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

// settle waits for a making in flight and returns the value, if made.
func (l *lazy[T]) settle() (T, bool) {
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
