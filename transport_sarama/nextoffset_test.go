package saramatransport

import (
	"testing"

	"github.com/IBM/sarama"
)

// TestRecordsNextOffsetField pins the sarama internal the fetcher reads to
// move past batches without records (see recordsNextOffset): it must exist
// and be the offset after the last batch of a block. sarama's mock broker
// answers a fetch of version 11 with one record batch of three records at
// offsets 0..2, decoded by sarama's own broker code.
func TestRecordsNextOffsetField(t *testing.T) {
	mb := sarama.NewMockBroker(t, 1)
	defer mb.Close()
	resp := &sarama.FetchResponse{Version: 11}
	for i := range int64(3) {
		resp.AddRecord("t", 0, sarama.StringEncoder("k"), sarama.StringEncoder("v"), i)
	}
	resp.SetLastOffsetDelta("t", 0, 2)
	mb.SetHandlerByMap(map[string]sarama.MockResponse{"FetchRequest": sarama.NewMockWrapper(resp)})

	cfg := sarama.NewConfig()
	cfg.Version = DefaultVersion
	cfg.ApiVersionsRequest = false
	b := sarama.NewBroker(mb.Addr())
	if err := b.Open(cfg); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	req := &sarama.FetchRequest{Version: 11, MaxWaitTime: 100, MinBytes: 1, MaxBytes: 1 << 20, SessionEpoch: -1}
	req.AddBlock("t", 0, 0, 1<<20, -1)
	got, err := b.Fetch(req)
	if err != nil {
		t.Fatal(err)
	}
	blk := got.GetBlock("t", 0)
	if blk == nil {
		t.Fatal("no block for t/0")
	}
	n, ok := recordsNextOffset(blk)
	if !ok || n != 3 {
		t.Fatalf("recordsNextOffset = %d, %v; want 3, true", n, ok)
	}
}
