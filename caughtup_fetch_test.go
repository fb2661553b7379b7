package ktables_test

import (
	"strconv"
	"testing"
)

// SPEC T3: the fetch that completes catch-up is already in the table's
// freshness when Open returns, so a status read right after Open shows the
// last fetch, the head confirmation and every high watermark. (The fetch was
// once recorded after catch-up was announced, and `ktables status` could
// print "last fetch: never" for a table that had just read everything.)
func TestOpenReturnsWithTheCatchUpFetchObserved(t *testing.T) {
	c := newCluster(t)
	ctx := testCtx(t)
	topic := topicName(t)
	createTopic(t, c, topic, 3)
	w := openWriter(t, ctx, c.Transport(), topic)
	for i := range 6 {
		if err := w.Set(ctx, "k"+strconv.Itoa(i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	for range 200 {
		tbl := openBytes(t, ctx, c.Transport(), topic)
		h := tbl.Health()
		if h.LastFetch.IsZero() || h.HeadConfirmed.IsZero() {
			t.Fatalf("after Open: last fetch %v, head confirmed %v", h.LastFetch, h.HeadConfirmed)
		}
		for _, pl := range tbl.Lag() {
			if pl.HighWatermark < 0 {
				t.Fatalf("after Open: partition %d has no high watermark: %+v", pl.Partition, tbl.Lag())
			}
		}
		tbl.Close()
	}
}
