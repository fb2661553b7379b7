package saramatransport

import (
	"context"
	"errors"
	"sync"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// producer is the transport's sarama AsyncProducer with the routing of acks
// back to the Produce call waiting for each: every message carries its own
// reply channel in ProducerMessage.Metadata. An AsyncProducer rather than a
// SyncProducer, because SendMessage cannot be abandoned when a context ends
// (a goroutine per call would be needed); both batch concurrent sends into
// shared produce requests.
type producer struct {
	client sarama.Client
	ap     sarama.AsyncProducer

	// mu is held (read) while sending to ap.Input(): close takes it to
	// set closed before AsyncClose closes Input, so no send can meet a
	// closed channel.
	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

func newProducer(cfg *sarama.Config, addrs []string, d *dialer) (*producer, error) {
	pcfg := clone(cfg)
	d.install(pcfg)
	pc, err := sarama.NewClient(addrs, pcfg)
	if err != nil {
		return nil, err
	}
	ap, err := sarama.NewAsyncProducerFromClient(pc)
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	p := &producer{client: pc, ap: ap}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for m := range ap.Successes() {
			m.Metadata.(chan error) <- nil
		}
	}()
	go func() {
		defer p.wg.Done()
		for e := range ap.Errors() {
			e.Msg.Metadata.(chan error) <- e.Err
		}
	}()
	return p, nil
}

// seedAddrs returns the seeds given to New, or the addresses of the brokers
// the caller's client knows (its seed broker if it knows none yet).
func (t *Transport) seedAddrs(c sarama.Client) []string {
	if len(t.seeds) > 0 {
		return t.seeds
	}
	var addrs []string
	for _, b := range c.Brokers() {
		addrs = append(addrs, b.Addr())
	}
	if len(addrs) == 0 {
		if b := c.LeastLoadedBroker(); b != nil {
			addrs = append(addrs, b.Addr())
		}
	}
	return addrs
}

func (p *producer) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	// Pending messages fail with ErrShuttingDown or are flushed; the
	// dispatchers route the results to their (buffered) reply channels.
	p.ap.AsyncClose()
	p.wg.Wait()
	_ = p.client.Close()
}

// Produce appends rec to rec.Partition of topic and returns its offset once
// acknowledged per Producer.RequiredAcks. Calls from many goroutines are
// pipelined: each hands its message to sarama's async producer, which
// batches the messages of concurrent callers into shared produce requests.
// A nil rec.Value is sent as a null value (tombstone), an empty one as an
// empty value; likewise for keys and header values. (X4)
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
	p, err := t.producer(ctx)
	if err != nil {
		return 0, t.finish(ctx, op, topic, err)
	}
	reply := make(chan error, 1)
	msg := &sarama.ProducerMessage{
		Topic:     topic,
		Partition: rec.Partition,
		Timestamp: rec.Timestamp,
		Metadata:  reply,
	}
	// A nil Encoder is a null; ByteEncoder of an empty slice is empty.
	if rec.Key != nil {
		msg.Key = sarama.ByteEncoder(rec.Key)
	}
	if rec.Value != nil {
		msg.Value = sarama.ByteEncoder(rec.Value)
	}
	if len(rec.Headers) > 0 {
		msg.Headers = make([]sarama.RecordHeader, len(rec.Headers))
		for i, h := range rec.Headers {
			msg.Headers[i] = sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value}
		}
	}

	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return 0, closedErr(op, topic)
	}
	// No closing channel in this select: close cannot begin while a send
	// holds mu, so it could never fire here, and a channel every writer
	// shares would be locked and queued on by each select (issue 17).
	select {
	case p.ap.Input() <- msg:
	case <-ctx.Done():
		p.mu.RUnlock()
		return 0, ctx.Err()
	}
	p.mu.RUnlock()

	select {
	case err := <-reply:
		if err != nil {
			if errors.Is(err, sarama.ErrInvalidPartition) {
				// The producer's metadata does not know the partition
				// yet; refresh for the core's retry.
				go func() { _ = p.client.RefreshMetadata(topic) }()
			}
			if errors.Is(err, sarama.ErrShuttingDown) && t.isClosed() {
				return 0, closedErr(op, topic)
			}
			return 0, t.finish(ctx, op, topic, err)
		}
		return msg.Offset, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// producer returns the transport's producer, opening it on first use
// (opening its client fetches metadata) under ctx.
func (t *Transport) producer(ctx context.Context) (*producer, error) {
	if p, ok := t.prod.Load(); ok {
		return p, nil
	}
	if t.prodErr != nil {
		return nil, t.prodErr
	}
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	return t.prod.Get(ctx, func() (*producer, error) {
		if t.isClosed() {
			return nil, closedErr("produce", "")
		}
		return newProducer(t.cfg, t.seedAddrs(c), t.prodDial)
	})
}
