package franztransport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

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
// transport.PartitionAdder over a franz-go client. It is safe for
// concurrent use. Build one with [New] or [NewFromClient].
type Transport struct {
	cl     *kgo.Client  // metadata, offsets, admin requests; produce when usable
	adm    *kadm.Client // over cl
	ownsCl bool
	sasl   *saslWatch // hook on every client the transport creates

	// base are the options derived clients start from: fetch sessions,
	// and a producer when cl cannot produce to explicit partitions.
	base          []kgo.Opt
	readCommitted bool
	fetchErr      error // why this transport cannot fetch, if it cannot

	prodMu    sync.Mutex
	prod      *kgo.Client // nil until first Produce
	prodOwned bool
	prodFlush bool  // prod buffers until Flush (kgo.ManualFlushing)
	prodErr   error // why this transport cannot produce, if it cannot

	purges purger    // of topics re-created under the producer
	conns  *connErrs // hook on the producing clients

	sessions transport.Sessions // closed flag and open fetch sessions
}

// New builds a transport that owns a franz-go client for seeds. opts are the
// caller's native kgo options and carry everything an organization already
// configures: TLS (kgo.DialTLSConfig), SASL (kgo.SASL), client id,
// compression, acks, timeouts, hooks, a logger. [Durability] turns the
// portable transport.Durability into kgo options.
//
// Its produce defaults differ from kgo's, so that every Kafka-compatible
// broker and every reader can handle what it writes (SPEC W4, ADR 8):
// acks=all, no idempotence (kgo.DisableIdempotentWrite: no InitProducerID
// request, at most one produce request in flight per broker, which keeps
// per-key order across retries) and no compression
// (kgo.ProducerBatchCompression(kgo.NoCompression()), where kgo would
// choose snappy). Pass kgo.ProducerBatchCompression to compress: readers in
// every language must then have that codec. Idempotence is opted into with
// Durability(transport.Durability{Idempotent: true}).
//
// The adapter adds or overrides a few options because the core depends on
// them:
//
//   - kgo.ManualPartitioner: the core chooses each record's partition
//     (Java-compatible murmur2, SPEC P1) and the adapter produces there.
//   - Consumer-group options are ignored, and the main client consumes
//     nothing. Each fetch session runs its own client built from opts with
//     explicit partitions and offsets, kgo.KeepControlRecords (so positions
//     reach end offsets after transaction markers, SPEC §12) and
//     kgo.FetchMaxWait from FetchOptions. Fetch tuning in opts
//     (kgo.FetchIsolationLevel, kgo.FetchMaxBytes, kgo.Rack, ...) applies.
//
// Unless opts set them, kgo.RequestTimeoutOverhead and
// kgo.ProduceRequestTimeout default to [DefaultRequestTimeoutOverhead] and
// [DefaultProduceRequestTimeout], so that a silent connection is given up
// in seconds (see the package documentation on recovery).
//
// With kgo.FetchIsolationLevel(kgo.ReadCommitted()) in opts, fetches skip
// aborted transactions and EndOffsets lists last stable offsets, so a
// caught-up reader and its end offsets agree. A transactional producer
// (kgo.TransactionalID) is rejected: the core produces outside
// transactions.
func New(seeds []string, opts ...kgo.Opt) (*Transport, error) {
	if len(seeds) == 0 {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("franztransport: no seed brokers"))
	}
	// kgo lingers 10 ms by default to fill batches; a table writer waits for
	// each ack, so lingering only adds latency. Concurrent writes still
	// batch while a request is in flight. The caller's options come after
	// and win.
	base := append(append(portableDefaults(seeds), recoveryDefaults()...), opts...)
	sasl := newSASLWatch()
	conns := new(connErrs)
	mainOpts := append(without(base, isGroupOpt), kgo.ConsumeTopics(), kgo.ConsumePartitions(nil),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.WithHooks(sasl, conns))
	cl, err := newProducingClient(mainOpts)
	if err != nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, err)
	}
	if txn, _ := cl.OptValues(kgo.TransactionalID)[1].(bool); txn {
		cl.Close()
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig,
			errors.New("franztransport: kgo.TransactionalID is not supported: the core produces outside transactions"))
	}
	sasl.off.Store(!usesSASL(cl))
	t := newTransport(cl, true, base, sasl)
	t.conns = conns
	t.prod, t.prodOwned = cl, false // closed as t.cl
	if isRegex(cl) {
		t.fetchErr = errRegex
	}
	t.prodFlush = optBool(cl, kgo.ManualFlushing)
	return t, nil
}

