package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ktables/ktables/transport"
)

// TransportCases returns the cases of the transport contract (SPEC 11, and
// the record rules of SPEC 2 as a transport must keep them).
func TransportCases() []Case {
	return append([]Case{
		{Name: "X1/partitions_of_new_topic", Clause: "X1", run: partitionsOfNewTopic},
		{Name: "X1/unknown_topic_is_typed_error", Clause: "X1", run: unknownTopicPartitions},
		{Name: "X2/offsets_of_unknown_topic_are_typed_errors", Clause: "X2", run: unknownTopicOffsets},
		{Name: "X2/offsets_of_empty_topic", Clause: "X2", run: offsetsOfEmptyTopic},
		{Name: "X2/offsets_after_produce", Clause: "X2", run: offsetsAfterProduce},
		{Name: "X2/offsets_not_delayed_by_long_poll", Clause: "X2", run: offsetsNotDelayedByLongPoll},
		{Name: "X3/fetch_returns_records_in_offset_order", Clause: "X3", run: fetchInOrder},
		{Name: "X3/fetch_keeps_key_value_headers_timestamp", Clause: "X3", run: fetchKeepsFields},
		{Name: "X3/fetch_from_a_middle_position", Clause: "X3", run: fetchFromMiddle},
		{Name: "X3/fetch_many_records", Clause: "X3", run: fetchMany},
		{Name: "X3/long_poll_returns_early_when_a_record_arrives", Clause: "X3", run: longPollEarly},
		{Name: "X3/long_poll_returns_empty_after_max_wait", Clause: "X3", run: longPollEmpty},
		{Name: "X3/poll_honours_context_cancellation", Clause: "X3", run: pollHonoursCancel},
		{Name: "X3/poll_with_done_context_returns_its_error", Clause: "X3", run: pollDoneContext},
		{Name: "X3/fetcher_close_ends_poll", Clause: "X3", run: fetcherCloseEndsPoll},
		{Name: "X3/assign_adds_a_partition_mid_session", Clause: "X3", run: assignAddsPartition},
		{Name: "X3/assign_moves_a_position", Clause: "X3", run: assignMovesPosition},
		{Name: "X3/out_of_range_is_reported_not_reset", Clause: "X3", run: outOfRangeReported},
		{Name: "X3/records_and_error_in_one_poll", Clause: "X3", run: recordsWithError},
		{Name: "R1/nil_value_is_a_tombstone_both_ways", Clause: "R1", run: nilValueRoundTrip},
		{Name: "R1/empty_value_is_data_both_ways", Clause: "R1", run: emptyValueRoundTrip},
		{Name: "R2/keyless_record_has_nil_key", Clause: "R2", run: keylessRoundTrip},
		{Name: "R2/empty_key_stays_empty", Clause: "R2", run: emptyKeyRoundTrip},
		{Name: "R4/fetch_moves_past_compaction_holes", Clause: "R4", Requires: []Feature{FeatureCompactionControl}, run: fetchPastCompactionHoles},
		{Name: "R4/fetch_moves_past_commit_markers", Clause: "R4", Requires: []Feature{FeatureTransactions}, run: fetchPastCommitMarkers},
		{Name: "R4/fetch_skips_aborted_records", Clause: "R4", Requires: []Feature{FeatureTransactions}, run: fetchSkipsAborted},
		{Name: "X4/produce_offsets_increase", Clause: "X4", run: produceOffsetsIncrease},
		{Name: "X4/produce_to_explicit_partition", Clause: "X4", run: produceExplicitPartition},
		{Name: "X4/concurrent_produce_offsets_unique_and_increasing", Clause: "X4", run: concurrentProduce},
		{Name: "X5/create_topic_twice_is_typed_error", Clause: "X5", run: createTopicTwice},
		{Name: "X5/describe_lists_overrides", Clause: "X5", Requires: []Feature{FeatureTopicConfig}, run: describeOverrides},
		{Name: "X5/alter_preserves_other_overrides", Clause: "X5", Requires: []Feature{FeatureTopicConfig}, run: alterPreserves},
		{Name: "X5/describe_unknown_topic_is_typed_error", Clause: "X5", Requires: []Feature{FeatureTopicConfig}, run: describeUnknownTopic},
		{Name: "X5/create_partitions_grows_topic", Clause: "X5", Requires: []Feature{FeatureCreatePartitions}, run: createPartitions},
		{Name: "X6/unknown_topic_is_fatal", Clause: "X6", run: unknownTopicFatal},
		{Name: "X6/context_errors_are_not_wrapped_away", Clause: "X6", run: contextErrorsKept},
		{Name: "X6/injected_faults_are_classified", Clause: "X6", Requires: []Feature{FeatureFaultInjection}, Serial: true, run: injectedFaultsClassified},
		{Name: "X7/close_releases_and_calls_fail_after", Clause: "X7", run: closeReleases},
		{Name: "X7/clients_share_the_cluster", Clause: "X7", Requires: []Feature{FeatureSecondProcess}, run: clientsShareCluster},
	}, freshnessTransportCases()...)
}

func partitionsOfNewTopic(e *env) {
	topic := e.newTopic(5, nil)
	parts, err := e.tr.Partitions(e.ctx, topic)
	if err != nil {
		e.Fatalf("Partitions: %v", err)
	}
	if want := partitionIDs(5); !slices.Equal(parts, want) {
		e.Errorf("Partitions(new 5-partition topic) = %v, want %v (ascending)", parts, want)
	}
}

