package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ktables/ktables/transport"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Broker is the Kafka cluster one scenario run uses: a fresh kfake cluster
// in a child process (brokerproc.go), or the external cluster named by the
// caller (-brokers or KTABLES_BROKERS), which is then shared and never
// closed.
type Broker struct {
	Seeds []string
	fake  *brokerProc
	cl    *kgo.Client // seeding and admin, batched producer
	adm   *kadm.Client
}

// StartBroker starts a single-broker kfake cluster in a child process when
// external is empty, or connects to external after checking it answers
// within timeout. The binary must call RunChildIfRequested first thing.
func StartBroker(ctx context.Context, external []string, timeout time.Duration) (*Broker, error) {
	b := &Broker{Seeds: external}
	if len(external) == 0 {
		p, seeds, err := startBrokerProc(timeout)
		if err != nil {
			return nil, err
		}
		b.fake, b.Seeds = p, seeds
	} else if err := CheckReachable(ctx, external, timeout); err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Seeds...),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20),
		kgo.MaxBufferedRecords(1<<16),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		b.Close()
		return nil, err
	}
	b.cl, b.adm = cl, kadm.NewClient(cl)
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("broker %s unreachable within %v: %w", strings.Join(b.Seeds, ","), timeout, err)
	}
	return b, nil
}

// CheckReachable dials every seed and fails, naming it, when none answers
// within timeout.
func CheckReachable(ctx context.Context, seeds []string, timeout time.Duration) error {
	var errs []error
	for _, s := range seeds {
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", s)
		if err == nil {
			c.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("broker unreachable (%s) within %v: %w", strings.Join(seeds, ","), timeout, errors.Join(errs...))
}

// Kind describes the broker for the report.
func (b *Broker) Kind() string {
	if b.fake != nil {
		return "kfake (github.com/twmb/franz-go/pkg/kfake v0.0.0-20260918054303-01f206a7e32c) in a child process, 1 broker, loopback"
	}
	return "external cluster " + strings.Join(b.Seeds, ",")
}

// Close stops the cluster (kfake) and the admin client.
func (b *Broker) Close() {
	if b.cl != nil {
		b.cl.Close()
	}
	if b.fake != nil {
		b.fake.close()
	}
}

var topicSeq struct {
	sync.Mutex
	n int
}

// NewTopic creates a compacted topic with a unique name and returns it.
func (b *Broker) NewTopic(ctx context.Context, prefix string, parts int32) (string, error) {
	topicSeq.Lock()
	topicSeq.n++
	n := topicSeq.n
	topicSeq.Unlock()
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	name := fmt.Sprintf("bench-%s-%d-%s", prefix, n, hex.EncodeToString(rnd[:]))
	compact := "compact"
	resp, err := b.adm.CreateTopic(ctx, parts, -1, map[string]*string{"cleanup.policy": &compact}, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return "", fmt.Errorf("create topic %s: %w", name, err)
	}
	return name, nil
}

// Seed produces n records to topic, batched, with keys key(i) and values
// val(i), each to its murmur2 partition; it returns once all are acked.
func (b *Broker) Seed(ctx context.Context, topic string, parts int32, n int, key func(i int) []byte, val func(i int) []byte) error {
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	for i := range n {
		k := key(i)
		r := &kgo.Record{Topic: topic, Key: k, Value: val(i), Partition: transport.Partition(k, parts)}
		wg.Add(1)
		b.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	return firstErr
}
