package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// heapLive returns live heap bytes after full collections.
func heapLive() uint64 {
	var ms runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// retained measures what load keeps alive: the live heap while the value it
// returns is held, minus the live heap once it is dropped. Everything else
// (the broker's log, connections of the harness) is live in both readings
// and cancels out, however it grew while load ran; whatever the loaded
// table or map references (entries, index, values and any fetch buffers
// they alias) counts.
func retained(load func() (keep any, err error)) (uint64, error) {
	keep, err := load()
	if err != nil {
		return 0, err
	}
	with := heapLive()
	runtime.KeepAlive(keep)
	keep = nil
	without := heapLive()
	if with < without {
		return 0, nil
	}
	return with - without, nil
}

// memSource is where a memory row's records live: the scenario's broker
// through the adapter under test, or a memtransport cluster.
type memSource struct {
	name  string // "" for the adapter, "memtransport"
	e     *Env
	mem   *memtransport.Cluster
	topic string
	// logs caches the topics already seeded, by log shape, with the
	// records each holds: codecs share a log, and churn rows append.
	logs map[string]*memLog
}

type memLog struct {
	topic   string
	records int64
}

func (s *memSource) label(name string) string {
	if s.name == "" {
		return name
	}
	return s.name + ": " + name
}

func (s *memSource) transport() (transport.Transport, error) {
	if s.mem != nil {
		return s.mem.Transport(), nil
	}
	return s.e.Adapter.Transport(s.e.Broker.Seeds)
}

// seed creates a topic holding n records with keys key(i).
func (s *memSource) seed(prefix string, n int, key func(int) []byte) error {
	if s.mem == nil {
		t, err := seededTopic(s.e, prefix, 1, n, key)
		s.topic = t
		return err
	}
	topicSeq.Lock()
	topicSeq.n++
	s.topic = fmt.Sprintf("bench-%s-%d", prefix, topicSeq.n)
	topicSeq.Unlock()
	if err := s.mem.CreateTopic(transport.TopicSpec{Name: s.topic, Partitions: 1,
		Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		return err
	}
	return s.append(0, n, key)
}

// append adds records from..to-1 (keys key(i), values Value(i)).
func (s *memSource) append(from, to int, key func(int) []byte) error {
	if s.mem == nil {
		return s.e.Broker.Seed(s.e.Ctx, s.topic, 1, to-from, func(i int) []byte { return key(from + i) },
			func(i int) []byte { return Value(from + i) })
	}
	for i := from; i < to; i++ {
		if _, err := s.mem.Append(s.topic, transport.Record{Key: key(i), Value: Value(i)}); err != nil {
			return err
		}
	}
	return nil
}

// memCase is one memory row: a log shape read by one codec.
type memCase struct {
	kind     string // "distinct", "replay", "churn"
	codec    string // "bytes" or "json"
	grouped  bool
	keys     int
	versions int // replay: records per key
	updates  int // churn: live updates after catch-up
}

func (c memCase) name() string {
	shape := "flat"
	if c.grouped {
		shape = "grouped"
	}
	switch c.kind {
	case "replay":
		return fmt.Sprintf("uncompacted replay, %s keys × %d versions, %s", fmtCount(c.keys), c.versions, c.codec)
	case "churn":
		return fmt.Sprintf("live churn, %s updates over %s keys, %s", fmtCount(c.updates), fmtCount(c.keys), c.codec)
	}
	return fmt.Sprintf("%s, %s keys, %s", shape, fmtCount(c.keys), c.codec)
}

func (c memCase) payload() float64 {
	key := FlatKey
	if c.grouped {
		key = GroupedKey
	}
	total := 0
	for i := range c.keys {
		total += len(key(i)) + ValueSize
	}
	return float64(total) / float64(c.keys)
}

// runMemory measures the heap a loaded table retains per key. Distinct-key
// rows load a log of one record per key; the replay rows a log that holds
// every version of every key (the shape of any topic's active segment); the
// churn rows a table that applies random live updates after catch-up. A
// replay or churn row's target is its codec's distinct-keys figure at the
// same key count, from the same run, plus 10%. The memtransport rows run
// with the first adapter.
func runMemory(e *Env) ([]*Metric, error) {
	cfg := e.Cfg
	sources := []*memSource{{e: e}}
	if len(cfg.Adapters) > 0 && cfg.Adapters[0].Name == e.Adapter.Name {
		mc := memtransport.NewCluster()
		defer mc.Close()
		sources = append(sources, &memSource{name: "memtransport", e: e, mem: mc})
	}
	var out []*Metric
	for _, src := range sources {
		var cases []memCase
		for _, grouped := range []bool{false, true} {
			for _, n := range cfg.MemSizes {
				cases = append(cases, memCase{kind: "distinct", codec: "bytes", grouped: grouped, keys: n})
			}
		}
		for _, codec := range []string{"bytes", "json"} {
			cases = append(cases,
				memCase{kind: "distinct", codec: codec, keys: cfg.MemReplayKeys},
				memCase{kind: "replay", codec: codec, keys: cfg.MemReplayKeys, versions: cfg.MemVersions},
				memCase{kind: "distinct", codec: codec, keys: cfg.MemChurnKeys},
				memCase{kind: "churn", codec: codec, keys: cfg.MemChurnKeys, updates: cfg.MemChurnUpdates})
		}
		distinct := map[string]*Metric{}
		for _, c := range cases {
			dkey := fmt.Sprintf("%s/%v/%d", c.codec, c.grouped, c.keys)
			if c.kind == "distinct" && distinct[dkey] != nil {
				continue // listed twice (MemSizes and a replay or churn size)
			}
			m := &Metric{Scenario: "memory", Name: src.label(c.name()), Unit: "B/key",
				Note: fmt.Sprintf("payload %.0f B/key", c.payload())}
			if c.kind == "distinct" && !c.grouped && c.codec == "bytes" && c.keys >= 100_000 {
				// Per-table fixed costs (64 shards, their indexes)
				// amortize only over many keys: the target is for 1M.
				m.Target = &Target{AtMost, c.payload() + 48}
			}
			out = append(out, m)
			if err := src.measure(c, m); err != nil {
				m.Err = err.Error()
				continue
			}
			if c.kind == "distinct" {
				distinct[dkey] = m
				continue
			}
			base := distinct[dkey]
			if base == nil || base.Err != "" || len(base.KT) == 0 {
				m.Err = "no distinct-keys figure to compare with"
				continue
			}
			d := Summarize(base.KT).Median
			m.Target = &Target{AtMost, 1.1 * d}
			m.Note += fmt.Sprintf("; distinct-keys figure %.0f B/key", d)
		}
	}
	return out, nil
}

// measure seeds c's log and fills m with each repeat's retained bytes per
// key, ktables then raw. A table that applied fewer records than the log
// was given fails the row: the broker compacted it, and the figure would
// not measure an uncompacted replay.
func (s *memSource) measure(c memCase, m *Metric) error {
	e := s.e
	key := FlatKey
	if c.grouped {
		key = GroupedKey
	}
	var r Raw
	if s.mem == nil {
		var err error
		if r, err = e.Adapter.Raw(e.Broker.Seeds); err != nil {
			return err
		}
		defer r.Close()
	}
	shape := fmt.Sprintf("%s/%v/%d/%d", c.kind, c.grouped, c.keys, c.versions)
	if s.logs == nil {
		s.logs = map[string]*memLog{}
	}
	// log returns the log to measure: replay and distinct logs are seeded
	// once and shared by codecs; a churn run gets a fresh log (its updates
	// would otherwise pile up for the next run to replay).
	log := func() (*memLog, error) {
		if lg := s.logs[shape]; lg != nil && c.kind != "churn" {
			return lg, nil
		}
		seedKey, n := key, c.keys
		if c.kind == "replay" {
			seedKey, n = func(i int) []byte { return key(i % c.keys) }, c.keys*c.versions
		}
		if err := s.seed("mem-"+c.kind, n, seedKey); err != nil {
			return nil, err
		}
		lg := &memLog{topic: s.topic, records: int64(n)}
		s.logs[shape] = lg
		return lg, nil
	}
	for rep := range e.Cfg.Repeats {
		lg, err := log()
		if err != nil {
			return err
		}
		s.topic = lg.topic
		kt, err := retained(func() (any, error) { return s.loadTable(c, key, lg, rep) })
		if err != nil {
			return err
		}
		add(m, false, float64(kt)/float64(c.keys))
		if r == nil { // memtransport has no raw client
			if c.kind == "churn" {
				s.drop(lg.topic)
			}
			continue
		}
		raw, err := retained(func() (any, error) {
			got, keep, seen, err := rawLoadCounted(e.Ctx, r, s.topic, 1, c.codec, c.grouped, c.kind == "distinct")
			if err != nil {
				return nil, err
			}
			if got != c.keys {
				return nil, fmt.Errorf("raw loaded %d of %d keys", got, c.keys)
			}
			if seen != lg.records {
				return nil, fmt.Errorf("the broker compacted the log: raw read %d of %d records", seen, lg.records)
			}
			return keep, nil
		})
		if err != nil {
			return err
		}
		add(m, true, float64(raw)/float64(c.keys))
		if c.kind == "churn" {
			s.drop(lg.topic)
		}
	}
	return nil
}

// drop deletes a topic no later row reads, so the broker's heap does not
// grow row by row. Best effort: a topic left behind costs memory only.
func (s *memSource) drop(topic string) {
	if s.mem != nil {
		_ = s.mem.DeleteTopic(topic)
		return
	}
	_, _ = s.e.Broker.adm.DeleteTopics(s.e.Ctx, topic)
}

// loadTable opens c's table over lg, applies the churn for churn rows (the
// log keeps growing: each run's updates land on top of the earlier runs'),
// and returns it closed (frozen) with its transport closed.
func (s *memSource) loadTable(c memCase, key func(int) []byte, lg *memLog, rep int) (any, error) {
	e := s.e
	tr, err := s.transport()
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	opt := openOpts()
	var (
		tbl interface {
			Close() error
			Stats() ktables.Stats
			Barrier(context.Context) error
		}
		keep any
		n    func() int
	)
	switch {
	case c.grouped:
		g, err := ktables.OpenGrouped(e.Ctx, tr, s.topic, ktables.Bytes(), opt...)
		if err != nil {
			return nil, err
		}
		tbl, keep, n = g, g, g.TotalMembers
	case c.codec == "json":
		t, err := ktables.Open(e.Ctx, tr, s.topic, ktables.JSON[Payload](), opt...)
		if err != nil {
			return nil, err
		}
		tbl, keep, n = t, t, t.Len
	default:
		t, err := ktables.Open(e.Ctx, tr, s.topic, ktables.Bytes(), opt...)
		if err != nil {
			return nil, err
		}
		tbl, keep, n = t, t, t.Len
	}
	defer tbl.Close()
	want := tbl.Stats().RecordsApplied
	if want != lg.records {
		return nil, fmt.Errorf("the broker compacted the log: the table replayed %d of %d records", want, lg.records)
	}
	if c.kind == "churn" {
		// Random keys, so each version lands in a different fetch buffer
		// from its neighbours'; the seed differs per repeat.
		rng := rand.New(rand.NewPCG(uint64(lg.records), uint64(rep)))
		keys := make([]int, c.updates)
		for i := range keys {
			keys[i] = rng.IntN(c.keys)
		}
		if err := s.append(0, c.updates, func(i int) []byte { return key(keys[i]) }); err != nil {
			return nil, err
		}
		lg.records += int64(c.updates)
		if err := tbl.Barrier(e.Ctx); err != nil {
			return nil, err
		}
		want += int64(c.updates)
	}
	if got := tbl.Stats().RecordsApplied; got != want {
		return nil, fmt.Errorf("the table applied %d of %d records", got, want)
	}
	if got := n(); got != c.keys {
		return nil, fmt.Errorf("loaded %d of %d keys", got, c.keys)
	}
	return keep, nil
}