func unknownTopicPartitions(e *env) {
	_, err := e.tr.Partitions(e.ctx, e.topic())
	if !errors.Is(err, transport.ErrUnknownTopic) {
		e.Errorf("Partitions(missing topic) error = %v, want one matching transport.ErrUnknownTopic", err)
	}
}

func unknownTopicOffsets(e *env) {
	topic := e.topic()
	if _, err := e.tr.EndOffsets(e.ctx, topic, []int32{0}); !errors.Is(err, transport.ErrUnknownTopic) {
		e.Errorf("EndOffsets(missing topic) error = %v, want one matching transport.ErrUnknownTopic", err)
	}
	if _, err := e.tr.StartOffsets(e.ctx, topic, []int32{0}); !errors.Is(err, transport.ErrUnknownTopic) {
		e.Errorf("StartOffsets(missing topic) error = %v, want one matching transport.ErrUnknownTopic", err)
	}
}

func offsetsOfEmptyTopic(e *env) {
	topic := e.newTopic(3, nil)
	parts := partitionIDs(3)
	start, end := e.startOffsets(e.tr, topic, parts), e.endOffsets(e.tr, topic, parts)
	for _, p := range parts {
		if start[p] != 0 || end[p] != 0 {
			e.Errorf("new topic partition %d: start %d, end %d; want 0 and 0", p, start[p], end[p])
		}
	}
	if len(start) != 3 || len(end) != 3 {
		e.Errorf("asked offsets of 3 partitions, got start %v, end %v", start, end)
	}
}

