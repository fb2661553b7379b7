// Package metricsreg is what the metrics modules (ktprom in
// metrics/prometheus, ktotel in metrics/otel) have in common: the registry
// of the tables and writers they export, keyed by ktables.Source, with its
// duplicate detection and the counters fed by observer events, and the
// names both use for statuses, ops and reserved labels. Each module keeps
// only what its metrics library needs (descriptors, instruments, attribute
// sets) in the per-source data it stores here.
//
// It is internal: the metrics modules can import it because their import
// paths are below github.com/ktables/ktables, but it is no public API.
package metricsreg

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ktables/ktables"
)

// Table is an added table: the module's data for it and the barrier errors
// counted from its events (Stats do not have them).
type Table[T any] struct {
	Source        ktables.MetricsSource
	Data          T
	BarrierErrors atomic.Int64
	id            string
}

// Writer is an added writer: the module's data for it and what is counted
// from its events, since a writer has no Stats to read.
type Writer[W any] struct {
	Data    W
	Errs    [len(WriteOps)]atomic.Int64 // by OpIndex
	Retries atomic.Int64
	id      string
}

// Registry holds the tables and writers of one collector. T and W are the
// module's per-table and per-writer data. It is safe for concurrent use;
// event lookups take only a read lock.
type Registry[T, W any] struct {
	errDuplicate error

	mu      sync.RWMutex
	tables  map[ktables.Source]*Table[T]
	writers map[ktables.Source]*Writer[W]
	taken   map[string]ktables.Source // identity -> who has it
}

// New returns an empty registry whose errors for a source added twice
// wrap errDuplicate, the module's sentinel.
func New[T, W any](errDuplicate error) *Registry[T, W] {
	return &Registry[T, W]{
		errDuplicate: errDuplicate,
		tables:       map[ktables.Source]*Table[T]{},
		writers:      map[ktables.Source]*Writer[W]{},
		taken:        map[string]ktables.Source{},
	}
}

// Collision builds the error for src, whose series or data points would be
// the same as other's. It is the module's to word: only it knows how its
// users tell two sources apart (label values, attributes).
type Collision func(src, other ktables.Source) error

// AddTable adds t with the data data returns. key is what, besides the
// source kind, makes its series distinct (topic and label values, or the
// attribute set); a second source with the same kind and key is refused
// with collide's error, and a source added already with errDuplicate.
// data is called only for a source accepted, under the lock: what it
// creates (histogram children) must not exist for a refused one.
func (r *Registry[T, W]) AddTable(t ktables.MetricsSource, key string, collide Collision, data func() T) error {
	src := t.Source()
	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.claim(src, key, collide)
	if err != nil {
		return err
	}
	r.tables[src] = &Table[T]{Source: t, Data: data(), id: id}
	return nil
}

// AddWriter adds the writer of src with the data data returns; duplicates
// are refused like AddTable's.
func (r *Registry[T, W]) AddWriter(src ktables.Source, key string, collide Collision, data func() W) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.claim(src, key, collide)
	if err != nil {
		return err
	}
	r.writers[src] = &Writer[W]{Data: data(), id: id}
	return nil
}

// claim checks that src and its identity are new, and takes them. The
// caller holds the write lock.
func (r *Registry[T, W]) claim(src ktables.Source, key string, collide Collision) (string, error) {
	_, isTable := r.tables[src]
	_, isWriter := r.writers[src]
	if isTable || isWriter {
		return "", fmt.Errorf("%w: %v was added already", r.errDuplicate, src)
	}
	id := src.Kind.String() + "\x00" + key
	if other, ok := r.taken[id]; ok {
		return "", collide(src, other)
	}
	r.taken[id] = src
	return id, nil
}

// Remove drops the table or writer of src and frees its identity; it
// reports whether src was there. forget, if not nil, is called with what
// was dropped (one of the two is nil) under the lock, for the module to
// delete what it keeps per source (histogram children) before the same
// series can be added again.
func (r *Registry[T, W]) Remove(src ktables.Source, forget func(*Table[T], *Writer[W])) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, w := r.tables[src], r.writers[src]
	switch {
	case t != nil:
		delete(r.tables, src)
		delete(r.taken, t.id)
	case w != nil:
		delete(r.writers, src)
		delete(r.taken, w.id)
	default:
		return false
	}
	if forget != nil {
		forget(t, w)
	}
	return true
}

// Snapshot returns the tables and writers added now, so that a collection
// reads them without holding the lock.
func (r *Registry[T, W]) Snapshot() ([]*Table[T], []*Writer[W]) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	tables := make([]*Table[T], 0, len(r.tables))
	for _, e := range r.tables {
		tables = append(tables, e)
	}
	writers := make([]*Writer[W], 0, len(r.writers))
	for _, e := range r.writers {
		writers = append(writers, e)
	}
	return tables, writers
}
