package memtransport

import (
	"fmt"
	"slices"
	"time"

	"github.com/ktables/ktables/transport"
)

// partLog is one partition's log. Offsets in recs are strictly increasing and
// may have gaps (holes, control markers). Records are never modified after
// append: fetchers hand out their slices without copying.
type partLog struct {
	start int64 // log start offset: the earliest available
	end   int64 // high watermark: the offset of the next append
	recs  []transport.Record
}

// indexOf returns the index of the first record at or after offset.
func (l *partLog) indexOf(offset int64) int {
	if len(l.recs) == 0 || offset <= l.recs[0].Offset {
		return 0
	}
	i, _ := slices.BinarySearchFunc(l.recs, offset, func(r transport.Record, o int64) int {
		switch {
		case r.Offset < o:
			return -1
		case r.Offset > o:
			return 1
		}
		return 0
	})
	return i
}

// storeRecord copies rec for the log. Key, value and header values share one
// allocation (one per record rather than three), each sub-slice capped so an
// append by a reader cannot spill into its neighbour. Nil stays nil and empty
// stays empty non-nil (SPEC R1).
func storeRecord(rec transport.Record, partition int32, offset int64) transport.Record {
	n, some := len(rec.Key)+len(rec.Value), rec.Key != nil || rec.Value != nil
	for _, h := range rec.Headers {
		n += len(h.Value)
		some = some || h.Value != nil
	}
	var buf []byte
	if some {
		buf = make([]byte, n) // non-nil even when n == 0
	}
	carve := func(src []byte) []byte {
		if src == nil {
			return nil
		}
		dst := buf[:len(src):len(src)]
		copy(dst, src)
		buf = buf[len(src):]
		return dst
	}
	out := transport.Record{
		Key:       carve(rec.Key),
		Value:     carve(rec.Value),
		Timestamp: rec.Timestamp,
		Partition: partition,
		Offset:    offset,
	}
	if rec.Headers != nil {
		out.Headers = make([]transport.Header, len(rec.Headers))
		for i, h := range rec.Headers {
			out.Headers[i] = transport.Header{Key: h.Key, Value: carve(h.Value)}
		}
	}
	return out
}