func offsetsAfterProduce(e *env) {
	topic := e.newTopic(3, nil)
	parts := partitionIDs(3)
	for i := range 7 {
		e.produce(e.tr, topic, transport.Record{Partition: 1, Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	e.produce(e.tr, topic, transport.Record{Partition: 2, Key: []byte("x"), Value: []byte("v")})
	start, end := e.startOffsets(e.tr, topic, parts), e.endOffsets(e.tr, topic, parts)
	want := map[int32]int64{0: 0, 1: 7, 2: 1}
	for _, p := range parts {
		if start[p] != 0 {
			e.Errorf("partition %d: log start %d, want 0 (nothing was deleted)", p, start[p])
		}
		if end[p] != want[p] {
			e.Errorf("partition %d: end offset %d after %d acked produces, want %d", p, end[p], want[p], want[p])
		}
	}
}

// offsetsNotDelayedByLongPoll: StartOffsets and EndOffsets on the transport
// whose fetcher is in a long poll must answer in about one round trip.
func offsetsNotDelayedByLongPoll(e *env) {
	topic := e.newTopic(1, nil)
	e.produce(e.tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 1}, e.tu.LongPoll)
	pctx, stop := context.WithCancel(e.ctx)
	polled := make(chan error, 1)
	go func() {
		_, err := f.Poll(pctx)
		polled <- err
	}()
	defer func() {
		stop()
		f.Close()
		<-polled
	}()
	// Measure over a window so the poll is surely in flight for most calls.
	window := e.tu.Prompt / 2
	began := time.Now()
	for n := 0; n < 3 || time.Since(began) < window; n++ {
		for _, call := range []struct {
			name string
			fn   func(context.Context, string, []int32) (map[int32]int64, error)
		}{{"EndOffsets", e.tr.EndOffsets}, {"StartOffsets", e.tr.StartOffsets}} {
			ctx, cancel := context.WithTimeout(e.ctx, e.tu.Prompt)
			t0 := time.Now()
			m, err := call.fn(ctx, topic, []int32{0})
			took := time.Since(t0)
			cancel()
			if err != nil {
				e.Fatalf("%s during another goroutine's %s long poll on the same transport: %v after %s (must not wait behind the fetch)",
					call.name, e.tu.LongPoll, err, took.Round(time.Millisecond))
			}
			if took >= e.tu.Prompt {
				e.Fatalf("%s took %s during a %s long poll on the same transport, want < %s", call.name, took.Round(time.Millisecond), e.tu.LongPoll, e.tu.Prompt)
			}
			if call.name == "EndOffsets" && m[0] != 1 {
				e.Errorf("EndOffsets = %v, want map[0:1]", m)
			}
		}
	}
	select {
	case err := <-polled:
		// Allowed (a poll may return empty early), but then the window
		// above may not have overlapped a long poll.
		e.t.Logf("note: Poll with nothing to fetch and a %s max wait returned within %s (%v); the measurement may not have overlapped a long poll",
			e.tu.LongPoll, time.Since(began).Round(time.Millisecond), err)
	default:
	}
}

func fetchInOrder(e *env) {
	topic := e.newTopic(2, nil)
	offs := map[int32][]int64{}
	for i := range 20 {
		p := int32(i % 2)
		off := e.produce(e.tr, topic, transport.Record{Partition: p, Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
		offs[p] = append(offs[p], off)
	}
	from := map[int32]int64{0: 0, 1: 0}
	end := e.endOffsets(e.tr, topic, []int32{0, 1})
	f := e.newFetcher(e.tr, topic, from, 200*time.Millisecond)
	recs, next := e.drain(f, from, end)
	got := map[int32][]int64{}
	for _, r := range recs {
		got[r.Partition] = append(got[r.Partition], r.Offset)
		var idx int
		if _, err := fmt.Sscanf(string(r.Key), "k%d", &idx); err != nil || string(r.Value) != fmt.Sprintf("v%d", idx) {
			e.Errorf("record at %d/%d has key %q value %q: not what was produced", r.Partition, r.Offset, r.Key, r.Value)
		} else if int32(idx%2) != r.Partition {
			e.Errorf("record %q produced to partition %d was fetched from partition %d", r.Key, idx%2, r.Partition)
		}
	}
	for _, p := range []int32{0, 1} {
		if !slices.Equal(got[p], offs[p]) {
			e.Errorf("partition %d: fetched offsets %v, want the produced ones in order %v", p, got[p], offs[p])
		}
		if next[p] != end[p] {
			e.Errorf("partition %d: final position %d, want the end offset %d", p, next[p], end[p])
		}
	}
}

func fetchKeepsFields(e *env) {
	topic := e.newTopic(1, nil)
	ts := time.UnixMilli(1_700_000_000_123)
	in := transport.Record{
		Key:   []byte("key\x00bin\xff"),
		Value: []byte("value\x00\xfe"),
		Headers: []transport.Header{
			{Key: "trace", Value: []byte("abc")},
			{Key: "dup", Value: []byte("1")},
			{Key: "empty", Value: []byte{}},
			{Key: "dup", Value: []byte("2")},
		},
		Timestamp: ts,
	}
	off := e.produce(e.tr, topic, in)
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: off}, 200*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{0: off}, map[int32]int64{0: off + 1})
	if len(recs) != 1 {
		e.Fatalf("fetched %d records, want 1", len(recs))
	}
	r := recs[0]
	if r.Offset != off || r.Partition != 0 {
		e.Errorf("record at %d/%d, want 0/%d", r.Partition, r.Offset, off)
	}
	if !bytes.Equal(r.Key, in.Key) || !bytes.Equal(r.Value, in.Value) {
		e.Errorf("key/value = %q/%q, want %q/%q", r.Key, r.Value, in.Key, in.Value)
	}
	if !r.Timestamp.Equal(ts) {
		e.Errorf("timestamp = %s, want %s (millisecond precision kept)", r.Timestamp, ts)
	}
	if len(r.Headers) != len(in.Headers) {
		e.Fatalf("headers = %v, want %v (order and duplicates kept)", r.Headers, in.Headers)
	}
	for i, h := range r.Headers {
		if h.Key != in.Headers[i].Key || !bytes.Equal(h.Value, in.Headers[i].Value) {
			e.Errorf("header %d = %q:%q, want %q:%q (order and duplicates kept)", i, h.Key, h.Value, in.Headers[i].Key, in.Headers[i].Value)
		}
	}
}

func fetchFromMiddle(e *env) {
	topic := e.newTopic(1, nil)
	for i := range 10 {
		e.produce(e.tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 6}, 200*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{0: 6}, map[int32]int64{0: 10})
	var got []int64
	for _, r := range recs {
		got = append(got, r.Offset)
	}
	if want := []int64{6, 7, 8, 9}; !slices.Equal(got, want) {
		e.Errorf("fetch from position 6 returned offsets %v, want %v", got, want)
	}
}

func fetchMany(e *env) {
	topic := e.newTopic(1, nil)
	const n = 600
	value := bytes.Repeat([]byte("x"), 1000)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				if _, err := e.tr.Produce(e.ctx, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", i), Value: value}); err != nil {
					e.ErrorfAt("X4", "Produce: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if e.t.Failed() {
		return
	}
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 200*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{0: 0}, map[int32]int64{0: n})
	if len(recs) != n {
		e.Errorf("fetched %d records of %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Offset != int64(i) {
			e.Fatalf("record %d has offset %d: records lost, repeated or out of order", i, r.Offset)
		}
	}
}

func longPollEarly(e *env) {
	topic := e.newTopic(1, nil)
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, e.tu.LongPoll)
	type result struct {
		b   transport.Batch
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		b, err := f.Poll(e.ctx)
		done <- result{b, err, time.Now()}
	}()
	produced := time.Now()
	e.produce(e.tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	var r result
	select {
	case r = <-done:
	case <-e.ctx.Done():
		e.Fatalf("Poll did not return")
	}
	if r.err != nil {
		e.Fatalf("Poll: %v", r.err)
	}
	if took := r.at.Sub(produced); took >= e.tu.LongPoll/2 {
		e.Errorf("Poll (max wait %s) returned %s after a record arrived: a long poll must return when data arrives", e.tu.LongPoll, took.Round(time.Millisecond))
	}
	if len(r.b.Records) != 1 || string(r.b.Records[0].Key) != "k" {
		e.Errorf("Poll returned %d records %v, want the one produced", len(r.b.Records), r.b.Records)
	}
}

func longPollEmpty(e *env) {
	topic := e.newTopic(1, nil)
	const wait = 200 * time.Millisecond
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, wait)
	// A first poll may only set the session up; the contract is about the
	// steady state, so take the second.
	for i := range 2 {
		t0 := time.Now()
		b, err := f.Poll(e.ctx)
		took := time.Since(t0)
		if err != nil {
			e.Fatalf("Poll %d on an empty topic: %v, want an empty batch and no error", i+1, err)
		}
		if len(b.Records) != 0 {
			e.Fatalf("Poll on an empty topic returned %d records", len(b.Records))
		}
		if i == 1 && (took < wait/2 || took > wait+e.tu.Prompt*2) {
			e.Errorf("Poll with max wait %s and nothing to fetch took %s, want about %s", wait, took.Round(time.Millisecond), wait)
		}
	}
}

func pollHonoursCancel(e *env) {
	topic := e.newTopic(1, nil)
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 2*e.tu.LongPoll)
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		_, err := f.Poll(ctx)
		done <- err
	}()
	// Let the poll settle into its wait; the window only adds confidence.
	select {
	case err := <-done:
		e.Fatalf("Poll with nothing to fetch returned at once: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	t0 := time.Now()
	select {
	case err := <-done:
		if took := time.Since(t0); took >= e.tu.Prompt {
			e.Errorf("Poll returned %s after its context was cancelled, want < %s", took.Round(time.Millisecond), e.tu.Prompt)
		}
		if !errors.Is(err, context.Canceled) {
			e.Errorf("Poll after cancel returned %v, want an error matching context.Canceled", err)
		}
	case <-time.After(e.tu.Prompt):
		e.Fatalf("Poll (max wait %s) did not return within %s of its context being cancelled", 2*e.tu.LongPoll, e.tu.Prompt)
	}
}

func pollDoneContext(e *env) {
	topic := e.newTopic(1, nil)
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, e.tu.LongPoll)
	ctx, cancel := context.WithTimeout(e.ctx, time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	t0 := time.Now()
	_, err := f.Poll(ctx)
	if took := time.Since(t0); took >= e.tu.Prompt {
		e.Errorf("Poll with an expired context took %s, want < %s", took.Round(time.Millisecond), e.tu.Prompt)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		e.Errorf("Poll with an expired context returned %v, want an error matching context.DeadlineExceeded", err)
	}
}

func fetcherCloseEndsPoll(e *env) {
	topic := e.newTopic(1, nil)
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 2*e.tu.LongPoll)
	done := make(chan error, 1)
	go func() {
		_, err := f.Poll(e.ctx)
		done <- err
	}()
	select {
	case err := <-done:
		e.Fatalf("Poll with nothing to fetch returned at once: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	t0 := time.Now()
	if err := f.Close(); err != nil {
		e.Errorf("Fetcher.Close: %v", err)
	}
	select {
	case <-done:
		if took := time.Since(t0); took >= e.tu.Prompt {
			e.Errorf("Poll returned %s after Close, want < %s", took.Round(time.Millisecond), e.tu.Prompt)
		}
	case <-time.After(e.tu.Prompt):
		e.Fatalf("a Poll in flight did not return within %s of Fetcher.Close", e.tu.Prompt)
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.tu.Prompt)
	defer cancel()
	if _, err := f.Poll(ctx); !errors.Is(err, transport.ErrClosed) {
		e.Errorf("Poll after Close returned %v, want an error matching transport.ErrClosed", err)
	}
}

func assignAddsPartition(e *env) {
	topic := e.newTopic(2, nil)
	e.produce(e.tr, topic, transport.Record{Partition: 0, Key: []byte("a"), Value: []byte("0")})
	e.produce(e.tr, topic, transport.Record{Partition: 1, Key: []byte("b"), Value: []byte("1")})
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 100*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{0: 0}, map[int32]int64{0: 1})
	for _, r := range recs {
		if r.Partition != 0 {
			e.Errorf("fetcher assigned only partition 0 returned a record of partition %d", r.Partition)
		}
	}
	if err := f.Assign(map[int32]int64{1: 0}); err != nil {
		e.Fatalf("Assign(partition 1 at 0): %v", err)
	}
	e.produce(e.tr, topic, transport.Record{Partition: 0, Key: []byte("c"), Value: []byte("2")})
	recs, _ = e.drain(f, map[int32]int64{0: 1, 1: 0}, map[int32]int64{0: 2, 1: 1})
	got := map[string]int32{}
	for _, r := range recs {
		got[string(r.Key)] = r.Partition
	}
	if p, ok := got["b"]; !ok || p != 1 {
		e.Errorf("after Assign, records %v: want b from partition 1", got)
	}
	if p, ok := got["c"]; !ok || p != 0 {
		e.Errorf("after Assign, records %v: want c from partition 0 (partitions fetched before keep going)", got)
	}
}

func assignMovesPosition(e *env) {
	topic := e.newTopic(1, nil)
	for i := range 5 {
		e.produce(e.tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 100*time.Millisecond)
	e.drain(f, map[int32]int64{0: 0}, map[int32]int64{0: 5})
	if err := f.Assign(map[int32]int64{0: 2}); err != nil {
		e.Fatalf("Assign(partition 0 back to 2): %v", err)
	}
	recs, _ := e.drain(f, map[int32]int64{0: 2}, map[int32]int64{0: 5})
	var got []int64
	for _, r := range recs {
		got = append(got, r.Offset)
	}
	if !slices.Equal(got, []int64{2, 3, 4}) {
		e.Errorf("after moving partition 0 back to 2, fetched offsets %v, want [2 3 4]", got)
	}
}

// roundTrip produces in and fetches it back.
func (e *env) roundTrip(in transport.Record) transport.Record {
	e.t.Helper()
	topic := e.newTopic(1, nil)
	off := e.produce(e.tr, topic, in)
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: off}, 100*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{0: off}, map[int32]int64{0: off + 1})
	if len(recs) != 1 {
		e.Fatalf("fetched %d records, want the 1 produced", len(recs))
	}
	return recs[0]
}

