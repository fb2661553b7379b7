package memtransport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

func TestTransportDeleteTopic(t *testing.T) {
	ctx := context.Background()
	tr := memtransport.New()
	defer tr.Close()
	if err := tr.CreateTopic(ctx, transport.TopicSpec{Name: "gone", Partitions: 2}); err != nil {
		t.Fatal(err)
	}
	var d transport.TopicDeleter = tr
	if err := d.DeleteTopic(ctx, "gone"); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	for _, name := range tr.Cluster().Topics() {
		if name == "gone" {
			t.Fatal("the topic is still listed after DeleteTopic")
		}
	}
	if err := d.DeleteTopic(ctx, "gone"); !errors.Is(err, transport.ErrUnknownTopic) {
		t.Fatalf("second DeleteTopic = %v, want ErrUnknownTopic", err)
	}
	tr.Close()
	if err := d.DeleteTopic(ctx, "other"); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("DeleteTopic after Close = %v, want ErrClosed", err)
	}
}
