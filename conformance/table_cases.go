package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// TableCases returns the cases of the table contract (SPEC 2 to 9): the core
// library over the harness's transport.
func TableCases() []Case {
	return append([]Case{
		{Name: "L1/open_replays_everything_and_catches_up", Clause: "L1", run: openReplays},
		{Name: "L1/open_on_a_new_topic_catches_up", Clause: "L1", run: openNewTopic},
		{Name: "R1/last_write_wins", Clause: "R1", run: lastWriteWins},
		{Name: "R1/tombstone_deletes", Clause: "R1", run: tombstoneDeletes},
		{Name: "R1/empty_value_is_data", Clause: "R1", run: emptyValueIsData},
		{Name: "R2/keyless_records_skipped_and_counted", Clause: "R2", run: keylessSkipped},
		{Name: "R3/value_decode_error_keeps_previous_entry", Clause: "R3", run: valueDecodeError},
		{Name: "R4/table_reads_past_transactions", Clause: "R4", Requires: []Feature{FeatureTransactions}, run: tableReadsPastTransactions},
		{Name: "R6/compacted_and_full_log_give_the_same_table", Clause: "R6", Requires: []Feature{FeatureCompactionControl}, run: compactedSameTable},
		{Name: "B1/barrier_makes_prior_writes_visible", Clause: "B1", run: barrierPriorWrites},
		{Name: "B1/barrier_over_many_partitions", Clause: "B1", run: barrierManyPartitions},
		{Name: "B2/barrier_after_close_is_ErrClosed", Clause: "B2", run: barrierAfterClose},
		{Name: "B4/idle_barrier_does_not_wait_for_the_long_poll", Clause: "B4", run: idleBarrierPrompt},
		{Name: "B5/concurrent_barriers_see_their_own_writes", Clause: "B5", run: concurrentBarriers},
		{Name: "M1/cross_partition_keys_converge", Clause: "M1", run: crossPartitionConverges},
		{Name: "W1/two_writers_converge", Clause: "W1", run: twoWritersConverge},
		{Name: "W1/delete_writes_a_nil_tombstone", Clause: "W1", run: deleteWritesTombstone},
		{Name: "W3/encode_error_sends_nothing", Clause: "W3", run: encodeErrorSendsNothing},
		{Name: "P1/writer_partition_is_java_murmur2", Clause: "P1", run: writerPartitionMurmur2},
		{Name: "W0/writer_follows_partition_growth", Clause: "W0", Requires: []Feature{FeatureCreatePartitions}, run: writerFollowsGrowth},
		{Name: "L4/partitions_added_after_open_are_read", Clause: "L4", Requires: []Feature{FeatureCreatePartitions}, run: newPartitionsRead},
		{Name: "L5/restart_rehydrates_the_same_table", Clause: "L5", run: restartRehydrates},
		{Name: "L5/close_releases_only_an_owned_transport", Clause: "L5", run: closeOwnedTransport},
		{Name: "L3/missing_topic_without_ensure_fails_open", Clause: "L3", run: missingTopicFailsOpen},
		{Name: "L3/open_with_a_done_context_fails", Clause: "L3", run: openDoneContext},
		{Name: "D1/snapshot_all_and_len_agree", Clause: "D1", run: snapshotAllLen},
		{Name: "D3/hooks_fire_after_updates", Clause: "D3", run: hooksFire},
		{Name: "E1/ensure_topic_creates_then_verifies", Clause: "E1", run: ensureCreatesVerifies},
		{Name: "E2/ensure_topic_mismatch_fail_warn_reconcile", Clause: "E2", Requires: []Feature{FeatureTopicConfig}, run: ensureMismatch},
		{Name: "L2/transient_fetch_errors_lose_nothing", Clause: "L2", Requires: []Feature{FeatureFaultInjection}, Serial: true, run: transientFetchErrors},
		{Name: "L2/fatal_fetch_error_fails_the_table", Clause: "L2", Requires: []Feature{FeatureFaultInjection}, Serial: true, run: fatalFetchError},
		{Name: "W1/writer_retries_transient_produce_errors", Clause: "W1", Requires: []Feature{FeatureFaultInjection}, Serial: true, run: writerRetries},
		{Name: "B4/barrier_not_delayed_by_slow_fetches", Clause: "B4", run: barrierBesideOtherTables},
	}, append(groupedCases(), freshnessTableCases()...)...)
}

// clientOpts are options every table and writer of the suite gets: quick
// retries keep fault cases short.
func clientOpts(extra ...ktables.Option) []ktables.Option {
	return append([]ktables.Option{ktables.WithRetryBackoff(10*time.Millisecond, 200*time.Millisecond)}, extra...)
}

func openTable[V any](e *env, tr transport.Transport, topic string, codec ktables.Codec[V], opts ...ktables.Option) *ktables.Table[V] {
	e.t.Helper()
	tbl, err := ktables.Open(e.ctx, tr, topic, codec, clientOpts(opts...)...)
	if err != nil {
		e.FatalfAt("L1", "Open(%q): %v", topic, err)
	}
	e.t.Cleanup(func() { tbl.Close() })
	return tbl
}

