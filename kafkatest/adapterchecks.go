package kafkatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// RunAdapterChecks checks, over the wire, what every Kafka adapter must do
// beyond the conformance suite and RunReliability: details the suite does
// not pin down or cannot reach without steering the broker (kfake faults,
// DeleteRecords, read-uncommitted transactions, goroutine counts). Each
// adapter calls it once; its own tests keep only what is specific to its
// client (native error types, configuration, NewFromClient, quirks).
//
// Each check's name starts with the docs/SPEC.md clause it checks. a.Open
// is required; a check that needs a nil optional field (OpenIsolation,
// OpenSASL with SASLMechanism, NativeCode) skips, naming it. Checks that
// steer the broker skip when KTABLES_BROKERS selects an external cluster.
func RunAdapterChecks(t *testing.T, a Adapter) {
	if a.Open == nil {
		t.Fatal("kafkatest: Adapter.Open is required")
	}
	t.Run("R1/round_trip_keeps_nil_empty_headers_timestamps", func(t *testing.T) { checkRoundTrip(t, a) })
	t.Run("X4/explicit_partition_honoured_missing_one_retriable", func(t *testing.T) { checkExplicitPartition(t, a) })
	t.Run("R5/fetch_below_log_start_after_compaction", func(t *testing.T) { checkBelowStartCompacted(t, a) })
	t.Run("R5/fetch_below_log_start_with_nothing_after", func(t *testing.T) { checkBelowStartDeleted(t, a) })
	t.Run("R4/transactions_by_isolation_level", func(t *testing.T) { checkTransactions(t, a) })
	t.Run("L4/assign_partition_created_after_fetcher", func(t *testing.T) { checkAssignNewPartition(t, a) })
	t.Run("X3/fetcher_starts_empty_and_fails_after_close", func(t *testing.T) { checkFetcherEmptyThenClosed(t, a) })
	t.Run("X3/poll_cut_short_loses_nothing", func(t *testing.T) { checkPollCutShort(t, a) })
	t.Run("X6/fetch_errors_classified", func(t *testing.T) { checkFetchErrors(t, a) })
	t.Run("X6/broker_errors_keep_kind_and_native_code", func(t *testing.T) { checkErrorMapping(t, a) })
	t.Run("X7/closed_transport_calls_fail_with_err_closed", func(t *testing.T) { checkClosed(t, a) })
	t.Run("X7/no_goroutine_leaks", func(t *testing.T) { checkNoLeaks(t, a) })
	t.Run("X8/wrong_sasl_password_fails_every_call", func(t *testing.T) { checkWrongSASL(t, a) })
	t.Run("X3/unreachable_brokers_calls_honour_context", func(t *testing.T) { checkUnreachable(t, a) })
	t.Run("W4/defaults_acks_all_no_idempotence_no_compression_read_uncommitted", func(t *testing.T) { checkDefaults(t, a) })
	t.Run("X5/topic_config_sources", func(t *testing.T) { CheckTopicConfig(t, openTransport(t, a, Start(t))) })
}

// checkNative reports when err does not carry the client's own error.
func checkNative(t *testing.T, a Adapter, err error) {
	t.Helper()
	if a.NativeCode == nil {
		t.Log("Adapter.NativeCode is nil: the native error is not checked (SPEC X6)")
		return
	}
	if _, ok := a.NativeCode(err); !ok {
		t.Errorf("the client's native error is not reachable from %v", err)
	}
}

// checkCode reports when err's native error does not carry Kafka code want.
func checkCode(t *testing.T, a Adapter, err error, want *kerr.Error) {
	t.Helper()
	if a.NativeCode == nil {
		t.Log("Adapter.NativeCode is nil: the native error code is not checked (SPEC X6)")
		return
	}
	if code, ok := a.NativeCode(err); !ok || code != want.Code {
		t.Errorf("native error code %d (found %v), want %d %s, from %v", code, ok, want.Code, want.Message, err)
	}
}

