package ktables

import (
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// mixedBatch is a batch large enough to be decoded concurrently, holding
// every kind of record the apply loop treats apart: values, poison values,
// tombstones, keyless records, and keys written more than once.
func mixedBatch(n int) []transport.Record {
	recs := make([]transport.Record, 0, n)
	for i := range n {
		rec := transport.Record{Key: fmt.Appendf(nil, "k%d", i%(n/3)), Offset: int64(i)}
		switch i % 7 {
		case 0:
			rec.Value = nil // a tombstone
		case 1:
			rec.Value = []byte(`{"ID":`) // poison
		case 2:
			rec.Key = nil // keyless
			rec.Value = []byte(`{"ID":1}`)
		default:
			rec.Value = fmt.Appendf(nil, `{"ID":%d}`, i)
		}
		recs = append(recs, rec)
	}
	return recs
}

type predecodePayload struct{ ID int }

// applyJSON applies recs to a new JSON table whose reader decodes
// concurrently or not, and returns the table and the keys OnSet saw.
func applyJSON(t *testing.T, recs []transport.Record, concurrent bool) (*Table[predecodePayload], []string) {
	t.Helper()
	var seen []string
	codec := JSON[predecodePayload]()
	cfg, err := buildConfig(scopeTable|scopeGrouped, []Option{OnSet(func(k string, v predecodePayload) {
		seen = append(seen, fmt.Sprintf("%s=%d", k, v.ID))
	})})
	if err != nil {
		t.Fatal(err)
	}
	c := memtransport.NewCluster()
	t.Cleanup(func() { c.Close() })
	tbl, err := newTable(c.Transport(), "predecode", codec, newFlatStore(codec), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := tbl.newReader(nil, nil)
	if !r.concurrentDecode {
		t.Fatal("the JSON codec does not decode concurrently")
	}
	r.concurrentDecode = concurrent
	if err := r.apply(transport.Batch{Records: recs}); err != nil {
		t.Fatal(err)
	}
	if r.pre.vals != nil && cap(r.pre.vals) > predecodeKeep {
		t.Fatalf("the reader kept %d decoded values after the batch", cap(r.pre.vals))
	}
	return tbl, seen
}

// A batch decoded on every core leaves the table, its counters and its
// hooks exactly as a serial decode does (predecode.go).
func TestPredecodeMatchesSerialDecode(t *testing.T) {
	for _, n := range []int{predecodeMin - 1, predecodeMin, 3 * predecodeMin, 2 * predecodeKeep} {
		recs := mixedBatch(n)
		par, parSeen := applyJSON(t, recs, true)
		ser, serSeen := applyJSON(t, recs, false)
		if !maps.Equal(par.Snapshot(), ser.Snapshot()) {
			t.Fatalf("%d records: contents differ", n)
		}
		if ps, ss := par.Stats(), ser.Stats(); ps != ss {
			t.Fatalf("%d records: stats %+v, serially %+v", n, ps, ss)
		}
		if !slices.Equal(parSeen, serSeen) {
			t.Fatalf("%d records: OnSet saw %d calls, serially %d", n, len(parSeen), len(serSeen))
		}
		if par.Stats().ValueDecodeErrors == 0 {
			t.Fatalf("%d records: no poison value counted", n)
		}
	}
}

// countingCodec is a user codec that records whether Decode ever ran on
// two goroutines at once.
type countingCodec struct {
	inflight, overlaps *atomic.Int64
}

func (c countingCodec) Encode(v string) ([]byte, error) { return []byte(v), nil }
func (c countingCodec) Decode(b []byte) (string, error) {
	if c.inflight.Add(1) > 1 {
		c.overlaps.Add(1)
	}
	defer c.inflight.Add(-1)
	return string(b), nil
}

// A user codec is never called concurrently: nothing says it is safe.
func TestUserCodecDecodedSerially(t *testing.T) {
	codec := countingCodec{new(atomic.Int64), new(atomic.Int64)}
	cfg, err := buildConfig(scopeTable|scopeGrouped, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := memtransport.NewCluster()
	t.Cleanup(func() { c.Close() })
	tbl, err := newTable(c.Transport(), "serial", Codec[string](codec), newFlatStore(Codec[string](codec)), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := tbl.newReader(nil, nil)
	if r.concurrentDecode {
		t.Fatal("a user codec is marked as decoding concurrently")
	}
	if err := r.apply(transport.Batch{Records: mixedBatch(4 * predecodeMin)}); err != nil {
		t.Fatal(err)
	}
	if n := codec.overlaps.Load(); n > 0 {
		t.Fatalf("Decode ran concurrently %d times", n)
	}
}