func openWriter[V any](e *env, tr transport.Transport, topic string, codec ktables.Codec[V], opts ...ktables.Option) *ktables.Writer[V] {
	e.t.Helper()
	w, err := ktables.OpenWriter(e.ctx, tr, topic, codec, clientOpts(opts...)...)
	if err != nil {
		e.FatalfAt("W0", "OpenWriter(%q): %v", topic, err)
	}
	e.t.Cleanup(func() { w.Close() })
	return w
}

func set[V any](e *env, w *ktables.Writer[V], key string, v V) {
	e.t.Helper()
	if err := w.Set(e.ctx, key, v); err != nil {
		e.FatalfAt("W1", "Set(%q): %v", key, err)
	}
}

type barrierer interface{ Barrier(context.Context) error }

func barrier(e *env, tbl barrierer) {
	e.t.Helper()
	if err := tbl.Barrier(e.ctx); err != nil {
		e.FatalfAt("B1", "Barrier: %v", err)
	}
}

func openReplays(e *env) {
	topic := e.newTopic(3, compacted())
	want := map[string]string{}
	for i := range 60 {
		k, v := fmt.Sprintf("key-%d", i%40), fmt.Sprintf("v%d", i)
		e.produce(e.tr, topic, transport.Record{Partition: transport.Partition([]byte(k), 3), Key: []byte(k), Value: []byte(v)})
		want[k] = v
	}
	tbl := openTable(e, e.otherProcess(), topic, ktables.String())
	if s := tbl.Status(); s != ktables.StatusCaughtUp {
		e.Errorf("status after Open = %s, want caught up", s)
	}
	if got := tbl.Snapshot(); !maps.Equal(got, want) {
		e.Errorf("replayed %d keys, want %d; diff: %s", len(got), len(want), diff(got, want))
	}
	st := tbl.Stats()
	if st.RecordsAtCatchUp != 60 || st.RecordsApplied != 60 {
		e.ErrorfAt("D4", "Stats after replaying 60 records: RecordsAtCatchUp=%d RecordsApplied=%d", st.RecordsAtCatchUp, st.RecordsApplied)
	}
	if st.Partitions != 3 {
		e.ErrorfAt("D4", "Stats.Partitions = %d, want 3", st.Partitions)
	}
}

func openNewTopic(e *env) {
	topic := e.topic()
	tbl := openTable(e, e.tr, topic, ktables.String())
	if s := tbl.Status(); s != ktables.StatusCaughtUp {
		e.Errorf("status after Open of a new topic = %s, want caught up", s)
	}
	if tbl.Len() != 0 {
		e.Errorf("new topic's table has %d keys", tbl.Len())
	}
}

func lastWriteWins(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String())
	tbl := openTable(e, e.otherProcess(), topic, ktables.String())
	for i := range 5 {
		set(e, w, "k", fmt.Sprintf("v%d", i))
	}
	barrier(e, tbl)
	if v, _ := tbl.Get("k"); v != "v4" {
		e.Errorf("after 5 writes of k, Get = %q, want the last, %q", v, "v4")
	}
}

func tombstoneDeletes(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String())
	tbl := openTable(e, e.otherProcess(), topic, ktables.String())
	set(e, w, "gone", "x")
	set(e, w, "kept", "y")
	if err := w.Delete(e.ctx, "gone"); err != nil {
		e.Fatalf("Delete: %v", err)
	}
	if err := w.Delete(e.ctx, "never-there"); err != nil {
		e.Fatalf("Delete: %v", err)
	}
	barrier(e, tbl)
	if tbl.Has("gone") || !tbl.Has("kept") || tbl.Len() != 1 {
		e.Errorf("after set gone, set kept, delete gone: snapshot %v, want only kept", tbl.Snapshot())
	}
	if n := tbl.Stats().TombstonesApplied; n != 2 {
		e.ErrorfAt("D4", "TombstonesApplied = %d, want 2", n)
	}
}

func emptyValueIsData(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.Bytes())
	tbl := openTable(e, e.otherProcess(), topic, ktables.Bytes())
	set(e, w, "empty", []byte{})
	set(e, w, "nil-is-data-too", nil) // Set never deletes
	barrier(e, tbl)
	for _, k := range []string{"empty", "nil-is-data-too"} {
		if v, ok := tbl.Get(k); !ok || len(v) != 0 {
			e.Errorf("Get(%q) = %q, %v after setting an empty value: empty is data, not a tombstone", k, v, ok)
		}
	}
	// And a fresh replay reads the same.
	again := openTable(e, e.tr, topic, ktables.Bytes())
	if again.Len() != 2 {
		e.Errorf("replay of two empty values holds %v, want both keys", again.Snapshot())
	}
}

