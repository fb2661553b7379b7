//go:build cgo

package confluenttransport

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/transport"
)

// Compile-time checks of the capabilities this adapter offers.
var (
	_ transport.Transport       = (*Transport)(nil)
	_ transport.TopicConfigurer = (*Transport)(nil)
	_ transport.PartitionAdder  = (*Transport)(nil)
	_ transport.TopicDeleter    = (*Transport)(nil)
	_ transport.Fetcher         = (*fetcher)(nil)
)

// DefaultMaxWait is the fetch long poll used when FetchOptions.MaxWait is
// zero: Kafka's fetch.max.wait.ms default.
const DefaultMaxWait = 500 * time.Millisecond

// defaultTimeout bounds librdkafka calls that take a timeout rather than a
// context when the caller's context has no deadline.
const defaultTimeout = 30 * time.Second

// Transport implements transport.Transport, transport.TopicConfigurer,
// transport.PartitionAdder and transport.TopicDeleter over
// confluent-kafka-go (librdkafka). It is safe for concurrent use. Build one
// with [New] or [NewFromHandles].
type Transport struct {
	prod      *kafka.Producer    // Produce; nil when the caller gave none
	adm       *kafka.AdminClient // metadata, offsets, topic admin
	ownsProd  bool
	ownsAdm   bool
	base      kafka.ConfigMap // fetch sessions' consumers start from it; nil with a caller's consumer
	consumer  *kafka.Consumer // the caller's consumer, or nil
	committed bool            // fetch sessions read committed: EndOffsets lists last stable offsets

	mu sync.Mutex
	// closed is set under mu, so that what mu orders (aside, fetch
	// sessions) sees it; it is atomic so that every Produce can read it
	// without taking mu.
	closed   atomic.Bool
	busy     bool // the caller's consumer serves a fetch session
	fetchers map[*fetcher]struct{}

	drained chan struct{}  // closed when the own producer's event loop ends
	logs    *logSink       // the own handles' librdkafka logs; nil if conf routes them
	closing sync.WaitGroup // fetch sessions' consumers being closed
	h       health
}

// New builds a transport that owns its librdkafka handles, configured from
// conf: the caller's native configuration, with everything an organization
// already sets (bootstrap.servers, security.protocol, sasl.*, ssl.*,
// client.id, timeouts, tuning). conf is copied, never modified.
//
// The transport opens one producer (with an admin client over its
// connections, for metadata, offsets and topic administration) and one
// consumer per fetch session. Unless conf sets them, the producer uses
// acks=all, compression.type=none, enable.idempotence=false and
// linger.ms=0 and request.timeout.ms=2000, and every handle
// socket.nagle.disable=true, socket.timeout.ms=4000 and
// isolation.level=read_uncommitted, like every other adapter (SPEC W4;
// librdkafka's own default is read_committed). With
// isolation.level=read_committed, fetches skip aborted transactions and
// EndOffsets lists last stable offsets, so a caught-up reader and its end
// offsets agree.
//
// Fetch sessions' consumers always get enable.auto.commit=false,
// auto.offset.reset=error (a position outside the log is reported to the
// core, which decides where to go), enable.partition.eof=true (how
// positions move past the transaction markers librdkafka does not deliver)
// and a throwaway group.id when conf has none; the group is never joined.
// A transactional.id is rejected: the core produces outside transactions.
//
// librdkafka's log lines go to the logger of [WithLogger]: every handle
// gets go.logs.channel.enable=true and a go.logs.channel of the
// transport's, served by one goroutine that Close ends. A conf that sets
// go.logs.channel.enable keeps its choice (false: librdkafka prints to
// stderr), one that sets go.logs.channel gets the lines on its channel
// instead, and a log_level in conf is kept. Without WithLogger, and when
// conf sets none of those keys nor debug, every handle gets log_level=0
// instead: librdkafka logs nothing, and no goroutine wakes to discard its
// lines.
//
// Invalid options, like an invalid conf, are an error matching
// transport.ErrInvalidConfig.
func New(conf kafka.ConfigMap, opts ...Option) (*Transport, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if err := checkConfig(conf); err != nil {
		return nil, err
	}
	base := withDefaults(maps.Clone(conf), sharedDefaults)
	logs := routeLogs(base, conf, o)
	pc := producerConfig(base)
	prod, err := kafka.NewProducer(&pc)
	if err != nil {
		logs.close()
		return nil, wrapNew(err)
	}
	adm, err := kafka.NewAdminClientFromProducer(prod)
	if err != nil {
		prod.Close()
		logs.close()
		return nil, wrapNew(err)
	}
	t := newTransport(prod, adm, readCommitted(base))
	t.base, t.ownsProd, t.ownsAdm, t.logs = base, true, true, logs
	t.drained = make(chan struct{})
	go t.drain(prod)
	return t, nil
}

