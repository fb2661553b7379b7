package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ktables/ktables"
)

// Raw is a Kafka client used directly, in the simplest correct way, as the
// baseline every ktables figure is compared with. Each implementation uses
// the same client library as the adapter it stands beside, with the
// produce settings that adapter's documented defaults use (acks=all, no
// linger) so that the comparison is about ktables, not configuration.
type Raw interface {
	// Produce sends one record to an explicit partition and returns once
	// it is acknowledged. Safe for concurrent use.
	Produce(ctx context.Context, topic string, partition int32, key, value []byte) error
	// EndOffsets lists the high watermarks.
	EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error)
	// Consume reads the partitions from the given offsets (Earliest for
	// the log start) and calls fn for each record, one call at a time,
	// until fn returns false (Consume returns nil) or ctx ends.
	Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error
	Close() error
}

// Earliest is the offset meaning "the log start" for Raw.Consume.
const Earliest int64 = -2

// Rec is one consumed record. Key and Value may alias the client's fetch
// buffer (franz-go, sarama): a consumer that keeps them copies them, or one
// kept record pins the whole buffer. Owned says they are fresh allocations
// the consumer may keep as they are (kafka-go, whose buffers are pooled, so
// the loop reads each field into its own slice).
type Rec struct {
	Partition  int32
	Offset     int64
	Key, Value []byte
	Owned      bool
}

// writersTuner is a Raw whose best produce settings depend on how many
// writers run at once (kafka-go's Writer batches per partition, one batch in
// flight). runWrites calls it before each concurrency level.
type writersTuner interface {
	tuneWriters(n int) error
}

// rawFetchWait is the raw consumers' long poll: the same as a table's
// default fetch wait, so idle CPU and propagation compare like with like.
const rawFetchWait = ktables.DefaultFetchMaxWait

// ---- franz-go

type rawFranz struct {
	seeds []string
	prod  *kgo.Client
	adm   *kadm.Client
}

func newRawFranz(seeds []string) (Raw, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ProducerLinger(0),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	return &rawFranz{seeds: seeds, prod: cl, adm: kadm.NewClient(cl)}, nil
}

func (r *rawFranz) Produce(ctx context.Context, topic string, p int32, k, v []byte) error {
	return r.prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Key: k, Value: v}).FirstErr()
}

func (r *rawFranz) EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	lo, err := r.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	if err := lo.Error(); err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

func (r *rawFranz) Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error {
	offs := map[int32]kgo.Offset{}
	for p, o := range from {
		if o == Earliest {
			offs[p] = kgo.NewOffset().AtStart()
		} else {
			offs[p] = kgo.NewOffset().At(o)
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(r.seeds...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}),
		kgo.FetchMaxWait(rawFetchWait)) // kgo's default is 5 s, tables' 2 s
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, fe := range fs.Errors() {
			if !kgoRetriable(fe.Err) {
				return fe.Err
			}
		}
		stop := false
		fs.EachRecord(func(kr *kgo.Record) {
			if !stop && !fn(Rec{Partition: kr.Partition, Offset: kr.Offset, Key: kr.Key, Value: kr.Value}) {
				stop = true
			}
		})
		if stop {
			return nil
		}
	}
}

func kgoRetriable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || kgo.IsRetryableBrokerErr(err)
}

func (r *rawFranz) Close() error { r.prod.Close(); return nil }

// ---- IBM sarama

type rawSarama struct {
	seeds  []string
	cfg    *sarama.Config
	prod   sarama.SyncProducer
	client sarama.Client // offsets, on connections no fetch uses
}

func saramaConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_0_0_0
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Consumer.Fetch.Default = 10 << 20
	return cfg
}

func newRawSarama(seeds []string) (Raw, error) {
	cfg := saramaConfig()
	prod, err := sarama.NewSyncProducer(seeds, cfg)
	if err != nil {
		return nil, err
	}
	cl, err := sarama.NewClient(seeds, cfg)
	if err != nil {
		prod.Close()
		return nil, err
	}
	return &rawSarama{seeds: seeds, cfg: cfg, prod: prod, client: cl}, nil
}

func (r *rawSarama) Produce(_ context.Context, topic string, p int32, k, v []byte) error {
	_, _, err := r.prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p,
		Key: sarama.ByteEncoder(k), Value: sarama.ByteEncoder(v)})
	return err
}

func (r *rawSarama) EndOffsets(_ context.Context, topic string, parts []int32) (map[int32]int64, error) {
	out := map[int32]int64{}
	for _, p := range parts {
		o, err := r.client.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, err
		}
		out[p] = o
	}
	return out, nil
}