func keylessSkipped(e *env) {
	topic := e.newTopic(1, nil)
	tbl := openTable(e, e.otherProcess(), topic, ktables.String())
	for range 3 {
		e.produce(e.tr, topic, transport.Record{Key: nil, Value: []byte("orphan")})
	}
	ctx, cancel := context.WithTimeout(e.ctx, 5*e.tu.Prompt)
	defer cancel()
	if err := tbl.Barrier(ctx); err != nil {
		e.FatalfAt("B3", "Barrier after 3 keyless records: %v (skipped records must still advance positions)", err)
	}
	if n := tbl.Stats().KeylessRecords; n != 3 {
		e.Errorf("KeylessRecords = %d, want 3", n)
	}
	if tbl.Len() != 0 {
		e.Errorf("keyless records made entries: %v", tbl.Snapshot())
	}
}

type item struct {
	N int `json:"n"`
}

func valueDecodeError(e *env) {
	topic := e.newTopic(2, compacted())
	w := openWriter(e, e.tr, topic, ktables.JSON[item]())
	tbl := openTable(e, e.otherProcess(), topic, ktables.JSON[item]())
	set(e, w, "k", item{1})
	e.produce(e.tr, topic, transport.Record{Partition: transport.Partition([]byte("k"), 2), Key: []byte("k"), Value: []byte("{not json")})
	ctx, cancel := context.WithTimeout(e.ctx, 5*e.tu.Prompt)
	defer cancel()
	if err := tbl.Barrier(ctx); err != nil {
		e.FatalfAt("B3", "Barrier after a poison record: %v", err)
	}
	if v, ok := tbl.Get("k"); !ok || v.N != 1 {
		e.Errorf("after a value that does not decode, Get(k) = %v, %v; want the previous entry {1}", v, ok)
	}
	if n := tbl.Stats().ValueDecodeErrors; n != 1 {
		e.Errorf("ValueDecodeErrors = %d, want 1", n)
	}
	if s := tbl.Status(); s != ktables.StatusCaughtUp {
		e.Errorf("status after a poison record = %s, want caught up (poison never stops the reader)", s)
	}
}

func tableReadsPastTransactions(e *env) {
	tx := e.h.(Transactor)
	topic := e.newTopic(2, compacted())
	rec := func(k, v string) transport.Record {
		return transport.Record{Partition: transport.Partition([]byte(k), 2), Key: []byte(k), Value: []byte(v)}
	}
	if err := tx.ProduceTransaction(e.ctx, topic, []transport.Record{rec("a", "1"), rec("b", "2"), rec("c", "3")}, true); err != nil {
		e.harnessFatalf("ProduceTransaction(commit): %v", err)
	}
	if err := tx.ProduceTransaction(e.ctx, topic, []transport.Record{rec("a", "aborted"), rec("d", "aborted")}, false); err != nil {
		e.harnessFatalf("ProduceTransaction(abort): %v", err)
	}
	// Open must catch up although every partition ends with a control record.
	tbl := openTable(e, e.otherProcess(), topic, ktables.String())
	want := map[string]string{"a": "1", "b": "2", "c": "3"}
	if got := tbl.Snapshot(); !maps.Equal(got, want) {
		e.Errorf("table over committed and aborted transactions = %v, want %v", got, want)
	}
	if err := tx.ProduceTransaction(e.ctx, topic, []transport.Record{rec("e", "5")}, true); err != nil {
		e.harnessFatalf("ProduceTransaction(commit): %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 5*e.tu.Prompt)
	defer cancel()
	if err := tbl.Barrier(ctx); err != nil {
		e.Fatalf("Barrier after a trailing commit marker: %v (the reader must move past control records)", err)
	}
	if v, _ := tbl.Get("e"); v != "5" {
		e.Errorf("Get(e) = %q after a committed transaction and a barrier, want 5", v)
	}
}

func compactedSameTable(e *env) {
	c := e.h.(Compactor)
	topic := e.newTopic(2, compacted())
	w := openWriter(e, e.tr, topic, ktables.String())
	for i := range 80 {
		k := fmt.Sprintf("k%d", i%13)
		if i%7 == 3 {
			if err := w.Delete(e.ctx, k); err != nil {
				e.Fatalf("Delete: %v", err)
			}
			continue
		}
		set(e, w, k, fmt.Sprintf("v%d", i))
	}
	full := openTable(e, e.tr, topic, ktables.String()).Snapshot()
	if err := c.Compact(e.ctx, topic); err != nil {
		e.harnessFatalf("Compact: %v", err)
	}
	compacted := openTable(e, e.otherProcess(), topic, ktables.String())
	if got := compacted.Snapshot(); !maps.Equal(got, full) {
		e.Errorf("table over the compacted log differs from the one over the full log: %s", diff(got, full))
	}
	if s := compacted.Status(); s != ktables.StatusCaughtUp {
		e.ErrorfAt("R5", "status over a compacted log = %s, want caught up (replay starts at the log start)", s)
	}
}

func barrierPriorWrites(e *env) {
	topic := e.topic()
	w := openWriter(e, e.otherProcess(), topic, ktables.String())
	tbl := openTable(e, e.tr, topic, ktables.String())
	for i := range 20 {
		k, v := fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i)
		set(e, w, k, v)
		barrier(e, tbl)
		if got, ok := tbl.Get(k); !ok || got != v {
			e.Fatalf("write %d: after Set returned and Barrier returned, Get(%q) = %q, %v; want %q", i, k, got, ok, v)
		}
	}
}

func barrierManyPartitions(e *env) {
	topic := e.topic()
	w := openWriter(e, e.otherProcess(), topic, ktables.String(), ktables.WithPartitions(8))
	tbl := openTable(e, e.tr, topic, ktables.String(), ktables.WithPartitions(8))
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			if err := w.Set(e.ctx, fmt.Sprintf("k%d", i), "v"); err != nil {
				e.ErrorfAt("W1", "Set: %v", err)
			}
		})
	}
	wg.Wait()
	barrier(e, tbl)
	if tbl.Len() != 100 {
		e.Errorf("after 100 acked writes over 8 partitions and a barrier, the table has %d keys", tbl.Len())
	}
}

