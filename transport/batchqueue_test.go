package transport_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestBatchQueue(t *testing.T) {
	var (
		mu      sync.Mutex
		batches [][]int
		first   = make(chan struct{})
		release = make(chan struct{})
	)
	q := transport.BatchQueue[string, int]{
		MaxItems: 3, MaxBytes: 10,
		Size: func(n int) int { return n },
		Send: func(_ string, batch []int) {
			mu.Lock()
			batches = append(batches, batch)
			n := len(batches)
			mu.Unlock()
			if n == 1 {
				close(first)
				<-release // hold the first send in flight while more queue up
			}
		},
	}
	q.Add("p", 1)
	<-first
	for _, n := range []int{2, 3, 4, 5, 20, 1} {
		q.Add("p", n)
	}
	close(release)
	q.Wait()
	// Sent in order: the lone first item at once; then batches bounded by
	// MaxItems (2,3,4) and MaxBytes (5 alone as 5+20 > 10; 20 alone, over
	// MaxBytes but first; then 1).
	want := [][]int{{1}, {2, 3, 4}, {5}, {20}, {1}}
	if !slices.EqualFunc(batches, want, slices.Equal) {
		t.Fatalf("batches %v, want %v", batches, want)
	}
}
