package conformance

import (
	"maps"
	"slices"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
)

func groupedCases() []Case {
	return []Case{
		{Name: "G1/grouped_key_wire_format_and_partition", Clause: "G1", run: groupedWireFormat},
		{Name: "G3/grouped_reads", Clause: "G3", run: groupedReads},
		{Name: "G2/foreign_keys_skipped_and_counted", Clause: "G2", run: groupedForeignKeys},
	}
}

func openGrouped[V any](e *env, tr transport.Transport, topic string, codec ktables.Codec[V], opts ...ktables.Option) *ktables.GroupedTable[V] {
	e.t.Helper()
	g, err := ktables.OpenGrouped(e.ctx, tr, topic, codec, clientOpts(opts...)...)
	if err != nil {
		e.FatalfAt("L1", "OpenGrouped(%q): %v", topic, err)
	}
	e.t.Cleanup(func() { g.Close() })
	return g
}

func openGroupedWriter[V any](e *env, tr transport.Transport, topic string, codec ktables.Codec[V], opts ...ktables.Option) *ktables.GroupedWriter[V] {
	e.t.Helper()
	w, err := ktables.OpenGroupedWriter(e.ctx, tr, topic, codec, clientOpts(opts...)...)
	if err != nil {
		e.FatalfAt("G4", "OpenGroupedWriter(%q): %v", topic, err)
	}
	e.t.Cleanup(func() { w.Close() })
	return w
}

func gset[V any](e *env, w *ktables.GroupedWriter[V], group, member string, v V) {
	e.t.Helper()
	if err := w.Set(e.ctx, group, member, v); err != nil {
		e.FatalfAt("G4", "Set(%q, %q): %v", group, member, err)
	}
}

// groupedWireFormat: the grouped writer writes the Python library's key
// format, on the Java murmur2 partition of that key.
func groupedWireFormat(e *env) {
	topic := e.topic()
	w := openGroupedWriter(e, e.tr, topic, ktables.String(), ktables.WithPartitions(3))
	gset(e, w, "billing", "host-a", "up")
	gset(e, w, "ü", "x", "up")
	gset(e, w, "", "", "empty")
	recs := e.rawRecords(topic)
	want := map[string]bool{"7:billinghost-a": true, "1:üx": true, "0:": true}
	for _, r := range recs {
		k := string(r.Key)
		if !want[k] {
			e.Errorf("grouped writer wrote key %q; want one of the Python format keys %v", k, slices.Sorted(maps.Keys(want)))
			continue
		}
		delete(want, k)
		if p := transport.Partition(r.Key, 3); r.Partition != p {
			e.ErrorfAt("P1", "key %q on partition %d, want %d", k, r.Partition, p)
		}
	}
	if len(want) > 0 {
		e.Errorf("keys never written: %v", slices.Sorted(maps.Keys(want)))
	}
}

func groupedReads(e *env) {
	topic := e.topic()
	w := openGroupedWriter(e, e.otherProcess(), topic, ktables.JSON[item](), ktables.WithPartitions(2))
	g := openGrouped(e, e.tr, topic, ktables.JSON[item]())
	gset(e, w, "billing", "host-a", item{1})
	gset(e, w, "billing", "host-b", item{2})
	gset(e, w, "search", "host-a", item{3})
	gset(e, w, "", "", item{4})
	gset(e, w, "", "x", item{5})
	gset(e, w, "bill", "inghost-a", item{6}) // shares a prefix, not a key
	barrier(e, g)
	want := map[string]map[string]item{
		"billing": {"host-a": {1}, "host-b": {2}},
		"search":  {"host-a": {3}},
		"":        {"": {4}, "x": {5}},
		"bill":    {"inghost-a": {6}},
	}
	e.wantGrouped(g, want)
	if v, ok := g.Get("billing", "host-b"); !ok || v.N != 2 || !g.Has("", "") || g.Has("billing", "host-c") {
		e.Errorf("Get/Has disagree with the writes: Get(billing, host-b) = %v, %v", v, ok)
	}
	if err := w.Delete(e.ctx, "search", "host-a"); err != nil {
		e.Fatalf("Delete: %v", err)
	}
	if err := w.Delete(e.ctx, "billing", "host-a"); err != nil {
		e.Fatalf("Delete: %v", err)
	}
	barrier(e, g)
	delete(want, "search")
	delete(want["billing"], "host-a")
	e.wantGrouped(g, want)
	if g.HasGroup("search") {
		e.Errorf("deleting the last member of a group left the group")
	}
	// A restart reads the same nested view.
	again := openGrouped(e, e.otherProcess(), topic, ktables.JSON[item]())
	e.wantGrouped(again, want)
}

func (e *env) wantGrouped(g *ktables.GroupedTable[item], want map[string]map[string]item) {
	e.t.Helper()
	got := g.Snapshot()
	n := 0
	for grp, members := range want {
		n += len(members)
		if !maps.Equal(got[grp], members) {
			e.Errorf("group %q = %v, want %v", grp, got[grp], members)
		}
		if m := g.Members(grp); !maps.Equal(m, members) {
			e.Errorf("Members(%q) = %v, want %v", grp, m, members)
		}
		if !g.HasGroup(grp) {
			e.Errorf("HasGroup(%q) = false", grp)
		}
	}
	if len(got) != len(want) {
		e.Errorf("Snapshot has groups %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	groups := g.Groups()
	slices.Sort(groups)
	if !slices.Equal(groups, slices.Sorted(maps.Keys(want))) {
		e.Errorf("Groups() = %q, want %q", groups, slices.Sorted(maps.Keys(want)))
	}
	if g.TotalMembers() != n {
		e.Errorf("TotalMembers() = %d, want %d", g.TotalMembers(), n)
	}
}

func groupedForeignKeys(e *env) {
	topic := e.newTopic(1, compacted())
	g := openGrouped(e, e.otherProcess(), topic, ktables.String())
	w := openGroupedWriter(e, e.tr, topic, ktables.String())
	gset(e, w, "svc", "a", "up")
	foreign := []string{"nocolon", "03:abc", "x3:abc", "9:short", ":abc"}
	for _, k := range foreign {
		e.produce(e.tr, topic, transport.Record{Key: []byte(k), Value: []byte("v")})
	}
	e.produce(e.tr, topic, transport.Record{Key: []byte("1:\xffx"), Value: []byte("v")}) // not UTF-8
	gset(e, w, "svc", "b", "up")
	barrier(e, g)
	st := g.Stats()
	if st.ForeignKeys != int64(len(foreign)) {
		e.Errorf("ForeignKeys = %d after raw keys %q, want %d", st.ForeignKeys, foreign, len(foreign))
	}
	if st.ForeignKeys+st.KeyDecodeErrors != int64(len(foreign))+1 {
		e.ErrorfAt("R3", "ForeignKeys %d + KeyDecodeErrors %d, want %d skipped keys", st.ForeignKeys, st.KeyDecodeErrors, len(foreign)+1)
	}
	want := map[string]map[string]string{"svc": {"a": "up", "b": "up"}}
	if got := g.Snapshot(); len(got) != 1 || !maps.Equal(got["svc"], want["svc"]) {
		e.Errorf("grouped table with foreign keys = %v, want %v", got, want)
	}
	if s := g.Status(); s != ktables.StatusCaughtUp {
		e.Errorf("status = %s after foreign keys, want caught up", s)
	}
}