func barrierAfterClose(e *env) {
	tbl := openTable(e, e.tr, e.topic(), ktables.String())
	if err := tbl.Close(); err != nil {
		e.ErrorfAt("L5", "Close: %v", err)
	}
	if err := tbl.Barrier(e.ctx); !errors.Is(err, ktables.ErrClosed) {
		e.Errorf("Barrier after Close = %v, want ErrClosed", err)
	}
}

// idleBarrierPrompt: with a long fetch wait, an idle caught-up table answers
// a barrier after an offsets round trip, not after its fetch returns.
func idleBarrierPrompt(e *env) {
	topic := e.topic()
	tbl := openTable(e, e.tr, topic, ktables.String(), ktables.WithFetchMaxWait(e.tu.LongPoll))
	w := openWriter(e, e.otherProcess(), topic, ktables.String())
	set(e, w, "k", "v")
	e.measureBarriers("an idle table with fetch max wait "+e.tu.LongPoll.String(), tbl)
	if v, _ := tbl.Get("k"); v != "v" {
		e.ErrorfAt("B1", "Get(k) = %q after barriers, want v", v)
	}
}

// measureBarriers calls Barrier on each table, round after round over a
// window; each must return within Prompt.
func (e *env) measureBarriers(what string, tables ...barrierer) {
	e.t.Helper()
	began := time.Now()
	for n := 0; n < 5 || time.Since(began) < e.tu.Prompt/2; n++ {
		for i, tbl := range tables {
			ctx, cancel := context.WithTimeout(e.ctx, e.tu.Prompt)
			t0 := time.Now()
			err := tbl.Barrier(ctx)
			took := time.Since(t0)
			cancel()
			if err != nil || took >= e.tu.Prompt {
				e.Fatalf("barrier %d on %s (table %d) took %s (err %v), want < %s: the end-offset snapshot must not wait behind the fetch long poll (X2)",
					n+1, what, i+1, took.Round(time.Millisecond), err, e.tu.Prompt)
			}
		}
	}
}

// barrierBesideOtherTables: several idle tables share one transport, so
// their long polls are in flight together; barriers must still be prompt.
func barrierBesideOtherTables(e *env) {
	var tables []barrierer
	for range 4 {
		tables = append(tables, openTable(e, e.tr, e.topic(), ktables.String(), ktables.WithFetchMaxWait(e.tu.LongPoll)))
	}
	e.measureBarriers("4 idle tables sharing a transport, fetch max wait "+e.tu.LongPoll.String(), tables...)
}

func concurrentBarriers(e *env) {
	topic := e.topic()
	tbl := openTable(e, e.tr, topic, ktables.String(), ktables.WithPartitions(4))
	w := openWriter(e, e.otherProcess(), topic, ktables.String(), ktables.WithPartitions(4))
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 4 {
				k, v := fmt.Sprintf("g%d", g), fmt.Sprintf("v%d", i)
				if err := w.Set(e.ctx, k, v); err != nil {
					e.ErrorfAt("W1", "Set: %v", err)
					return
				}
				if err := tbl.Barrier(e.ctx); err != nil {
					e.Errorf("goroutine %d: Barrier: %v", g, err)
					return
				}
				if got, _ := tbl.Get(k); got != v {
					e.Errorf("goroutine %d: after its Set and Barrier, Get(%q) = %q, want %q", g, k, got, v)
					return
				}
			}
		})
	}
	wg.Wait()
}

