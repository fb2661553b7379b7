package ktables_test

import (
	"context"
	"fmt"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// A live service registry: instances announce themselves with leases, a
// reader opened with a TTL watches the registry. A revoked lease writes a
// tombstone at once; a crashed instance would disappear after the TTL.
func ExampleGroupedTable_Watch() {
	ctx := context.Background()
	tr := memtransport.New()
	defer tr.Close()

	reg, err := ktables.OpenGrouped(ctx, tr, "registry", ktables.String(), ktables.WithTTL(3*time.Second))
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	w, err := ktables.OpenGroupedWriter(ctx, tr, "registry", ktables.String())
	if err != nil {
		panic(err)
	}
	defer w.Close() // revokes outstanding leases

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	events := reg.Watch(wctx)
	lease, err := w.Announce(ctx, "api", "host-a", "10.0.0.1:8080", 3*time.Second)
	if err != nil {
		panic(err)
	}
	for ev, err := range events {
		if err != nil {
			break // ctx ended, or the table closed or failed
		}
		switch ev.Kind {
		case ktables.EventSnapshot, ktables.EventSet:
			fmt.Println("up:", ev.Group, ev.Member, ev.New)
			_ = lease.Revoke(ctx) // graceful shutdown: tombstone, acknowledged
		case ktables.EventDelete, ktables.EventExpired:
			fmt.Println(ev.Kind, ev.Group, ev.Member)
			stop()
		}
	}
	// Output:
	// up: api host-a 10.0.0.1:8080
	// delete api host-a
}
