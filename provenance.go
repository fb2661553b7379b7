package ktables

import (
	"hash/maphash"
	"log/slog"
	"strings"
	"time"

	"github.com/ktables/ktables/transport"
)

// Convergence across partitions (SPEC M1, ADR 12).
//
// Within a partition the log order decides: a later offset replaces an
// earlier one. Across partitions the later record timestamp wins, and on
// equal timestamps the higher partition number. Folded over a whole log
// that picks one record per key whatever the order partitions were read
// in — provided the reader still knows, when a key's record arrives from a
// second partition, where and when the key's current state came from.
//
// Keeping that for every key would cost every key memory, yet it can only
// matter while another partition may still deliver an older record of the
// same key: while some partition lags behind the record's timestamp. So the
// reader remembers (partition, timestamp) of a set or tombstone only while
// some partition has not passed the record's timestamp, in two
// generations swept as partitions advance, and nothing once every partition
// passed it. A table of keys that each live in one partition, caught up
// and at the head, keeps nothing extra. Tombstones are remembered the same
// way, so a late reader that meets the newer tombstone before the older
// value it deletes drops the value.
//
// A partition has passed time T when it applied a record with a timestamp
// of at least T (record timestamps grow with offsets within a partition:
// one producer's clock, or LogAppendTime), or when it reached the end it
// had at a moment later than T + convergenceSkew: records appended after
// that carry timestamps no more than the skew older than their append.

// convergenceSkew bounds how much older than its append time a record's
// timestamp may be (producer clock skew, linger, retries). It is also how
// long after a table reached the head it remembers the records it applied.
const convergenceSkew = 5 * time.Second

// maxLoggedMisrouted caps the keys remembered for logging once each.
const maxLoggedMisrouted = 1 << 16

// mark is where and when a key's current state (value or tombstone) came
// from.
type mark struct {
	ts   int64 // record timestamp, unix nanoseconds
	part int32
}

// olderThan reports whether a record (ts, p) from another partition than
// m's replaces m: the later timestamp, or on a tie the higher partition.
func (m mark) olderThan(ts int64, p int32) bool {
	return ts > m.ts || ts == m.ts && p > m.part
}

// partProgress is what the reader knows of one partition's progress in
// time.
type partProgress struct {
	maxTs   int64 // latest record timestamp applied; 0: none yet
	reached int64 // when it was last known to be at its end; 0: never
}

// provenance is the reader's convergence state. Only the reader goroutine
// touches it.
type provenance struct {
	young, old generation // provenance_marks.go
	seed       maphash.Seed
	// homeParts is the partition count home partitions are computed for;
	// allIndexed: it changed, so every mark is indexed (isHome).
	homeParts  int
	allIndexed bool
	sweptAt    time.Time      // when sweepProvenance last ran
	parts      []partProgress // by partition number
	low        int64          // every partition passed this timestamp
	sinceSweep int
	logged     map[string]struct{} // cross-partition keys already logged
	loggedFull bool
}

// sweepEvery is how many admitted records pass between recomputing the low
// watermark; a topic with many partitions sweeps no more often than it has
// partitions, keeping the cost O(1) per record.
const sweepEvery = 1024

// admit decides, by SPEC M1, whether a set or tombstone of key from rec
// replaces the key's current state, and remembers its provenance while it
// can matter. A record it rejects must not be applied: no store change, no
// hook, no watch event, no TTL lease.
func (r *reader[V]) admit(key string, rec *transport.Record) bool {
	pv := &r.prov
	p := rec.Partition
	ts := recordNanos(rec.Timestamp)
	pv.observe(p, ts)
	parts := r.pos.Load().parts
	if len(parts) < 2 && pv.young.len() == 0 && pv.old.len() == 0 {
		return true // one partition: the log order is the order
	}
	var (
		h    uint64
		prev mark
		had  bool
	)
	home := pv.isHome(rec.Key, p, len(parts))
	if home {
		h, prev, had = pv.lookupHome(key)
	} else {
		h = pv.hash(key)
		pv.young.index(pv.seedFor())
		pv.old.index(pv.seedFor())
		prev, had = pv.lookup(h, key)
	}
	if had && prev.part != p {
		r.noteCrossPartition(key, prev.part, p, len(parts))
		if !prev.olderThan(ts, p) {
			return false
		}
	}
	// A home record skips the logs it does not read, so it cannot tell
	// whether they hold an older mark of its key that it would have to
	// replace: while a log holds marks that still matter, it is
	// remembered whatever its timestamp.
	if had || ts >= pv.low || home && pv.logsMatter() {
		pv.young.put(h, key, mark{ts: ts, part: p}) // h is computed when young is indexed
	}
	if pv.sinceSweep++; pv.sinceSweep >= max(sweepEvery, len(parts)) {
		r.sweepProvenance(parts)
	}
	return true
}

// provenanceBatchDone sweeps the remembered marks now and then between
// records, so a table that went quiet forgets them too; idle long polls
// call it with empty batches.
func (r *reader[V]) provenanceBatchDone() {
	pv := &r.prov
	if pv.young.len() == 0 && pv.old.len() == 0 {
		return
	}
	if time.Since(pv.sweptAt) >= convergenceSkew/4 || r.gate == nil && pv.low < r.started.UnixNano()-int64(convergenceSkew) {
		r.sweepProvenance(r.pos.Load().parts)
	}
}