func nilValueRoundTrip(e *env) {
	r := e.roundTrip(transport.Record{Key: []byte("k"), Value: nil})
	if r.Value != nil {
		e.Errorf("a produced nil value (tombstone) was fetched as %#v, want nil", r.Value)
	}
}

func emptyValueRoundTrip(e *env) {
	r := e.roundTrip(transport.Record{Key: []byte("k"), Value: []byte{}})
	if r.Value == nil {
		e.Errorf("a produced empty value was fetched as nil: empty is data, nil a tombstone; keep them apart in both directions")
	} else if len(r.Value) != 0 {
		e.Errorf("a produced empty value was fetched as %q", r.Value)
	}
}

func keylessRoundTrip(e *env) {
	r := e.roundTrip(transport.Record{Key: nil, Value: []byte("v")})
	if r.Key != nil {
		e.Errorf("a keyless record was fetched with key %#v, want nil", r.Key)
	}
	if string(r.Value) != "v" {
		e.Errorf("keyless record value = %q, want %q", r.Value, "v")
	}
}

func emptyKeyRoundTrip(e *env) {
	r := e.roundTrip(transport.Record{Key: []byte{}, Value: []byte("v")})
	if r.Key == nil {
		e.Errorf("a record with an empty key was fetched with a nil key: the empty string is a valid table key, nil means keyless")
	}
}

