package metricsreg

import (
	"fmt"
	"math"
	"slices"

	"github.com/ktables/ktables"
)

// Statuses are the table statuses with the value of their status label or
// attribute, in the order they are exported.
var Statuses = [...]struct {
	Status ktables.Status
	Name   string
}{
	{ktables.StatusLoading, "loading"},
	{ktables.StatusCaughtUp, "caught_up"},
	{ktables.StatusDegraded, "degraded"},
	{ktables.StatusFailed, "failed"},
	{ktables.StatusClosed, "closed"},
}

// WriteOps are the values of a write's op label or attribute, indexed by
// OpIndex.
var WriteOps = [...]string{"set", "delete"}

// OpIndex is op's index in WriteOps and Writer.Errs.
func OpIndex(op ktables.Op) int {
	if op == ktables.OpDelete {
		return 1
	}
	return 0
}

// reserved are the labels or attributes the modules set themselves.
var reserved = []string{"topic", "kind", "partition", "status", "op"}

// Reserved reports whether name is a label or attribute the modules set
// themselves, so a user may not declare it.
func Reserved(name string) bool { return slices.Contains(reserved, name) }

// Buckets checks latency histogram boundaries, in seconds: there must be
// some, finite and strictly increasing. It returns a copy, or an error
// wrapping errInvalid, the module's sentinel.
func Buckets(buckets []float64, errInvalid error) ([]float64, error) {
	if len(buckets) == 0 {
		return nil, fmt.Errorf("%w: no buckets", errInvalid)
	}
	for i, b := range buckets {
		if math.IsNaN(b) || math.IsInf(b, 0) || i > 0 && b <= buckets[i-1] {
			return nil, fmt.Errorf("%w: buckets %v are not finite and strictly increasing", errInvalid, buckets)
		}
	}
	return slices.Clone(buckets), nil
}

// Apply applies opts to o in order; a nil option is an error wrapping
// errInvalid, and the first option's error is returned as it is.
func Apply[O any, Opt ~func(*O) error](o *O, opts []Opt, errInvalid error) error {
	for _, opt := range opts {
		if opt == nil {
			return fmt.Errorf("%w: nil Option", errInvalid)
		}
		if err := opt(o); err != nil {
			return err
		}
	}
	return nil
}
