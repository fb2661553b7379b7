package transport_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ktables/ktables/transport"
)

// TestGather: every result arrives; the first result that is enough stops
// the calls still running, whose errors are dropped, while errors that
// came before stay.
func TestGather(t *testing.T) {
	errBoom := errors.New("boom")
	t.Run("all", func(t *testing.T) {
		rs := transport.Gather([]int{1, 2, 3}, func(q int) (int, error) {
			if q == 2 {
				return 0, errBoom
			}
			return q * 10, nil
		}, nil, nil)
		var vs []int
		errs := 0
		for _, r := range rs {
			if r.Err != nil {
				errs++
				continue
			}
			vs = append(vs, r.V)
		}
		slices.Sort(vs)
		if !slices.Equal(vs, []int{10, 30}) || errs != 1 {
			t.Fatalf("results %v, %d errors; want [10 30] and 1 error", vs, errs)
		}
	})
	t.Run("enough stops the others", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		stops := 0
		rs := transport.Gather([]int{0, 1, 2}, func(q int) (int, error) {
			if q == 0 {
				return 1, nil // enough
			}
			<-ctx.Done() // a long poll, ended by stop
			return 0, ctx.Err()
		}, func(v int) bool { return v > 0 }, func() { stops++; cancel() })
		if len(rs) != 1 || rs[0].V != 1 || rs[0].Err != nil || stops != 1 {
			t.Fatalf("results %+v after %d stops; want the one enough result and one stop", rs, stops)
		}
	})
	t.Run("one runs inline", func(t *testing.T) {
		rs := transport.Gather([]string{"a"}, func(q string) (string, error) { return q + "!", errBoom }, nil, nil)
		if len(rs) != 1 || rs[0].V != "a!" || !errors.Is(rs[0].Err, errBoom) {
			t.Fatalf("results %+v", rs)
		}
	})
}