func twoWritersConverge(e *env) {
	topic := e.topic()
	trA, trB := e.tr, e.otherProcess()
	wa := openWriter(e, trA, topic, ktables.String(), ktables.WithPartitions(3))
	wb := openWriter(e, trB, topic, ktables.String(), ktables.WithPartitions(3))
	ta := openTable(e, trA, topic, ktables.String())
	tb := openTable(e, trB, topic, ktables.String())
	var wg sync.WaitGroup
	for i, w := range []*ktables.Writer[string]{wa, wb} {
		wg.Go(func() {
			for j := range 30 {
				k := fmt.Sprintf("shared-%d", j%5)
				if j%2 == 1 {
					k = fmt.Sprintf("own-%d-%d", i, j)
				}
				if err := w.Set(e.ctx, k, fmt.Sprintf("w%d-%d", i, j)); err != nil {
					e.Errorf("writer %d: Set: %v", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	barrier(e, ta)
	barrier(e, tb)
	sa, sb := ta.Snapshot(), tb.Snapshot()
	if !maps.Equal(sa, sb) {
		e.Errorf("two tables over one topic written by two writers differ: %s", diff(sa, sb))
	}
	if len(sa) != 5+30 {
		e.Errorf("table has %d keys, want 35", len(sa))
	}
}

// rawRecords fetches every record of topic through the transport.
func (e *env) rawRecords(topic string) []transport.Record {
	e.t.Helper()
	parts := e.waitPartitionsAtLeast(topic)
	start, end := e.startOffsets(e.tr, topic, parts), e.endOffsets(e.tr, topic, parts)
	f := e.newFetcher(e.tr, topic, start, 100*time.Millisecond)
	recs, _ := e.drain(f, start, end)
	return recs
}

func (e *env) waitPartitionsAtLeast(topic string) []int32 {
	e.t.Helper()
	parts, err := e.tr.Partitions(e.ctx, topic)
	if err != nil {
		e.FatalfAt("X1", "Partitions(%q): %v", topic, err)
	}
	return parts
}

func deleteWritesTombstone(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String())
	set(e, w, "k", "")
	if err := w.Delete(e.ctx, "k"); err != nil {
		e.Fatalf("Delete: %v", err)
	}
	recs := e.rawRecords(topic)
	if len(recs) != 2 {
		e.Fatalf("topic holds %d records after Set and Delete, want 2", len(recs))
	}
	if recs[0].Value == nil {
		e.ErrorfAt("R1", "Set(k, \"\") wrote a nil value: a tombstone instead of empty data")
	}
	if recs[1].Value != nil {
		e.Errorf("Delete wrote value %#v, want nil (a tombstone)", recs[1].Value)
	}
}

func encodeErrorSendsNothing(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.JSON[any]())
	err := w.Set(e.ctx, "k", make(chan int))
	if !errors.Is(err, ktables.ErrEncode) {
		e.Errorf("Set of a value JSON cannot encode = %v, want ErrEncode", err)
	}
	if end := e.endOffsets(e.tr, topic, []int32{0}); end[0] != 0 {
		e.Errorf("an encode error still sent something: end offset %d", end[0])
	}
}

// murmur2Vectors are Java client partitions for 16 partitions (Kafka's own
// published murmur2 vectors, and keys observed from franz-go and kcat).
var murmur2Vectors = map[string]int32{
	"21": 12, "foobar": 14, "a-little-bit-long-string": 0, "abc": 11,
	"a": 12, "b": 4, "c": 10, "d": 1, "": 9, "ü": 10, "日本語キー": 14,
	"7:billinghost-a": 9, "key-000000042": 4,
}

func writerPartitionMurmur2(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String(), ktables.WithPartitions(16))
	keys := slices.Sorted(maps.Keys(murmur2Vectors))
	for i := range 48 {
		keys = append(keys, fmt.Sprintf("key-%d", i))
	}
	for _, k := range keys {
		set(e, w, k, "v")
	}
	recs := e.rawRecords(topic)
	if len(recs) != len(keys) {
		e.Fatalf("topic holds %d records, want %d", len(recs), len(keys))
	}
	for _, r := range recs {
		k := string(r.Key)
		want := transport.Partition(r.Key, 16)
		if java, ok := murmur2Vectors[k]; ok && java != want {
			e.Errorf("transport.Partition(%q, 16) = %d, the Java client says %d", k, want, java)
		}
		if r.Partition != want {
			e.Errorf("writer put key %q on partition %d, want %d (Java murmur2: toPositive(murmur2(key)) %% 16)", k, r.Partition, want)
		}
	}
}

func writerFollowsGrowth(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String(), ktables.WithPartitionRefresh(50*time.Millisecond))
	if err := e.tr.(transport.PartitionAdder).CreatePartitions(e.ctx, topic, 4); err != nil {
		e.FatalfAt("X5", "CreatePartitions(4): %v", err)
	}
	e.waitPartitions(e.tr, topic, 4)
	// A key whose partition differs between 1 and 4 partitions.
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("k%d", i); transport.Partition([]byte(k), 4) != 0 {
			key = k
		}
	}
	want := transport.Partition([]byte(key), 4)
	// The writer refreshes in the background; keep writing until it has.
	e.eventually(fmt.Sprintf("the writer puts %q on partition %d of 4", key, want), func() bool {
		set(e, w, key, "v")
		end := e.endOffsets(e.tr, topic, []int32{want})
		return end[want] > 0
	}, nil)
}

func newPartitionsRead(e *env) {
	pa, ok := e.tr.(transport.PartitionAdder)
	if !ok {
		e.harnessFatalf("Features.CreatePartitions is set but %T does not implement transport.PartitionAdder", e.tr)
	}
	topic := e.newTopic(1, compacted())
	tbl := openTable(e, e.otherProcess(), topic, ktables.String(), ktables.WithPartitionRefresh(50*time.Millisecond), ktables.WithFetchMaxWait(100*time.Millisecond))
	if err := pa.CreatePartitions(e.ctx, topic, 4); err != nil {
		e.FatalfAt("X5", "CreatePartitions(4): %v", err)
	}
	e.waitPartitions(e.tr, topic, 4)
	for p := int32(1); p < 4; p++ {
		e.produce(e.tr, topic, transport.Record{Partition: p, Key: fmt.Appendf(nil, "on-%d", p), Value: []byte("v")})
	}
	e.eventually("the table reads the records of partitions added after open", func() bool {
		return tbl.Len() == 3
	}, func() string {
		return fmt.Sprintf("table holds %v, Stats.Partitions=%d", tbl.Snapshot(), tbl.Stats().Partitions)
	})
	if n := tbl.Stats().Partitions; n != 4 {
		e.ErrorfAt("D4", "Stats.Partitions = %d, want 4", n)
	}
}

func restartRehydrates(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.JSON[item](), ktables.WithPartitions(3))
	for i := range 50 {
		set(e, w, fmt.Sprintf("k%d", i%20), item{i})
	}
	for i := range 5 {
		if err := w.Delete(e.ctx, fmt.Sprintf("k%d", i*3)); err != nil {
			e.Fatalf("Delete: %v", err)
		}
	}
	first := openTable(e, e.tr, topic, ktables.JSON[item]())
	barrier(e, first)
	before := first.Snapshot()
	if err := first.Close(); err != nil {
		e.Errorf("Close: %v", err)
	}
	if got := first.Snapshot(); !maps.Equal(got, before) {
		e.Errorf("reads after Close changed: %s", diff(got, before))
	}
	second := openTable(e, e.otherProcess(), topic, ktables.JSON[item]())
	if got := second.Snapshot(); !maps.Equal(got, before) {
		e.Errorf("reopened table differs from the one before the restart: %s", diff(got, before))
	}
	if len(before) != 15 {
		e.Errorf("table has %d keys, want 15", len(before))
	}
}

