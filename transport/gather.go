package transport

// Result is the outcome of one call run by Gather.
type Result[R any] struct {
	V   R
	Err error
}

// Gather runs do for every request, concurrently when there are several
// (one per partition leader, typically), and returns the results in the
// order they arrive. When enough is set and reports true for a successful
// result (a fetch answer that carries records), stop is called once to
// end the calls still running, and the errors those calls end with are
// dropped: they were cut short, not faults. Every call has returned when
// Gather returns; do must end by its own context.
func Gather[Q, R any](reqs []Q, do func(Q) (R, error), enough func(R) bool, stop func()) []Result[R] {
	if len(reqs) == 1 {
		v, err := do(reqs[0])
		return []Result[R]{{v, err}}
	}
	ch := make(chan Result[R], len(reqs))
	for _, q := range reqs {
		go func() {
			v, err := do(q)
			ch <- Result[R]{v, err}
		}()
	}
	out := make([]Result[R], 0, len(reqs))
	stopped := false
	for range reqs {
		r := <-ch
		if stopped && r.Err != nil {
			continue
		}
		out = append(out, r)
		if !stopped && r.Err == nil && enough != nil && enough(r.V) {
			stopped = true
			stop()
		}
	}
	return out
}
