package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
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

// Rec is one consumed record.
type Rec struct {
	Partition  int32
	Offset     int64
	Key, Value []byte
}

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
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offs}))
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

func (r *rawSarama) Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error {
	c, err := sarama.NewConsumer(r.seeds, r.cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		stop bool
		wg   sync.WaitGroup
	)
	for p, o := range from {
		pc, err := c.ConsumePartition(topic, p, o) // Earliest == sarama.OffsetOldest
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer pc.AsyncClose()
			for {
				select {
				case <-ctx.Done():
					return
				case m := <-pc.Messages():
					mu.Lock()
					if !stop && !fn(Rec{Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value}) {
						stop = true
						cancel()
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if stop {
		return nil
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
	w     *kafka.Writer
	cl    *kafka.Client
}

// explicitPartition makes kafka.Writer send each message to the partition
// the caller chose (kafka-go's default balancer is round-robin).
type explicitPartition struct{}

func (explicitPartition) Balance(m kafka.Message, _ ...int) int { return m.Partition }

func newRawKafkaGo(seeds []string) (Raw, error) {
	w := &kafka.Writer{
		Addr:         kafka.TCP(seeds...),
		Balancer:     explicitPartition{},
		RequiredAcks: kafka.RequireAll,
		// kafka.Writer waits up to BatchTimeout (default 1 s) to fill a
		// batch; 1 ms is the usual low-latency setting.
		BatchTimeout: time.Millisecond,
	}
	return &rawKafkaGo{seeds: seeds, w: w, cl: &kafka.Client{Addr: kafka.TCP(seeds...)}}, nil
}

func (r *rawKafkaGo) Produce(ctx context.Context, topic string, p int32, k, v []byte) error {
	return r.w.WriteMessages(ctx, kafka.Message{Topic: topic, Partition: int(p), Key: k, Value: v})
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

func (r *rawKafkaGo) Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu      sync.Mutex
		stop    bool
		wg      sync.WaitGroup
		readErr error
	)
	for p, o := range from {
		rd := kafka.NewReader(kafka.ReaderConfig{Brokers: r.seeds, Topic: topic, Partition: int(p),
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 500 * time.Millisecond})
		if err := rd.SetOffset(o); err != nil { // Earliest == kafka.FirstOffset
			rd.Close()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rd.Close()
			for {
				m, err := rd.ReadMessage(ctx)
				mu.Lock()
				if err != nil {
					if ctx.Err() == nil && readErr == nil {
						readErr = err
						cancel()
					}
					mu.Unlock()
					return
				}
				if !stop && !fn(Rec{Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value}) {
					stop = true
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	switch {
	case stop:
		return nil
	case readErr != nil:
		return fmt.Errorf("kafka-go reader: %w", readErr)
	}
	return ctx.Err()
}

func (r *rawKafkaGo) Close() error { return r.w.Close() }
