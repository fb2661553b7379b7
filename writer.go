package ktables

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ktables/ktables/transport"
)

// Writer maintains a table topic with keyed upserts and tombstones (SPEC 8).
// It chooses each record's partition itself with the Java client's murmur2
// partitioner, so writers on every client agree with each other and with
// Java and franz-go producers (SPEC P1). It is safe for concurrent use;
// concurrent calls are pipelined by the transport.
type Writer[V any] struct {
	topic string
	tr    transport.Transport
	codec Codec[V]
	cfg   config
	log   *slog.Logger

	partitions  atomic.Int32
	refreshedAt atomic.Int64 // unix nanos of the last partition count refresh
	refreshing  atomic.Bool
	ob          observing // observer.go

	mu        sync.Mutex // orders background work against Close
	closed    atomic.Bool
	ctx       context.Context // cancelled by Close; bounds background refreshes
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// OpenWriter returns a Writer for topic. It ensures the topic like Open does
// (unless WithoutEnsureTopic) and learns the partition count (SPEC W0).
func OpenWriter[V any](ctx context.Context, tr transport.Transport, topic string, codec Codec[V], opts ...Option) (*Writer[V], error) {
	cfg, err := buildConfig(scopeWriter, opts)
	if err != nil {
		return nil, err
	}
	return openWriter(ctx, tr, topic, codec, cfg)
}

func openWriter[V any](ctx context.Context, tr transport.Transport, topic string, codec Codec[V], cfg config) (*Writer[V], error) {
	if tr == nil {
		return nil, optionErr("transport", "nil transport")
	}
	if codec == nil {
		return nil, optionErr("codec", "nil codec")
	}
	if err := ValidateTopicName(topic); err != nil {
		return nil, err
	}
	w := &Writer[V]{topic: topic, tr: tr, codec: codec, cfg: cfg, log: cfg.logger.With(slog.String("topic", topic))}
	w.ob.init(&cfg, SourceWriter, topic, w.log) // observer.go
	bo := newBackoff(&cfg)
	if cfg.ensure {
		err := retry(ctx, bo, transport.IsRetriable, func(ctx context.Context) error {
			_, err := ensureTopic(ctx, tr, topic, &cfg)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("ktables: open writer %q: %w", topic, err)
		}
	}
	retriable := func(err error) bool { return transport.IsRetriable(err) || cfg.ensure && isUnknownTopic(err) }
	if err := retry(ctx, bo, retriable, w.refresh); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("ktables: open writer %q: %w", topic, err)
	}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w, nil
}

// Topic returns the writer's topic.
func (w *Writer[V]) Topic() string { return w.topic }

// Set writes value under key and returns once the broker acknowledged it
// (SPEC W1). An encode error is returned, matching ErrEncode, and nothing is
// sent (SPEC W3). Set never deletes: a value that encodes to nothing is sent
// as empty data, not as a tombstone.
//
// SetWithToken does the same and also returns where the record landed.
func (w *Writer[V]) Set(ctx context.Context, key string, value V) error {
	_, err := w.set(ctx, key, value)
	return err
}

// Delete writes a tombstone for key and returns once it was acknowledged.
//
// DeleteWithToken does the same and also returns where the tombstone landed.
func (w *Writer[V]) Delete(ctx context.Context, key string) error {
	_, err := w.write(ctx, key, nil)
	return err
}

func (w *Writer[V]) set(ctx context.Context, key string, value V) (Position, error) {
	b, err := w.codec.Encode(value)
	if err != nil {
		return Position{}, fmt.Errorf("%w: key %q: %w", ErrEncode, key, err)
	}
	if b == nil {
		b = []byte{}
	}
	return w.write(ctx, key, b)
}

func (w *Writer[V]) write(ctx context.Context, key string, value []byte) (pos Position, err error) {
	if w.ob.on() { // observer.go
		defer w.observeWrite(time.Now(), value == nil, &pos, &err)
	}
	if w.closed.Load() {
		return Position{}, ErrClosed
	}
	w.maybeRefresh()
	rec := transport.Record{Key: []byte(key), Value: value}
	bo := newBackoff(&w.cfg)
	for attempt := 0; ; attempt++ {
		rec.Partition = transport.Partition(rec.Key, w.partitions.Load())
		off, err := w.tr.Produce(ctx, w.topic, rec)
		if err == nil {
			return Position{Partition: rec.Partition, Offset: off}, nil
		}
		if ctx.Err() != nil {
			return Position{}, ctx.Err()
		}
		if !transport.IsRetriable(err) || attempt >= w.cfg.writeRetries {
			return Position{}, fmt.Errorf("ktables: write %q to %q: %w", key, w.topic, err)
		}
		if errors.Is(err, transport.ErrUnknownPartition) {
			w.refresh(ctx) // the topic may have changed shape under us
		}
		w.observeRetry(value == nil, err) // observer.go
		w.log.Debug("ktables: transient produce error; retrying", slog.Any("error", err), slog.Int("attempt", attempt+1))
		if bo.sleep(ctx) != nil {
			return Position{}, ctx.Err()
		}
	}
}

// refresh reads the partition count. Counts only grow in Kafka, so a
// smaller answer (a stale broker) is ignored.
func (w *Writer[V]) refresh(ctx context.Context) error {
	parts, err := w.tr.Partitions(ctx, w.topic)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return transport.NewError("partitions", w.topic, transport.ErrUnknownPartition, errors.New("topic has no partitions"))
	}
	n := int32(len(parts))
	for {
		cur := w.partitions.Load()
		if n <= cur || w.partitions.CompareAndSwap(cur, n) {
			break
		}
	}
	w.refreshedAt.Store(time.Now().UnixNano())
	return nil
}

// maybeRefresh starts a background partition count refresh when the last
// one is older than the refresh interval, so writes never wait for metadata.
func (w *Writer[V]) maybeRefresh() {
	if time.Since(time.Unix(0, w.refreshedAt.Load())) < w.cfg.partitionRefresh {
		return
	}
	if !w.refreshing.CompareAndSwap(false, true) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed.Load() {
		return
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		defer w.refreshing.Store(false)
		if err := w.refresh(w.ctx); err != nil && w.ctx.Err() == nil {
			w.log.Debug("ktables: partition count refresh failed", slog.Any("error", err))
			// Try again after a full interval rather than on every write.
			w.refreshedAt.Store(time.Now().UnixNano())
		}
	}()
}

// Close stops background work and closes the transport if the writer owns
// it. Writes after Close return ErrClosed. Close is idempotent.
func (w *Writer[V]) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed.Store(true)
		w.mu.Unlock()
		w.cancel()
		w.wg.Wait()
		if w.cfg.ownTransport {
			w.closeErr = w.tr.Close()
		}
	})
	return w.closeErr
}
