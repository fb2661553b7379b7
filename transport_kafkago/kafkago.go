package kafkagotransport

import (
	"context"
	"errors"

	"slices"
	"time"

	"github.com/segmentio/kafka-go"
	metaAPI "github.com/segmentio/kafka-go/protocol/metadata"

	"github.com/ktables/ktables/transport"
)

// Compile-time checks of the capabilities this adapter offers.
var (
	_ transport.Transport       = (*Transport)(nil)
	_ transport.TopicConfigurer = (*Transport)(nil)
	_ transport.PartitionAdder  = (*Transport)(nil)
	_ transport.Fetcher         = (*fetcher)(nil)
)

// DefaultMaxWait is the fetch long poll used when FetchOptions.MaxWait is
// zero: Kafka's fetch.max.wait.ms default.
const DefaultMaxWait = 500 * time.Millisecond

// Transport implements transport.Transport, transport.TopicConfigurer and
// transport.PartitionAdder over kafka-go's kafka.Client and protocol
// packages. It is safe for concurrent use. Build one with [New] or
// [NewFromClient].
type Transport struct {
	cl    *kafka.Client
	rt    kafka.RoundTripper   // cl's transport (kafka.DefaultTransport when nil)
	owned *kafka.Transport     // cl's transport when the adapter created it
	tpl   *kafka.Transport     // settings for fresh metadata; nil: use cl's cache
	sasl  *saslWatch           // on the transports the adapter creates
	watch *transport.ConnWatch // on the connections of New's transport; nil for NewFromClient
	cfg   config

	ctx    context.Context // ends at Close: stops produce batches in flight
	cancel context.CancelFunc
	prod   *transport.BatchQueue[produceKey, *pendingRecord] // produce.go

	sessions transport.Sessions // closed flag and open fetch sessions
}

// New builds a transport for the seed brokers. Connection settings (TLS,
// SASL, client id, dial function, timeouts) come from [WithTransport] or
// [WithDialer]; produce and fetch settings from the other options. The
// transport owns the kafka.Transport it creates and closes its connections
// on Close.
func New(seeds []string, opts ...Option) (*Transport, error) {
	if len(seeds) == 0 {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("kafkagotransport: no seed brokers"))
	}
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	var tpl *kafka.Transport
	switch {
	case cfg.tpl != nil && cfg.dialer != nil:
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("kafkagotransport: WithTransport and WithDialer are exclusive"))
	case cfg.tpl != nil:
		tpl = cloneTransport(cfg.tpl)
	case cfg.dialer != nil:
		tpl = transportFromDialer(cfg.dialer)
	default:
		tpl = &kafka.Transport{}
	}
	sw := newSASLWatch(tpl.SASL)
	if sw != nil {
		tpl.SASL = sw
	}
	watch := &transport.ConnWatch{Frames: tpl.TLS == nil}
	tpl.Dial = watchDial(watch, tpl.Dial)
	own := cloneTransport(tpl)
	cl := &kafka.Client{Addr: kafka.TCP(seeds...), Transport: own}
	t := newTransport(cl, own, tpl, cfg)
	t.sasl, t.watch = sw, watch
	return t, nil
}

// NewFromClient builds a transport over the caller's client. The transport
// never closes cl, nor changes it: requests go through cl and its
// kafka.Transport (sharing its connections), and Close leaves them open.
//
// kafka-go's Transport answers metadata requests from a cache it refreshes
// every MetadataTTL (6 s by default). Partitions needs fresh metadata (a
// topic another process just created, partitions just added): when cl's
// Transport is a *kafka.Transport (or nil, meaning kafka.DefaultTransport),
// Partitions asks the cluster on a short-lived connection built with the
// same settings; with another kafka.RoundTripper it reads cl's cache.
//
// WithTransport and WithDialer are rejected here: cl carries the connection
// settings.
func NewFromClient(cl *kafka.Client, opts ...Option) (*Transport, error) {
	if cl == nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("kafkagotransport: nil client"))
	}
	if cl.Addr == nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("kafkagotransport: client without Addr"))
	}
	cfg, err := buildConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.tpl != nil || cfg.dialer != nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("kafkagotransport: WithTransport/WithDialer do not apply to NewFromClient; configure the client's Transport"))
	}
	var tpl *kafka.Transport
	switch rt := cl.Transport.(type) {
	case nil:
		if d, ok := kafka.DefaultTransport.(*kafka.Transport); ok {
			tpl = cloneTransport(d)
		}
	case *kafka.Transport:
		tpl = cloneTransport(rt)
	}
	t := newTransport(cl, nil, tpl, cfg)
	if tpl != nil {
		// Only the adapter's own short-lived metadata connections are
		// watched; the caller's transport is not changed.
		if t.sasl = newSASLWatch(tpl.SASL); t.sasl != nil {
			tpl.SASL = t.sasl
		}
	}
	return t, nil
}

