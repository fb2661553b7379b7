// Command quickstart shows ktables end to end on the in-memory transport: a
// writer announces feature flags, a table materializes them, a barrier makes
// a write visible, and a tombstone deletes one. Run it with
//
//	go run ./examples/quickstart
//
// Swap memtransport.New() for an adapter (franztransport.New, ...) to run the
// same code against Kafka.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

type Flag struct {
	On      bool `json:"on"`
	Percent int  `json:"percent,omitempty"`
}

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(out io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr := memtransport.New()
	defer tr.Close()

	// EnsureTopic is what Open and OpenWriter do implicitly: a compacted topic.
	res, err := ktables.EnsureTopic(ctx, tr, "feature-flags", ktables.WithPartitions(3))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "topic %s: %s (cleanup.policy=%s)\n", res.Topic, res.Outcome, res.Policy)

	w, err := ktables.OpenWriter(ctx, tr, "feature-flags", ktables.JSON[Flag]())
	if err != nil {
		return err
	}
	defer w.Close()
	for key, f := range map[string]Flag{
		"checkout.new-flow": {On: true, Percent: 25},
		"search.v2":         {On: false},
		"legacy.banner":     {On: true},
	} {
		if err := w.Set(ctx, key, f); err != nil {
			return err
		}
	}

	tbl, err := ktables.Open(ctx, tr, "feature-flags", ktables.JSON[Flag](),
		ktables.OnSet(func(key string, f Flag) { fmt.Fprintf(out, "  hook: set %s on=%v\n", key, f.On) }),
		ktables.OnDelete(func(key string, _ Flag) { fmt.Fprintf(out, "  hook: delete %s\n", key) }))
	if err != nil {
		return err
	}
	defer tbl.Close()
	fmt.Fprintf(out, "table %s: %d keys\n", tbl.Status(), tbl.Len())

	// Read your own write: Set returns once acked, Barrier once visible.
	if err := w.Set(ctx, "search.v2", Flag{On: true, Percent: 10}); err != nil {
		return err
	}
	start := time.Now()
	if err := tbl.Barrier(ctx); err != nil {
		return err
	}
	f, _ := tbl.Get("search.v2")
	fmt.Fprintf(out, "after barrier (%v): search.v2 on=%v percent=%d\n", time.Since(start).Round(time.Microsecond), f.On, f.Percent)

	// A tombstone deletes the key everywhere.
	if err := w.Delete(ctx, "legacy.banner"); err != nil {
		return err
	}
	if err := tbl.Barrier(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "legacy.banner present: %v\n", tbl.Has("legacy.banner"))
	st := tbl.Stats()
	fmt.Fprintf(out, "stats: applied=%d tombstones=%d caught up in %v\n", st.RecordsApplied, st.TombstonesApplied, st.CatchUpDuration.Round(time.Microsecond))
	return nil
}
