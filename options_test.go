package ktables_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
)

// Bad input fails construction with a typed error before any network call.
func TestInvalidOptions(t *testing.T) {
	c := newCluster(t)
	tr := c.Transport()
	ctx := context.Background()
	tableCases := map[string][]ktables.Option{
		"zero catch-up timeout":     {ktables.WithCatchUpTimeout(0)},
		"negative fetch wait":       {ktables.WithFetchMaxWait(-time.Second)},
		"zero refresh":              {ktables.WithPartitionRefresh(0)},
		"backoff min > max":         {ktables.WithRetryBackoff(time.Second, time.Millisecond)},
		"nil logger":                {ktables.WithLogger(nil)},
		"nil option":                {nil},
		"writer option":             {ktables.WithWriteRetries(1)},
		"hook of another type":      {ktables.OnSet(func(string, string) {})},
		"nil hook":                  {ktables.OnDelete[[]byte](nil)},
		"zero partitions":           {ktables.WithPartitions(0)},
		"zero replication":          {ktables.WithReplicationFactor(0)},
		"empty config key":          {ktables.WithTopicConfig("", "x")},
		"unknown mismatch mode":     {ktables.WithOnMismatch(42)},
		"active mode without topic": {ktables.WithoutEnsureTopic(), ktables.WithOnMismatch(ktables.OnMismatchFail)},
		"key codec on a flat table": {ktables.WithKeyCodec(ktables.DefaultKeyCodec)},
	}
	for name, opts := range tableCases {
		_, err := ktables.Open(ctx, tr, "t", ktables.Bytes(), opts...)
		var oe *ktables.OptionError
		if !errors.Is(err, ktables.ErrInvalidOption) || !errors.As(err, &oe) {
			t.Errorf("%s: got %v", name, err)
		}
	}
	if _, err := ktables.Open(ctx, nil, "t", ktables.Bytes()); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("nil transport: %v", err)
	}
	if _, err := ktables.Open[[]byte](ctx, tr, "t", nil); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("nil codec: %v", err)
	}
	if _, err := ktables.Open(ctx, tr, "bad topic", ktables.Bytes()); !errors.Is(err, ktables.ErrInvalidTopicName) {
		t.Errorf("invalid topic: %v", err)
	}
	writerCases := map[string][]ktables.Option{
		"table option":     {ktables.WithCatchUpTimeout(time.Second)},
		"hook":             {ktables.OnSet(func(string, []byte) {})},
		"negative retries": {ktables.WithWriteRetries(-1)},
	}
	for name, opts := range writerCases {
		if _, err := ktables.OpenWriter(ctx, tr, "t", ktables.Bytes(), opts...); !errors.Is(err, ktables.ErrInvalidOption) {
			t.Errorf("writer %s: got %v", name, err)
		}
	}
	if _, err := ktables.OpenWriter(ctx, nil, "t", ktables.Bytes()); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("writer nil transport: %v", err)
	}
	if _, err := ktables.EnsureTopic(ctx, tr, "t", ktables.WithFetchMaxWait(time.Second)); !errors.Is(err, ktables.ErrInvalidOption) {
		t.Errorf("EnsureTopic table option: %v", err)
	}
	for op := memtransport.OpPartitions; op <= memtransport.OpCreatePartitions; op++ {
		if n := c.Calls(op); n != 0 {
			t.Errorf("bad options reached the broker: %v called %d times", op, n)
		}
	}
}