func buildConfig(opts []Option) (config, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return cfg, transport.NewError("new", "", transport.ErrInvalidConfig, err)
		}
	}
	return cfg, nil
}

func newTransport(cl *kafka.Client, owned, tpl *kafka.Transport, cfg config) *Transport {
	rt := cl.Transport
	if rt == nil {
		rt = kafka.DefaultTransport
	}
	if tpl != nil {
		tpl.MetadataTopics = nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{cl: cl, rt: rt, owned: owned, tpl: tpl, cfg: cfg, ctx: ctx, cancel: cancel}
	t.prod = t.newProducer()
	return t
}

// As is an escape hatch to the native client, in the style of
// database/sql's Conn.Raw: target may be a **kafka.Client (set to the client
// all requests go through: the caller's own for NewFromClient). It reports
// whether target was set. The client stays owned by the transport (or by
// the caller); do not close its transport.
func (t *Transport) As(target any) bool {
	if p, ok := target.(**kafka.Client); ok {
		*p = t.cl
		return true
	}
	return false
}

// ReadCommitted reports whether fetch sessions read committed records only,
// in which case EndOffsets lists last stable offsets.
func (t *Transport) ReadCommitted() bool { return t.cfg.readCommitted }

// Close closes every fetch session and, when the transport created its
// kafka.Transport (New), that transport's connections and background
// goroutines. A client given to NewFromClient stays open. Close is
// idempotent.
func (t *Transport) Close() error {
	if !t.sessions.Close() { // closes the fetch sessions
		return nil
	}
	t.cancel()
	t.prod.Wait()
	if t.owned != nil {
		t.owned.CloseIdleConnections()
	}
	return nil
}

func (t *Transport) isClosed() bool { return t.sessions.Closed() }

// reqCtx is the context of one request: cancelled when ctx ends, but
// without ctx's deadline, bounded by the request timeout (plus extra)
// instead. kafka-go's Transport sets a context's deadline on the connection
// itself, and a connection that reaches it fails with an i/o timeout that
// may be reported before ctx says it is done; detached, the request ends
// with ctx's own error, and the connection finishes its request and stays
// usable.
func (t *Transport) reqCtx(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), t.requestTimeout(extra, deadlineOf(ctx)), errRequestTimeout)
	stop := context.AfterFunc(ctx, cancel)
	return rctx, func() { stop(); cancel() }
}

var errRequestTimeout = errors.New("kafkagotransport: request timed out (WithRequestTimeout)")

// Partitions returns the partition ids of topic in ascending order, from
// fresh metadata: kafka-go's Transport answers Metadata requests from its
// cache, which lags up to MetadataTTL behind a topic another process
// created or partitions just added. When the cache knows fewer partitions
// than the cluster, Partitions also makes it refresh, so that produce and
// fetch requests can be routed to them at once (see NewFromClient for a
// client with a custom RoundTripper). (X1)
func (t *Transport) Partitions(ctx context.Context, topic string) ([]int32, error) {
	const op = "partitions"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	mt, err := t.freshTopic(ctx, topic)
	if latest, blamed := t.sasl.broken(); err != nil && isNetworkErr(err) && latest && !blamed && ctx.Err() == nil {
		// The broker closed the connection during SASL: once more, to
		// tell rejected credentials from a network fault.
		mt, err = t.freshTopic(ctx, topic)
	}
	if err != nil {
		return nil, t.wrap(ctx, op, topic, err)
	}
	ps := make([]int32, 0, len(mt.Partitions))
	for _, p := range mt.Partitions {
		ps = append(ps, int32(p.ID))
	}
	slices.Sort(ps)
	t.warm(ctx, topic, len(ps))
	return ps, nil
}

