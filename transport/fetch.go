package transport

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// This file holds the fetch bookkeeping every adapter needs, once: the
// positions of a session, the Poll result rules and the filter of aborted
// transactions. An adapter's fetcher translates its client's answers into
// these terms and keeps no position logic of its own (ADR 7).

// Mark is one partition's position at one moment: the next offset to
// deliver and the generation of the Assign that set it.
type Mark struct {
	Offset int64
	Gen    uint64
}

// Positions are a fetch session's positions: the next offset to deliver per
// assigned partition, with a generation that Assign bumps, so that an answer
// requested for a position Assign replaced is recognised and dropped. It is
// safe for concurrent use (Assign may run during Poll).
type Positions struct {
	mu sync.Mutex
	at map[int32]Mark
}

// NewPositions validates from (no negative position) and starts a session's
// positions there. op and topic name the error.
func NewPositions(op, topic string, from map[int32]int64) (*Positions, error) {
	if err := checkPositions(op, topic, from); err != nil {
		return nil, err
	}
	p := &Positions{at: make(map[int32]Mark, len(from))}
	for id, off := range from {
		p.at[id] = Mark{Offset: off}
	}
	return p, nil
}

func checkPositions(op, topic string, to map[int32]int64) error {
	for _, id := range slices.Sorted(maps.Keys(to)) {
		if to[id] < 0 {
			return NewError(op, topic, ErrInvalidRequest, fmt.Errorf("negative position %d for partition %d", to[id], id))
		}
	}
	return nil
}

// Assign validates to, then sets each partition's position and bumps its
// generation. It returns the partitions that were assigned before (moved,
// not added), for clients that start and move partitions differently.
func (p *Positions) Assign(op, topic string, to map[int32]int64) (moved []int32, err error) {
	if err := checkPositions(op, topic, to); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, off := range to {
		m, known := p.at[id]
		if known {
			moved = append(moved, id)
		}
		p.at[id] = Mark{Offset: off, Gen: m.Gen + 1}
	}
	return moved, nil
}

// Snapshot returns every partition's mark, to request fetches from.
func (p *Positions) Snapshot() map[int32]Mark {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.at)
}

// Partitions returns the assigned partitions in ascending order.
func (p *Positions) Partitions() []int32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.at))
}

// Current reports whether partition id is still at m: neither Assign nor
// Advance moved it since m was taken.
func (p *Positions) Current(id int32, m Mark) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur, ok := p.at[id]
	return ok && cur == m
}

// Advance moves partition id from m to next and records next in b.Next. It
// does nothing and returns false when the partition is no longer at m (an
// Assign replaced it: the answer is stale) or when next is not beyond m.
func (p *Positions) Advance(b *Batch, id int32, m Mark, next int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur, ok := p.at[id]
	if !ok || cur != m || next <= m.Offset {
		return false
	}
	p.at[id] = Mark{Offset: next, Gen: m.Gen}
	if b.Next == nil {
		b.Next = make(map[int32]int64)
	}
	b.Next[id] = next
	return true
}

// Empty reports whether b carries no record and no position. High
// watermarks alone do not count: they are news about the log, not progress.
func (b *Batch) Empty() bool {
	return len(b.Records) == 0 && len(b.Next) == 0
}

// SetHighWatermark records partition id's high watermark as a fetch answer
// reported it. Negative values (unknown) are ignored.
func (b *Batch) SetHighWatermark(id int32, hwm int64) {
	if hwm < 0 {
		return
	}
	if b.HighWatermarks == nil {
		b.HighWatermarks = make(map[int32]int64)
	}
	b.HighWatermarks[id] = hwm
}

// PollResult is how every fetcher ends Poll, so that the contract holds the
// same everywhere (SPEC X3): what arrived is returned together with the
// first error, never held back for a later Poll; when nothing arrived and
// ctx ended, ctx's own error is returned, whatever the client made of it.
func PollResult(ctx context.Context, b Batch, err error) (Batch, error) {
	if b.Empty() {
		if cerr := ctx.Err(); cerr != nil {
			return Batch{}, cerr
		}
	}
	return b, err
}

// OutOfRange is the error a fetcher returns for partitions whose positions
// the broker answered OFFSET_OUT_OF_RANGE for. The positions stay where
// they are: the core decides where to go (SPEC X3).
func OutOfRange(op, topic string, partitions []int32, native error) *Error {
	e := NewError(op, topic, ErrOffsetOutOfRange, native)
	e.Partitions = slices.Sorted(slices.Values(partitions))
	return e
}

// AbortedTxn is one aborted transaction a read-committed fetch answer lists
// for a partition: its producer and the offset of its first record.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// BatchHeader is what the abort filter needs of one record batch.
type BatchHeader struct {
	BaseOffset    int64
	ProducerID    int64
	Transactional bool
	Control       bool // a transaction marker (commit or abort)
}

// AbortedBatches reports, for each record batch of one partition's fetch
// answer (in offset order), whether its records belong to an aborted
// transaction and must not be delivered under read committed.
//
// It follows Kafka's consumer: an aborted transaction becomes active for
// its producer at the first batch whose base offset reaches the
// transaction's first offset, and stays active until that producer's next
// control batch (its abort marker). The first offset is always the base
// offset of the transaction's first batch, and batches never overlap, so
// comparing base offsets is exact; comparing last offsets, as Kafka's Java
// consumer does, gives the same answer on every well-formed log.
func AbortedBatches(batches []BatchHeader, aborted []AbortedTxn) []bool {
	out := make([]bool, len(batches))
	if len(aborted) == 0 {
		return out
	}
	queue := slices.SortedFunc(slices.Values(aborted), func(a, b AbortedTxn) int {
		return cmp.Compare(a.FirstOffset, b.FirstOffset)
	})
	active := make(map[int64]bool)
	for i, b := range batches {
		for len(queue) > 0 && queue[0].FirstOffset <= b.BaseOffset {
			active[queue[0].ProducerID] = true
			queue = queue[1:]
		}
		switch {
		case b.Control:
			delete(active, b.ProducerID)
		case b.Transactional && active[b.ProducerID]:
			out[i] = true
		}
	}
	return out
}
