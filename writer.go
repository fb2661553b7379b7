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

	partitions atomic.Int32
	// refreshDue is set by refreshTimer a refresh interval after the last
	// refresh ended; the next write starts one. A timer rather than a
	// clock read per write: on some machines time.Now costs as much as
	// the rest of the writer's own work (issue 17).
	refreshDue   atomic.Bool
	refreshTimer *time.Timer
	ob           observing // observer.go

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
	cfg, err := buildConfig(forWriter, opts)
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
		err := retry(ctx, bo, ensureRetriable, func(ctx context.Context) error {
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
	w.refreshTimer = time.AfterFunc(cfg.partitionRefresh, func() { w.refreshDue.Store(true) })
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
	kb, err := encodeKey(w.cfg.keyFormat, key)
	if err != nil {
		return Position{}, err
	}
	w.maybeRefresh()
	rec := transport.Record{Key: kb, Value: value}
	p := retryPolicy{
		retriable: transport.IsRetriable,
		retries:   w.cfg.writeRetries,
		onRetry: func(err error, attempt int) {
			w.observeRetry(value == nil, err) // observer.go
			w.log.Debug("ktables: transient produce error; retrying", slog.Any("error", err), slog.Int("attempt", attempt+1))
		},
		ctxErr: true,
	}
	err = p.run(ctx, newBackoff(&w.cfg), func(ctx context.Context, _ int) (bool, error) {
		rec.Partition = transport.Partition(rec.Key, w.partitions.Load())
		off, err := w.tr.Produce(ctx, w.topic, rec)
		if err == nil {
			pos = Position{Partition: rec.Partition, Offset: off}
			return false, nil
		}
		if ctx.Err() != nil {
			return false, ctx.Err() // not retriable: returned as is
		}
		if isPartitionMiss(err) {
			// The topic may have changed shape under us: grown, or deleted
			// and re-created with fewer partitions (SPEC W0).
			if moved, rerr := w.refreshAfterMiss(ctx, rec.Partition); rerr == nil {
				if moved {
					return true, err // the key has a new partition: retry there now
				}
				if errors.Is(err, transport.ErrUnknownTopic) {
					// The topic exists: the partition is what is missing.
					err = transport.NewError("produce", w.topic, transport.ErrUnknownPartition,
						fmt.Errorf("partition %d not found although the topic has %d partitions: %w", rec.Partition, w.partitions.Load(), err))
				}
			}
		}
		return false, err
	})
	switch {
	case err == nil:
		return pos, nil
	case err == ctx.Err():
		return Position{}, err // the caller's context ended: as is
	}
	return Position{}, fmt.Errorf("ktables: write %q to %q: %w", key, w.topic, err)
}

// refresh reads the partition count. Counts only grow in Kafka, so a
// smaller answer (a stale broker) is ignored here; see refreshAfterMiss.
func (w *Writer[V]) refresh(ctx context.Context) error {
	n, err := w.readCount(ctx)
	if err != nil {
		return err
	}
	for {
		cur := w.partitions.Load()
		if n <= cur || w.partitions.CompareAndSwap(cur, n) {
			break
		}
	}
	return nil
}

// refreshAfterMiss reads the partition count after the broker refused
// partition p as unknown. Then a smaller count is evidence rather than
// staleness: the topic was deleted and re-created with fewer partitions, and
// keys follow the new count (as every other producer's do). It reports
// whether the count changed.
func (w *Writer[V]) refreshAfterMiss(ctx context.Context, p int32) (bool, error) {
	n, err := w.readCount(ctx)
	if err != nil {
		return false, err
	}
	for {
		cur := w.partitions.Load()
		if n == cur || n < cur && p < n {
			// Same count, or smaller but still holding p: nothing here says
			// the topic was re-created.
			return false, nil
		}
		if w.partitions.CompareAndSwap(cur, n) {
			if n < cur {
				w.log.Warn("ktables: topic has fewer partitions than before; it was re-created, keys follow the new count",
					slog.Int("was", int(cur)), slog.Int("now", int(n)))
			}
			return true, nil
		}
	}
}

func (w *Writer[V]) readCount(ctx context.Context) (int32, error) {
	parts, err := w.tr.Partitions(ctx, w.topic)
	if err != nil {
		return 0, err
	}
	if len(parts) == 0 {
		return 0, transport.NewError("partitions", w.topic, transport.ErrUnknownPartition, errors.New("topic has no partitions"))
	}
	return int32(len(parts)), nil
}

// isPartitionMiss reports a produce error saying the partition (or the
// topic, as some brokers and clients phrase it) does not exist.
func isPartitionMiss(err error) bool {
	return errors.Is(err, transport.ErrUnknownPartition) || errors.Is(err, transport.ErrUnknownTopic)
}

// maybeRefresh starts a background partition count refresh when the last
// one ended a refresh interval ago, so writes never wait for metadata. An
// idle writer asks for no metadata: the timer only marks a refresh due.
func (w *Writer[V]) maybeRefresh() {
	if !w.refreshDue.Load() || !w.refreshDue.CompareAndSwap(true, false) {
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
		if err := w.refresh(w.ctx); err != nil && w.ctx.Err() == nil {
			w.log.Debug("ktables: partition count refresh failed", slog.Any("error", err))
		}
		// Success or failure, the next one comes a full interval later
		// rather than on every write.
		w.refreshTimer.Reset(w.cfg.partitionRefresh)
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
		w.refreshTimer.Stop() // after Wait: no refresh re-arms it now
		if w.cfg.ownTransport {
			w.closeErr = w.tr.Close()
		}
	})
	return w.closeErr
}