// freshTopic asks the cluster for topic's metadata, bypassing the client's
// cache: a short-lived kafka.Transport with the client's settings, whose
// metadata covers topic only, answers one Metadata request and is closed.
// Without settings to copy (a custom RoundTripper) it reads the cache.
func (t *Transport) freshTopic(ctx context.Context, topic string) (*kafka.Topic, error) {
	ctx, cancel := t.reqCtx(ctx, 0)
	defer cancel()
	cl := t.cl
	if t.tpl != nil {
		tmp := cloneTransport(t.tpl)
		tmp.MetadataTopics = []string{topic}
		tmp.MetadataTTL = time.Hour // one discovery is all this transport does
		defer tmp.CloseIdleConnections()
		cl = &kafka.Client{Addr: t.cl.Addr, Transport: tmp}
	}
	return metadataOf(ctx, cl, topic)
}

// cachedTopic reads topic from the client's metadata cache (no round trip
// with a *kafka.Transport).
func (t *Transport) cachedTopic(ctx context.Context, topic string) (*kafka.Topic, error) {
	return metadataOf(ctx, t.cl, topic)
}

// metadataOf asks cl for topic's metadata.
func metadataOf(ctx context.Context, cl *kafka.Client, topic string) (*kafka.Topic, error) {
	resp, err := cl.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	for i := range resp.Topics {
		if mt := &resp.Topics[i]; mt.Name == topic {
			if mt.Error != nil {
				return nil, mt.Error
			}
			return mt, nil
		}
	}
	return nil, kafka.UnknownTopicOrPartition
}

// warm makes the client's metadata cache catch up with fresh metadata
// that listed topic with want partitions a moment ago, when the cache does
// not know the topic yet (another process created it) or knows fewer
// partitions (some were just added). kafka-go routes produce, fetch and
// list-offsets requests from that cache, which its Transport refreshes only
// every MetadataTTL (6 s by default) and offers no call to refresh.
//
// One request makes it refresh: a Metadata request that allows topic
// auto-creation and names a topic the cache does not know is sent to the
// cluster, after which the Transport refreshes its whole cache and waits
// until it lists the topics that came back without error. The request
// names topic (which exists) and refreshName, which is not a valid topic
// name, so a broker with auto.create.topics.enable creates nothing: it
// answers INVALID_TOPIC_EXCEPTION for it.
func (t *Transport) warm(ctx context.Context, topic string, want int) {
	if mt, err := t.cachedTopic(ctx, topic); err == nil && len(mt.Partitions) >= want {
		return
	}
	t.refreshCache(ctx, topic)
}

// refreshCache makes the client's metadata cache refresh now (see warm).
func (t *Transport) refreshCache(ctx context.Context, topic string) {
	ctx, cancel := t.reqCtx(ctx, 0)
	defer cancel()
	_, _ = t.rt.RoundTrip(ctx, t.cl.Addr, &metaAPI.Request{TopicNames: []string{topic, refreshName}, AllowAutoTopicCreation: true})
}

// refreshName is an invalid topic name (spaces and '!' are not allowed):
// see warm.
const refreshName = "ktables: refresh metadata!"

// confirmUnknown classifies an unknown-topic error from the client's cache
// or a broker: fatal when fresh metadata confirms the topic is gone,
// otherwise retriable (the cache is stale, or metadata is still
// propagating after a create), after warming the cache.
func (t *Transport) confirmUnknown(ctx context.Context, op, topic string, native error) error {
	_, err := t.freshTopic(ctx, topic)
	switch {
	case err == nil:
		t.warm(ctx, topic, 0)
		e := transport.NewError(op, topic, transport.ErrUnknownTopic, native)
		e.Retriable = true
		return e
	case errors.Is(err, kafka.UnknownTopicOrPartition):
		e := transport.NewError(op, topic, transport.ErrUnknownTopic, native)
		e.Retriable = false
		return e
	default:
		return t.wrap(ctx, op, topic, err)
	}
}

