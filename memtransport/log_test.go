package memtransport_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func recordStrings(recs []transport.Record) []string {
	var out []string
	for _, r := range recs {
		v := "<nil>"
		if r.Value != nil {
			v = string(r.Value)
		}
		out = append(out, fmt.Sprintf("%d:%s=%s", r.Offset, r.Key, v))
	}
	return out
}

func seedForCompaction(t *testing.T) (*memtransport.Transport, string) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	for _, kv := range [][2]string{{"a", "1"}, {"b", "1"}, {"a", "2"}, {"c", "1"}, {"b", ""}} {
		rec := transport.Record{Key: []byte(kv[0]), Value: []byte(kv[1])}
		if kv[1] == "" {
			rec.Value = nil // tombstone for b
		}
		c.Append(topic, rec)
	}
	c.Append(topic, transport.Record{Value: []byte("keyless")}) // 5
	c.Append(topic, transport.Record{Key: []byte("c"), Value: []byte("2")})
	return tr, topic
}

func TestCompact(t *testing.T) {
	tr, topic := seedForCompaction(t)
	c := tr.Cluster()
	if err := c.Compact(topic); err != nil {
		t.Fatal(err)
	}
	recs, _ := c.Records(topic, 0)
	want := []string{"2:a=2", "4:b=<nil>", "6:c=2"}
	if got := recordStrings(recs); !slices.Equal(got, want) {
		t.Fatalf("after Compact: %v, want %v", got, want)
	}
	if start, _ := c.LogStartOffset(topic, 0); start != 2 {
		t.Fatalf("log start %d, want 2", start)
	}
	if hw, _ := c.HighWatermark(topic, 0); hw != 7 {
		t.Fatalf("high watermark %d, want 7 (compaction keeps offsets)", hw)
	}
	st, _ := tr.StartOffsets(context.Background(), topic, []int32{0})
	if st[0] != 2 {
		t.Fatalf("StartOffsets %v", st)
	}
	// A reader from 0 is out of range (the core moves it to the start);
	// from the start it skips the holes.
	f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Millisecond)
	_, err := f.Poll(context.Background())
	wantOutOfRange(t, err, 0)
	if err := f.Assign(st); err != nil {
		t.Fatal(err)
	}
	b := poll(t, f)
	if !slices.Equal(offsets(b), []int64{2, 4, 6}) || b.Next[0] != 7 {
		t.Fatalf("fetched %v", b)
	}

	if err := c.Compact(topic, memtransport.DropTombstones()); err != nil {
		t.Fatal(err)
	}
	recs, _ = c.Records(topic, 0)
	if got := recordStrings(recs); !slices.Equal(got, []string{"2:a=2", "6:c=2"}) {
		t.Fatalf("after DropTombstones: %v", got)
	}
}

func TestCompactEverythingGone(t *testing.T) {
	tr, topic := setup(t, 2)
	c := tr.Cluster()
	c.Append(topic, transport.Record{Key: []byte("a"), Value: nil})
	c.Compact(topic, memtransport.DropTombstones())
	if start, _ := c.LogStartOffset(topic, 0); start != 1 {
		t.Fatalf("log start %d, want 1 (the high watermark)", start)
	}
	if start, _ := c.LogStartOffset(topic, 1); start != 0 {
		t.Fatalf("empty partition: log start %d, want 0", start)
	}
	wantKind(t, c.Compact("missing"), transport.ErrUnknownTopic, false)
}

func TestDeleteRecordsBefore(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	for range 3 {
		produce(t, tr, topic, 0, "k", "v")
	}
	c.SkipOffsets(topic, 0, 2) // 3..4
	produce(t, tr, topic, 0, "k", "v")
	if err := c.DeleteRecordsBefore(topic, 0, 4); err != nil {
		t.Fatal(err)
	}
	recs, _ := c.Records(topic, 0)
	if got := recordStrings(recs); !slices.Equal(got, []string{"5:k=v"}) {
		t.Fatalf("records %v", got)
	}
	if start, _ := c.LogStartOffset(topic, 0); start != 4 {
		t.Fatalf("log start %d", start)
	}
	// Moving back is a no-op; beyond the high watermark is an error.
	if err := c.DeleteRecordsBefore(topic, 0, 1); err != nil {
		t.Fatal(err)
	}
	if start, _ := c.LogStartOffset(topic, 0); start != 4 {
		t.Fatalf("log start moved back to %d", start)
	}
	wantKind(t, c.DeleteRecordsBefore(topic, 0, 7), transport.ErrInvalidRequest, false)
	wantKind(t, c.DeleteRecordsBefore(topic, 1, 0), transport.ErrUnknownPartition, true)
}

func TestSkipOffsetsValidates(t *testing.T) {
	tr, topic := setup(t, 1)
	wantKind(t, tr.Cluster().SkipOffsets(topic, 0, 0), transport.ErrInvalidRequest, false)
	_, err := tr.Cluster().AppendControl("missing", 0)
	wantKind(t, err, transport.ErrUnknownTopic, false)
}

func TestDeleteTopic(t *testing.T) {
	tr, topic := setup(t, 1)
	c := tr.Cluster()
	if err := c.DeleteTopic(topic); err != nil {
		t.Fatal(err)
	}
	_, err := tr.Partitions(context.Background(), topic)
	wantKind(t, err, transport.ErrUnknownTopic, false)
	wantKind(t, c.DeleteTopic(topic), transport.ErrUnknownTopic, false)
	if err := tr.CreateTopic(context.Background(), transport.TopicSpec{Name: topic}); err != nil {
		t.Fatalf("re-create: %v", err)
	}
}