func closeOwnedTransport(e *env) {
	topic := e.topic()
	shared := openTable(e, e.tr, topic, ktables.String())
	if err := shared.Close(); err != nil {
		e.Errorf("Close: %v", err)
	}
	if err := shared.Close(); err != nil {
		e.Errorf("second Close: %v (Close is idempotent)", err)
	}
	if _, err := e.tr.Partitions(e.ctx, topic); err != nil {
		e.Errorf("the caller's transport fails after a table that did not own it closed: %v", err)
	}
	own := e.newTransport()
	owned := openTable(e, own, topic, ktables.String(), ktables.WithOwnedTransport())
	if err := owned.Close(); err != nil {
		e.Errorf("Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 2*e.tu.Prompt)
	defer cancel()
	if _, err := own.Partitions(ctx, topic); err == nil {
		e.Errorf("a transport given WithOwnedTransport still works after the table closed")
	}
}

func missingTopicFailsOpen(e *env) {
	topic := e.topic()
	_, err := ktables.Open(e.ctx, e.tr, topic, ktables.String(), clientOpts(ktables.WithoutEnsureTopic())...)
	if !errors.Is(err, transport.ErrUnknownTopic) {
		e.Errorf("Open(missing topic, WithoutEnsureTopic) = %v, want an error matching transport.ErrUnknownTopic", err)
	}
	_, err = ktables.OpenWriter(e.ctx, e.tr, topic, ktables.String(), clientOpts(ktables.WithoutEnsureTopic())...)
	if !errors.Is(err, transport.ErrUnknownTopic) {
		e.ErrorfAt("W0", "OpenWriter(missing topic, WithoutEnsureTopic) = %v, want an error matching transport.ErrUnknownTopic", err)
	}
	if e.ctx.Err() != nil {
		e.Errorf("Open of a missing topic took until the case deadline: unknown topic must fail promptly, not be retried")
	}
}

func openDoneContext(e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	tbl, err := ktables.Open(ctx, e.tr, e.topic(), ktables.String(), clientOpts()...)
	if err == nil {
		tbl.Close()
		e.Fatalf("Open with a cancelled context succeeded")
	}
	if !errors.Is(err, context.Canceled) {
		e.Errorf("Open with a cancelled context = %v, want an error matching context.Canceled", err)
	}
}

func snapshotAllLen(e *env) {
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String(), ktables.WithPartitions(4))
	for i := range 120 {
		set(e, w, fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i))
	}
	tbl := openTable(e, e.otherProcess(), topic, ktables.String())
	snap := tbl.Snapshot()
	all := map[string]string{}
	for k, v := range tbl.All() {
		all[k] = v
	}
	if len(snap) != 120 || tbl.Len() != 120 || !maps.Equal(snap, all) {
		e.Errorf("Snapshot has %d keys, Len says %d, All yields %d (equal: %v); want 120 everywhere", len(snap), tbl.Len(), len(all), maps.Equal(snap, all))
	}
	for k, v := range snap {
		if got, ok := tbl.Get(k); !ok || got != v {
			e.Errorf("Get(%q) = %q, %v; Snapshot says %q", k, got, ok, v)
		}
	}
}

