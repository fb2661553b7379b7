//go:build cgo

package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

// The confluent adapter wraps librdkafka through cgo: a suite built with
// CGO_ENABLED=0 runs without it.
func init() {
	Adapters = append(Adapters, Adapter{
		Name: "confluent", Client: "github.com/confluentinc/confluent-kafka-go/v2 v2.11.1",
		Transport: func(s []string) (transport.Transport, error) {
			return confluenttransport.New(kafka.ConfigMap{"bootstrap.servers": strings.Join(s, ",")})
		},
		Raw: newRawConfluent,
	})
}

// rawConfluent is confluent-kafka-go used directly, as its documentation
// shows: a producer waiting on a delivery channel per message, an admin
// client for offsets, an assigned consumer polled in a loop. It gets the
// adapter's latency settings (linger.ms=0, Nagle off), so that the ratios
// measure the adapter, not librdkafka's defaults.
type rawConfluent struct {
	conf kafka.ConfigMap
	prod *kafka.Producer
	adm  *kafka.AdminClient
}

func newRawConfluent(seeds []string) (Raw, error) {
	conf := kafka.ConfigMap{
		"bootstrap.servers": strings.Join(seeds, ","), "socket.nagle.disable": true, "log_level": 4,
	}
	pc := kafka.ConfigMap{"linger.ms": 0}
	for k, v := range conf {
		pc[k] = v
	}
	prod, err := kafka.NewProducer(&pc)
	if err != nil {
		return nil, err
	}
	adm, err := kafka.NewAdminClientFromProducer(prod)
	if err != nil {
		prod.Close()
		return nil, err
	}
	go func() {
		for range prod.Events() { // client-level events only
		}
	}()
	return &rawConfluent{conf: conf, prod: prod, adm: adm}, nil
}

func (r *rawConfluent) Produce(ctx context.Context, topic string, p int32, k, v []byte) error {
	done := make(chan kafka.Event, 1)
	msg := &kafka.Message{TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: p}, Key: k, Value: v}
	if err := r.prod.Produce(msg, done); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case ev := <-done:
		if m, ok := ev.(*kafka.Message); ok {
			return m.TopicPartition.Error
		}
		return fmt.Errorf("unexpected delivery event %v", ev)
	}
}

func (r *rawConfluent) EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	req := make(map[kafka.TopicPartition]kafka.OffsetSpec, len(parts))
	for _, p := range parts {
		req[kafka.TopicPartition{Topic: &topic, Partition: p}] = kafka.LatestOffsetSpec
	}
	res, err := r.adm.ListOffsets(ctx, req)
	if err != nil {
		return nil, err
	}
	out := make(map[int32]int64, len(parts))
	for tp, info := range res.ResultInfos {
		if info.Error.Code() != kafka.ErrNoError {
			return nil, info.Error
		}
		out[tp.Partition] = int64(info.Offset)
	}
	return out, nil
}

// rawConfluentPoll (ms) is how long the raw consumer's Poll waits: the
// broker's long poll (fetch.wait.max.ms is capped at 500 ms for tables
// too). A record that arrives wakes the Poll at once; a shorter wait only
// wakes an idle consumer more often, each wake-up costing the Go runtime
// and librdkafka far more than the wait.
const rawConfluentPoll = 500

func (r *rawConfluent) Consume(ctx context.Context, topic string, from map[int32]int64, fn func(Rec) bool) error {
	cc := kafka.ConfigMap{"group.id": fmt.Sprintf("bench-raw-%d", time.Now().UnixNano()), "enable.auto.commit": false,
		"fetch.wait.max.ms": int(rawFetchWait.Milliseconds())}
	for k, v := range r.conf {
		cc[k] = v
	}
	c, err := kafka.NewConsumer(&cc)
	if err != nil {
		return err
	}
	defer c.Close()
	tps := make([]kafka.TopicPartition, 0, len(from))
	for p, o := range from {
		off := kafka.Offset(o)
		if o == Earliest {
			off = kafka.OffsetBeginning
		}
		tps = append(tps, kafka.TopicPartition{Topic: &topic, Partition: p, Offset: off})
	}
	if err := c.Assign(tps); err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch e := c.Poll(rawConfluentPoll).(type) {
		case *kafka.Message:
			if e.TopicPartition.Error != nil {
				return e.TopicPartition.Error
			}
			if !fn(Rec{Partition: e.TopicPartition.Partition, Offset: int64(e.TopicPartition.Offset), Key: e.Key, Value: e.Value}) {
				return nil
			}
		case kafka.Error:
			var ke kafka.Error
			if errors.As(e, &ke) && ke.IsFatal() {
				return e
			}
		}
	}
}

func (r *rawConfluent) Close() error {
	r.adm.Close()
	r.prod.Close()
	return nil
}
