package transport

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
)

// SPEC X3, R4 (ADR 7): aborted transactions start at their first offset,
// which is a batch's base offset, and end at their producer's marker.
func TestAbortedBatches(t *testing.T) {
	const p, q = 7, 9
	batches := []BatchHeader{
		{BaseOffset: 0, ProducerID: p, Transactional: true},  // committed below
		{BaseOffset: 2, ProducerID: p, Control: true},        // commit marker
		{BaseOffset: 3, ProducerID: p, Transactional: true},  // aborted
		{BaseOffset: 5, ProducerID: q, Transactional: true},  // another producer, committed
		{BaseOffset: 6, ProducerID: p, Transactional: true},  // still aborted
		{BaseOffset: 8, ProducerID: p, Control: true},        // abort marker
		{BaseOffset: 9, ProducerID: p, Transactional: true},  // a new transaction
		{BaseOffset: 10, ProducerID: -1},                     // not transactional
		{BaseOffset: 11, ProducerID: q, Transactional: true}, // aborted, listed first below
		{BaseOffset: 12, ProducerID: q, Control: true},
	}
	aborted := []AbortedTxn{{ProducerID: q, FirstOffset: 11}, {ProducerID: p, FirstOffset: 3}}
	got := AbortedBatches(batches, aborted)
	want := []bool{false, false, true, false, true, false, false, false, true, false}
	if !slices.Equal(got, want) {
		t.Fatalf("AbortedBatches = %v, want %v", got, want)
	}
	if got := AbortedBatches(batches, nil); slices.Contains(got, true) {
		t.Fatalf("nothing aborted, got %v", got)
	}
}

// The filter switches on at a batch's base offset: a transaction whose
// first offset is the base of the batch is aborted from that batch on, one
// whose first offset lies beyond the batch's base is not active yet.
func TestAbortedBatchesStartAtBaseOffset(t *testing.T) {
	batches := []BatchHeader{
		{BaseOffset: 0, ProducerID: 1, Transactional: true},
		{BaseOffset: 4, ProducerID: 1, Transactional: true},
	}
	got := AbortedBatches(batches, []AbortedTxn{{ProducerID: 1, FirstOffset: 4}})
	if !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("got %v, want [false true]", got)
	}
}

func TestPositions(t *testing.T) {
	if _, err := NewPositions("fetch", "t", map[int32]int64{0: -1}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("negative position: %v", err)
	}
	ps, err := NewPositions("fetch", "t", map[int32]int64{0: 5, 1: 0})
	if err != nil {
		t.Fatal(err)
	}
	marks := ps.Snapshot()
	var b Batch
	if !ps.Advance(&b, 0, marks[0], 9) || b.Next[0] != 9 {
		t.Fatalf("advance: %v", b.Next)
	}
	if ps.Advance(&b, 0, marks[0], 12) {
		t.Fatal("advanced from a stale mark")
	}
	if ps.Advance(&b, 1, marks[1], 0) {
		t.Fatal("advanced without moving")
	}
	moved, err := ps.Assign("assign", "t", map[int32]int64{1: 3, 2: 0})
	if err != nil || !slices.Equal(moved, []int32{1}) {
		t.Fatalf("Assign moved %v, %v; want [1]", moved, err)
	}
	if ps.Current(1, marks[1]) {
		t.Fatal("a mark from before Assign is still current")
	}
	if got := ps.Partitions(); !slices.Equal(got, []int32{0, 1, 2}) {
		t.Fatalf("partitions %v", got)
	}
	if _, err := ps.Assign("assign", "t", map[int32]int64{3: -2}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("negative Assign: %v", err)
	}
	if _, ok := ps.Snapshot()[3]; ok {
		t.Fatal("a refused Assign changed the positions")
	}
}

func TestPollResult(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	fault := NewError("fetch", "t", ErrNotLeader, nil)
	b := Batch{Records: []Record{{Offset: 1}}, Next: map[int32]int64{0: 2}}
	if got, err := PollResult(ctx, b, fault); len(got.Records) != 1 || err != fault {
		t.Fatalf("records and error: %v, %v", got, err)
	}
	cancel()
	if got, err := PollResult(ctx, b, nil); len(got.Records) != 1 || err != nil {
		t.Fatalf("records after ctx ended are still delivered: %v, %v", got, err)
	}
	hw := Batch{}
	hw.SetHighWatermark(0, 4)
	hw.SetHighWatermark(1, -1)
	if !maps.Equal(hw.HighWatermarks, map[int32]int64{0: 4}) {
		t.Fatalf("high watermarks %v", hw.HighWatermarks)
	}
	if _, err := PollResult(ctx, hw, fault); !errors.Is(err, context.Canceled) {
		t.Fatalf("nothing delivered, ctx ended: %v, want context.Canceled", err)
	}
}

func TestOutOfRange(t *testing.T) {
	err := OutOfRange("fetch", "t", []int32{3, 1}, nil)
	if !errors.Is(err, ErrOffsetOutOfRange) || !IsRetriable(err) || !slices.Equal(err.Partitions, []int32{1, 3}) {
		t.Fatalf("OutOfRange = %v (partitions %v)", err, err.Partitions)
	}
}