// checkErrorMapping: errors a broker answers map to the transport's kind
// and class, with the client's native error (and its Kafka code) reachable
// through errors.As (SPEC X6).
func checkErrorMapping(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t)
	tr := openTransport(t, a, seeds)
	ctx := Ctx(t, 30*time.Second)
	fatal := func(t *testing.T, what string, err error, kind error, code *kerr.Error) {
		t.Helper()
		if !errors.Is(err, kind) || !transport.IsFatal(err) {
			t.Fatalf("%s: %v, want fatal %v", what, err, kind)
		}
		checkCode(t, a, err, code)
	}

	t.Run("unknown topic", func(t *testing.T) {
		_, err := tr.Partitions(ctx, Topic(t))
		fatal(t, "Partitions", err, transport.ErrUnknownTopic, kerr.UnknownTopicOrPartition)
	})

	topic := NewTopic(t, tr, 1, nil)
	Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	t.Run("topic exists", func(t *testing.T) {
		err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic})
		if !errors.Is(err, transport.ErrTopicExists) {
			t.Fatalf("CreateTopic twice: %v", err)
		}
		checkCode(t, a, err, kerr.TopicAlreadyExists)
	})

	t.Run("fetch not authorized", func(t *testing.T) {
		h := FailNext(t, c, kmsg.Fetch, topic, -1, kerr.TopicAuthorizationFailed)
		defer h.Remove()
		f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		pctx := Ctx(t, 10*time.Second)
		for {
			b, err := f.Poll(pctx)
			if err != nil {
				fatal(t, "Poll", err, transport.ErrAuthorization, kerr.TopicAuthorizationFailed)
				return
			}
			if len(b.Records) > 0 {
				t.Fatalf("records despite the fault: %v", b.Records)
			}
		}
	})

	t.Run("list offsets not authorized", func(t *testing.T) {
		FailNext(t, c, kmsg.ListOffsets, topic, 1, kerr.TopicAuthorizationFailed)
		_, err := tr.EndOffsets(ctx, topic, []int32{0})
		fatal(t, "EndOffsets", err, transport.ErrAuthorization, kerr.TopicAuthorizationFailed)
		if _, err := tr.EndOffsets(ctx, topic, []int32{0}); err != nil {
			t.Fatalf("after the fault: %v", err)
		}
	})

	t.Run("produce not authorized", func(t *testing.T) {
		FailNext(t, c, kmsg.Produce, topic, 1, kerr.TopicAuthorizationFailed)
		_, err := tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		fatal(t, "Produce", err, transport.ErrAuthorization, kerr.TopicAuthorizationFailed)
	})
}