// Consume is the loop a competent sarama user writes for speed: the same
// Broker.Fetch loop the adapter runs (sarama's ConsumePartition, with a
// goroutine and channels per partition, is 1.6× slower), one request per
// partition leader covering all its partitions, long-polling rawFetchWait.
func (r *rawSarama) Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error {
	pos := make(map[int32]int64, len(from))
	byLeader := map[string][]int32{}
	for p, o := range from {
		if o == Earliest {
			var err error
			if o, err = r.client.GetOffset(topic, p, sarama.OffsetOldest); err != nil {
				return err
			}
		}
		pos[p] = o
		leader, err := r.client.Leader(topic, p)
		if err != nil {
			return err
		}
		byLeader[leader.Addr()] = append(byLeader[leader.Addr()], p)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		stop     bool
		firstErr error
		wg       sync.WaitGroup
	)
	for addr, parts := range byLeader {
		b := sarama.NewBroker(addr)
		if err := b.Open(r.cfg); err != nil {
			return err
		}
		wg.Go(func() {
			defer b.Close()
			err := r.fetchLoop(ctx, b, topic, parts, pos, &mu, func(rec Rec) bool {
				if stop {
					return false
				}
				if !fn(rec) {
					stop = true
					cancel()
				}
				return !stop
			})
			mu.Lock()
			if err != nil && firstErr == nil && ctx.Err() == nil {
				firstErr = err
				cancel()
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	switch {
	case stop:
		return nil
	case firstErr != nil:
		return firstErr
	}
	return ctx.Err()
}

// fetchLoop fetches parts from one broker until ctx ends or fn says stop.
// pos is shared with other leaders' loops; each touches only its own
// partitions, under mu, which also serializes fn.
func (r *rawSarama) fetchLoop(ctx context.Context, b *sarama.Broker, topic string, parts []int32, pos map[int32]int64, mu *sync.Mutex, fn func(Rec) bool) error {
	size := map[int32]int32{}
	for ctx.Err() == nil {
		req := &sarama.FetchRequest{Version: 11, MaxWaitTime: int32(rawFetchWait / time.Millisecond),
			MinBytes: 1, MaxBytes: 50 << 20, SessionEpoch: -1}
		mu.Lock()
		for _, p := range parts {
			if size[p] == 0 {
				size[p] = r.cfg.Consumer.Fetch.Default
			}
			req.AddBlock(topic, p, pos[p], size[p], -1)
		}
		mu.Unlock()
		resp, err := b.Fetch(req)
		if err != nil {
			return err
		}
		mu.Lock()
		for _, p := range parts {
			blk := resp.GetBlock(topic, p)
			if blk == nil {
				continue
			}
			if blk.Err != sarama.ErrNoError {
				mu.Unlock()
				return blk.Err
			}
			next := pos[p]
			for _, rs := range blk.RecordsSet {
				rb := rs.RecordBatch
				if rb == nil || rb.PartialTrailingRecord {
					continue
				}
				for _, rec := range rb.Records {
					off := rb.FirstOffset + rec.OffsetDelta
					if off < next {
						continue
					}
					if !fn(Rec{Partition: p, Offset: off, Key: rec.Key, Value: rec.Value}) {
						mu.Unlock()
						return nil
					}
				}
				next = max(next, rb.FirstOffset+int64(rb.LastOffsetDelta)+1)
			}
			if next == pos[p] && blk.Partial {
				size[p] *= 2 // a record larger than the fetch size
			}
			pos[p] = next
		}
		mu.Unlock()
	}
	return ctx.Err()
}

func (r *rawSarama) Close() error {
	r.prod.Close()
	return r.client.Close()
}

// ---- segmentio kafka-go

type rawKafkaGo struct {
	seeds []string
	rt    *kafka.Transport
	cl    *kafka.Client
	mu    sync.Mutex
	w     *kafka.Writer
}

// explicitPartition makes kafka.Writer send each message to the partition
// the caller chose (kafka-go's default balancer is round-robin).
type explicitPartition struct{}

func (explicitPartition) Balance(m kafka.Message, _ ...int) int { return m.Partition }

func newRawKafkaGo(seeds []string) (Raw, error) {
	// kafka-go's Transport caches metadata for MetadataTTL (6 s by
	// default) and fails fetches of topics created since with "topic not
	// found"; the suite creates topics all the time, so refresh each second
	// and retry until then (fetchLoop).
	rt := &kafka.Transport{MetadataTTL: time.Second}
	r := &rawKafkaGo{seeds: seeds, rt: rt, cl: &kafka.Client{Addr: kafka.TCP(seeds...), Transport: rt}}
	return r, r.tuneWriters(1)
}

// tuneWriters sets the kafka.Writer a competent user picks for n
// concurrent acked writers. The Writer sends one batch per partition at a
// time and holds a partial batch until BatchTimeout; a batch of exactly n
// messages goes the moment the n writers have each queued one, so no write
// waits for the timer (a 1 ms BatchTimeout with the default BatchSize of 100
// made every single write wait 1 ms).
func (r *rawKafkaGo) tuneWriters(n int) error {
	w := &kafka.Writer{
		Addr:         kafka.TCP(r.seeds...),
		Balancer:     explicitPartition{},
		RequiredAcks: kafka.RequireAll,
		Transport:    r.rt,
		BatchSize:    max(n, 1),
		BatchTimeout: time.Millisecond, // only ever reached by a partial batch
	}
	r.mu.Lock()
	old := r.w
	r.w = w
	r.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (r *rawKafkaGo) Produce(ctx context.Context, topic string, p int32, k, v []byte) error {
	r.mu.Lock()
	w := r.w
	r.mu.Unlock()
	return w.WriteMessages(ctx, kafka.Message{Topic: topic, Partition: int(p), Key: k, Value: v})
}

func (r *rawKafkaGo) EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
	for _, p := range parts {
		req.Topics[topic] = append(req.Topics[topic], kafka.LastOffsetOf(int(p)))
	}
	resp, err := r.cl.ListOffsets(ctx, req)
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	for _, po := range resp.Topics[topic] {
		if po.Error != nil {
			return nil, po.Error
		}
		out[int32(po.Partition)] = po.LastOffset
	}
	return out, nil
}

// Consume is the fast loop a kafka-go user writes: kafka.Client.Fetch per
// partition (one goroutine each), long-polling rawFetchWait, reading each key and
// value out of kafka-go's pooled buffers into its own slice. kafka.Reader's
// ReadMessage adds a goroutine, channel and message conversion per record.
func (r *rawKafkaGo) Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		stop     bool
		firstErr error
		wg       sync.WaitGroup
	)
	for p, o := range from {
		wg.Go(func() {
			err := r.fetchLoop(ctx, topic, p, o, func(rec Rec) bool {
				mu.Lock()
				defer mu.Unlock()
				if !stop && !fn(rec) {
					stop = true
					cancel()
				}
				return !stop
			})
			mu.Lock()
			if err != nil && firstErr == nil && ctx.Err() == nil {
				firstErr = err
				cancel()
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	switch {
	case stop:
		return nil
	case firstErr != nil:
		return fmt.Errorf("kafka-go fetch: %w", firstErr)
	}
	return ctx.Err()
}

func (r *rawKafkaGo) fetchLoop(ctx context.Context, topic string, p int32, off int64, fn func(Rec) bool) error {
	for ctx.Err() == nil {
		resp, err := r.cl.Fetch(ctx, &kafka.FetchRequest{Topic: topic, Partition: int(p), Offset: off,
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: rawFetchWait}) // Earliest == kafka.FirstOffset
		if err == nil {
			err = resp.Error
		}
		if errors.Is(err, protocol.ErrNoTopic) || errors.Is(err, kafka.UnknownTopicOrPartition) {
			// Metadata older than the topic (see newRawKafkaGo).
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if off < 0 {
			off = resp.LogStartOffset
		}
		for {
			rec, err := resp.Records.ReadRecord()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					return err
				}
				break
			}
			if rec.Offset < off {
				closeAll(rec.Key, rec.Value)
				continue
			}
			k, err := readAll(rec.Key)
			if err != nil {
				return err
			}
			v, err := readAll(rec.Value)
			if err != nil {
				return err
			}
			off = rec.Offset + 1
			if !fn(Rec{Partition: p, Offset: rec.Offset, Key: k, Value: v, Owned: true}) {
				return nil
			}
		}
	}
	return nil
}

func closeAll(bs ...kafka.Bytes) {
	for _, b := range bs {
		if b != nil {
			b.Close()
		}
	}
}

// readAll copies a kafka-go record field into a slice of its own (nil for
// a null field).
func readAll(b kafka.Bytes) ([]byte, error) {
	if b == nil {
		return nil, nil
	}
	defer b.Close()
	out := make([]byte, b.Len())
	_, err := io.ReadFull(b, out)
	return out, err
}

func (r *rawKafkaGo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.w.Close()
	r.rt.CloseIdleConnections()
	return err
}
