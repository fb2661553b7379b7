package ktables_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// m1Rec is one record of a convergence scenario.
type m1Rec struct {
	part int32
	key  string
	val  *string // nil: tombstone
	ts   int64   // seconds after m1Epoch
}

var m1Epoch = time.Now().Add(-time.Hour).Truncate(time.Second)

func sv(s string) *string { return &s }

// foldM1 is SPEC M1 written as plainly as possible: per partition the last
// record of each key in log order; across partitions the later timestamp,
// and on a tie the higher partition.
func foldM1(recs []m1Rec) map[string]string {
	last := map[string]map[int32]m1Rec{}
	for _, r := range recs {
		if last[r.key] == nil {
			last[r.key] = map[int32]m1Rec{}
		}
		last[r.key][r.part] = r
	}
	out := map[string]string{}
	for k, byPart := range last {
		var win *m1Rec
		for _, r := range byPart {
			if win == nil || r.ts > win.ts || r.ts == win.ts && r.part > win.part {
				win = &r
			}
		}
		if win.val != nil {
			out[k] = *win.val
		}
	}
	return out
}

// m1Cluster writes recs to a fresh cluster that hands out one record per
// Poll, preceded by fill filler records in the partitions fill names, so
// that the round-robin fetcher meets the scenario's records in an order
// the test chooses.
func m1Cluster(t *testing.T, parts int32, fill map[int32]int, recs []m1Rec) (*memtransport.Cluster, string) {
	t.Helper()
	c := memtransport.NewCluster(memtransport.WithMaxPollRecords(1))
	t.Cleanup(func() { c.Close() })
	topic := topicName(t)
	createTopic(t, c, topic, parts)
	for p, n := range fill {
		for i := range n {
			m1Append(t, c, topic, m1Rec{part: p, key: fmt.Sprintf("filler-%d-%d", p, i), val: sv("f"), ts: 0})
		}
	}
	for _, r := range recs {
		m1Append(t, c, topic, r)
	}
	return c, topic
}

func m1Append(t *testing.T, c *memtransport.Cluster, topic string, r m1Rec) {
	t.Helper()
	rec := transport.Record{Key: []byte(r.key), Partition: r.part, Timestamp: m1Epoch.Add(time.Duration(r.ts) * time.Second)}
	if r.val != nil {
		rec.Value = []byte(*r.val)
	}
	if _, err := c.Append(topic, rec); err != nil {
		t.Fatal(err)
	}
}

// tableMap reads a table without its filler keys.
func tableMap(tbl *ktables.Table[[]byte]) map[string]string {
	out := map[string]string{}
	for k, v := range tbl.All() {
		if !strings.HasPrefix(k, "filler-") {
			out[k] = string(v)
		}
	}
	return out
}

// checkConverges opens a table on the scenario under every filler layout
// in fills and compares it with foldM1 (SPEC M1).
func checkConverges(t *testing.T, parts int32, recs []m1Rec, wantMisrouted int64) {
	t.Helper()
	want := foldM1(recs)
	fills := []map[int32]int{nil}
	for p := range parts {
		fills = append(fills, map[int32]int{p: 3}, map[int32]int{p: 7})
	}
	for _, fill := range fills {
		c, topic := m1Cluster(t, parts, fill, recs)
		tbl := openBytes(t, testCtx(t), c.Transport(), topic)
		if got := tableMap(tbl); !maps.Equal(got, want) {
			t.Errorf("M1: fill %v: table %v, want %v", fill, got, want)
		}
		if got := tbl.Stats().MisroutedKeys; got != wantMisrouted {
			t.Errorf("M1: fill %v: MisroutedKeys %d, want %d", fill, got, wantMisrouted)
		}
		tbl.Close()
	}
}

// TestM1LateReaderMeetsNewerTombstoneFirst is the catch-up interleaving of
// issue 16.2: the tombstone of d (p1, newer) is fetched before the value it
// deletes (p0, older).
func TestM1LateReaderMeetsNewerTombstoneFirst(t *testing.T) {
	checkConverges(t, 2, []m1Rec{
		{part: 0, key: "d", val: sv("old"), ts: 10},
		{part: 1, key: "d", ts: 20},
	}, 1)
}

