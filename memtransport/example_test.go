package memtransport_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func Example() {
	ctx := context.Background()
	tr := memtransport.New()
	defer tr.Close()

	err := tr.CreateTopic(ctx, transport.TopicSpec{
		Name:       "flags",
		Partitions: 1,
		Configs:    map[string]string{"cleanup.policy": "compact"},
	})
	if err != nil {
		panic(err)
	}
	tr.Produce(ctx, "flags", transport.Record{Key: []byte("dark-mode"), Value: []byte("on")})
	tr.Produce(ctx, "flags", transport.Record{Key: []byte("beta"), Value: []byte{}}) // empty: data
	tr.Produce(ctx, "flags", transport.Record{Key: []byte("dark-mode"), Value: nil}) // nil: tombstone

	// Read from the log start, as a table replays.
	start, _ := tr.StartOffsets(ctx, "flags", []int32{0})
	f, err := tr.NewFetcher(ctx, "flags", start, transport.FetchOptions{MaxWait: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	batch, err := f.Poll(ctx)
	if err != nil {
		panic(err)
	}
	for _, r := range batch.Records {
		fmt.Printf("offset %d: %s=%q tombstone=%v\n", r.Offset, r.Key, r.Value, r.Value == nil)
	}
	fmt.Println("next position:", batch.Next[0])
	// Output:
	// offset 0: dark-mode="on" tombstone=false
	// offset 1: beta="" tombstone=false
	// offset 2: dark-mode="" tombstone=true
	// next position: 3
}

// Fault injection: the next two produces fail with a retriable error, as
// during a broker restart; the third succeeds.
func ExampleCluster_FailNext() {
	ctx := context.Background()
	c := memtransport.NewCluster()
	defer c.Close()
	tr := c.Transport()
	tr.CreateTopic(ctx, transport.TopicSpec{Name: "t"})

	c.FailNext(memtransport.OpProduce, 2, transport.ErrBrokerUnavailable)
	for {
		off, err := tr.Produce(ctx, "t", transport.Record{Key: []byte("k"), Value: []byte("v")})
		if transport.IsRetriable(err) {
			fmt.Println("retrying:", errors.Is(err, transport.ErrBrokerUnavailable))
			continue
		}
		fmt.Println("offset", off, err)
		break
	}
	fmt.Println("produce calls:", c.Calls(memtransport.OpProduce))
	// Output:
	// retrying: true
	// retrying: true
	// offset 0 <nil>
	// produce calls: 3
}

// Shaping the log: compaction holes, a trailing transaction marker, and a
// log start moved by compaction.
func ExampleCluster_Compact() {
	c := memtransport.NewCluster()
	defer c.Close()
	c.CreateTopic(transport.TopicSpec{Name: "t"})
	c.Append("t", transport.Record{Key: []byte("a"), Value: []byte("1")})
	c.Append("t", transport.Record{Key: []byte("a"), Value: []byte("2")})
	c.AppendControl("t", 0)
	c.Compact("t")

	start, _ := c.LogStartOffset("t", 0)
	end, _ := c.HighWatermark("t", 0)
	recs, _ := c.Records("t", 0)
	fmt.Println("log start", start, "high watermark", end, "records", len(recs))
	// Output:
	// log start 1 high watermark 3 records 1
}
