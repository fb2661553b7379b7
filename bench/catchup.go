package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

// seededTopic creates a topic of parts partitions holding n records with
// keys key(i) and 100-byte values.
func seededTopic(e *Env, prefix string, parts int32, n int, key func(int) []byte) (string, error) {
	topic, err := e.Broker.NewTopic(e.Ctx, prefix, parts)
	if err != nil {
		return "", err
	}
	return topic, e.Broker.Seed(e.Ctx, topic, parts, n, key, Value)
}

func allParts(n int32) []int32 {
	ps := make([]int32, n)
	for i := range ps {
		ps[i] = int32(i)
	}
	return ps
}

// rawLoad is the raw baseline of catch-up: consume every partition from the
// log start to the end offsets, storing into a map (for JSON, decoding each
// value; for grouped, splitting the key into a nested map). Flat maps are
// presized from the end offsets, as the table reserves its index from them,
// and every kept value is copied out of the client's fetch buffer (the
// table copies too): a map that aliased the buffers would be faster only by
// pinning them (issue 17).
func rawLoad(ctx context.Context, r Raw, topic string, parts int32, codec string, grouped bool) (int, any, error) {
	n, keep, _, err := rawLoadCounted(ctx, r, topic, parts, codec, grouped, true)
	return n, keep, err
}

// rawLoadCounted is rawLoad that also reports how many records it read.
// Without presize the flat map grows as it fills: what a user does who
// knows the log holds many versions per key (presizing from the end offsets
// would then reserve room for every version, and a Go map never shrinks).
func rawLoadCounted(ctx context.Context, r Raw, topic string, parts int32, codec string, grouped, presize bool) (int, any, int64, error) {
	var seen int64
	ps := allParts(parts)
	end, err := r.EndOffsets(ctx, topic, ps)
	if err != nil {
		return 0, nil, 0, err
	}
	from := map[int32]int64{}
	remaining := 0
	for p, o := range end {
		if o > 0 {
			from[p] = Earliest
			remaining++
		}
	}
	var records int64
	for _, o := range end {
		records += o
	}
	hint := int(min(records, 16<<20)) // the table's reserve cap, too
	if !presize {
		hint = 0
	}
	var flat map[string][]byte
	var flatJSON map[string]Payload
	if !grouped && codec == "json" {
		flatJSON = make(map[string]Payload, hint)
	} else if !grouped {
		flat = make(map[string][]byte, hint)
	}
	own := func(rec Rec) []byte {
		if rec.Owned {
			return rec.Value
		}
		return bytes.Clone(rec.Value)
	}
	nested := map[string]map[string][]byte{}
	var decodeErr error
	nestedJSON := map[string]map[string]Payload{}
	store := func(rec Rec) {
		if grouped {
			g, m, ok := ktables.DefaultKeyCodec.Decode(string(rec.Key))
			if !ok {
				return
			}
			if codec == "json" {
				var p Payload
				if err := json.Unmarshal(rec.Value, &p); err != nil {
					decodeErr = err
					return
				}
				ms := nestedJSON[g]
				if ms == nil {
					ms = map[string]Payload{}
					nestedJSON[g] = ms
				}
				ms[m] = p
				return
			}
			ms := nested[g]
			if ms == nil {
				ms = map[string][]byte{}
				nested[g] = ms
			}
			ms[m] = own(rec)
			return
		}
		if codec == "json" {
			var p Payload
			if err := json.Unmarshal(rec.Value, &p); err != nil {
				decodeErr = err
				return
			}
			flatJSON[string(rec.Key)] = p
			return
		}
		flat[string(rec.Key)] = own(rec)
	}
	if remaining > 0 {
		err = r.Consume(ctx, topic, from, func(rec Rec) bool {
			seen++
			store(rec)
			if rec.Offset+1 == end[rec.Partition] {
				remaining--
			}
			return remaining > 0
		})
		if err != nil {
			return 0, nil, 0, err
		}
	}
	if decodeErr != nil {
		return 0, nil, 0, decodeErr
	}
	switch {
	case grouped && codec == "json":
		n := 0
		for _, ms := range nestedJSON {
			n += len(ms)
		}
		return n, nestedJSON, seen, nil
	case grouped:
		n := 0
		for _, ms := range nested {
			n += len(ms)
		}
		return n, nested, seen, nil
	case codec == "json":
		return len(flatJSON), flatJSON, seen, nil
	}
	return len(flat), flat, seen, nil
}