func recordSize(r *transport.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// append adds rec to partition p and returns its offset.
func (tp *topic) append(op string, rec transport.Record) (int64, error) {
	if rec.Timestamp.IsZero() {
		rec.Timestamp = time.Now()
	}
	size := recordSize(&rec)
	tp.mu.Lock()
	defer tp.mu.Unlock()
	l, err := tp.partLocked(op, rec.Partition)
	if err != nil {
		return 0, err
	}
	if limit := tp.maxMessageBytesLocked(); size > limit {
		return 0, transport.NewError(op, tp.name, transport.ErrRecordTooLarge,
			fmt.Errorf("record of %d bytes exceeds max.message.bytes %d", size, limit))
	}
	off := l.end
	l.recs = append(l.recs, storeRecord(rec, rec.Partition, off))
	l.end++
	tp.notifyLocked()
	return off, nil
}

// withPart runs fn on a partition of a topic under the topic lock. After a
// write it wakes waiters, as new offsets may let a fetcher advance.
func (c *Cluster) withPart(op, name string, p int32, write bool, fn func(*partLog) error) error {
	tp, err := c.lookup(op, name, false)
	if err != nil {
		return err
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	l, err := tp.partLocked(op, p)
	if err != nil {
		return err
	}
	if err := fn(l); err != nil {
		return transport.NewError(op, name, transport.ErrInvalidRequest, err)
	}
	if write {
		tp.notifyLocked()
	}
	return nil
}

// Append adds a record to rec.Partition of a topic, like Produce but without
// faults, latency or a client; handy to seed a log. It returns the offset.
func (c *Cluster) Append(topicName string, rec transport.Record) (int64, error) {
	tp, err := c.lookup("append", topicName, false)
	if err != nil {
		return 0, err
	}
	return tp.append("append", rec)
}

// AppendControl appends a transaction control marker to a partition and
// returns its offset. The marker occupies the offset but is never delivered;
// fetch positions move past it, also when it is the last thing in the log
// (the case that stalls naive consumers, SPEC R4 and §12).
func (c *Cluster) AppendControl(topicName string, partition int32) (int64, error) {
	var off int64
	err := c.withPart("append control", topicName, partition, true, func(l *partLog) error {
		off = l.end
		l.end++
		return nil
	})
	return off, err
}

// SkipOffsets leaves a hole of n offsets at the end of a partition, as
// compaction or an aborted transaction does. n must be positive.
func (c *Cluster) SkipOffsets(topicName string, partition int32, n int64) error {
	return c.withPart("skip offsets", topicName, partition, true, func(l *partLog) error {
		if n <= 0 {
			return fmt.Errorf("skip of %d offsets", n)
		}
		l.end += n
		return nil
	})
}

// DeleteRecordsBefore removes the records below offset from a partition and
// moves its log start there, as retention or the DeleteRecords admin call
// does. An offset above the high watermark is an error matching
// [transport.ErrInvalidRequest]; one at or below the log start changes
// nothing.
func (c *Cluster) DeleteRecordsBefore(topicName string, partition int32, offset int64) error {
	return c.withPart("delete records", topicName, partition, true, func(l *partLog) error {
		if offset > l.end {
			return fmt.Errorf("offset %d is above the high watermark %d", offset, l.end)
		}
		if offset <= l.start {
			return nil
		}
		// A new slice rather than re-slicing, so the memory is released.
		l.recs = slices.Clone(l.recs[l.indexOf(offset):])
		l.start = offset
		return nil
	})
}

// CompactOption tunes [Cluster.Compact].
type CompactOption func(*compactConfig)

type compactConfig struct{ dropTombstones bool }

// DropTombstones makes Compact also remove the latest tombstone of each key,
// as Kafka does once delete.retention.ms has passed. Without it, tombstones
// stay so that readers still learn about the deletes.
func DropTombstones() CompactOption {
	return func(c *compactConfig) { c.dropTombstones = true }
}

// Compact compacts every partition of a topic whatever its cleanup.policy:
// it keeps the last record of each key (keyless records go, as a compacted
// topic cannot hold them) and moves the log start to the first remaining
// record, or to the high watermark when nothing remains. Like kfake, it is
// more eager than Kafka, which never compacts the active segment and keeps
// the log start: a reader must cope with both (SPEC R5, R6).
func (c *Cluster) Compact(topicName string, opts ...CompactOption) error {
	var cfg compactConfig
	for _, o := range opts {
		o(&cfg)
	}
	tp, err := c.lookup("compact", topicName, false)
	if err != nil {
		return err
	}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, l := range tp.parts {
		last := make(map[string]int64, len(l.recs))
		for _, r := range l.recs {
			if r.Key != nil {
				last[string(r.Key)] = r.Offset
			}
		}
		kept := make([]transport.Record, 0, len(last))
		for _, r := range l.recs {
			if r.Key == nil || last[string(r.Key)] != r.Offset || (cfg.dropTombstones && r.Value == nil) {
				continue
			}
			kept = append(kept, r)
		}
		l.recs = kept
		if len(kept) > 0 {
			l.start = kept[0].Offset
		} else {
			l.start = l.end
		}
	}
	tp.notifyLocked()
	return nil
}

// Records returns a copy of the records of a partition, in offset order.
// The byte slices are shared with the log: do not modify them.
func (c *Cluster) Records(topicName string, partition int32) ([]transport.Record, error) {
	var out []transport.Record
	err := c.withPart("records", topicName, partition, false, func(l *partLog) error {
		out = slices.Clone(l.recs)
		return nil
	})
	return out, err
}

// HighWatermark returns the offset the next record of a partition will get.
func (c *Cluster) HighWatermark(topicName string, partition int32) (int64, error) {
	var off int64
	err := c.withPart("high watermark", topicName, partition, false, func(l *partLog) error {
		off = l.end
		return nil
	})
	return off, err
}

// LogStartOffset returns the earliest available offset of a partition.
func (c *Cluster) LogStartOffset(topicName string, partition int32) (int64, error) {
	var off int64
	err := c.withPart("log start offset", topicName, partition, false, func(l *partLog) error {
		off = l.start
		return nil
	})
	return off, err
}