func fetchPastCompactionHoles(e *env) {
	c := e.h.(Compactor)
	topic := e.newTopic(1, compacted())
	// "keep" stays at offset 0, so the holes compaction leaves are inside
	// the log, not only before its start.
	e.produce(e.tr, topic, transport.Record{Key: []byte("keep"), Value: []byte("kept")})
	last := map[string]string{"keep": "kept"}
	for i := range 12 {
		k := fmt.Sprintf("k%d", i%3)
		v := fmt.Sprintf("v%d", i)
		e.produce(e.tr, topic, transport.Record{Key: []byte(k), Value: []byte(v)})
		last[k] = v
	}
	e.produce(e.tr, topic, transport.Record{Key: []byte("k0"), Value: []byte("final")})
	last["k0"] = "final"
	if err := c.Compact(e.ctx, topic); err != nil {
		e.harnessFatalf("Compact(%q): %v", topic, err)
	}
	start := e.startOffsets(e.tr, topic, []int32{0})
	end := e.endOffsets(e.tr, topic, []int32{0})
	if end[0] != 14 {
		e.ErrorfAt("X2", "end offset after compaction = %d, want 14 (compaction never moves the high watermark)", end[0])
	}
	f := e.newFetcher(e.tr, topic, start, 100*time.Millisecond)
	recs, next := e.drain(f, start, end)
	got := map[string]string{}
	prev, gaps := start[0]-1, false
	for _, r := range recs {
		if r.Offset <= prev {
			e.Errorf("offsets not increasing after compaction: %d after %d", r.Offset, prev)
		}
		gaps = gaps || r.Offset != prev+1
		prev = r.Offset
		got[string(r.Key)] = string(r.Value)
	}
	gaps = gaps || start[0] > 0
	if !gaps {
		e.harnessFatalf("Compact left no hole in the offsets (records %d), so the case proves nothing", len(recs))
	}
	for k, v := range last {
		if got[k] != v {
			e.Errorf("after compaction, key %q last read as %q, want its latest value %q", k, got[k], v)
		}
	}
	if next[0] != end[0] {
		e.Errorf("position after the compacted log = %d, want the end offset %d", next[0], end[0])
	}
}

func fetchPastCommitMarkers(e *env) {
	tx := e.h.(Transactor)
	topic := e.newTopic(1, nil)
	recs := []transport.Record{
		{Key: []byte("a"), Value: []byte("1")},
		{Key: []byte("b"), Value: []byte("2")},
	}
	if err := tx.ProduceTransaction(e.ctx, topic, recs, true); err != nil {
		e.harnessFatalf("ProduceTransaction(commit): %v", err)
	}
	end := e.endOffsets(e.tr, topic, []int32{0})
	if end[0] < 3 {
		e.ErrorfAt("X2", "end offset %d after a committed transaction of 2 records, want ≥ 3 (the commit marker takes an offset)", end[0])
	}
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 100*time.Millisecond)
	got, next := e.drain(f, map[int32]int64{0: 0}, end)
	var keys []string
	for _, r := range got {
		keys = append(keys, string(r.Key))
	}
	if !slices.Equal(keys, []string{"a", "b"}) {
		e.Errorf("committed transaction fetched as keys %v, want [a b] (control records are never delivered)", keys)
	}
	if next[0] != end[0] {
		e.Errorf("position %d after a trailing commit marker, want the end offset %d", next[0], end[0])
	}
}

func fetchSkipsAborted(e *env) {
	tx := e.h.(Transactor)
	topic := e.newTopic(1, nil)
	aborted := []transport.Record{{Key: []byte("gone"), Value: []byte("x")}, {Key: []byte("gone2"), Value: []byte("y")}}
	if err := tx.ProduceTransaction(e.ctx, topic, aborted, false); err != nil {
		e.harnessFatalf("ProduceTransaction(abort): %v", err)
	}
	end := e.endOffsets(e.tr, topic, []int32{0})
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 100*time.Millisecond)
	got, next := e.drain(f, map[int32]int64{0: 0}, end)
	for _, r := range got {
		e.Errorf("record %q of an aborted transaction was delivered at offset %d (read committed only)", r.Key, r.Offset)
	}
	if next[0] != end[0] {
		e.Errorf("position %d after an aborted batch, want the end offset %d", next[0], end[0])
	}
	off := e.produce(e.tr, topic, transport.Record{Key: []byte("after"), Value: []byte("z")})
	got, _ = e.drain(f, next, map[int32]int64{0: off + 1})
	if len(got) != 1 || string(got[0].Key) != "after" {
		e.Errorf("after the aborted batch, fetched %v, want the one record produced after it", got)
	}
}