// openOpts are the options every benchmark table opens with. The catch-up
// timeout is the scenario's, not the 30 s default: a load that outlasts it
// would return a Degraded table holding part of the log, measured as if
// complete.
func openOpts() []ktables.Option {
	return []ktables.Option{ktables.WithoutEnsureTopic(), ktables.WithCatchUpTimeout(time.Hour)}
}

// ktLoad opens the table and returns how many entries it holds.
func ktLoad(ctx context.Context, tr transport.Transport, topic, codec string, grouped bool) (int, func(), error) {
	opt := openOpts()
	switch {
	case grouped && codec == "json":
		g, err := ktables.OpenGrouped(ctx, tr, topic, ktables.JSON[Payload](), opt...)
		if err != nil {
			return 0, nil, err
		}
		return g.TotalMembers(), func() { g.Close() }, nil
	case grouped:
		g, err := ktables.OpenGrouped(ctx, tr, topic, ktables.Bytes(), opt...)
		if err != nil {
			return 0, nil, err
		}
		return g.TotalMembers(), func() { g.Close() }, nil
	case codec == "json":
		t, err := ktables.Open(ctx, tr, topic, ktables.JSON[Payload](), opt...)
		if err != nil {
			return 0, nil, err
		}
		return t.Len(), func() { t.Close() }, nil
	}
	t, err := ktables.Open(ctx, tr, topic, ktables.Bytes(), opt...)
	if err != nil {
		return 0, nil, err
	}
	return t.Len(), func() { t.Close() }, nil
}

// Catch-ups of at most shortCatchup records run at least
// shortCatchupRepeats times (outside -quick).
const (
	shortCatchup        = 100_000
	shortCatchupRepeats = 7
)

func runCatchup(e *Env) ([]*Metric, error) {
	ctx, cfg := e.Ctx, e.Cfg
	tr, err := e.Adapter.Transport(e.Broker.Seeds)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	raw, err := e.Adapter.Raw(e.Broker.Seeds)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	// One topic per (records, partitions): every codec and shape reads it.
	// Keys are composite (group, member) keys, which a flat table reads as
	// plain strings; values are 100-byte JSON objects.
	topics := map[[2]int]string{}
	var out []*Metric
	for _, c := range cfg.Catchup {
		if c.Only != "" && c.Only != e.Adapter.Name {
			continue
		}
		repeats := cfg.Repeats
		if c.Repeats > 0 {
			repeats = c.Repeats
		} else if c.Records <= shortCatchup && !cfg.Quick {
			// A catch-up this short takes tens of milliseconds: a few
			// repeats measure the machine's noise more than the reader.
			repeats = max(repeats, shortCatchupRepeats)
		}
		tk := [2]int{c.Records, int(c.Partitions)}
		if topics[tk] == "" {
			t0 := time.Now()
			topic, err := seededTopic(e, "catchup", c.Partitions, c.Records, GroupedKey)
			if err != nil {
				return out, err
			}
			cfg.logf("    seeded %s records on %d partitions in %v", fmtCount(c.Records), c.Partitions, time.Since(t0).Round(time.Millisecond))
			topics[tk] = topic
		}
		topic := topics[tk]
		m := &Metric{Scenario: "catchup", Name: c.String(), Unit: "records/s", Target: &Target{RatioAtLeast, 0.95}}
		out = append(out, m)
		for rep := range repeats {
			for _, isRaw := range sidesInTurn(rep) {
				runtime.GC() // start each run on a clean heap
				t0 := time.Now()
				var n int
				if isRaw {
					n, _, err = rawLoad(ctx, raw, topic, c.Partitions, c.Codec, c.Grouped)
				} else {
					var closeFn func()
					n, closeFn, err = ktLoad(ctx, tr, topic, c.Codec, c.Grouped)
					if closeFn != nil {
						closeFn()
					}
				}
				el := time.Since(t0)
				if err == nil && n != c.Records {
					err = fmt.Errorf("loaded %d of %d records", n, c.Records)
				}
				if err != nil {
					m.Err = err.Error()
					break
				}
				add(m, isRaw, float64(c.Records)/el.Seconds())
			}
			if m.Err != "" {
				break
			}
		}
		if m.Err == "" && c.Scale {
			e.Scale = append(e.Scale, ScalePoint{Records: c.Records,
				KT: Summarize(m.KT).Median, Raw: Summarize(m.Raw).Median})
		}
	}
	return out, nil
}
