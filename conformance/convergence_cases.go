package conformance

import (
	"fmt"
	"maps"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// crossPartitionConverges (SPEC M1): keys with records in two partitions —
// a newer tombstone on another partition, a newer value written before an
// older one, equal timestamps — give the same table to a table reading
// live and to one opened afterwards: the later timestamp wins, the higher
// partition on a tie.
func crossPartitionConverges(e *env) {
	topic := e.newTopic(2, compacted())
	live := openTable(e, e.otherProcess(), topic, ktables.String(), ktables.WithFetchMaxWait(100*time.Millisecond))
	// Timestamps of now, as a producer's would be; milliseconds, as on the
	// wire.
	base := time.Now().Truncate(time.Millisecond)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	recs := []transport.Record{
		{Partition: 0, Key: []byte("d"), Value: []byte("old"), Timestamp: at(0)},
		{Partition: 1, Key: []byte("d"), Timestamp: at(2)}, // the newer tombstone, on another partition
		{Partition: 1, Key: []byte("k"), Value: []byte("new"), Timestamp: at(4)},
		{Partition: 0, Key: []byte("k"), Value: []byte("old"), Timestamp: at(3)}, // written later, older
		{Partition: 1, Key: []byte("t"), Value: []byte("p1"), Timestamp: at(5)},
		{Partition: 0, Key: []byte("t"), Value: []byte("p0"), Timestamp: at(5)}, // tie: partition 1 wins
		{Partition: 0, Key: []byte("solo"), Value: []byte("v"), Timestamp: at(6)},
	}
	for _, r := range recs {
		e.produce(e.tr, topic, r)
	}
	want := map[string]string{"k": "new", "t": "p1", "solo": "v"}
	barrier(e, live)
	if got := live.Snapshot(); !maps.Equal(got, want) {
		e.ErrorfAt("M1", "live table: %s", diff(got, want))
	}
	late := openTable(e, e.otherProcess(), topic, ktables.String())
	if got := late.Snapshot(); !maps.Equal(got, want) {
		e.ErrorfAt("M1", "table opened afterwards: %s", diff(got, want))
	}
	if n := late.Stats().MisroutedKeys; n != 3 {
		e.ErrorfAt("M1", "Stats.MisroutedKeys = %d, want 3 (d, k, t): %s", n, fmt.Sprint(late.Stats()))
	}
}
