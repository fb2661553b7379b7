package metricsreg_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/internal/metricsreg"
)

var (
	errDup     = errors.New("test: duplicate")
	errInvalid = errors.New("test: invalid")
	errCollide = errors.New("test: collision")
)

// fakeTable is a MetricsSource with a chosen Source; Sources of different
// topics differ.
type fakeTable struct{ src ktables.Source }

func (f fakeTable) Source() ktables.Source   { return f.src }
func (f fakeTable) Metrics() ktables.Metrics { return ktables.Metrics{Source: f.src} }

func table(topic string) fakeTable {
	return fakeTable{ktables.Source{Topic: topic, Kind: ktables.SourceTable}}
}

func collide(src, other ktables.Source) error {
	return fmt.Errorf("%w: %v with %v", errCollide, src, other)
}

// TestRegistryRefusesDuplicates: the same source twice wraps the module's
// sentinel, the same kind and key from another source is the module's
// collision error, and neither runs the data builder.
func TestRegistryRefusesDuplicates(t *testing.T) {
	r := metricsreg.New[string, string](errDup)
	built := 0
	data := func() string { built++; return "d" }
	a, b := table("a"), table("b")
	if err := r.AddTable(a, "k", collide, data); err != nil {
		t.Fatal(err)
	}
	if err := r.AddTable(a, "other", collide, data); !errors.Is(err, errDup) {
		t.Fatalf("same source again: %v, want %v", err, errDup)
	}
	if err := r.AddTable(b, "k", collide, data); !errors.Is(err, errCollide) {
		t.Fatalf("same key: %v, want %v", err, errCollide)
	}
	// A writer's identity differs from a table's with the same key, but a
	// table's source cannot be added as a writer too.
	w := ktables.Source{Topic: "a", Kind: ktables.SourceWriter}
	if err := r.AddWriter(w, "k", collide, data); err != nil {
		t.Fatalf("writer with a table's key: %v", err)
	}
	if err := r.AddWriter(a.src, "w", collide, data); !errors.Is(err, errDup) {
		t.Fatalf("table source as a writer: %v, want %v", err, errDup)
	}
	if built != 2 {
		t.Fatalf("data built %d times, want 2 (once per source accepted)", built)
	}
}

// TestRegistryRemoveFreesIdentity: after Remove the key can be claimed by
// another source, forget sees what was dropped, and a second Remove
// reports false.
func TestRegistryRemoveFreesIdentity(t *testing.T) {
	r := metricsreg.New[string, string](errDup)
	a, b := table("a"), table("b")
	if err := r.AddTable(a, "k", collide, func() string { return "a-data" }); err != nil {
		t.Fatal(err)
	}
	var forgot string
	ok := r.Remove(a.src, func(t *metricsreg.Table[string], w *metricsreg.Writer[string]) {
		if t != nil && w == nil {
			forgot = t.Data
		}
	})
	if !ok || forgot != "a-data" {
		t.Fatalf("Remove = %v, forgot %q", ok, forgot)
	}
	if r.Remove(a.src, nil) {
		t.Fatal("second Remove reported true")
	}
	if err := r.AddTable(b, "k", collide, func() string { return "b" }); err != nil {
		t.Fatalf("key after Remove: %v", err)
	}
	if tables, writers := r.Snapshot(); len(tables) != 1 || tables[0].Data != "b" || len(writers) != 0 {
		t.Fatalf("Snapshot = %d tables, %d writers", len(tables), len(writers))
	}
}

// TestRegistryEvents: events count barrier errors, write errors by op and
// writer retries for sources added, and are ignored for others.
func TestRegistryEvents(t *testing.T) {
	r := metricsreg.New[string, string](errDup)
	a := table("a")
	ws := ktables.Source{Topic: "a", Kind: ktables.SourceWriter}
	if err := r.AddTable(a, "k", collide, func() string { return "t" }); err != nil {
		t.Fatal(err)
	}
	if err := r.AddWriter(ws, "k", collide, func() string { return "w" }); err != nil {
		t.Fatal(err)
	}
	fail := errors.New("boom")
	r.Barrier(ktables.BarrierEvent{Source: a.src})
	e := r.Barrier(ktables.BarrierEvent{Source: a.src, Err: fail})
	if e == nil || e.BarrierErrors.Load() != 1 {
		t.Fatalf("barrier entry %v", e)
	}
	if r.Barrier(ktables.BarrierEvent{Source: table("x").src, Err: fail}) != nil {
		t.Fatal("an event of a source not added found an entry")
	}
	if e := r.WaitedFor(ktables.WaitForEvent{Source: a.src}); e == nil || e.Data != "t" {
		t.Fatalf("WaitedFor entry %v", e)
	}
	r.Wrote(ktables.WriteEvent{Source: ws, Op: ktables.OpSet})
	w, op := r.Wrote(ktables.WriteEvent{Source: ws, Op: ktables.OpDelete, Err: fail})
	if w == nil || metricsreg.WriteOps[op] != "delete" || w.Errs[0].Load() != 0 || w.Errs[1].Load() != 1 {
		t.Fatalf("Wrote: op %d, entry %v", op, w)
	}
	r.Retried(ktables.RetryEvent{Source: ws})
	r.Retried(ktables.RetryEvent{Source: a.src}) // a table's retries come from its Stats
	if w.Retries.Load() != 1 {
		t.Fatalf("retries %d, want 1", w.Retries.Load())
	}
}

func TestBuckets(t *testing.T) {
	in := []float64{0.1, 1}
	got, err := metricsreg.Buckets(in, errInvalid)
	if err != nil || len(got) != 2 || &got[0] == &in[0] {
		t.Fatalf("Buckets = %v, %v (want a copy)", got, err)
	}
	for _, bad := range [][]float64{nil, {1, 1}, {2, 1}, {math.NaN()}, {1, math.Inf(1)}} {
		if _, err := metricsreg.Buckets(bad, errInvalid); !errors.Is(err, errInvalid) {
			t.Errorf("Buckets(%v) = %v, want %v", bad, err, errInvalid)
		}
	}
}