// Handles are the caller's own librdkafka clients for [NewFromHandles].
// The transport never closes them.
type Handles struct {
	// Producer serves Produce. Without it Produce fails with an error
	// matching transport.ErrInvalidConfig. Delivery reports go to a channel
	// per call; the caller keeps reading the producer's Events channel
	// for everything else, as before.
	Producer *kafka.Producer
	// Consumer serves one fetch session at a time (one table); NewFetcher
	// fails with transport.ErrInvalidConfig while one is open, or without
	// a Consumer. The transport assigns its partitions and polls it: the
	// caller must not subscribe, assign or poll it meanwhile. It must be
	// configured as [New] configures its own consumers:
	// enable.auto.commit=false, auto.offset.reset=error and
	// enable.partition.eof=true. The transport cannot read a handle's
	// configuration back to check.
	Consumer *kafka.Consumer
	// Admin serves metadata, offsets and topic administration. When nil,
	// an admin client over Producer's connections is derived (or over
	// Consumer's, which puts offset requests behind its long polls on the
	// same connections and slows the read-your-own-writes barrier).
	Admin *kafka.AdminClient
	// ReadCommitted tells the transport the Consumer's isolation.level
	// (librdkafka's default is read_committed), so that EndOffsets lists
	// the same offsets the Consumer reaches.
	ReadCommitted bool
}

// NewFromHandles builds a transport over the caller's clients, sharing
// their connections. It never closes them: Close releases only what the
// transport derived (an admin client). Nor does it reconfigure them: their
// logs go where their own ConfigMaps sent them (set
// go.logs.channel.enable=true and read Logs(), or a go.logs.channel, to
// keep librdkafka off stderr).
func NewFromHandles(h Handles) (*Transport, error) {
	adm, owns := h.Admin, false
	if adm == nil {
		var err error
		switch {
		case h.Producer != nil:
			adm, err = kafka.NewAdminClientFromProducer(h.Producer)
		case h.Consumer != nil:
			adm, err = kafka.NewAdminClientFromConsumer(h.Consumer)
		default:
			return nil, invalidConfig(errors.New("NewFromHandles: no handle given"))
		}
		if err != nil {
			return nil, wrapNew(err)
		}
		owns = true
	}
	t := newTransport(h.Producer, adm, h.ReadCommitted)
	t.ownsAdm = owns
	t.consumer = h.Consumer
	return t, nil
}

func newTransport(prod *kafka.Producer, adm *kafka.AdminClient, committed bool) *Transport {
	t := &Transport{prod: prod, adm: adm, committed: committed, fetchers: make(map[*fetcher]struct{})}
	t.h.init()
	return t
}

func wrapNew(err error) error {
	if code(err) == kafka.ErrInvalidArg {
		return transport.NewError("new", "", transport.ErrInvalidConfig, err)
	}
	return wrap(context.Background(), "new", "", err)
}

// As is an escape hatch to the native clients, in the style of
// database/sql's Conn.Raw: target may be a **kafka.Producer, a
// **kafka.AdminClient or a **kafka.Consumer (the caller's consumer given to
// NewFromHandles; fetch sessions of New have one consumer each and are not
// exposed). It reports whether target was set. The handles stay owned by
// the transport (or by the caller); do not close them.
func (t *Transport) As(target any) bool {
	switch p := target.(type) {
	case **kafka.Producer:
		*p = t.prod
		return t.prod != nil
	case **kafka.AdminClient:
		*p = t.adm
		return true
	case **kafka.Consumer:
		*p = t.consumer
		return t.consumer != nil
	}
	return false
}

// ReadCommitted reports whether fetch sessions read committed records only,
// in which case EndOffsets lists last stable offsets.
func (t *Transport) ReadCommitted() bool { return t.committed }

// Close closes every fetch session and every handle the transport opened.
// Produce calls still waiting for their acknowledgement fail with an error
// matching transport.ErrClosed. Handles given to NewFromHandles stay open.
// Close is idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed.Load() {
		t.mu.Unlock()
		return nil
	}
	t.closed.Store(true)
	fs := slices.Collect(maps.Keys(t.fetchers))
	t.mu.Unlock()

	for _, f := range fs {
		_ = f.Close()
	}
	t.closing.Wait()
	if t.ownsAdm {
		t.adm.Close()
	}
	if t.ownsProd {
		// Fail what is still queued rather than wait for it, and serve
		// those delivery reports before the handle goes.
		_ = t.prod.Purge(kafka.PurgeQueue | kafka.PurgeInFlight | kafka.PurgeNonBlocking)
		t.prod.Flush(1000)
		t.prod.Close()
		<-t.drained
	}
	t.logs.close()
	return nil
}