func checkRoundTrip(t *testing.T, a Adapter) {
	seeds := Start(t)
	tr := openTransport(t, a, seeds)
	topic := NewTopic(t, tr, 1, nil)
	ts := time.UnixMilli(1_700_000_000_123)
	in := []transport.Record{
		{Key: []byte("tomb"), Value: nil},           // tombstone
		{Key: []byte("empty"), Value: []byte{}},     // empty data, not a tombstone
		{Key: nil, Value: []byte("keyless")},        // keyless
		{Key: []byte{}, Value: []byte("empty key")}, // empty key is a key
		{Key: []byte("h"), Value: []byte("v"), Timestamp: ts, Headers: []transport.Header{
			{Key: "a", Value: []byte("1")}, {Key: "a", Value: nil}, {Key: "b", Value: []byte{}},
		}},
	}
	for i, r := range in {
		if off := Produce(t, tr, topic, r); off != int64(i) {
			t.Fatalf("record %d got offset %d", i, off)
		}
	}
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	got := PollUntil(t, f, 10*time.Second, Reached(map[int32]int64{0: int64(len(in))}))
	if len(got.Records) != len(in) {
		t.Fatalf("got %d records, want %d", len(got.Records), len(in))
	}
	for i, r := range got.Records {
		w := in[i]
		if r.Offset != int64(i) || r.Partition != 0 {
			t.Errorf("record %d: offset %d partition %d", i, r.Offset, r.Partition)
		}
		if (r.Key == nil) != (w.Key == nil) || !bytes.Equal(r.Key, w.Key) {
			t.Errorf("record %d: key %q (nil %v), want %q (nil %v)", i, r.Key, r.Key == nil, w.Key, w.Key == nil)
		}
		if (r.Value == nil) != (w.Value == nil) || !bytes.Equal(r.Value, w.Value) {
			t.Errorf("record %d: value %q (nil %v), want %q (nil %v)", i, r.Value, r.Value == nil, w.Value, w.Value == nil)
		}
		if len(r.Headers) != len(w.Headers) {
			t.Errorf("record %d: headers %v, want %v", i, r.Headers, w.Headers)
		}
		for j := range min(len(r.Headers), len(w.Headers)) {
			rh, wh := r.Headers[j], w.Headers[j]
			if rh.Key != wh.Key || !bytes.Equal(rh.Value, wh.Value) || (rh.Value == nil) != (wh.Value == nil) {
				t.Errorf("record %d header %d: %q=%q (nil %v), want %q=%q (nil %v)", i, j, rh.Key, rh.Value, rh.Value == nil, wh.Key, wh.Value, wh.Value == nil)
			}
		}
		if !w.Timestamp.IsZero() && !r.Timestamp.Equal(w.Timestamp) {
			t.Errorf("record %d: timestamp %v, want %v", i, r.Timestamp, w.Timestamp)
		}
		if w.Timestamp.IsZero() && r.Timestamp.IsZero() {
			t.Errorf("record %d: zero timestamp; the producer should stamp produce time", i)
		}
	}

	// The same bytes read by franz-go: what the adapter wrote over the
	// wire keeps nil and empty apart for any client.
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var krs []*kgo.Record
	ctx := Ctx(t, 10*time.Second)
	for len(krs) < len(in) && ctx.Err() == nil {
		krs = append(krs, cl.PollFetches(ctx).Records()...)
	}
	if len(krs) != len(in) {
		t.Fatalf("franz-go read %d records, want %d", len(krs), len(in))
	}
	for i, kr := range krs {
		if (kr.Value == nil) != (in[i].Value == nil) || (kr.Key == nil) != (in[i].Key == nil) {
			t.Errorf("franz-go read record %d as key nil %v value nil %v", i, kr.Key == nil, kr.Value == nil)
		}
	}
}

func checkExplicitPartition(t *testing.T, a Adapter) {
	tr := openTransport(t, a, Start(t))
	topic := NewTopic(t, tr, 3, nil)
	// The same key to explicit partitions: the client's partitioner never
	// chooses.
	for i, p := range []int32{2, 2, 2, 1, 1, 0} {
		off := Produce(t, tr, topic, transport.Record{Key: []byte("same-key"), Value: fmt.Appendf(nil, "%d", p), Partition: p})
		if p == 2 && off != int64(i) {
			t.Fatalf("offset %d on partition 2, want %d", off, i)
		}
	}
	ctx := Ctx(t, 10*time.Second)
	ends, err := tr.EndOffsets(ctx, topic, []int32{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[int32]int64{0: 1, 1: 2, 2: 3}; fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Fatalf("end offsets %v, want %v", ends, want)
	}
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0, 2: 0}, transport.FetchOptions{})
	for _, r := range PollUntil(t, f, 10*time.Second, Reached(ends)).Records {
		if string(r.Value) != fmt.Sprint(r.Partition) {
			t.Errorf("record %+v on the wrong partition", r)
		}
	}
	// A partition the topic does not have fails, retriable (metadata may
	// be stale after partitions were added).
	_, err = tr.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v"), Partition: 7})
	if !errors.Is(err, transport.ErrUnknownPartition) || !transport.IsRetriable(err) {
		t.Fatalf("produce to partition 7 of 3: %v", err)
	}
}

