package transport_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ktables/ktables/transport"
)

func TestLazy(t *testing.T) {
	var l transport.Lazy[int]
	if _, ok := l.Settle(); ok {
		t.Fatal("an empty Lazy settled with a value")
	}
	boom := errors.New("boom")
	if _, err := l.Get(context.Background(), func() (int, error) { return 0, boom }); err != boom {
		t.Fatalf("failed making: %v", err)
	}
	if v, err := l.Get(context.Background(), func() (int, error) { return 7, nil }); v != 7 || err != nil {
		t.Fatalf("a failed making is tried again: %d, %v", v, err)
	}
	if v, _ := l.Get(context.Background(), func() (int, error) { return 9, nil }); v != 7 {
		t.Fatalf("made twice: %d", v)
	}

	var slow transport.Lazy[int]
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := slow.Get(ctx, func() (int, error) { <-release; return 3, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting under an ended ctx: %v", err)
	}
	close(release)
	if v, ok := slow.Settle(); !ok || v != 3 {
		t.Fatalf("Settle after the making: %d, %v", v, ok)
	}
}

func TestRun(t *testing.T) {
	if v, err := transport.Run(context.Background(), func() (int, error) { return 5, nil }); v != 5 || err != nil {
		t.Fatalf("Run: %d, %v", v, err)
	}
	block := make(chan struct{})
	defer close(block)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := transport.Run(ctx, func() (int, error) { <-block; return 1, nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run under an ended ctx: %v", err)
	}
}
