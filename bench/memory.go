package bench

import (
	"fmt"
	"runtime"
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

// runMemory measures the heap a loaded table retains per key: the live heap
// after the table is loaded, closed (frozen) and its transport closed, minus
// the live heap before the transport was opened. The broker's log is live in
// both readings, so it cancels out; whatever the table references (entries,
// index, values, and any fetch buffers the values alias) is counted. The raw
// baseline is the same measurement of the map the raw consumer loop built.
func runMemory(e *Env) ([]*Metric, error) {
	ctx, cfg := e.Ctx, e.Cfg
	var out []*Metric
	for _, grouped := range []bool{false, true} {
		for _, n := range cfg.MemSizes {
			key, shape := FlatKey, "flat"
			if grouped {
				key, shape = GroupedKey, "grouped"
			}
			topic, err := seededTopic(e, "mem", 1, n, key)
			if err != nil {
				return out, err
			}
			payload := 0
			for i := range n {
				payload += len(key(i)) + ValueSize
			}
			perPayload := float64(payload) / float64(n)
			m := &Metric{Scenario: "memory", Name: fmt.Sprintf("%s, %s keys", shape, fmtCount(n)), Unit: "B/key",
				Note: fmt.Sprintf("payload %.0f B/key", perPayload)}
			if !grouped {
				m.Target = &Target{AtMost, perPayload + 64}
			}
			out = append(out, m)
			for range cfg.Repeats {
				for _, isRaw := range []bool{false, true} {
					v, err := retainedPerKey(e, topic, n, grouped, isRaw)
					if err != nil {
						m.Err = err.Error()
						break
					}
					add(m, isRaw, v)
				}
				if m.Err != "" {
					break
				}
			}
		}
	}
	_ = ctx
	return out, nil
}

func retainedPerKey(e *Env, topic string, n int, grouped, isRaw bool) (float64, error) {
	before := heapLive()
	var keep any
	var got int
	if isRaw {
		r, err := e.Adapter.Raw(e.Broker.Seeds)
		if err != nil {
			return 0, err
		}
		got, keep, err = rawLoad(e.Ctx, r, topic, 1, "bytes", grouped)
		r.Close()
		if err != nil {
			return 0, err
		}
	} else {
		tr, err := e.Adapter.Transport(e.Broker.Seeds)
		if err != nil {
			return 0, err
		}
		if grouped {
			g, err := ktablesOpenGroupedBytes(e, tr, topic)
			if err != nil {
				tr.Close()
				return 0, err
			}
			g.Close()
			got, keep = g.TotalMembers(), g
		} else {
			t, err := ktablesOpenBytes(e, tr, topic)
			if err != nil {
				tr.Close()
				return 0, err
			}
			t.Close()
			got, keep = t.Len(), t
		}
		tr.Close()
	}
	if got != n {
		return 0, fmt.Errorf("loaded %d of %d keys", got, n)
	}
	after := heapLive()
	runtime.KeepAlive(keep)
	return (float64(after) - float64(before)) / float64(n), nil
}