// NewFromClient builds a transport over the caller's configured client. The
// transport never closes cl: Close releases only what the transport opened.
//
// Metadata, offset and admin requests go through cl, sharing its
// connections. What cl cannot do for a table is done by clients derived from
// cl.Opts() (seeds, TLS, SASL, tuning carry over) with consumer-group and
// consumption options removed, plus opts:
//
//   - Fetch sessions: kgo consumers are configured at construction, so each
//     fetch session (one per table) is a dedicated client, as with [New].
//   - Produce: kgo honours kgo.Record.Partition only with a partitioner that
//     returns it (kgo.ManualPartitioner). When cl's partitioner does, cl
//     produces directly; otherwise the transport opens one producer client
//     on first use from cl.Opts() plus opts plus kgo.ManualPartitioner, so
//     acks, idempotence and compression carry over. A transactional cl
//     (kgo.TransactionalID) cannot produce outside a transaction and a
//     derived client would fence it: Produce then fails with an error
//     matching transport.ErrInvalidConfig; reading still works.
//
// The isolation level of the derived fetch clients decides what EndOffsets
// lists (high watermark, or last stable offset under read committed).
func NewFromClient(cl *kgo.Client, opts ...kgo.Opt) (*Transport, error) {
	if cl == nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("franztransport: nil client"))
	}
	base := append(slices.Clone(cl.Opts()), opts...)

	// Validate the derived options now rather than at the first fetch,
	// and learn their isolation level. A client that consumes nothing
	// does not dial before it is used.
	probe, err := kgo.NewClient(fetchOpts(base, "", nil)...)
	if err != nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, fmt.Errorf("franztransport: options derived from the client: %w", err))
	}
	readCommitted, regex := isReadCommitted(probe), isRegex(probe)
	probe.Close()

	watch := newSASLWatch()
	watch.off.Store(!usesSASL(cl))
	t := newTransport(cl, false, base, watch)
	t.readCommitted = readCommitted
	if regex {
		t.fetchErr = errRegex
	}
	switch {
	case optTxn(cl):
		t.prodErr = transport.NewError("produce", "", transport.ErrInvalidConfig,
			errors.New("franztransport: the client given to NewFromClient is transactional (kgo.TransactionalID); produce needs a non-transactional client"))
	case honoursPartition(cl) && !optBool(cl, kgo.ManualFlushing) && !optBool(cl, kgo.DefaultProduceTopicAlways):
		t.prod = cl
	}
	return t, nil
}

var errRegex = transport.NewError("fetch", "", transport.ErrInvalidConfig,
	errors.New("franztransport: kgo.ConsumeRegex is set; fetch sessions consume explicit partitions and cannot be derived from a regex consumer's options"))

func newTransport(cl *kgo.Client, owns bool, base []kgo.Opt, sasl *saslWatch) *Transport {
	return &Transport{
		cl:            cl,
		sasl:          sasl,
		adm:           kadm.NewClient(cl),
		ownsCl:        owns,
		base:          base,
		conns:         new(connErrs),
		readCommitted: isReadCommitted(cl),
	}
}

// As is an escape hatch to the native client, in the style of
// database/sql's Conn.Raw: target may be a **kgo.Client (set to the client
// used for metadata, offsets and admin requests: the caller's own for
// NewFromClient) or a **kadm.Client (an admin client over it). It reports
// whether target was set. The returned clients stay owned by the transport
// (or by the caller); do not close them.
func (t *Transport) As(target any) bool {
	switch p := target.(type) {
	case **kgo.Client:
		*p = t.cl
		return true
	case **kadm.Client:
		*p = t.adm
		return true
	}
	return false
}

// ReadCommitted reports whether fetch sessions read committed records only,
// in which case EndOffsets lists last stable offsets.
func (t *Transport) ReadCommitted() bool { return t.readCommitted }

// Close closes every fetch session and every client the transport opened.
// A client given to NewFromClient stays open. Close is idempotent.
func (t *Transport) Close() error {
	if !t.sessions.Close() { // closes the fetch sessions
		return nil
	}
	t.prodMu.Lock()
	if t.prodOwned && t.prod != nil {
		t.prod.Close()
	}
	t.prodMu.Unlock()
	if t.ownsCl {
		t.cl.Close()
	}
	return nil
}

func (t *Transport) isClosed() bool { return t.sessions.Closed() }

// Partitions returns the partition ids of topic in ascending order. (X1)
func (t *Transport) Partitions(ctx context.Context, topic string) ([]int32, error) {
	const op = "partitions"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	wctx, done := t.sasl.watch(ctx)
	defer done()
	resp, err := req.RequestWith(wctx, t.cl)
	if err != nil {
		return nil, finish(ctx, wctx, op, topic, err)
	}
	for _, mt := range resp.Topics {
		if mt.Topic == nil || *mt.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(mt.ErrorCode); err != nil {
			return nil, wrap(ctx, op, topic, err)
		}
		ps := make([]int32, 0, len(mt.Partitions))
		for _, p := range mt.Partitions {
			ps = append(ps, p.Partition)
		}
		slices.Sort(ps)
		return ps, nil
	}
	return nil, wrap(ctx, op, topic, kerr.UnknownTopicOrPartition)
}