// aside runs fn, a blocking librdkafka call, on a goroutine Close waits
// for before it destroys the handles: a call left running by a caller
// whose ctx ended must not outlive its handle (librdkafka would crash).
// It reports false, running nothing, once Close has begun.
func (t *Transport) aside(fn func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return false
	}
	t.closing.Go(fn)
	return true
}

func (t *Transport) isClosed() bool { return t.closed.Load() }

// Partitions returns the partition ids of topic in ascending order, from
// a metadata request that never creates the topic. (X1)
func (t *Transport) Partitions(ctx context.Context, topic string) ([]int32, error) {
	const op = "partitions"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// GetMetadata takes a timeout, not a context: run it aside so that a
	// cancelled ctx returns at once (the call ends by its timeout).
	type answer struct {
		md  *kafka.Metadata
		err error
	}
	wctx, done := t.watch(ctx)
	ch := make(chan answer, 1)
	if !t.aside(func() {
		md, err := t.adm.GetMetadata(&topic, false, timeoutMs(wctx, defaultTimeout))
		ch <- answer{md, err}
	}) {
		done(nil)
		return nil, closedErr(op, topic)
	}
	var a answer
	select {
	case a = <-ch:
	case <-wctx.Done():
	}
	if err := done(a.err); err != nil {
		return nil, wrap(ctx, op, topic, err)
	}
	tm, ok := a.md.Topics[topic]
	if !ok {
		return nil, wrap(ctx, op, topic, kafka.NewError(kafka.ErrUnknownTopicOrPart, "topic missing from metadata", false))
	}
	if tm.Error.Code() != kafka.ErrNoError {
		return nil, wrap(ctx, op, topic, tm.Error)
	}
	ps := make([]int32, 0, len(tm.Partitions))
	for _, p := range tm.Partitions {
		ps = append(ps, p.ID)
	}
	slices.Sort(ps)
	return ps, nil
}

// StartOffsets returns the log start offset of each partition. (X2)
func (t *Transport) StartOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "start offsets", topic, partitions, kafka.EarliestOffsetSpec)
}

// EndOffsets returns the high watermark of each partition, or the last
// stable offset when fetch sessions read committed. It is one ListOffsets
// round trip through the admin client, whose connections are not the fetch
// sessions' consumers': an in-flight long poll cannot delay it. (X2, B4)
func (t *Transport) EndOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "end offsets", topic, partitions, kafka.LatestOffsetSpec)
}

// listOffsetsChunk bounds the partitions of one ListOffsets call:
// librdkafka's time grows with the square of the count (10,000 partitions
// take 1.3 s in one call, 30,000 take 12 s, past any Open deadline), so
// larger requests are split and the parts sent together.
const listOffsetsChunk = 2000

func (t *Transport) listOffsets(ctx context.Context, op, topic string, partitions []int32, spec kafka.OffsetSpec) (map[int32]int64, error) {
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	level := kafka.IsolationLevelReadUncommitted
	if t.committed {
		level = kafka.IsolationLevelReadCommitted
	}
	var (
		mu       sync.Mutex
		out      = make(map[int32]int64, len(partitions))
		firstErr error
		wg       sync.WaitGroup
	)
	for part := range slices.Chunk(partitions, listOffsetsChunk) {
		wg.Go(func() {
			req := make(map[kafka.TopicPartition]kafka.OffsetSpec, len(part))
			for _, p := range part {
				req[kafka.TopicPartition{Topic: &topic, Partition: p}] = spec
			}
			res, err := adminCall(t, ctx, op, topic, func(ctx context.Context) (kafka.ListOffsetsResult, error) {
				return t.adm.ListOffsets(ctx, req, kafka.SetAdminIsolationLevel(level))
			})
			mu.Lock()
			defer mu.Unlock()
			for tp, info := range res.ResultInfos {
				if info.Error.Code() != kafka.ErrNoError {
					err = cmp.Or(err, wrap(ctx, op, topic, info.Error))
				} else if tp.Topic != nil && *tp.Topic == topic {
					out[tp.Partition] = int64(info.Offset)
				}
			}
			firstErr = cmp.Or(firstErr, err)
		})
	}
	wg.Wait()
	if firstErr != nil {
		// librdkafka answers a topic it has no leaders for, unknown or
		// not yet propagated, with one local error: ask the metadata.
		if _, perr := t.Partitions(ctx, topic); errors.Is(perr, transport.ErrUnknownTopic) {
			return nil, perr
		}
		return nil, firstErr
	}
	for _, p := range partitions {
		if _, ok := out[p]; !ok {
			return nil, wrap(ctx, op, topic, kafka.NewError(kafka.ErrUnknownTopicOrPart, "partition missing from ListOffsets result", false))
		}
	}
	return out, nil
}
