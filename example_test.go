package ktables_test

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// A writer and a table over one topic: write, read your own write with a
// barrier, delete with a tombstone.
func Example() {
	ctx := context.Background()
	tr := memtransport.New() // swap for franztransport.New(...) in production
	defer tr.Close()

	type Flag struct {
		On      bool `json:"on"`
		Percent int  `json:"percent"`
	}
	w, err := ktables.OpenWriter(ctx, tr, "feature-flags", ktables.JSON[Flag]())
	if err != nil {
		panic(err)
	}
	defer w.Close()
	tbl, err := ktables.Open(ctx, tr, "feature-flags", ktables.JSON[Flag]())
	if err != nil {
		panic(err)
	}
	defer tbl.Close()

	_ = w.Set(ctx, "checkout.new-flow", Flag{On: true, Percent: 25})
	_ = w.Set(ctx, "legacy.banner", Flag{On: true})
	_ = tbl.Barrier(ctx) // both writes are now visible
	flag, _ := tbl.Get("checkout.new-flow")
	fmt.Println("new flow:", flag.On, flag.Percent, "keys:", tbl.Len())

	_ = w.Delete(ctx, "legacy.banner")
	_ = tbl.Barrier(ctx)
	fmt.Println("banner present:", tbl.Has("legacy.banner"), "status:", tbl.Status())
	// Output:
	// new flow: true 25 keys: 2
	// banner present: false status: caught up
}

// A service registry: each instance announces itself as a member of its
// service's group with its own writer, so announcements never race; every
// reader sees the whole registry.
func ExampleOpenGrouped() {
	ctx := context.Background()
	cluster := memtransport.NewCluster()
	defer cluster.Close()

	type Instance struct {
		Addr string `json:"addr"`
	}
	announce := func(service, host, addr string) *ktables.GroupedWriter[Instance] {
		w, err := ktables.OpenGroupedWriter(ctx, cluster.Transport(), "registry", ktables.JSON[Instance]())
		if err != nil {
			panic(err)
		}
		_ = w.Set(ctx, service, host, Instance{Addr: addr})
		return w
	}
	a := announce("billing", "host-a", "10.0.0.1:8080")
	b := announce("billing", "host-b", "10.0.0.2:8080")
	announce("search", "host-c", "10.0.0.3:9200")

	reg, err := ktables.OpenGrouped(ctx, cluster.Transport(), "registry", ktables.JSON[Instance]())
	if err != nil {
		panic(err)
	}
	defer reg.Close()
	billing := reg.Members("billing")
	hosts := slices.Sorted(maps.Keys(billing))
	fmt.Println("billing:", hosts, billing["host-b"].Addr)

	_ = b.Delete(ctx, "billing", "host-b") // host-b shuts down
	_ = reg.Barrier(ctx)
	fmt.Println("billing members:", len(reg.Members("billing")), "groups:", reg.GroupCount())
	a.Close()
	b.Close()
	// Output:
	// billing: [host-a host-b] 10.0.0.2:8080
	// billing members: 1 groups: 2
}