// isHome reports whether a record of key (its record bytes) read from
// partition p comes from the partition murmur2 assigns it among n. The
// partition count is fixed at the first call: once it changes, which
// partition was a key's home when its mark was made is unknown, so no
// record counts as home any more and every mark is indexed.
func (pv *provenance) isHome(key []byte, p int32, n int) bool {
	switch {
	case pv.allIndexed:
		return false
	case pv.homeParts == 0:
		pv.homeParts = n
	case pv.homeParts != n:
		pv.allIndexed = true
		return false
	}
	return transport.Partition(key, int32(n)) == p
}

// lookupHome finds the mark of key for a record from key's home partition
// p. A generation without an index holds home marks only, all from p for
// this key, and a mark from p needs no comparison (the log order
// decides): such a generation is skipped, unless an older generation holds
// a mark from elsewhere, which a later mark of p in the younger one would
// supersede. h is key's hash when it was computed.
func (pv *provenance) lookupHome(key string) (h uint64, m mark, had bool) {
	if !pv.young.indexed && !pv.old.indexed {
		return 0, mark{}, false
	}
	h = pv.hash(key)
	if pv.young.indexed {
		if m, ok := pv.young.get(h, key); ok {
			return h, m, true
		}
	}
	if !pv.old.indexed {
		return h, mark{}, false
	}
	m, had = pv.old.get(h, key)
	if had && !pv.young.indexed {
		pv.young.index(pv.seedFor())
		if ym, ok := pv.young.get(h, key); ok {
			return h, ym, true
		}
	}
	return h, m, had
}

// logsMatter reports whether a generation without an index holds marks
// some partition has not passed yet.
func (pv *provenance) logsMatter() bool {
	return !pv.young.indexed && pv.young.len() > 0 && pv.young.maxTs >= pv.low ||
		!pv.old.indexed && pv.old.len() > 0 && pv.old.maxTs >= pv.low
}

func (pv *provenance) hash(key string) uint64 { return markHash(pv.seedFor(), key) }

// seedFor returns the marks' hash seed, made on first use.
func (pv *provenance) seedFor() maphash.Seed {
	if pv.seed == (maphash.Seed{}) {
		pv.seed = maphash.MakeSeed()
	}
	return pv.seed
}

func (pv *provenance) lookup(h uint64, key string) (mark, bool) {
	if m, ok := pv.young.get(h, key); ok {
		return m, true
	}
	return pv.old.get(h, key)
}

// observe folds a record's timestamp into its partition's progress.
func (pv *provenance) observe(p int32, ts int64) {
	if pp := pv.part(p); pp != nil {
		pp.maxTs = max(pp.maxTs, ts)
	}
}

func (pv *provenance) part(p int32) *partProgress {
	if p < 0 {
		return nil
	}
	if int(p) >= len(pv.parts) {
		pv.parts = append(pv.parts, make([]partProgress, int(p)+1-len(pv.parts))...)
	}
	return &pv.parts[p]
}

// sweepProvenance recomputes the low watermark and drops the older
// generation once every partition passed it.
func (r *reader[V]) sweepProvenance(parts []int32) {
	pv := &r.prov
	pv.sinceSweep = 0
	pv.sweptAt = time.Now()
	started := r.started.UnixNano()
	head := r.stats.headAt.Load()
	skew := int64(convergenceSkew)
	low := int64(1<<63 - 1)
	for _, p := range parts {
		pp := pv.part(p)
		if pp == nil {
			continue
		}
		// A partition that reached the end it had at open, or one created
		// after open, only receives records appended after the table
		// opened; once the table confirmed the head, after that.
		if _, catching := r.gate[p]; !catching {
			pp.reached = max(pp.reached, started)
		}
		if head > started {
			pp.reached = max(pp.reached, head)
		}
		passed := pp.maxTs
		if pp.reached != 0 {
			passed = max(passed, pp.reached-skew)
		}
		low = min(low, passed)
	}
	pv.low = low
	if pv.old.maxTs < low {
		if pv.young.maxTs < low {
			pv.old, pv.young = generation{}, generation{}
		} else {
			pv.old, pv.young = pv.young, newGeneration(pv.young.len(), pv.allIndexed)
		}
	}
}

// noteCrossPartition counts and logs, once per key, a key found with
// records in two partitions (SPEC M1).
func (r *reader[V]) noteCrossPartition(key string, a, b int32, n int) {
	pv := &r.prov
	if _, seen := pv.logged[key]; seen {
		return
	}
	r.stats.misrouted.Add(1)
	if pv.loggedFull {
		return
	}
	if len(pv.logged) >= maxLoggedMisrouted {
		pv.loggedFull = true
		r.log.Warn("ktables: many keys have records in more than one partition; logging no more of them",
			slog.Int("logged", len(pv.logged)))
		return
	}
	if pv.logged == nil {
		pv.logged = make(map[string]struct{})
	}
	pv.logged[strings.Clone(key)] = struct{}{}
	home := transport.Partition([]byte(key), int32(n))
	attrs := []any{slog.String("key", key), slog.Int("partition", int(b)),
		slog.Int("other_partition", int(a)), slog.Int("murmur2_partition", int(home))}
	if b != home {
		r.log.Warn("ktables: key written to more than one partition: a producer disagrees on partitioning (murmur2); the later timestamp wins", attrs...)
		return
	}
	r.log.Info("ktables: key has records in more than one partition (partitions added after it was written?); the later timestamp wins", attrs...)
}

// recordNanos is a record timestamp as unix nanoseconds; a missing one is
// the oldest possible.
func recordNanos(t time.Time) int64 {
	if t.IsZero() {
		return -1 << 63
	}
	return t.UnixNano()
}