func hooksFire(e *env) {
	topic := e.newTopic(1, nil)
	var (
		mu  sync.Mutex
		log []string
	)
	record := func(s string) {
		mu.Lock()
		log = append(log, s)
		mu.Unlock()
	}
	// The hooks read the table; an atomic hands it over without a race.
	var tblp atomic.Pointer[ktables.Table[item]]
	onSet := func(k string, v item) {
		// The map is updated before the hook runs.
		if got, ok := tblp.Load().Get(k); !ok || got != v {
			e.Errorf("OnSet(%q) ran before the map held the value (Get = %v, %v)", k, got, ok)
		}
		record(fmt.Sprintf("set %s=%d", k, v.N))
	}
	onDelete := func(k string, old item) {
		if tblp.Load().Has(k) {
			e.Errorf("OnDelete(%q) ran before the key was removed", k)
		}
		record(fmt.Sprintf("delete %s was %d", k, old.N))
	}
	tbl := openTable(e, e.tr, topic, ktables.JSON[item](), ktables.OnSet(onSet), ktables.OnDelete(onDelete))
	tblp.Store(tbl)
	w := openWriter(e, e.otherProcess(), topic, ktables.JSON[item]())
	set(e, w, "a", item{1})
	e.produce(e.tr, topic, transport.Record{Key: nil, Value: []byte(`{"n":9}`)})
	e.produce(e.tr, topic, transport.Record{Key: []byte("a"), Value: []byte("poison")})
	set(e, w, "b", item{0})
	if err := w.Delete(e.ctx, "a"); err != nil {
		e.Fatalf("Delete: %v", err)
	}
	barrier(e, tbl)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"set a=1", "set b=0", "delete a was 1"}
	if !slices.Equal(log, want) {
		e.Errorf("hooks saw %q, want %q (not for keyless or poison records; a zero value is a set)", log, want)
	}
}

func ensureCreatesVerifies(e *env) {
	topic := e.topic()
	res, err := ktables.EnsureTopic(e.ctx, e.tr, topic, ktables.WithPartitions(3), ktables.WithTopicConfig("retention.ms", "3600000"))
	if err != nil {
		e.Fatalf("EnsureTopic(new): %v", err)
	}
	if res.Outcome != ktables.OutcomeCreated {
		e.Errorf("EnsureTopic(new) outcome %s, want created", res.Outcome)
	}
	e.waitPartitions(e.tr, topic, 3)
	if e.feats.TopicConfig {
		cfg := e.configsOf(topic)
		e.wantConfig(cfg, "cleanup.policy", "compact")
		e.wantConfig(cfg, "retention.ms", "3600000")
	}
	res, err = ktables.EnsureTopic(e.ctx, e.tr, topic)
	if err != nil {
		e.Fatalf("EnsureTopic(existing): %v", err)
	}
	// Without TopicConfig the policy may or may not be readable.
	if ok := res.Outcome == ktables.OutcomeVerified || !e.feats.TopicConfig && res.Outcome == ktables.OutcomeUnreadable; !ok {
		e.ErrorfAt("E2", "EnsureTopic(existing, compacting) outcome %s, want verified", res.Outcome)
	}
}

func ensureMismatch(e *env) {
	topic := e.newTopic(1, map[string]string{"cleanup.policy": "delete", "retention.ms": "12345000"})
	_, err := ktables.EnsureTopic(e.ctx, e.tr, topic, ktables.WithOnMismatch(ktables.OnMismatchFail))
	var pe *ktables.TopicPolicyError
	if !errors.Is(err, ktables.ErrTopicPolicyMismatch) || !errors.As(err, &pe) || pe.Actual != "delete" || pe.Topic != topic {
		e.Errorf("EnsureTopic(fail mode) on a delete-policy topic = %v, want a *TopicPolicyError with actual \"delete\"", err)
	}
	res, err := ktables.EnsureTopic(e.ctx, e.tr, topic)
	if err != nil || res.Outcome != ktables.OutcomeMismatch || res.Policy != "delete" {
		e.Errorf("EnsureTopic(warn mode) = %+v, %v; want outcome mismatch, policy delete, no error", res, err)
	}
	res, err = ktables.EnsureTopic(e.ctx, e.tr, topic, ktables.WithOnMismatch(ktables.OnMismatchReconcile))
	if err != nil || res.Outcome != ktables.OutcomeReconciled {
		e.Fatalf("EnsureTopic(reconcile mode) = %+v, %v; want outcome reconciled", res, err)
	}
	var cfg map[string]transport.ConfigEntry
	e.eventually("the reconciled policy is described", func() bool {
		cfg = e.configsOf(topic)
		return cfg["cleanup.policy"].Value == "compact"
	}, nil)
	e.wantConfig(cfg, "retention.ms", "12345000")
	res, err = ktables.EnsureTopic(e.ctx, e.tr, topic)
	if err != nil || res.Outcome != ktables.OutcomeVerified {
		e.Errorf("EnsureTopic after reconcile = %+v, %v; want verified", res, err)
	}
}