// StartOffsets returns the log start offset of each partition. (X2)
func (t *Transport) StartOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "start offsets", topic, partitions, -2, false)
}

// EndOffsets returns the high watermark of each partition, or the last
// stable offset when fetch sessions read committed. It is one ListOffsets
// round trip on the transport's main client, which shares no connection
// with any fetch session: an in-flight long poll cannot delay it. (X2, B4)
func (t *Transport) EndOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "end offsets", topic, partitions, -1, t.readCommitted)
}

func (t *Transport) listOffsets(ctx context.Context, op, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	return listOffsets(ctx, t.sasl, t.cl, op, topic, partitions, ts, committed)
}

// listOffsets issues ListOffsets for partitions of topic. kgo shards the
// request to each partition's leader from its metadata cache.
func listOffsets(ctx context.Context, w *saslWatch, cl *kgo.Client, op, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	out := make(map[int32]int64, len(partitions))
	if len(partitions) == 0 {
		return out, nil
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	// kgo deadlines the read at TimeoutMillis plus its overhead; kmsg's
	// default of 30 s kept barriers stuck on a silent connection for
	// over 30 s (issue 16 item 9).
	req.TimeoutMillis = int32(listOffsetsTimeout / time.Millisecond)
	if committed {
		req.IsolationLevel = 1
	}
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.CurrentLeaderEpoch = -1
		rp.Timestamp = ts
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)

	wctx, done := w.watch(ctx)
	defer done()
	for _, shard := range cl.RequestSharded(wctx, req) {
		if shard.Err != nil {
			return nil, finish(ctx, wctx, op, topic, shard.Err)
		}
		resp := shard.Resp.(*kmsg.ListOffsetsResponse)
		for _, t := range resp.Topics {
			if t.Topic != topic {
				continue
			}
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return nil, wrap(ctx, op, topic, err)
				}
				out[p.Partition] = p.Offset
			}
		}
	}
	for _, p := range partitions {
		if _, ok := out[p]; !ok {
			return nil, wrap(ctx, op, topic, fmt.Errorf("partition %d missing from ListOffsets response: %w", p, kerr.UnknownTopicOrPartition))
		}
	}
	return out, nil
}

// Produce appends rec to rec.Partition of topic and returns its offset once
// acknowledged per the client's acks. Calls from many goroutines are
// pipelined: each hands its record to kgo, which batches records of
// concurrent callers into shared produce requests. A nil rec.Value is sent
// as a null value (tombstone), an empty one as an empty value. (X4)
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
	cl, flush, err := t.producer()
	if err != nil {
		return 0, err
	}
	kr := &kgo.Record{
		Topic:     topic,
		Partition: rec.Partition,
		Key:       rec.Key,
		Value:     rec.Value,
		Timestamp: rec.Timestamp,
	}
	if len(rec.Headers) > 0 {
		kr.Headers = make([]kgo.RecordHeader, len(rec.Headers))
		for i, h := range rec.Headers {
			kr.Headers[i] = kgo.RecordHeader{Key: h.Key, Value: h.Value}
		}
	}
	wctx, stop := t.sasl.watch(ctx)
	defer stop()
	purgeGen := t.purges.generation(topic)
	done := make(chan error, 1)
	cl.Produce(wctx, kr, func(_ *kgo.Record, err error) { done <- err })
	if flush {
		if err := cl.Flush(wctx); err != nil {
			return 0, t.finishProduce(ctx, wctx, op, topic, err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			switch {
			case isPartitionChoiceErr(err):
				cl.ForceMetadataRefresh()
			case isRecreated(err) && ctx.Err() == nil:
				t.purges.purge(cl, topic, purgeGen)
				return 0, recreatedErr(op, topic, err)
			}
			return 0, t.finishProduce(ctx, wctx, op, topic, err)
		}
		return kr.Offset, nil
	case <-wctx.Done():
		return 0, t.finishProduce(ctx, wctx, op, topic, context.Cause(wctx))
	}
}

// producer returns the client to produce with, opening a derived one on
// first use when needed (see NewFromClient).
func (t *Transport) producer() (*kgo.Client, bool, error) {
	t.prodMu.Lock()
	defer t.prodMu.Unlock()
	if t.prodErr != nil {
		return nil, false, t.prodErr
	}
	if t.prod != nil {
		return t.prod, t.prodFlush, nil
	}
	if t.isClosed() {
		return nil, false, closedErr("produce", "")
	}
	cl, err := kgo.NewClient(append(produceOpts(t.base), kgo.WithHooks(t.sasl, t.conns))...)
	if err != nil {
		return nil, false, transport.NewError("produce", "", transport.ErrInvalidConfig, err)
	}
	t.prod, t.prodOwned, t.prodFlush = cl, true, optBool(cl, kgo.ManualFlushing)
	return cl, t.prodFlush, nil
}

