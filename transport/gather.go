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
	return GatherWaiting(reqs, nil, do, enough, stop)
}

// GatherWaiting is Gather where the requests that must reports true for
// are waited for: stop is called only once every one of them has returned
// and some result was enough. A fetch split across concurrent requests
// for partitions known to have records waiting marks those requests so:
// cutting one short because another answered first would throw away an
// answer the broker was already sending. With must nil, or true for no
// request, it is Gather.
func GatherWaiting[Q, R any](reqs []Q, must func(Q) bool, do func(Q) (R, error), enough func(R) bool, stop func()) []Result[R] {
	if len(reqs) == 1 {
		v, err := do(reqs[0])
		return []Result[R]{{v, err}}
	}
	type arrival struct {
		Result[R]
		must bool
	}
	ch := make(chan arrival, len(reqs))
	waiting := 0
	for _, q := range reqs {
		m := must != nil && must(q)
		if m {
			waiting++
		}
		go func() {
			v, err := do(q)
			ch <- arrival{Result[R]{v, err}, m}
		}()
	}
	out := make([]Result[R], 0, len(reqs))
	stopped, sawEnough := false, false
	for range reqs {
		r := <-ch
		if r.must {
			waiting--
		}
		if stopped && r.Err != nil {
			continue
		}
		out = append(out, r.Result)
		if r.Err == nil && enough != nil && enough(r.V) {
			sawEnough = true
		}
		if !stopped && sawEnough && waiting == 0 {
			stopped = true
			stop()
		}
	}
	return out
}
