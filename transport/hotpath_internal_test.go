package transport

import (
	"context"
	"testing"
	"time"
)

// returnsWhileLocked runs f while lock is held and fails unless f returns:
// the calls below sit on every produce of every writer, and waiting on the
// mutex there serialized concurrent writers (issue 17).
func returnsWhileLocked(t *testing.T, lock, unlock func(), f func()) {
	t.Helper()
	lock()
	defer unlock()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the call waited for the mutex")
	}
}

func TestSessionsClosedTakesNoLock(t *testing.T) {
	var ss Sessions
	var got bool
	returnsWhileLocked(t, ss.mu.Lock, ss.mu.Unlock, func() { got = ss.Closed() })
	if got {
		t.Fatal("Closed before Close")
	}
	ss.Close()
	returnsWhileLocked(t, ss.mu.Lock, ss.mu.Unlock, func() { got = ss.Closed() })
	if !got {
		t.Fatal("not Closed after Close")
	}
}

func TestLazyGetOfMadeValueTakesNoLock(t *testing.T) {
	for _, how := range []string{"made", "set"} {
		t.Run(how, func(t *testing.T) {
			var l Lazy[int]
			if how == "set" {
				l.Set(7)
			} else if v, err := l.Get(context.Background(), func() (int, error) { return 7, nil }); err != nil || v != 7 {
				t.Fatalf("Get = %d, %v", v, err)
			}
			var v int
			var err error
			returnsWhileLocked(t, l.mu.Lock, l.mu.Unlock, func() {
				v, err = l.Get(context.Background(), func() (int, error) { return 0, context.Canceled })
			})
			if err != nil || v != 7 {
				t.Fatalf("Get = %d, %v; want the made 7", v, err)
			}
		})
	}
}
