package ktables

import (
	"sync/atomic"
	"time"
)

// Stats are a table's counters (SPEC D4). Stats() returns a copy.
type Stats struct {
	// RecordsApplied counts records that set a key.
	RecordsApplied int64
	// TombstonesApplied counts tombstones (nil values), whether or not the
	// key was present.
	TombstonesApplied int64
	// KeylessRecords counts records with a nil key, skipped.
	KeylessRecords int64
	// KeyDecodeErrors counts records whose key was rejected, skipped. For a
	// flat table: keys its KeyFormat rejects (by default, UTF8Keys: keys
	// that are not valid UTF-8, SPEC K1). For a grouped table: keys that are
	// not valid UTF-8.
	KeyDecodeErrors int64
	// ForeignKeys counts keys a grouped table could not decode as a
	// (group, member) pair, skipped (SPEC G2). Always 0 for flat tables.
	ForeignKeys int64
	// ValueDecodeErrors counts records whose value the codec rejected,
	// skipped; the previous entry for the key stays.
	ValueDecodeErrors int64
	// MisroutedKeys counts keys found with records in more than one
	// partition (SPEC M1): partitions added after the key was written, or
	// a producer whose partitioner disagrees with murmur2. Across
	// partitions the later record timestamp wins (ADR 12). Each key is
	// counted and logged once.
	MisroutedKeys int64
	// Expired counts keys (members, for a grouped table) a table opened
	// WithTTL hid because their last record got older than the TTL: at
	// their deadline, or when a record already older than the TTL arrived
	// for a key the table held (SPEC V5). It equals the number of
	// EventExpired events. A record that arrives expired for a key the
	// table does not hold (a dead member replayed at open) hides nothing
	// and is not counted. Always 0 without WithTTL.
	Expired int64
	// Retries counts transient errors the reader recovered from.
	Retries int64
	// RecordsAtCatchUp is how many records were replayed into the table
	// (applied records and tombstones) when it caught up; poison and keyless
	// records are in their own counters. CatchUpDuration is how long
	// catch-up took. Both are zero until then.
	RecordsAtCatchUp int64
	CatchUpDuration  time.Duration
	// Partitions is the number of partitions the table reads.
	Partitions int

	// Lag is how many records the table is behind the high watermarks its
	// fetches last reported, over all partitions (SPEC T3); Table.Lag has
	// it per partition. Zero when the transport does not report high
	// watermarks.
	Lag int64
	// LastFetch is when the reader last completed a fetch, with or without
	// records; zero before the first.
	LastFetch time.Time
	// HeadConfirmed is when the reader last confirmed it was at the head of
	// every partition: a fetch reported no record beyond what it applied.
	// Zero before the first time. WithMaxStaleness bounds how old it may get.
	HeadConfirmed time.Time
}

// counters are updated by the reader goroutine and read by anyone.
type counters struct {
	applied, tombstones, keyless, keyErrors, foreign, valueErrors, retries atomic.Int64
	seen                                                                   atomic.Int64
	misrouted                                                              atomic.Int64 // provenance.go
	expired                                                                atomic.Int64 // expiry.go, watch_log.go
	atCatchUp                                                              atomic.Int64
	catchUpNanos                                                           atomic.Int64
	partitions                                                             atomic.Int64
	lag                                                                    atomic.Int64 // freshness.go
	lastFetch, headAt                                                      atomic.Int64 // unix nanos; 0: never
}

func (c *counters) snapshot() Stats {
	return Stats{
		RecordsApplied:    c.applied.Load(),
		TombstonesApplied: c.tombstones.Load(),
		KeylessRecords:    c.keyless.Load(),
		KeyDecodeErrors:   c.keyErrors.Load(),
		ForeignKeys:       c.foreign.Load(),
		ValueDecodeErrors: c.valueErrors.Load(),
		MisroutedKeys:     c.misrouted.Load(),
		Expired:           c.expired.Load(),
		Retries:           c.retries.Load(),
		RecordsAtCatchUp:  c.atCatchUp.Load(),
		CatchUpDuration:   time.Duration(c.catchUpNanos.Load()),
		Partitions:        int(c.partitions.Load()),
		Lag:               c.lag.Load(),
		LastFetch:         unixNanos(c.lastFetch.Load()),
		HeadConfirmed:     unixNanos(c.headAt.Load()),
	}
}

// unixNanos turns a stored time back into a time.Time; 0 is the zero time.
func unixNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
