package memtransport_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// Closing one client ends its calls and fetchers; the cluster and other
// clients carry on.
func TestTransportCloseKeepsCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := memtransport.NewCluster()
		defer c.Close()
		a, b := c.Transport(), c.Transport()
		ctx := context.Background()
		if err := a.CreateTopic(ctx, transport.TopicSpec{Name: "t"}); err != nil {
			t.Fatal(err)
		}
		produce(t, a, "t", 0, "k", "v")
		fa := newFetcher(t, a, "t", map[int32]int64{0: 1}, time.Hour)
		done := pollAsync(ctx, fa)
		synctest.Wait()
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		wantKind(t, (<-done).err, transport.ErrClosed, false)
		_, err := fa.Poll(ctx)
		wantKind(t, err, transport.ErrClosed, false)
		_, err = a.Produce(ctx, "t", transport.Record{})
		wantKind(t, err, transport.ErrClosed, false)
		_, err = a.Partitions(ctx, "t")
		wantKind(t, err, transport.ErrClosed, false)
		_, err = a.NewFetcher(ctx, "t", nil, transport.FetchOptions{})
		wantKind(t, err, transport.ErrClosed, false)
		if err := a.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}

		if a.Cluster() != c {
			t.Fatal("Cluster() is not the cluster")
		}
		fb := newFetcher(t, b, "t", map[int32]int64{0: 0}, time.Millisecond)
		if got := poll(t, fb); len(got.Records) != 1 {
			t.Fatalf("other client: %v", got)
		}
	})
}

// The client from New owns its cluster: closing it ends every client.
func TestNewCloseEndsCluster(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := memtransport.New()
		other := tr.Cluster().Transport()
		ctx := context.Background()
		tr.CreateTopic(ctx, transport.TopicSpec{Name: "t"})
		f := newFetcher(t, other, "t", map[int32]int64{0: 0}, time.Hour)
		done := pollAsync(ctx, f)
		synctest.Wait()
		tr.Close()
		wantKind(t, (<-done).err, transport.ErrClosed, false)
		_, err := other.EndOffsets(ctx, "t", []int32{0})
		wantKind(t, err, transport.ErrClosed, false)
		// The data stays inspectable.
		if hw, err := tr.Cluster().HighWatermark("t", 0); err != nil || hw != 0 {
			t.Fatalf("HighWatermark = %d, %v", hw, err)
		}
	})
}

// A blocked Poll leaves no goroutine behind once it returns.
func TestNoGoroutineLeaks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr, topic := setup(t, 1)
		f := newFetcher(t, tr, topic, map[int32]int64{0: 0}, time.Second)
		ctx, cancel := context.WithCancel(context.Background())
		done := pollAsync(ctx, f)
		synctest.Wait()
		cancel()
		<-done
		poll(t, f) // times out
		tr.Close()
		// synctest.Test fails if any goroutine of the bubble is still
		// blocked when the function returns.
	})
}
