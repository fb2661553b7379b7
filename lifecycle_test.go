package ktables_test

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ktables/ktables"
)

// closeWithin fails the test when Close does not return within d.
func closeWithin(t *testing.T, tbl interface{ Close() error }, d time.Duration) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		tbl.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("Close did not return within %s", d)
	}
}

// SPEC H1 (issue 16.1): Close called from a hook, on the reader goroutine,
// does not wait for itself; neither do later Closes.
func TestCloseFromHook(t *testing.T) {
	for _, hook := range []string{"OnSet", "OnDelete", "OnCaughtUp"} {
		t.Run(hook, func(t *testing.T) {
			noLeak(t)
			c := newCluster(t)
			ctx := testCtx(t)
			topic := topicName(t)
			createTopic(t, c, topic, 1)
			var tbl atomic.Pointer[ktables.Table[[]byte]]
			ready := make(chan struct{}) // closed once Open returned
			returned := make(chan error, 1)
			closeSelf := func() {
				<-ready // OnCaughtUp runs before Open returns
				returned <- tbl.Load().Close()
			}
			var opt ktables.Option
			switch hook {
			case "OnSet":
				opt = ktables.OnSet(func(k string, _ []byte) {
					if k == "stop" {
						closeSelf()
					}
				})
			case "OnDelete":
				opt = ktables.OnDelete(func(k string, _ []byte) { closeSelf() })
				appendRec(t, c, topic, 0, []byte("stop"), []byte("x"))
			case "OnCaughtUp":
				opt = ktables.OnCaughtUp(func() { closeSelf() })
				appendRec(t, c, topic, 0, []byte("a"), []byte("x"))
			}
			opened := make(chan *ktables.Table[[]byte], 1)
			go func() {
				tb, err := ktables.Open(ctx, c.Transport(), topic, ktables.Bytes(), opt)
				if err != nil {
					t.Error(err)
					close(opened)
					return
				}
				tbl.Store(tb)
				close(ready)
				opened <- tb
			}()
			tb := <-opened
			if tb == nil {
				return
			}
			switch hook {
			case "OnSet":
				appendRec(t, c, topic, 0, []byte("stop"), []byte("x"))
			case "OnDelete":
				appendRec(t, c, topic, 0, []byte("stop"), nil)
			}
			select {
			case err := <-returned:
				if err != nil {
					t.Fatalf("Close from %s: %v", hook, err)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("Close from %s deadlocked", hook)
			}
			closeWithin(t, tb, 5*time.Second)
			if tb.Status() != ktables.StatusClosed {
				t.Fatalf("status %v, want closed", tb.Status())
			}
			if err := tb.Barrier(ctx); !errors.Is(err, ktables.ErrClosed) {
				t.Fatalf("Barrier after Close from a hook: %v", err)
			}
		})
	}
}