// TestM1NewerValueInOtherPartition: the later timestamp wins whichever
// partition is read first (SPEC M1).
func TestM1NewerValueInOtherPartition(t *testing.T) {
	checkConverges(t, 2, []m1Rec{
		{part: 0, key: "k", val: sv("old"), ts: 10},
		{part: 1, key: "k", val: sv("new"), ts: 20},
		{part: 1, key: "j", val: sv("new"), ts: 30},
		{part: 0, key: "j", val: sv("old"), ts: 15}, // written later, older timestamp
		{part: 0, key: "solo", val: sv("v"), ts: 5},
	}, 2)
}

// TestM1EqualTimestampsHigherPartitionWins is the documented tie rule
// (ADR 12).
func TestM1EqualTimestampsHigherPartitionWins(t *testing.T) {
	checkConverges(t, 3, []m1Rec{
		{part: 2, key: "t", val: sv("p2"), ts: 10},
		{part: 0, key: "t", val: sv("p0"), ts: 10},
		{part: 1, key: "t", val: sv("p1"), ts: 10},
		{part: 0, key: "u", ts: 10},
		{part: 1, key: "u", val: sv("p1"), ts: 10}, // the tombstone's partition is lower: u stays
	}, 2)
	if got := foldM1([]m1Rec{{part: 0, key: "u", ts: 1}, {part: 1, key: "u", val: sv("x"), ts: 1}}); got["u"] != "x" {
		t.Fatalf("reference fold: %v", got)
	}
}

// TestM1SamePartitionKeepsLogOrder: within a partition a later offset
// wins even with an older timestamp; M1 only decides between partitions.
func TestM1SamePartitionKeepsLogOrder(t *testing.T) {
	checkConverges(t, 2, []m1Rec{
		{part: 1, key: "a", val: sv("first"), ts: 20},
		{part: 1, key: "a", val: sv("second"), ts: 19},
	}, 0)
}

// TestM1KcatStyleMisroutedWrites: a producer with another partitioner
// (kcat's consistent_random) writes keys to partitions murmur2 does not
// choose, interleaved with a murmur2 writer's records of the same keys.
func TestM1KcatStyleMisroutedWrites(t *testing.T) {
	var recs []m1Rec
	for i := range 6 {
		key := fmt.Sprintf("key-%d", i)
		home := transport.Partition([]byte(key), 3)
		other := (home + 1) % 3
		recs = append(recs,
			m1Rec{part: home, key: key, val: sv("murmur2-1"), ts: int64(10 + i)},
			m1Rec{part: other, key: key, val: sv("kcat"), ts: int64(12 + i)},
		)
		if i%2 == 0 { // the murmur2 writer wins for half the keys
			recs = append(recs, m1Rec{part: home, key: key, val: sv("murmur2-2"), ts: int64(14 + i)})
		}
		if i == 5 { // and kcat deletes the last
			recs = append(recs, m1Rec{part: other, key: key, ts: int64(30)})
		}
	}
	checkConverges(t, 3, recs, 6)
}

// TestM1PartitionGrowthIssueScenario is issue 16.2 exactly: one partition,
// d=old, grow to two, the tombstone of d lands on the new partition. A
// table that was live and a table opened afterwards both show d absent.
func TestM1PartitionGrowthIssueScenario(t *testing.T) {
	c := memtransport.NewCluster(memtransport.WithMaxPollRecords(1), memtransport.WithDefaultFetchWait(20*time.Millisecond))
	t.Cleanup(func() { c.Close() })
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 1)
	// Fillers first, so the late reader fetches p1's tombstone before d=old.
	for i := range 5 {
		m1Append(t, c, topic, m1Rec{part: 0, key: fmt.Sprintf("filler-%d", i), val: sv("f"), ts: 1})
	}
	m1Append(t, c, topic, m1Rec{part: 0, key: "d", val: sv("old"), ts: 10})
	live := openBytes(t, ctx, c.Transport(), topic, ktables.WithPartitionRefresh(20*time.Millisecond))
	if v, ok := live.Get("d"); !ok || string(v) != "old" {
		t.Fatalf("before growth: d = %q, %v", v, ok)
	}
	if err := c.CreatePartitions(topic, 2); err != nil {
		t.Fatal(err)
	}
	if p := transport.Partition([]byte("d"), 2); p != 1 {
		t.Fatalf("murmur2 puts d on partition %d, the scenario needs 1", p)
	}
	m1Append(t, c, topic, m1Rec{part: 1, key: "d", ts: 20})
	eventually(t, "live table sees the tombstone", func() bool { _, ok := live.Get("d"); return !ok })

	var logs bytes.Buffer
	var mu sync.Mutex
	late := openBytes(t, ctx, c.Transport(), topic, ktables.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))))
	if v, ok := late.Get("d"); ok {
		t.Fatalf("M1: late table shows d=%q after its newer tombstone on partition 1", v)
	}
	if got := late.Stats().MisroutedKeys; got != 1 {
		t.Errorf("MisroutedKeys %d, want 1", got)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Count(out, "more than one partition") != 1 || !strings.Contains(out, "key=d") {
		t.Errorf("want one log line about key d, got:\n%s", out)
	}
}