func isUnknownTopic(err error) bool {
	return errors.Is(err, kafka.UnknownTopicOrPartition) || errors.Is(err, kafka.UnknownTopicID) ||
		errors.Is(err, errNoTopic)
}

// StartOffsets returns the log start offset of each partition. (X2)
func (t *Transport) StartOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "start offsets", topic, partitions, kafka.FirstOffset, false)
}

// EndOffsets returns the high watermark of each partition, or the last
// stable offset under WithReadCommitted. It is one ListOffsets round trip
// per leader. kafka-go's Transport runs one request at a time per
// connection and takes another connection (or dials one) when all are busy,
// so an in-flight long-poll fetch never delays it. (X2, B4)
func (t *Transport) EndOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "end offsets", topic, partitions, kafka.LastOffset, t.cfg.readCommitted)
}

func (t *Transport) listOffsets(ctx context.Context, op, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	out, err := t.listOffsetsOnce(ctx, topic, partitions, ts, committed)
	if err != nil && isUnknownTopic(err) && ctx.Err() == nil {
		if err = t.confirmUnknown(ctx, op, topic, err); transport.IsRetriable(err) {
			out, err = t.listOffsetsOnce(ctx, topic, partitions, ts, committed) // the cache is warm now
		}
	}
	if err != nil {
		return nil, t.wrap(ctx, op, topic, err)
	}
	return out, nil
}

func (t *Transport) listOffsetsOnce(ctx context.Context, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	if len(partitions) == 0 {
		return map[int32]int64{}, nil
	}
	ctx, cancel := t.reqCtx(ctx, 0)
	defer cancel()
	out, err := t.listOffsetsByLeader(ctx, topic, partitions, ts, committed)
	if err != nil {
		switch {
		case isLeaderMove(err):
			// The core retries; by then the cache knows the leader.
			t.refreshCache(ctx, topic)
		case errors.Is(err, errNoPartition):
			// Partitions just added: the cache learns them for the retry.
			t.warm(ctx, topic, int(slices.Max(partitions))+1)
		}
		return nil, err
	}
	return out, nil
}

// Produce appends rec to rec.Partition of topic (kafka.Client.Produce with
// an explicit partition: kafka-go's balancers never choose) and returns its
// offset once acknowledged per WithRequiredAcks. A nil rec.Value is sent as
// a null value (tombstone), an empty one as an empty value. Concurrent
// calls are batched per partition (see produce.go): at most one request
// per partition is in flight, and records handed in meanwhile go together
// in the next one. (X4)
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
	kr := kafka.Record{
		Time:  rec.Timestamp,
		Key:   kafka.NewBytes(rec.Key),
		Value: kafka.NewBytes(rec.Value), // nil stays nil: a null value
	}
	if len(rec.Headers) > 0 {
		kr.Headers = make([]kafka.Header, len(rec.Headers))
		for i, h := range rec.Headers {
			kr.Headers[i] = kafka.Header{Key: h.Key, Value: h.Value}
		}
	}
	pr := &pendingRecord{ctx: ctx, rec: kr, done: make(chan produceResult, 1)}
	pr.size = recordSize(&pr.rec)
	t.prod.Add(produceKey{topic, rec.Partition}, pr)
	var res produceResult
	select {
	case res = <-pr.done:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	if err := res.err; err != nil {
		if t.isClosed() && errors.Is(err, context.Canceled) {
			return 0, closedErr(op, topic)
		}
		if isUnknownTopic(err) && ctx.Err() == nil {
			return 0, t.confirmUnknown(ctx, op, topic, err)
		}
		return 0, t.wrap(ctx, op, topic, err)
	}
	return res.offset, nil
}
