package ktables_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
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

// panicky is a codec that panics on values starting with "!".
type panicky struct{}

func (panicky) Encode(v []byte) ([]byte, error) { return v, nil }
func (panicky) Decode(b []byte) ([]byte, error) {
	if len(b) > 0 && b[0] == '!' {
		panic("bad value")
	}
	return b, nil
}

// SPEC H1 (issue 15.10): a panicking hook fails the table, Err carrying
// the panic value; the process lives on.
func TestPanickingHookFailsTable(t *testing.T) {
	for _, hook := range []string{"OnSet", "OnDelete", "OnCaughtUp"} {
		t.Run(hook, func(t *testing.T) {
			noLeak(t)
			c := newCluster(t)
			ctx := testCtx(t)
			topic := topicName(t)
			createTopic(t, c, topic, 1)
			appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
			var opt ktables.Option
			switch hook {
			case "OnSet":
				opt = ktables.OnSet(func(k string, _ []byte) {
					if k == "boom" {
						panic("set " + k)
					}
				})
			case "OnDelete":
				opt = ktables.OnDelete(func(k string, _ []byte) { panic("delete " + k) })
			case "OnCaughtUp":
				opt = ktables.OnCaughtUp(func() { panic("caught up") })
			}
			tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Bytes(), opt)
			if pe, ok := errors.AsType[*ktables.PanicError](err); ok && hook == "OnCaughtUp" && pe.Value == "caught up" {
				return // the hook ran before Open saw catch-up: Open failed with it
			}
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Close()
			var want string
			switch hook {
			case "OnSet":
				appendRec(t, c, topic, 0, []byte("boom"), []byte("x"))
				want = "set boom"
			case "OnDelete":
				appendRec(t, c, topic, 0, []byte("a"), nil)
				want = "delete a"
			case "OnCaughtUp":
				want = "caught up" // runs right after Open returned
			}
			eventually(t, "table failed", func() bool { return tbl.Status() == ktables.StatusFailed })
			var pe *ktables.PanicError
			if !errors.As(tbl.Err(), &pe) || pe.Value != want || pe.Where != hook {
				t.Fatalf("Err() = %v, want a *PanicError of %s with %q", tbl.Err(), hook, want)
			}
		})
	}
}

// SPEC H1 (issue 15.10): a panicking codec counts its record as
// undecodable and skips it.
func TestPanickingCodecSkipsRecord(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	appendRec(t, c, topic, 0, []byte("a"), []byte("!2"))
	appendRec(t, c, topic, 0, []byte("b"), []byte("3"))
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Codec[[]byte](panicky{}))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	if v, _ := tbl.Get("a"); string(v) != "1" || !tbl.Has("b") {
		t.Fatalf("a=%q has b %v: the record after the panic was not applied, or the panicking one was", v, tbl.Has("b"))
	}
	if st := tbl.Stats(); st.ValueDecodeErrors != 1 || tbl.Status() != ktables.StatusCaughtUp {
		t.Fatalf("ValueDecodeErrors = %d, status %v", st.ValueDecodeErrors, tbl.Status())
	}
}

// SPEC L2 (issue 15.11): WaitCaughtUp on a failed table is an error
// matching ErrTableFailed, whether or not it had caught up; (issue 15.12)
// Close keeps the Failed status and Err.
func TestFailedTableStaysFailed(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl := openBytes(t, ctx, c.Transport(), topic)
	c.FailNext(memtransport.OpFetch, 1, transport.NewError("fetch", topic, transport.ErrAuthorization, nil))
	appendRec(t, c, topic, 0, []byte("b"), []byte("2"))
	eventually(t, "status failed", func() bool { return tbl.Status() == ktables.StatusFailed })
	if err := tbl.WaitCaughtUp(ctx); !errors.Is(err, ktables.ErrTableFailed) || !errors.Is(err, transport.ErrAuthorization) {
		t.Fatalf("WaitCaughtUp on a table that caught up, then failed: %v, want ErrTableFailed", err)
	}
	tbl.Close()
	if tbl.Status() != ktables.StatusFailed || !errors.Is(tbl.Err(), transport.ErrAuthorization) {
		t.Fatalf("after Close: status %v, Err %v; want failed and the cause", tbl.Status(), tbl.Err())
	}
}

// SPEC D4 (issue 15.13): RecordsAtCatchUp counts what was replayed into the
// table, applied records and tombstones; poison and keyless records have
// their own counters.
func TestRecordsAtCatchUpCountsReplayed(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	appendRec(t, c, topic, 0, []byte("b"), []byte("!"))
	appendRec(t, c, topic, 0, nil, []byte("keyless"))
	appendRec(t, c, topic, 0, []byte("a"), nil)
	appendRec(t, c, topic, 0, []byte("c"), []byte("3"))
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Codec[[]byte](panicky{}))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	st := tbl.Stats()
	if st.RecordsAtCatchUp != 3 || st.ValueDecodeErrors != 1 || st.KeylessRecords != 1 {
		t.Fatalf("RecordsAtCatchUp = %d (want 3: two records, one tombstone), ValueDecodeErrors %d, KeylessRecords %d", st.RecordsAtCatchUp, st.ValueDecodeErrors, st.KeylessRecords)
	}
}

// noPartitions lists no partition for any topic.
type noPartitions struct{ transport.Transport }

func (noPartitions) Partitions(context.Context, string) ([]int32, error) { return []int32{}, nil }

// SPEC L1 (issue 15.8): a topic with zero partitions is a typed Open error,
// not a caught-up empty table.
func TestOpenZeroPartitions(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	tbl, err := ktables.Open(ctx, noPartitions{c.Transport()}, topic, ktables.Bytes(), ktables.WithoutEnsureTopic())
	if !errors.Is(err, ktables.ErrNoPartitions) {
		if tbl != nil {
			tbl.Close()
		}
		t.Fatalf("Open of a topic without partitions: %v, want ErrNoPartitions", err)
	}
}

// SPEC L1 (issue 15.9): a fatal error on the first fetch fails Open, also
// when the topic is empty.
func TestFirstFetchFatalFailsOpen(t *testing.T) {
	for _, records := range []int{0, 1} {
		t.Run(fmt.Sprint(records, " records"), func(t *testing.T) {
			noLeak(t)
			c := newCluster(t)
			ctx := testCtx(t)
			topic := topicName(t)
			createTopic(t, c, topic, 1)
			for range records {
				appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
			}
			c.FailNext(memtransport.OpFetch, 1, transport.NewError("fetch", topic, transport.ErrAuthorization, nil))
			tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Bytes())
			if !errors.Is(err, transport.ErrAuthorization) {
				if tbl != nil {
					tbl.Close()
				}
				t.Fatalf("Open whose first fetch is refused: %v, want ErrAuthorization", err)
			}
		})
	}
}

// SPEC L1: an empty topic still opens promptly (the first fetch's answer
// is waited for a short grace, not a whole long poll).
func TestEmptyTopicOpensPromptly(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	start := time.Now()
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.Bytes(), ktables.WithFetchMaxWait(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Open of an empty topic took %s with a one-hour long poll", d)
	}
}
