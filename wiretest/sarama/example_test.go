package saramawire

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/transport"
	saramatransport "github.com/ktables/ktables/transport_sarama"
)

// The transport over an in-process kfake broker: create a topic, produce a
// value, an empty value and a tombstone to an explicit partition, read them
// back.
func Example() {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	cfg := saramatransport.NewConfig()
	cfg.ClientID = "example"
	tr, err := saramatransport.New(c.ListenAddrs(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const topic = "services"
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: topic, Partitions: 2, Configs: map[string]string{"cleanup.policy": "compact"}}); err != nil {
		log.Fatal(err)
	}
	for _, r := range []transport.Record{
		{Key: []byte("billing"), Value: []byte("10.0.0.7:8080"), Partition: 1},
		{Key: []byte("search"), Value: []byte{}, Partition: 1},
		{Key: []byte("billing"), Value: nil, Partition: 1},
	} {
		off, err := tr.Produce(ctx, topic, r)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("produced at offset", off)
	}

	ends, err := tr.EndOffsets(ctx, topic, []int32{0, 1})
	if err != nil {
		log.Fatal(err)
	}
	f, err := tr.NewFetcher(ctx, topic, map[int32]int64{0: 0, 1: 0}, transport.FetchOptions{MaxWait: 100 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for next := int64(0); next < ends[1]; {
		b, err := f.Poll(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range b.Records {
			switch {
			case r.Value == nil:
				fmt.Printf("p%d@%d %s deleted\n", r.Partition, r.Offset, r.Key)
			default:
				fmt.Printf("p%d@%d %s=%q\n", r.Partition, r.Offset, r.Key, r.Value)
			}
		}
		if n, ok := b.Next[1]; ok {
			next = n
		}
	}
	// Output:
	// produced at offset 0
	// produced at offset 1
	// produced at offset 2
	// p1@0 billing="10.0.0.7:8080"
	// p1@1 search=""
	// p1@2 billing deleted
}

// A table and a writer over sarama, as an application uses them.
func Example_table() {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	tr, err := saramatransport.New(c.ListenAddrs(), saramatransport.NewConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	w, err := ktables.OpenWriter(ctx, tr, "flags", ktables.JSON[bool]())
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	flags, err := ktables.Open(ctx, tr, "flags", ktables.JSON[bool]())
	if err != nil {
		log.Fatal(err)
	}
	defer flags.Close()

	if err := w.Set(ctx, "dark-mode", true); err != nil {
		log.Fatal(err)
	}
	if err := flags.Barrier(ctx); err != nil { // read your own write
		log.Fatal(err)
	}
	on, _ := flags.Get("dark-mode")
	fmt.Println("dark-mode:", on, flags.Status())
	// Output:
	// dark-mode: true caught up
}