// TestM1RejectedRecordEmitsNoEvent: an older record from another partition
// changes nothing, so watchers see nothing and hooks do not run (SPEC M1,
// V1).
func TestM1RejectedRecordEmitsNoEvent(t *testing.T) {
	c := memtransport.NewCluster(memtransport.WithDefaultFetchWait(20 * time.Millisecond))
	t.Cleanup(func() { c.Close() })
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 2)
	var mu sync.Mutex
	var hooked []string
	tbl, err := ktables.Open(ctx, c.Transport(), topic, ktables.String(),
		ktables.OnSet(func(k, v string) { mu.Lock(); hooked = append(hooked, k+"="+v); mu.Unlock() }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tbl.Close() })
	next := pullWatch(t, tbl.Watch(ctx))
	readSnapshot(t, next)
	// Records appended now carry timestamps of now (M1 assumes that of
	// records appended after a table opened, within convergenceSkew).
	now := int64(time.Since(m1Epoch) / time.Second)
	m1Append(t, c, topic, m1Rec{part: 1, key: "k", val: sv("new"), ts: now + 2})
	if ev, err := next(); err != nil || ev.Kind != ktables.EventSet || ev.New != "new" {
		t.Fatalf("first event %v, %v", ev, err)
	}
	m1Append(t, c, topic, m1Rec{part: 0, key: "k", val: sv("old"), ts: now + 1})
	m1Append(t, c, topic, m1Rec{part: 0, key: "marker", val: sv("m"), ts: now + 3})
	ev, err := next()
	if err != nil || ev.Key != "marker" {
		t.Fatalf("M1: after the rejected older record want the marker event, got %v, %v", ev, err)
	}
	if v, _ := tbl.Get("k"); v != "new" {
		t.Fatalf("M1: k=%q, want new", v)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(hooked, []string{"k=new", "marker=m"}) {
		t.Fatalf("OnSet calls %v", hooked)
	}
}

// TestM1HomeRecordsFirst: keys written to their murmur2 partitions are read
// before records of the same keys from other partitions, older and newer,
// sets and tombstones. The table remembers home records without indexing
// them until the first record from elsewhere (provenance_marks.go): the
// result must be SPEC M1's all the same.
func TestM1HomeRecordsFirst(t *testing.T) {
	const parts = 4
	var recs, late []m1Rec
	for i := range 40 {
		key := fmt.Sprintf("key-%d", i)
		home := transport.Partition([]byte(key), parts)
		other := (home + 1 + int32(i%3)) % parts
		recs = append(recs, m1Rec{part: home, key: key, val: sv("home"), ts: 20})
		switch i % 5 {
		case 0:
			late = append(late, m1Rec{part: other, key: key, val: sv("older"), ts: 10})
		case 1:
			late = append(late, m1Rec{part: other, key: key, val: sv("newer"), ts: 30})
		case 2:
			late = append(late, m1Rec{part: other, key: key, ts: 30})
		case 3:
			late = append(late, m1Rec{part: other, key: key, ts: 10})
		}
	}
	checkConverges(t, parts, append(recs, late...), 32)
}