func produceOffsetsIncrease(e *env) {
	topic := e.newTopic(1, nil)
	var offs []int64
	for i := range 10 {
		offs = append(offs, e.produce(e.tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")}))
	}
	for i := 1; i < len(offs); i++ {
		if offs[i] <= offs[i-1] {
			e.Errorf("sequential produces returned offsets %v: not strictly increasing", offs)
			break
		}
	}
	end := e.endOffsets(e.tr, topic, []int32{0})
	if end[0] <= offs[len(offs)-1] {
		e.Errorf("end offset %d does not include the last acked offset %d: Produce must return after the ack", end[0], offs[len(offs)-1])
	}
}

func produceExplicitPartition(e *env) {
	topic := e.newTopic(4, nil)
	off := e.produce(e.tr, topic, transport.Record{Partition: 2, Key: []byte("here"), Value: []byte("v")})
	end := e.endOffsets(e.tr, topic, partitionIDs(4))
	for p, o := range end {
		want := int64(0)
		if p == 2 {
			want = off + 1
		}
		if o != want {
			e.Errorf("after producing to partition 2, partition %d end offset = %d, want %d", p, o, want)
		}
	}
	f := e.newFetcher(e.tr, topic, map[int32]int64{2: off}, 100*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{2: off}, map[int32]int64{2: off + 1})
	if len(recs) != 1 || recs[0].Partition != 2 || string(recs[0].Key) != "here" {
		e.Errorf("fetched %v from partition 2, want the record produced there", recs)
	}
}

func concurrentProduce(e *env) {
	topic := e.newTopic(2, nil)
	const producers, each = 64, 8
	type ack struct {
		p   int32
		off int64
	}
	acks := make([][]ack, producers)
	var wg sync.WaitGroup
	for g := range producers {
		wg.Go(func() {
			for i := range each {
				p := int32(g % 2)
				off, err := e.tr.Produce(e.ctx, topic, transport.Record{Partition: p, Key: fmt.Appendf(nil, "g%d-%d", g, i), Value: []byte("v")})
				if err != nil {
					e.Errorf("concurrent Produce: %v", err)
					return
				}
				acks[g] = append(acks[g], ack{p, off})
			}
		})
	}
	wg.Wait()
	if e.t.Failed() {
		return
	}
	seen := map[ack]bool{}
	for g, as := range acks {
		for i, a := range as {
			if seen[a] {
				e.Errorf("offset %d of partition %d was returned to two produces", a.off, a.p)
			}
			seen[a] = true
			if i > 0 && a.off <= as[i-1].off {
				e.Errorf("producer %d: offsets %v then %v: one goroutine's produces to a partition must get increasing offsets", g, as[i-1], a)
			}
		}
	}
	end := e.endOffsets(e.tr, topic, []int32{0, 1})
	if got := end[0] + end[1]; got != producers*each {
		e.Errorf("end offsets %v sum to %d, want %d produced records", end, got, producers*each)
	}
}

func createTopicTwice(e *env) {
	topic := e.newTopic(1, nil)
	err := e.tr.CreateTopic(e.ctx, transport.TopicSpec{Name: topic, Partitions: 1})
	if !errors.Is(err, transport.ErrTopicExists) {
		e.Errorf("CreateTopic of an existing topic = %v, want an error matching transport.ErrTopicExists", err)
	}
}

// configsOf describes topic, returning the value and source per name.
func (e *env) configsOf(topic string) map[string]transport.ConfigEntry {
	e.t.Helper()
	tc, ok := e.tr.(transport.TopicConfigurer)
	if !ok {
		e.harnessFatalf("Features.TopicConfig is set but %T does not implement transport.TopicConfigurer", e.tr)
	}
	entries, err := tc.DescribeTopicConfig(e.ctx, topic)
	if err != nil {
		e.FatalfAt("X5", "DescribeTopicConfig(%q): %v", topic, err)
	}
	out := map[string]transport.ConfigEntry{}
	for _, c := range entries {
		out[c.Name] = c
	}
	return out
}

func (e *env) wantConfig(cfg map[string]transport.ConfigEntry, name, value string) {
	e.t.Helper()
	c, ok := cfg[name]
	switch {
	case !ok:
		e.Errorf("described config has no %s; want %s=%s as a topic override", name, name, value)
	case c.Value != value || c.Source != transport.SourceTopic:
		e.Errorf("described %s=%q (source %s), want %q (source topic)", name, c.Value, c.Source, value)
	}
}

func describeOverrides(e *env) {
	topic := e.newTopic(1, map[string]string{"cleanup.policy": "compact", "retention.ms": "3600000"})
	cfg := e.configsOf(topic)
	e.wantConfig(cfg, "cleanup.policy", "compact")
	e.wantConfig(cfg, "retention.ms", "3600000")
}

func alterPreserves(e *env) {
	topic := e.newTopic(1, map[string]string{"cleanup.policy": "delete", "retention.ms": "3600000", "segment.ms": "7200000"})
	tc := e.tr.(transport.TopicConfigurer)
	if err := tc.AlterTopicConfig(e.ctx, topic, map[string]string{"cleanup.policy": "compact"}); err != nil {
		e.Fatalf("AlterTopicConfig(cleanup.policy=compact): %v", err)
	}
	// A real cluster applies alters asynchronously.
	var cfg map[string]transport.ConfigEntry
	e.eventually("the altered cleanup.policy is described", func() bool {
		cfg = e.configsOf(topic)
		return cfg["cleanup.policy"].Value == "compact"
	}, func() string { return fmt.Sprintf("cleanup.policy=%q", cfg["cleanup.policy"].Value) })
	e.wantConfig(cfg, "cleanup.policy", "compact")
	e.wantConfig(cfg, "retention.ms", "3600000")
	e.wantConfig(cfg, "segment.ms", "7200000")
}

func describeUnknownTopic(e *env) {
	tc, ok := e.tr.(transport.TopicConfigurer)
	if !ok {
		e.harnessFatalf("Features.TopicConfig is set but %T does not implement transport.TopicConfigurer", e.tr)
	}
	_, err := tc.DescribeTopicConfig(e.ctx, e.topic())
	if !errors.Is(err, transport.ErrUnknownTopic) {
		e.Errorf("DescribeTopicConfig(missing topic) = %v, want an error matching transport.ErrUnknownTopic", err)
	}
}

func createPartitions(e *env) {
	pa, ok := e.tr.(transport.PartitionAdder)
	if !ok {
		e.harnessFatalf("Features.CreatePartitions is set but %T does not implement transport.PartitionAdder", e.tr)
	}
	topic := e.newTopic(2, nil)
	if err := pa.CreatePartitions(e.ctx, topic, 5); err != nil {
		e.Fatalf("CreatePartitions(5): %v", err)
	}
	e.waitPartitions(e.tr, topic, 5)
	off := e.produce(e.tr, topic, transport.Record{Partition: 4, Key: []byte("new"), Value: []byte("v")})
	if off != 0 {
		e.Errorf("first record of a new partition got offset %d, want 0", off)
	}
}

func unknownTopicFatal(e *env) {
	_, err := e.tr.Partitions(e.ctx, e.topic())
	if err == nil {
		e.Fatalf("Partitions(missing topic) succeeded")
	}
	if !transport.IsFatal(err) || transport.IsRetriable(err) {
		e.Errorf("unknown topic error %v: IsFatal=%v IsRetriable=%v, want fatal (a table must fail, not retry forever)", err, transport.IsFatal(err), transport.IsRetriable(err))
	}
	err = e.tr.CreateTopic(e.ctx, transport.TopicSpec{Name: e.newTopic(1, nil), Partitions: 1})
	if !transport.IsFatal(err) {
		e.Errorf("topic-exists error %v is not classified fatal", err)
	}
}

func contextErrorsKept(e *env) {
	topic := e.newTopic(1, nil)
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	checks := []struct {
		name string
		call func() error
	}{
		{"Partitions", func() error { _, err := e.tr.Partitions(ctx, topic); return err }},
		{"EndOffsets", func() error { _, err := e.tr.EndOffsets(ctx, topic, []int32{0}); return err }},
		{"Produce", func() error {
			_, err := e.tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
			return err
		}},
	}
	for _, c := range checks {
		err := c.call()
		// A transport may answer from a cache without looking at ctx, but
		// when it fails it must say it was the context.
		if err != nil && !errors.Is(err, context.Canceled) {
			e.Errorf("%s with a cancelled context returned %v, which hides context.Canceled from errors.Is", c.name, err)
		}
		if err != nil && transport.IsRetriable(err) {
			e.Errorf("%s with a cancelled context returned %v, classified retriable: context errors are the caller's decision", c.name, err)
		}
	}
}

func injectedFaultsClassified(e *env) {
	fi := e.h.(FaultInjector)
	topic := e.newTopic(1, nil)
	defer fi.ClearFaults(context.Background())
	rec := transport.Record{Key: []byte("k"), Value: []byte("v")}
	if err := fi.InjectFault(e.ctx, Fault{Topic: topic, Op: FaultProduce, Times: 1}); err != nil {
		e.harnessFatalf("InjectFault: %v", err)
	}
	_, err := e.tr.Produce(e.ctx, topic, rec)
	if err == nil || !transport.IsRetriable(err) || transport.IsFatal(err) {
		e.Errorf("an injected retriable produce fault came back as %v (IsRetriable=%v): the core would not retry it", err, transport.IsRetriable(err))
	}
	if err := fi.InjectFault(e.ctx, Fault{Topic: topic, Op: FaultProduce, Times: 1, Fatal: true}); err != nil {
		e.harnessFatalf("InjectFault: %v", err)
	}
	_, err = e.tr.Produce(e.ctx, topic, rec)
	if !transport.IsFatal(err) {
		e.Errorf("an injected fatal (authorization) produce fault came back as %v: not classified fatal", err)
	}
	if err != nil && !errors.Is(err, transport.ErrAuthorization) {
		e.Errorf("an injected authorization fault came back as %v, which does not match transport.ErrAuthorization", err)
	}
	e.produce(e.tr, topic, rec) // the faults are used up
}

func closeReleases(e *env) {
	tr := e.newTransport()
	topic := e.topic()
	if err := tr.CreateTopic(e.ctx, transport.TopicSpec{Name: topic, Partitions: 1}); err != nil {
		e.FatalfAt("X5", "CreateTopic: %v", err)
	}
	e.waitPartitions(tr, topic, 1)
	f, err := tr.NewFetcher(e.ctx, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 2 * e.tu.LongPoll})
	if err != nil {
		e.FatalfAt("X3", "NewFetcher: %v", err)
	}
	defer f.Close()
	polled := make(chan error, 1)
	go func() {
		_, err := f.Poll(e.ctx)
		polled <- err
	}()
	select {
	case err := <-polled:
		e.Fatalf("Poll with nothing to fetch returned at once: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	closed := make(chan error, 1)
	go func() { closed <- tr.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			e.Errorf("Close: %v", err)
		}
	case <-time.After(e.tu.Prompt * 2):
		e.Fatalf("Close did not return within %s", e.tu.Prompt*2)
	}
	select {
	case err := <-polled:
		if err == nil {
			e.Errorf("a Poll in flight returned no error when its transport closed")
		}
	case <-time.After(e.tu.Prompt):
		e.Fatalf("a Poll in flight did not return within %s of its transport's Close", e.tu.Prompt)
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Partitions", func(ctx context.Context) error { _, err := tr.Partitions(ctx, topic); return err }},
		{"EndOffsets", func(ctx context.Context) error { _, err := tr.EndOffsets(ctx, topic, []int32{0}); return err }},
		{"Produce", func(ctx context.Context) error {
			_, err := tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
			return err
		}},
		{"Poll", func(ctx context.Context) error { _, err := f.Poll(ctx); return err }},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(e.ctx, 2*e.tu.Prompt)
		t0 := time.Now()
		err := c.call(ctx)
		took := time.Since(t0)
		cancel()
		switch {
		case err == nil:
			e.Errorf("%s after Close succeeded, want an error", c.name)
		case took >= 2*e.tu.Prompt || errors.Is(err, context.DeadlineExceeded):
			e.Errorf("%s after Close took %s (%v): calls on a closed transport must fail at once", c.name, took.Round(time.Millisecond), err)
		}
	}
}

func clientsShareCluster(e *env) {
	topic := e.newTopic(1, nil)
	other := e.newTransport()
	e.waitPartitions(other, topic, 1)
	off := e.produce(other, topic, transport.Record{Key: []byte("from-other"), Value: []byte("v")})
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0}, 100*time.Millisecond)
	recs, _ := e.drain(f, map[int32]int64{0: 0}, map[int32]int64{0: off + 1})
	if len(recs) != 1 || string(recs[0].Key) != "from-other" {
		e.Errorf("a record produced by a second client was fetched as %v", recs)
	}
	if err := other.Close(); err != nil {
		e.Errorf("Close of the second client: %v", err)
	}
	// Closing one client must not end another (each process owns its own).
	e.produce(e.tr, topic, transport.Record{Key: []byte("still"), Value: []byte("v")})
}