func (e *env) faults() FaultInjector {
	e.t.Helper()
	fi := e.h.(FaultInjector)
	e.t.Cleanup(func() { fi.ClearFaults(context.Background()) })
	return fi
}

func transientFetchErrors(e *env) {
	fi := e.faults()
	topic := e.topic()
	w := openWriter(e, e.otherProcess(), topic, ktables.String())
	set(e, w, "before", "1")
	tbl := openTable(e, e.tr, topic, ktables.String(), ktables.WithFetchMaxWait(50*time.Millisecond))
	if err := fi.InjectFault(e.ctx, Fault{Topic: topic, Op: FaultFetch, Times: 3}); err != nil {
		e.harnessFatalf("InjectFault: %v", err)
	}
	for i := range 10 {
		set(e, w, fmt.Sprintf("k%d", i), "v")
	}
	barrier(e, tbl)
	if tbl.Len() != 11 || tbl.Status() != ktables.StatusCaughtUp {
		e.Errorf("after 3 transient fetch errors: %d keys (want 11), status %s (want caught up)", tbl.Len(), tbl.Status())
	}
	// The barrier can be met by the fetch that was already in flight when
	// the faults were injected; the faults then meet the fetches after it.
	// Wait for them, and prove again that nothing was lost across them.
	e.eventually("the reader retried the injected fetch errors (SPEC D4: Stats.Retries)",
		func() bool { return tbl.Stats().Retries > 0 },
		func() string { return fmt.Sprintf("Stats.Retries = %d", tbl.Stats().Retries) })
	set(e, w, "after", "1")
	barrier(e, tbl)
	if v, _ := tbl.Get("after"); tbl.Len() != 12 || v != "1" || tbl.Status() != ktables.StatusCaughtUp {
		e.Errorf("after the retries: %d keys (want 12), after=%q, status %s", tbl.Len(), v, tbl.Status())
	}
}

func fatalFetchError(e *env) {
	fi := e.faults()
	topic := e.topic()
	w := openWriter(e, e.otherProcess(), topic, ktables.String())
	set(e, w, "before", "1")
	tbl := openTable(e, e.tr, topic, ktables.String(), ktables.WithFetchMaxWait(50*time.Millisecond))
	if err := fi.InjectFault(e.ctx, Fault{Topic: topic, Op: FaultFetch, Times: 1, Fatal: true}); err != nil {
		e.harnessFatalf("InjectFault: %v", err)
	}
	set(e, w, "wake", "the reader") // so the next fetch happens now
	e.eventually("the table fails on a fatal fetch error", func() bool { return tbl.Status() == ktables.StatusFailed },
		func() string { return "status " + tbl.Status().String() })
	if err := tbl.Err(); !transport.IsFatal(err) || !errors.Is(err, transport.ErrAuthorization) {
		e.Errorf("Err() = %v, want the fatal authorization error", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.tu.Prompt)
	defer cancel()
	if err := tbl.Barrier(ctx); !errors.Is(err, ktables.ErrTableFailed) {
		e.ErrorfAt("B2", "Barrier on a failed table = %v, want ErrTableFailed at once", err)
	}
	if v, _ := tbl.Get("before"); v != "1" {
		e.Errorf("a failed table's contents = %v, want them frozen (before=1)", tbl.Snapshot())
	}
}

func writerRetries(e *env) {
	fi := e.faults()
	topic := e.topic()
	w := openWriter(e, e.tr, topic, ktables.String())
	if err := fi.InjectFault(e.ctx, Fault{Topic: topic, Op: FaultProduce, Times: 2}); err != nil {
		e.harnessFatalf("InjectFault: %v", err)
	}
	if err := w.Set(e.ctx, "k", "v"); err != nil {
		e.Errorf("Set through 2 transient produce errors: %v, want retried to success", err)
	}
	if err := fi.InjectFault(e.ctx, Fault{Topic: topic, Op: FaultProduce, Times: 1, Fatal: true}); err != nil {
		e.harnessFatalf("InjectFault: %v", err)
	}
	if err := w.Set(e.ctx, "k", "v2"); !errors.Is(err, transport.ErrAuthorization) {
		e.Errorf("Set through a fatal produce error = %v, want it returned (matching transport.ErrAuthorization)", err)
	}
	tbl := openTable(e, e.tr, topic, ktables.String())
	if v, _ := tbl.Get("k"); v != "v" {
		e.Errorf("after a retried Set and a failed one, Get(k) = %q, want v", v)
	}
}

// diff describes how two maps differ, briefly.
func diff[V comparable](got, want map[string]V) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if g, ok := got[k]; !ok {
			out = append(out, fmt.Sprintf("missing %q", k))
		} else if g != want[k] {
			out = append(out, fmt.Sprintf("%q=%v want %v", k, g, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("extra %q", k))
		}
	}
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("and %d more", len(out)-8))
	}
	return fmt.Sprint(out)
}