// checkBelowStartCompacted: a fetch from below the log start, which
// compaction moved, is reported out of range, naming the partition and
// leaving its position alone; from the start it reaches the end,
// superseded records gone and holes skipped (SPEC X3, ADR 7).
func checkBelowStartCompacted(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t)
	tr := openTransport(t, a, seeds)
	topic := NewTopic(t, tr, 1, map[string]string{"cleanup.policy": "compact"})
	for _, kv := range [][2]string{{"a", "1"}, {"a", "2"}, {"b", "1"}, {"a", "3"}, {"c", "1"}} {
		Produce(t, tr, topic, transport.Record{Key: []byte(kv[0]), Value: []byte(kv[1])})
	}
	c.Compact()
	ctx := Ctx(t, 10*time.Second)
	starts, err := tr.StartOffsets(ctx, topic, []int32{0})
	if err != nil {
		t.Fatal(err)
	}
	ends, err := tr.EndOffsets(ctx, topic, []int32{0})
	if err != nil {
		t.Fatal(err)
	}
	if starts[0] == 0 || ends[0] != 5 {
		t.Fatalf("kfake compaction: start %d end %d; expected the log start to move", starts[0], ends[0])
	}
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	wantOutOfRange(t, f, 0)
	if err := f.Assign(starts); err != nil {
		t.Fatal(err)
	}
	var kv []string
	for _, r := range PollUntil(t, f, 10*time.Second, Reached(ends)).Records {
		kv = append(kv, fmt.Sprintf("%d:%s=%s", r.Offset, r.Key, r.Value))
	}
	if want := "[2:b=1 3:a=3 4:c=1]"; fmt.Sprint(kv) != want {
		t.Fatalf("records %v, want %s", kv, want)
	}
}

// checkBelowStartDeleted: every record deleted, the log start is 3 and so
// is the end. A reader at 0 must be told its position is out of range
// although no record follows, else a barrier or catch-up would wait for a
// record that never comes (the core then moves it to 3).
func checkBelowStartDeleted(t *testing.T, a Adapter) {
	seeds := Start(t)
	tr := openTransport(t, a, seeds)
	topic := NewTopic(t, tr, 1, nil)
	for i := range 3 {
		Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: fmt.Appendf(nil, "%d", i)})
	}
	adm := kadm.NewClient(franzClient(t, seeds))
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3})
	resps, err := adm.DeleteRecords(Ctx(t, 10*time.Second), os)
	if err == nil {
		err = resps.Error()
	}
	if err != nil {
		t.Fatalf("DeleteRecords: %v", err)
	}
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	wantOutOfRange(t, f, 0)
}

// wantOutOfRange polls f until it fails and checks the failure is
// ErrOffsetOutOfRange naming exactly parts, with no position moved and
// no record delivered.
func wantOutOfRange(t *testing.T, f transport.Fetcher, parts ...int32) {
	t.Helper()
	ctx := Ctx(t, 10*time.Second)
	for {
		b, err := f.Poll(ctx)
		if len(b.Records) > 0 || len(b.Next) > 0 {
			t.Fatalf("out-of-range partition delivered records %v or moved %v", b.Records, b.Next)
		}
		if err == nil {
			continue
		}
		te, ok := errors.AsType[*transport.Error](err)
		if !errors.Is(err, transport.ErrOffsetOutOfRange) || !ok || fmt.Sprint(te.Partitions) != fmt.Sprint(parts) {
			t.Fatalf("Poll: %v, want ErrOffsetOutOfRange naming partitions %v", err, parts)
		}
		return
	}
}

