package metricsreg

import "github.com/ktables/ktables"

// The event handlers below are the lookup-then-count half of each module's
// ktables.Observer methods: they find the source an event is about, count
// what is counted from events, and return the entry for the module to
// record its histogram with. Events of a source not added (yet, or any
// more) return nil.

// Barrier counts ev's error, if any, and returns its table.
func (r *Registry[T, W]) Barrier(ev ktables.BarrierEvent) *Table[T] {
	e := r.table(ev.Source)
	if e != nil && ev.Err != nil {
		e.BarrierErrors.Add(1)
	}
	return e
}

// WaitedFor returns the table of ev.
func (r *Registry[T, W]) WaitedFor(ev ktables.WaitForEvent) *Table[T] {
	return r.table(ev.Source)
}

// Wrote counts ev's error, if any, and returns its writer and the
// OpIndex of its op.
func (r *Registry[T, W]) Wrote(ev ktables.WriteEvent) (*Writer[W], int) {
	i := OpIndex(ev.Op)
	e := r.writer(ev.Source)
	if e != nil && ev.Err != nil {
		e.Errs[i].Add(1)
	}
	return e, i
}

// Retried counts a writer's retry; a table's come from its Stats.
func (r *Registry[T, W]) Retried(ev ktables.RetryEvent) {
	if ev.Source.Kind != ktables.SourceWriter {
		return
	}
	if e := r.writer(ev.Source); e != nil {
		e.Retries.Add(1)
	}
}

func (r *Registry[T, W]) table(src ktables.Source) *Table[T] {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.tables[src]
}

func (r *Registry[T, W]) writer(src ktables.Source) *Writer[W] {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.writers[src]
}