// CreateTopic creates a topic; an existing one is an error matching
// transport.ErrTopicExists. (X5)
func (t *Transport) CreateTopic(ctx context.Context, spec transport.TopicSpec) error {
	const op = "create topic"
	if t.isClosed() {
		return closedErr(op, spec.Name)
	}
	parts, rf := spec.Counts() // rf -1: the broker's default.replication.factor
	var configs map[string]*string
	if len(spec.Configs) > 0 {
		configs = make(map[string]*string, len(spec.Configs))
		for k, v := range spec.Configs {
			configs[k] = kmsg.StringPtr(v)
		}
	}
	wctx, done := t.sasl.watch(ctx)
	defer done()
	resp, err := t.adm.CreateTopic(wctx, parts, rf, configs, spec.Name)
	if err == nil {
		err = resp.Err
		if err != nil && resp.ErrMessage != "" {
			err = fmt.Errorf("%w: %s", err, resp.ErrMessage)
		}
	}
	return finish(ctx, wctx, op, spec.Name, err)
}

// CreatePartitions grows topic to total partitions. Asking for the current
// count is not an error. (transport.PartitionAdder)
func (t *Transport) CreatePartitions(ctx context.Context, topic string, total int32) error {
	const op = "create partitions"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	cur, err := t.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	if int32(len(cur)) == total {
		return nil
	}
	wctx, done := t.sasl.watch(ctx)
	defer done()
	resps, err := t.adm.UpdatePartitions(wctx, int(total), topic)
	if err == nil {
		var r kadm.CreatePartitionsResponse
		r, err = resps.On(topic, nil)
		if err == nil {
			err = r.Err
			if err != nil && r.ErrMessage != "" {
				err = fmt.Errorf("%w: %s", err, r.ErrMessage)
			}
		}
	}
	return finish(ctx, wctx, op, topic, err)
}

// DescribeTopicConfig returns every config entry of topic with its source.
// (transport.TopicConfigurer)
func (t *Transport) DescribeTopicConfig(ctx context.Context, topic string) ([]transport.ConfigEntry, error) {
	const op = "describe topic config"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType = kmsg.ConfigResourceTypeTopic
	rr.ResourceName = topic
	req.Resources = append(req.Resources, rr)
	wctx, done := t.sasl.watch(ctx)
	defer done()
	resp, err := req.RequestWith(wctx, t.cl)
	if err != nil {
		return nil, finish(ctx, wctx, op, topic, err)
	}
	for _, r := range resp.Resources {
		if r.ResourceName != topic {
			continue
		}
		if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
			if r.ErrorMessage != nil && *r.ErrorMessage != "" {
				err = fmt.Errorf("%w: %s", err, *r.ErrorMessage)
			}
			return nil, wrap(ctx, op, topic, err)
		}
		out := make([]transport.ConfigEntry, 0, len(r.Configs))
		for _, c := range r.Configs {
			e := transport.ConfigEntry{
				Name:      c.Name,
				Source:    transport.ConfigSourceOf(int8(c.Source), c.IsDefault),
				ReadOnly:  c.ReadOnly,
				Sensitive: c.IsSensitive,
			}
			if c.Value != nil {
				e.Value = *c.Value
			}
			out = append(out, e)
		}
		return out, nil
	}
	return nil, wrap(ctx, op, topic, kerr.UnknownTopicOrPartition)
}

// AlterTopicConfig sets the given keys with an incremental alter
// (IncrementalAlterConfigs, Kafka 2.3+), so every other explicit override
// of the topic stays. (transport.TopicConfigurer)
func (t *Transport) AlterTopicConfig(ctx context.Context, topic string, set map[string]string) error {
	const op = "alter topic config"
	if t.isClosed() {
		return closedErr(op, topic)
	}
	if len(set) == 0 {
		return nil
	}
	alters := make([]kadm.AlterConfig, 0, len(set))
	for k, v := range set {
		alters = append(alters, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kmsg.StringPtr(v)})
	}
	wctx, done := t.sasl.watch(ctx)
	defer done()
	resps, err := t.adm.AlterTopicConfigs(wctx, alters, topic)
	if err == nil {
		var r kadm.AlterConfigsResponse
		r, err = resps.On(topic, nil)
		if err == nil {
			err = r.Err
			if err != nil && r.ErrMessage != "" {
				err = fmt.Errorf("%w: %s", err, r.ErrMessage)
			}
		}
	}
	return finish(ctx, wctx, op, topic, err)
}