func franzClient(t *testing.T, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// openIsolation opens a transport reading committed records only or every
// record, and checks it says which when it can.
func openIsolation(t *testing.T, a Adapter, seeds []string, readCommitted bool) transport.Transport {
	t.Helper()
	if a.OpenIsolation == nil {
		t.Skip("Adapter.OpenIsolation is nil: isolation levels not checked")
	}
	tr, err := a.OpenIsolation(seeds, readCommitted)
	if err != nil {
		t.Fatalf("open transport (read committed %v): %v", readCommitted, err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	if rc, ok := tr.(interface{ ReadCommitted() bool }); ok && rc.ReadCommitted() != readCommitted {
		t.Fatalf("ReadCommitted() = %v, want %v", rc.ReadCommitted(), readCommitted)
	}
	return tr
}

// checkTransactions: reading every record skips control records only;
// reading committed skips aborted data too, and EndOffsets is the last
// stable offset, which stays before an open transaction (SPEC R4, X2).
func checkTransactions(t *testing.T, a Adapter) {
	seeds := Start(t)
	tr := openIsolation(t, a, seeds, false)
	topic := NewTopic(t, tr, 1, nil)
	txn := franzClient(t, seeds, kgo.TransactionalID(Topic(t)),
		kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := Ctx(t, 20*time.Second)
	runTxn := func(commit bool, vals ...string) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if err := txn.ProduceSync(ctx, &kgo.Record{Key: []byte(v), Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	runTxn(true, "c1", "c2", "c3")                                                    // 0..2, commit marker 3
	runTxn(false, "a1", "a2")                                                         // 4..5, abort marker 6
	Produce(t, tr, topic, transport.Record{Key: []byte("plain"), Value: []byte("p")}) // 7
	runTxn(true, "c4")                                                                // 8, marker 9 (trailing)

	values := func(c *Collected) []string {
		var vs []string
		for _, r := range c.Records {
			vs = append(vs, string(r.Value))
		}
		return vs
	}

	t.Run("read uncommitted", func(t *testing.T) {
		ends, err := tr.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		if ends[0] != 10 {
			t.Fatalf("end offset %d, want 10", ends[0])
		}
		f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		got := PollUntil(t, f, 10*time.Second, Reached(ends))
		if want := "[c1 c2 c3 a1 a2 p c4]"; fmt.Sprint(values(got)) != want {
			t.Fatalf("values %v, want %s (no control records)", values(got), want)
		}
		if got.Next[0] != 10 {
			t.Fatalf("next %d, want 10 (past the trailing commit marker)", got.Next[0])
		}
	})

	t.Run("read committed", func(t *testing.T) {
		rc := openIsolation(t, a, seeds, true)
		ends, err := rc.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		f := NewFetcher(t, rc, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		got := PollUntil(t, f, 10*time.Second, Reached(ends))
		if want := "[c1 c2 c3 p c4]"; fmt.Sprint(values(got)) != want {
			t.Fatalf("values %v, want %s", values(got), want)
		}
		if got.Next[0] != 10 {
			t.Fatalf("next %d, want 10", got.Next[0])
		}

		// An open transaction: the last stable offset stays before it,
		// the high watermark does not.
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := txn.ProduceSync(ctx, &kgo.Record{Key: []byte("open"), Value: []byte("open")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		lso, err := rc.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		hw, err := tr.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		if lso[0] != 10 || hw[0] != 11 {
			t.Fatalf("with an open transaction: read-committed end %d (want 10), read-uncommitted end %d (want 11)", lso[0], hw[0])
		}
		if err := txn.EndTransaction(ctx, kgo.TryAbort); err != nil {
			t.Fatal(err)
		}
		ends, err = rc.EndOffsets(ctx, topic, []int32{0})
		if err != nil {
			t.Fatal(err)
		}
		more := PollUntil(t, f, 10*time.Second, Reached(ends))
		if len(more.Records) != 0 || more.Next[0] != 12 {
			t.Fatalf("after abort: records %v next %v, want none and 12", values(more), more.Next)
		}
	})
}

// checkAssignNewPartition: growing a topic to its current count is no
// error, and a partition created after the fetcher opened can be assigned
// and fetched once produced to.
func checkAssignNewPartition(t *testing.T, a Adapter) {
	tr := openTransport(t, a, Start(t))
	pa, ok := tr.(transport.PartitionAdder)
	if !ok {
		t.Fatalf("%T does not implement transport.PartitionAdder", tr)
	}
	topic := NewTopic(t, tr, 1, nil)
	Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	PollUntil(t, f, 10*time.Second, Reached(map[int32]int64{0: 1}))

	ctx := Ctx(t, 10*time.Second)
	if err := pa.CreatePartitions(ctx, topic, 2); err != nil {
		t.Fatal(err)
	}
	if err := pa.CreatePartitions(ctx, topic, 2); err != nil {
		t.Fatalf("CreatePartitions to the current count: %v", err)
	}
	ps, err := tr.Partitions(ctx, topic)
	if err != nil || len(ps) != 2 {
		t.Fatalf("partitions %v %v", ps, err)
	}
	if err := f.Assign(map[int32]int64{1: 0}); err != nil {
		t.Fatal(err)
	}
	var off int64
	for { // the producer's metadata may lag behind the new partition
		off, err = tr.Produce(ctx, topic, transport.Record{Key: []byte("new"), Value: []byte("p1"), Partition: 1})
		if err == nil || !transport.IsRetriable(err) {
			break
		}
	}
	if err != nil || off != 0 {
		t.Fatalf("produce to the new partition: offset %d err %v", off, err)
	}
	got := PollUntil(t, f, 10*time.Second, Reached(map[int32]int64{1: 1}))
	if len(got.Records) != 1 || got.Records[0].Partition != 1 {
		t.Fatalf("new partition records %v", got.Records)
	}
}

// checkFetcherEmptyThenClosed: a fetcher of no partitions polls empty
// until Assign; after Close, Poll and Assign fail with ErrClosed.
func checkFetcherEmptyThenClosed(t *testing.T, a Adapter) {
	tr := openTransport(t, a, Start(t))
	topic := NewTopic(t, tr, 2, nil)
	Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v"), Partition: 1})
	f := NewFetcher(t, tr, topic, map[int32]int64{}, transport.FetchOptions{MaxWait: 50 * time.Millisecond})
	b, err := f.Poll(Ctx(t, 10*time.Second))
	if err != nil || len(b.Records) != 0 {
		t.Fatalf("Poll with no partitions: %v %v", b, err)
	}
	if err := f.Assign(map[int32]int64{1: 0}); err != nil {
		t.Fatal(err)
	}
	got := PollUntil(t, f, 10*time.Second, Reached(map[int32]int64{1: 1}))
	if len(got.Records) != 1 || got.Records[0].Partition != 1 {
		t.Fatalf("records %v", got.Records)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Poll(Ctx(t, time.Second)); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Poll after Close: %v", err)
	}
	if err := f.Assign(map[int32]int64{0: 0}); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Assign after Close: %v", err)
	}
}

// checkFetchErrors: fetch errors a broker answers are classified: not
// leader retriable; unknown topic (what real Kafka answers right after a
// create, and for a deleted topic) typed ErrUnknownTopic, which the core
// confirms with Partitions before it decides (SPEC X3, X6, ADR 7). For a
// client that retries the first two itself (Adapter.FetchRetriesInternally)
// the data must arrive past them instead.
func checkFetchErrors(t *testing.T, a Adapter) {
	c, seeds := StartCluster(t)
	tr := openTransport(t, a, seeds)
	pollErr := func(t *testing.T, f transport.Fetcher) error {
		t.Helper()
		pctx := Ctx(t, 10*time.Second)
		for {
			b, err := f.Poll(pctx)
			if err != nil {
				return err
			}
			if len(b.Records) > 0 {
				t.Fatalf("records despite the fault: %v", b.Records)
			}
		}
	}
	opts := transport.FetchOptions{MaxWait: 100 * time.Millisecond}

	// faulted opens a fetcher of a new topic whose first fetch is answered
	// code, and returns Poll's error. With a.FetchRetriesInternally, the
	// record produced before must arrive instead, any error meanwhile
	// must match want (and be retriable when retriable is set), and the
	// returned error is nil.
	faulted := func(t *testing.T, code *kerr.Error, want error, retriable bool) error {
		t.Helper()
		topic := NewTopic(t, tr, 1, nil)
		if a.FetchRetriesInternally {
			Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		}
		h := FailNext(t, c, kmsg.Fetch, topic, 1, code)
		f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, opts)
		if !a.FetchRetriesInternally {
			return pollErr(t, f)
		}
		ctx := Ctx(t, 10*time.Second)
		for got := false; !got; {
			b, err := f.Poll(ctx)
			if err != nil && (!errors.Is(err, want) || retriable && !transport.IsRetriable(err)) {
				t.Fatalf("Poll after a %v the client retries: %v (want the data, or %v)", code, err, want)
			}
			got = b.Next[0] >= 1
		}
		if h.Hits() == 0 {
			t.Fatalf("the %v fault was never met: the check proves nothing", code)
		}
		return nil
	}

	t.Run("not leader is reported retriable", func(t *testing.T) {
		err := faulted(t, kerr.NotLeaderForPartition, transport.ErrNotLeader, true)
		if a.FetchRetriesInternally {
			return
		}
		if !errors.Is(err, transport.ErrNotLeader) || !transport.IsRetriable(err) {
			t.Fatalf("Poll: %v", err)
		}
	})

	t.Run("unknown topic of an existing topic is reported typed", func(t *testing.T) {
		err := faulted(t, kerr.UnknownTopicOrPartition, transport.ErrUnknownTopic, false)
		if a.FetchRetriesInternally {
			return
		}
		if !errors.Is(err, transport.ErrUnknownTopic) {
			t.Fatalf("Poll: %v", err)
		}
		checkNative(t, a, err)
	})

	t.Run("deleted topic is reported typed", func(t *testing.T) {
		topic := NewTopic(t, tr, 1, nil)
		Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, opts)
		PollUntil(t, f, 10*time.Second, Reached(map[int32]int64{0: 1}))
		if _, err := kadm.NewClient(franzClient(t, seeds)).DeleteTopic(Ctx(t, 10*time.Second), topic); err != nil {
			t.Fatal(err)
		}
		err := pollErr(t, f)
		if !errors.Is(err, transport.ErrUnknownTopic) {
			t.Fatalf("Poll after delete: %v", err)
		}
	})
}

// checkClosed: after Transport.Close, its fetchers and calls fail with
// ErrClosed (the conformance suite only asks that they fail at once).
func checkClosed(t *testing.T, a Adapter) {
	seeds := Start(t)
	tr := openTransport(t, a, seeds)
	topic := NewTopic(t, tr, 1, nil)
	f := NewFetcher(t, tr, topic, map[int32]int64{0: 0}, transport.FetchOptions{})
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := Ctx(t, 10*time.Second)
	if _, err := f.Poll(ctx); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Poll after transport Close: %v", err)
	}
	if _, err := tr.Produce(ctx, topic, transport.Record{Key: []byte("k")}); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Produce after Close: %v", err)
	}
	if _, err := tr.EndOffsets(ctx, topic, []int32{0}); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("EndOffsets after Close: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// checkNoLeaks: opening, using and closing a transport, with a fetcher
// left open and a long poll in flight, leaves no goroutine behind. The first
// round is not counted: a client may start process-wide goroutines once
// (sarama's metrics).
func checkNoLeaks(t *testing.T, a Adapter) {
	seeds := Start(t)
	use := func() {
		tr, err := a.Open(seeds)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		topic := NewTopic(t, tr, 2, nil)
		Produce(t, tr, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
		f := NewFetcher(t, tr, topic, map[int32]int64{0: 0, 1: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
		PollUntil(t, f, 10*time.Second, Reached(map[int32]int64{0: 1}))
		// A second fetcher left open with a long poll in flight:
		// Transport.Close must close it.
		f2, err := tr.NewFetcher(Ctx(t, 10*time.Second), topic, map[int32]int64{0: 1}, transport.FetchOptions{MaxWait: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _ = f2.Poll(pctx)
	}
	use()
	base := runtime.NumGoroutine()
	start := time.Now()
	use()
	NoLeaks(t, base)
	t.Logf("open, use and close with a 10s long poll in flight: %v", time.Since(start))
}

// checkWrongSASL: with a wrong password every call fails, before its
// deadline, with a fatal ErrAuthentication (RunReliability checks that a
// table does not open).
func checkWrongSASL(t *testing.T, a Adapter) {
	if a.OpenSASL == nil || a.SASLMechanism == "" {
		t.Skip("Adapter.OpenSASL or SASLMechanism is unset: SASL not checked")
	}
	_, seeds := StartCluster(t, kfake.EnableSASL(), kfake.Superuser(a.SASLMechanism, "admin", "secret"))
	good, err := a.OpenSASL(seeds, "admin", "secret")
	if err != nil {
		t.Fatalf("right password: %v", err)
	}
	defer good.Close()
	topic := NewTopic(t, good, 1, nil)
	Produce(t, good, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})

	bad, err := a.OpenSASL(seeds, "admin", "wrong")
	if err != nil {
		if !errors.Is(err, transport.ErrAuthentication) {
			t.Fatalf("open with a wrong password: %v (want ErrAuthentication)", err)
		}
		return
	}
	defer bad.Close()
	ctx := Ctx(t, 10*time.Second)
	start := time.Now()
	calls := []struct {
		name string
		call func() error
	}{
		{"Partitions", func() error { _, err := bad.Partitions(ctx, topic); return err }},
		{"EndOffsets", func() error { _, err := bad.EndOffsets(ctx, topic, []int32{0}); return err }},
		{"Produce", func() error {
			_, err := bad.Produce(ctx, topic, transport.Record{Key: []byte("k"), Value: []byte("v")})
			return err
		}},
	}
	for _, c := range calls {
		err := c.call()
		if ctx.Err() != nil {
			t.Fatalf("%s: no answer within the deadline: %v", c.name, err)
		}
		if !errors.Is(err, transport.ErrAuthentication) || !transport.IsFatal(err) {
			t.Errorf("%s with a wrong password: %v (want a fatal ErrAuthentication)", c.name, err)
		}
	}
	t.Logf("wrong password: every call failed within %v", time.Since(start))
}

// checkUnreachable: against an address where nothing listens (refused at
// once) or nothing answers (a blackhole), calls return within their
// context's deadline with its error or a retriable one.
func checkUnreachable(t *testing.T, a Adapter) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	// TEST-NET-1 is never routed.
	for _, seed := range []string{closed, "192.0.2.1:9092"} {
		tr := openTransport(t, a, []string{seed})
		for _, c := range []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"Partitions", func(ctx context.Context) error { _, err := tr.Partitions(ctx, "t"); return err }},
			{"EndOffsets", func(ctx context.Context) error { _, err := tr.EndOffsets(ctx, "t", []int32{0}); return err }},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			start := time.Now()
			err := c.call(ctx)
			cancel()
			d := time.Since(start)
			if err == nil || d > 2*time.Second {
				t.Fatalf("%s: %s after %v: %v", seed, c.name, d, err)
			}
			if !errors.Is(err, context.DeadlineExceeded) && !transport.IsRetriable(err) {
				t.Fatalf("%s: %s: %v is neither the deadline nor retriable", seed, c.name, err)
			}
			t.Logf("%s: %s failed after %v: %v", seed, c.name, d.Round(time.Millisecond), err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		start := time.Now()
		_, err := ktables.Open(ctx, tr, "t", ktables.Bytes())
		cancel()
		if err == nil || time.Since(start) > 3*time.Second {
			t.Fatalf("%s: table Open with a 1s deadline after %v: %v", seed, time.Since(start), err)
		}
	}
}

// CheckTopicConfig checks tr's topic configuration over the wire: described
// overrides come from the topic, an alter keeps the other overrides, and no
// entry has an unknown source. RunAdapterChecks runs it over a.Open; an
// adapter with another code path (a legacy protocol version) runs it again
// over a transport taking that path.
func CheckTopicConfig(t *testing.T, tr transport.Transport) {
	t.Helper()
	tc, ok := tr.(transport.TopicConfigurer)
	if !ok {
		t.Fatalf("%T does not implement transport.TopicConfigurer", tr)
	}
	topic := NewTopic(t, tr, 1, map[string]string{"cleanup.policy": "compact", "segment.ms": "600000"})
	ctx := Ctx(t, 10*time.Second)
	get := func() map[string]transport.ConfigEntry {
		t.Helper()
		es, err := tc.DescribeTopicConfig(ctx, topic)
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[string]transport.ConfigEntry, len(es))
		for _, e := range es {
			m[e.Name] = e
		}
		return m
	}
	if e := get()["cleanup.policy"]; e.Value != "compact" || e.Source != transport.SourceTopic {
		t.Fatalf("cleanup.policy = %+v", e)
	}
	if err := tc.AlterTopicConfig(ctx, topic, map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "86400000"}); err != nil {
		t.Fatal(err)
	}
	m := get()
	for k, v := range map[string]string{"cleanup.policy": "compact,delete", "retention.ms": "86400000", "segment.ms": "600000"} {
		if e := m[k]; e.Value != v || e.Source != transport.SourceTopic {
			t.Errorf("%s = %+v, want %q from the topic", k, e, v)
		}
	}
	for _, e := range m {
		if e.Source == transport.SourceUnknown {
			t.Errorf("%s has an unknown source", e.Name)
		}
	}
}
