package ktables

import (
	"bytes"
	"runtime"
	"sync"

	"github.com/ktables/ktables/transport"
)

// The values of a large batch are decoded on every core before the batch
// is applied, when the codec's Decode may run on several goroutines at
// once (the JSON codec): decoding is most of a JSON catch-up's time, and
// applying runs on the reader's one goroutine (issue 17). The apply loop
// then takes each record's value and error from here, in order, so hooks,
// poison-record counting and SPEC M1 see exactly what a serial decode
// gives them. User codecs are decoded serially: nothing says they are safe
// for concurrent use.

// predecodeMin is the smallest batch decoded concurrently: below it,
// starting the goroutines costs more than they save.
const predecodeMin = 1024

// predecodeKeep caps the slices a reader keeps between batches: a larger
// batch's are dropped after it, so an idle table pins no catch-up-sized
// buffer.
const predecodeKeep = 4096

// concurrentDecoder marks a codec whose Decode is safe for concurrent use.
type concurrentDecoder interface{ decodesConcurrently() }

func (jsonCodec[V]) decodesConcurrently() {}

// decodesConcurrently reports whether c's Decode is safe for concurrent
// use.
func decodesConcurrently(c any) bool {
	_, ok := c.(concurrentDecoder)
	return ok
}

// predecoded holds a batch's decoded values by record index.
type predecoded[V any] struct {
	vals []V
	errs []error
}

// predecode decodes the values of recs concurrently, or returns nil when
// the batch is decoded record by record (too small, one core, or a codec
// that does not say it may). clone copies each value before decoding, as
// the apply loop would.
func (r *reader[V]) predecode(recs []transport.Record, clone bool) *predecoded[V] {
	workers := runtime.GOMAXPROCS(0)
	if !r.concurrentDecode || len(recs) < predecodeMin || workers < 2 {
		return nil
	}
	pd := &r.pre
	if cap(pd.vals) < len(recs) {
		pd.vals, pd.errs = make([]V, len(recs)), make([]error, len(recs))
	}
	pd.vals, pd.errs = pd.vals[:len(recs)], pd.errs[:len(recs)]
	chunk := (len(recs) + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < len(recs); lo += chunk {
		hi := min(lo+chunk, len(recs))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				raw := recs[i].Value
				if raw == nil || recs[i].Key == nil {
					continue // a tombstone or a keyless record: nothing to decode
				}
				if clone {
					raw = bytes.Clone(raw)
				}
				pd.vals[i], pd.errs[i] = r.decode(raw)
			}
		})
	}
	wg.Wait()
	return pd
}

// release forgets a batch's decoded values once it is applied: they must
// not outlive it in the reader, and a large batch's slices are dropped.
func (pd *predecoded[V]) release() {
	if cap(pd.vals) > predecodeKeep {
		pd.vals, pd.errs = nil, nil
		return
	}
	clear(pd.vals)
	clear(pd.errs)
}
