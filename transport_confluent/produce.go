//go:build cgo

package confluenttransport

import (
	"context"
	"errors"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

var errNoProducer = transport.NewError("produce", "", transport.ErrInvalidConfig,
	errors.New("confluenttransport: no Producer was given to NewFromHandles"))

// Produce appends rec to rec.Partition of topic and returns its offset once
// acknowledged per the producer's acks. Calls from many goroutines are
// pipelined: each hands its message to librdkafka, which batches the
// messages of concurrent callers into shared produce requests, and waits on
// a delivery channel of its own. A nil rec.Value is sent as a null value
// (tombstone), an empty one as an empty value. (X4)
//
// When ctx is done first, Produce returns ctx's error; the record may still
// be written, as with any Kafka producer.
func (t *Transport) Produce(ctx context.Context, topic string, rec transport.Record) (int64, error) {
	const op = "produce"
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if t.isClosed() {
		return 0, closedErr(op, topic)
	}
	if t.prod == nil {
		return 0, errNoProducer
	}
	msg := &kafka.Message{
		TopicPartition: kafka.TopicPartition{Topic: &topic, Partition: rec.Partition},
		Key:            rec.Key,
		Value:          rec.Value,
		Timestamp:      rec.Timestamp,
	}
	if len(rec.Headers) > 0 {
		msg.Headers = make([]kafka.Header, len(rec.Headers))
		for i, h := range rec.Headers {
			msg.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	// Buffered: a report that arrives after ctx ended is dropped with the
	// channel, not blocking librdkafka's poller.
	report := make(chan kafka.Event, 1)
	if err := t.prod.Produce(msg, report); err != nil {
		return 0, t.produceErr(ctx, op, topic, err)
	}
	// Not t.watch: a derived context per call would register on ctx and
	// on the failure context, shared by every writer; a select on a shard
	// of the failure costs neither (events.go).
	f := t.h.current()
	var (
		m   *kafka.Message
		err error
	)
	select {
	case ev := <-report:
		if m, _ = ev.(*kafka.Message); m == nil {
			err = errors.New("unexpected delivery event")
		} else {
			err = m.TopicPartition.Error
		}
	case <-ctx.Done():
	case <-f.wait():
	}
	if err = t.settle(ctx, f.ctx, err); err != nil {
		return 0, t.produceErr(ctx, op, topic, err)
	}
	return int64(m.TopicPartition.Offset), nil
}

func (t *Transport) produceErr(ctx context.Context, op, topic string, err error) error {
	if t.isClosed() {
		return transport.NewError(op, topic, transport.ErrClosed, err)
	}
	if ke, ok := errors.AsType[kafka.Error](err); ok && ke.Code() == kafka.ErrDestroy {
		// The transport is open: librdkafka dropped the message with a
		// broker handle it decommissioned (the cluster's metadata
		// changed, e.g. a topic re-created). Another attempt goes to the
		// current broker.
		return transport.NewError(op, topic, transport.ErrBrokerUnavailable, err)
	}
	err = wrap(ctx, op, topic, err)
	if errors.Is(err, transport.ErrAuthorization) || errors.Is(err, transport.ErrUnknownTopic) {
		// librdkafka keeps a topic-level error on the topic and fails
		// later messages with it until its next metadata refresh, which may
		// be minutes away: refresh now, so that the next Produce gets the
		// broker's current answer rather than a remembered one.
		_, _ = t.prod.GetMetadata(&topic, false, timeoutMs(ctx, time.Second))
	}
	return err
}
