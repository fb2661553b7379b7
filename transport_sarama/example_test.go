package saramatransport_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/ktables/ktables"
	saramatransport "github.com/ktables/ktables/transport_sarama"
)

// A table and a writer over the adapter, as an application uses them. It
// needs a broker at localhost:9092, so it is compiled but not run here; the
// runnable version, over an in-process broker, is in wiretest/sarama.
func Example() {
	tr, err := saramatransport.New([]string{"localhost:9092"}, saramatransport.NewConfig())
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
	fmt.Println("dark-mode:", on)
}