// outOfRangeReported: a position past the end of the log is reported as
// ErrOffsetOutOfRange naming the partition, retriable, and the fetcher
// does not move it on its own; Assign does (ADR 7).
func outOfRangeReported(e *env) {
	topic := e.newTopic(1, nil)
	for i := range 2 {
		e.produce(e.tr, topic, transport.Record{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	from := map[int32]int64{0: 10}
	f := e.newFetcher(e.tr, topic, from, 100*time.Millisecond)
	for {
		b, err := f.Poll(e.ctx)
		if len(b.Records) > 0 || len(b.Next) > 0 {
			e.Fatalf("a position past the end (10 of 2) delivered %d records and moved to %v: the fetcher reset it on its own instead of reporting ErrOffsetOutOfRange", len(b.Records), b.Next)
		}
		if err == nil {
			if e.ctx.Err() != nil {
				e.Fatalf("a position past the end was never reported")
			}
			continue
		}
		te, ok := errors.AsType[*transport.Error](err)
		if !errors.Is(err, transport.ErrOffsetOutOfRange) || !ok || !slices.Equal(te.Partitions, []int32{0}) {
			e.Fatalf("Poll at a position past the end: %v, want an error matching ErrOffsetOutOfRange with Partitions [0]", err)
		}
		if !transport.IsRetriable(err) {
			e.Errorf("out-of-range error %v is not retriable: the core resolves it", err)
		}
		break
	}
	if err := f.Assign(map[int32]int64{0: 0}); err != nil {
		e.Fatalf("Assign after out of range: %v", err)
	}
	recs, _ := e.drain(f, map[int32]int64{0: 0}, map[int32]int64{0: 2})
	if len(recs) != 2 {
		e.Errorf("after Assign to 0, fetched %d records, want 2", len(recs))
	}
}

// recordsWithError: a Poll that has records for one partition and an
// error for another returns both, as io.Reader does, instead of holding the
// error back for a later Poll. Both partitions have one leader on the
// suite's single-broker clusters, so one fetch answers both.
func recordsWithError(e *env) {
	topic := e.newTopic(2, nil)
	for i := range 3 {
		e.produce(e.tr, topic, transport.Record{Partition: 0, Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	f := e.newFetcher(e.tr, topic, map[int32]int64{0: 0, 1: 5}, 100*time.Millisecond)
	var got int
	for got < 3 {
		b, err := f.Poll(e.ctx)
		if len(b.Next) > 0 && b.Next[1] != 0 {
			e.Errorf("the out-of-range partition 1 moved to %d on its own", b.Next[1])
		}
		got += len(b.Records)
		switch {
		case err == nil && len(b.Records) > 0:
			e.Fatalf("Poll returned %d records of partition 0 without the out-of-range error of partition 1 that the same fetch answered: errors must come with the records, not after them", len(b.Records))
		case err == nil:
			if e.ctx.Err() != nil {
				e.Fatalf("nothing fetched")
			}
			continue
		case !errors.Is(err, transport.ErrOffsetOutOfRange):
			e.Fatalf("Poll: %v, want ErrOffsetOutOfRange for partition 1", err)
		case len(b.Records) > 0:
			return // records and the error together
		}
	}
}
