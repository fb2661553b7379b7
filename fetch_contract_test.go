package ktables_test

import (
	"context"
	"maps"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ktables/ktables/transport"
)

// pollHook wraps a transport so that each of its fetchers' Polls goes
// through hook.
type pollHook struct {
	transport.Transport
	hook func(f transport.Fetcher, ctx context.Context) (transport.Batch, error)
}

func (p pollHook) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	f, err := p.Transport.NewFetcher(ctx, topic, from, opts)
	if err != nil {
		return nil, err
	}
	return hookedFetcher{f, p.hook}, nil
}

type hookedFetcher struct {
	transport.Fetcher
	hook func(f transport.Fetcher, ctx context.Context) (transport.Batch, error)
}

func (h hookedFetcher) Poll(ctx context.Context) (transport.Batch, error) {
	return h.hook(h.Fetcher, ctx)
}

// SPEC X3 (ADR 7): records that come with an error are applied, then the
// error is handled; a transient one does not cost the records.
func TestRecordsWithErrorAreApplied(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	var faulted atomic.Bool
	tr := pollHook{c.Transport(), func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		b, err := f.Poll(ctx)
		if err == nil && len(b.Records) > 0 && faulted.CompareAndSwap(false, true) {
			err = transport.NewError("fetch", topic, transport.ErrNotLeader, nil)
		}
		return b, err
	}}
	tbl := openBytes(t, ctx, tr, topic)
	if !faulted.Load() || !tbl.Has("a") {
		t.Fatalf("faulted %v, has a %v: the record that came with the error was not applied", faulted.Load(), tbl.Has("a"))
	}
	// The table caught up with that batch; the error is handled after it.
	eventually(t, "the fault counted", func() bool { return tbl.Stats().Retries == 1 })
	appendRec(t, c, topic, 0, []byte("b"), []byte("2"))
	if err := tbl.Barrier(ctx); err != nil || !tbl.Has("b") {
		t.Fatalf("after the fault: barrier %v, has b %v", err, tbl.Has("b"))
	}
}

// startsFrom0 answers the first StartOffsets with 0 for every partition,
// as a broker would just before retention moved the log start.
type startsFrom0 struct {
	transport.Transport
	lied atomic.Bool
}

func (s *startsFrom0) StartOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	if s.lied.CompareAndSwap(false, true) {
		out := make(map[int32]int64, len(parts))
		for _, p := range parts {
			out[p] = 0
		}
		return out, nil
	}
	return s.Transport.StartOffsets(ctx, topic, parts)
}

// SPEC X3, R5 (ADR 7): a position that fell below the log start between
// reading offsets and fetching is reported by the transport and moved to
// the log start by the core, which reaches the end.
func TestOutOfRangeMovesToLogStart(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	for _, k := range []string{"a", "b", "c", "d"} {
		appendRec(t, c, topic, 0, []byte(k), []byte(k))
	}
	if err := c.DeleteRecordsBefore(topic, 0, 2); err != nil {
		t.Fatal(err)
	}
	tbl := openBytes(t, ctx, &startsFrom0{Transport: c.Transport()}, topic)
	if got := slices.Sorted(maps.Keys(tbl.Snapshot())); !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("keys %v, want [c d] (read from the log start)", got)
	}
	if st := tbl.Stats(); st.Retries != 0 {
		t.Fatalf("Retries = %d: moving an out-of-range position is not a fault", st.Retries)
	}
}

// unknownOnce makes the first Poll of every fetcher answer "unknown topic"
// while the topic exists, as real Kafka does right after a create.
func unknownOnce(tr transport.Transport, topic string) transport.Transport {
	var done atomic.Bool
	return pollHook{tr, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		if done.CompareAndSwap(false, true) {
			return transport.Batch{}, transport.NewError("fetch", topic, transport.ErrUnknownTopic, nil)
		}
		return f.Poll(ctx)
	}}
}

// SPEC X3, X6 (ADR 7): an unknown-topic fetch error is fatal only when the
// topic's metadata confirms it is gone; while the topic exists it is
// metadata lag and retried.
func TestUnknownTopicConfirmedByTheCore(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	appendRec(t, c, topic, 0, []byte("a"), []byte("1"))
	tbl := openBytes(t, ctx, unknownOnce(c.Transport(), topic), topic)
	if !tbl.Has("a") || tbl.Err() != nil {
		t.Fatalf("has a %v, err %v: an unconfirmed unknown topic failed the table", tbl.Has("a"), tbl.Err())
	}
	if got := tbl.Stats().Retries; got != 1 {
		t.Fatalf("Retries = %d, want 1", got)
	}
}
