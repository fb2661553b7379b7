package saramatransport

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/IBM/sarama"

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

// DefaultVersion is the protocol version of [NewConfig]. Any version from
// [MinVersion] on works; 2.3 and later alter topic configs incrementally.
var DefaultVersion = sarama.V3_0_0_0

// MinVersion is the oldest protocol version the transport accepts in
// Config.Version: fetch v10 and ListOffsets v4 with isolation levels, and
// record batches with transaction markers.
var MinVersion = sarama.V2_1_0_0

// NewConfig returns sarama.NewConfig() with the defaults ktables
// recommends; adjust it (TLS, SASL, client id, compression...) and pass it
// to [New]:
//
//   - Version: [DefaultVersion] (sarama's default is 2.8.0; either works).
//   - Producer.RequiredAcks: sarama.WaitForAll. sarama's own default is
//     WaitForLocal (acks=1), which loses acknowledged writes when a leader
//     fails; the Java client's default is all.
//   - Producer.Idempotent false and Producer.Compression
//     sarama.CompressionNone, set explicitly (they are sarama's defaults
//     too): every Kafka-compatible broker and every reader handles that
//     (SPEC W4, ADR 8). Opt into idempotence with [SetDurability], into
//     compression with Producer.Compression; readers in every language
//     then need that codec.
//   - Consumer.IsolationLevel: sarama.ReadUncommitted, the isolation of
//     every ktables adapter by default and of the Python library
//     (aiokafka), so readers on every client hold the same map (ADR 8).
//     Set sarama.ReadCommitted to skip aborted transactions.
func NewConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = DefaultVersion
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = false
	cfg.Producer.Compression = sarama.CompressionNone
	cfg.Consumer.IsolationLevel = sarama.ReadUncommitted
	applyRecoveryDefaults(cfg)
	return cfg
}

// SetDurability applies the portable transport.Durability to cfg before it
// is given to [New]: Producer.RequiredAcks, and Producer.Idempotent with
// what sarama requires of an idempotent producer (Net.MaxOpenRequests = 1,
// and at least one retry). An invalid d (see transport.Durability.Validate)
// is an error matching transport.ErrInvalidConfig, and cfg is unchanged.
func SetDurability(cfg *sarama.Config, d transport.Durability) error {
	if cfg == nil {
		return transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("saramatransport: SetDurability(nil config)"))
	}
	if err := d.Validate(); err != nil {
		return err
	}
	switch d.Acks {
	case transport.AcksAll:
		cfg.Producer.RequiredAcks = sarama.WaitForAll
	case transport.AcksLeader:
		cfg.Producer.RequiredAcks = sarama.WaitForLocal
	case transport.AcksNone:
		cfg.Producer.RequiredAcks = sarama.NoResponse
	}
	cfg.Producer.Idempotent = d.Idempotent
	if d.Idempotent {
		cfg.Net.MaxOpenRequests = 1
		cfg.Producer.Retry.Max = max(cfg.Producer.Retry.Max, 1)
	}
	return nil
}

// Transport implements transport.Transport, transport.TopicConfigurer and
// transport.PartitionAdder over IBM sarama. It is safe for concurrent use.
// Build one with [New] or [NewFromClient].
type Transport struct {
	cl         transport.Lazy[sarama.Client] // metadata, offsets, admin requests
	mainCfg    *sarama.Config                // of the owned client (New)
	ownsClient bool
	seeds      []string // New's seeds; nil for NewFromClient
	dial       *dialer  // the owned client's dialer; nil for NewFromClient
	sasl       *saslWatch

	// cfg is the transport's copy of the caller's config, from which fetch
	// connections and the producer's client are derived.
	cfg           *sarama.Config
	readCommitted bool

	adminMu sync.Mutex
	admin   sarama.ClusterAdmin // over client, made on first use; never closed

	prod     transport.Lazy[*producer] // opened on first Produce
	prodDial *dialer                   // the producer client's dialer
	prodErr  error                     // why this transport cannot produce, if it cannot

	sessions transport.Sessions // closed flag and open fetch sessions
}

// New builds a transport that owns its sarama clients, for seeds. cfg is the
// caller's sarama configuration and carries everything an organization
// already configures: TLS (Net.TLS), SASL (Net.SASL), ClientID,
// compression, Producer.RequiredAcks, Producer.Idempotent, timeouts, a
// proxy dialer. A nil cfg means [NewConfig](). The transport works on a
// copy: cfg is never modified and may be reused.
//
// New does not contact the brokers: the client connects on first use,
// under the context of that call (sarama.NewClient fetches metadata before
// it returns, which cannot be cancelled otherwise).
//
// cfg.Version must be at least [MinVersion] (2.1); an older one is
// rejected here, naming the setting. On its copy the transport changes only
// what the core depends on, and says so here rather than silently:
//
//   - Producer.Partitioner becomes sarama.NewManualPartitioner: the core
//     chooses each record's partition (Java-compatible murmur2, SPEC P1)
//     and the transport produces there. sarama's default (FNV-1a hash)
//     would disagree with Java and franz-go writers.
//   - Producer.Return.Successes and Producer.Return.Errors become true:
//     Produce waits for each record's ack and returns its offset.
//   - Net.Proxy: every connection is dialed through the transport's dialer,
//     which wraps the caller's proxy dialer if one is enabled, or dials
//     with the caller's Net.DialTimeout, Net.KeepAlive and Net.LocalAddr.
//     It lets Close end in-flight long polls at once (sarama holds a
//     broker's lock for a whole round trip) and recognize rejected SASL
//     credentials.
//
// A transactional producer (Producer.Transaction.ID) is rejected: the core
// produces outside transactions. Consumer.IsolationLevel decides whether
// fetches skip aborted transactions and whether EndOffsets lists last
// stable offsets (sarama.ReadCommitted) or high watermarks.
func New(seeds []string, cfg *sarama.Config) (*Transport, error) {
	if len(seeds) == 0 {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("saramatransport: no seed brokers"))
	}
	if cfg == nil {
		cfg = NewConfig()
	}
	base, err := baseConfig(cfg)
	if err != nil {
		return nil, err
	}
	if base.Producer.Transaction.ID != "" {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig,
			errors.New("saramatransport: Config.Producer.Transaction.ID is set; the core produces outside transactions"))
	}
	w := &saslWatch{}
	mainCfg := clone(base)
	d := newDialer(mainCfg, w)
	d.install(mainCfg)
	t := newTransport(true, base, w)
	t.dial, t.seeds, t.mainCfg = d, slices.Clone(seeds), mainCfg
	return t, nil
}

// NewFromClient builds a transport over the caller's client. The transport
// never closes client: Close releases only what the transport opened.
//
// Metadata, offset and admin requests go through client, sharing its
// connections. Fetch sessions and Produce use connections and a producer
// client of their own, derived from a copy of client.Config() as in [New]
// (manual partitioner, successes returned), so TLS, SASL, acks,
// idempotence and compression carry over. client.Config().Version must be
// at least [MinVersion]. When client.Config() names a transactional id,
// the transport reads but Produce fails with an error matching
// transport.ErrInvalidConfig.
//
// Rejected SASL credentials on client's own connections surface as
// sarama reports them (sarama.ErrSASLAuthenticationFailed from Kafka 1.0+);
// the watch described in the package documentation covers only the
// connections the transport opens.
func NewFromClient(client sarama.Client) (*Transport, error) {
	if client == nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, errors.New("saramatransport: nil client"))
	}
	if client.Closed() {
		return nil, transport.NewError("new", "", transport.ErrClosed, sarama.ErrClosedClient)
	}
	base, err := baseConfig(client.Config())
	if err != nil {
		return nil, err
	}
	t := newTransport(false, base, &saslWatch{})
	t.cl.Set(client)
	if base.Producer.Transaction.ID != "" {
		t.prodErr = transport.NewError("produce", "", transport.ErrInvalidConfig,
			errors.New("saramatransport: the client given to NewFromClient is transactional (Config.Producer.Transaction.ID); produce needs a non-transactional producer"))
	}
	return t, nil
}

func newTransport(owns bool, base *sarama.Config, w *saslWatch) *Transport {
	pcfg := clone(base)
	return &Transport{
		ownsClient:    owns,
		prodDial:      newDialer(pcfg, w),
		sasl:          w,
		cfg:           base,
		readCommitted: base.Consumer.IsolationLevel == sarama.ReadCommitted,
	}
}

// clone copies a sarama config (a struct of values; pointers such as the
// TLS config and the metric registry are shared, as sarama shares them).
func clone(cfg *sarama.Config) *sarama.Config {
	c := *cfg
	return &c
}

// baseConfig validates the caller's config and returns the transport's copy
// with the overrides documented on New.
func baseConfig(cfg *sarama.Config) (*sarama.Config, error) {
	if !cfg.Version.IsAtLeast(MinVersion) {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig,
			fmt.Errorf("saramatransport: Config.Version is %s; ktables needs Kafka protocol version %s or newer (for example sarama.V2_1_0_0, or sarama.V2_3_0_0+ to alter topic configs incrementally)", cfg.Version, MinVersion))
	}
	c := clone(cfg)
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	if err := c.Validate(); err != nil {
		return nil, transport.NewError("new", "", transport.ErrInvalidConfig, fmt.Errorf("saramatransport: %w", err))
	}
	return c, nil
}

// As is an escape hatch to the native client, in the style of
// database/sql's Conn.Raw: target may be a *sarama.Client (set to the
// client used for metadata, offsets and admin requests: the caller's own
// for NewFromClient) or a *sarama.ClusterAdmin (an admin over that client;
// connecting it needs the controller, so this can block briefly). It
// reports whether target was set. Do not close what you get: the client
// stays owned by the transport (or by the caller), and closing the admin
// would close the client.
func (t *Transport) As(target any) bool {
	switch p := target.(type) {
	case *sarama.Client:
		c, err := t.client(context.Background())
		if err != nil {
			return false
		}
		*p = c
		return true
	case *sarama.ClusterAdmin:
		c, err := t.client(context.Background())
		if err != nil {
			return false
		}
		adm, err := t.clusterAdmin(c)
		if err != nil {
			return false
		}
		*p = adm
		return true
	}
	return false
}

// ReadCommitted reports whether fetch sessions read committed records only,
// in which case EndOffsets lists last stable offsets.
func (t *Transport) ReadCommitted() bool { return t.readCommitted }

// Close closes every fetch session, the producer and the client the
// transport opened, and ends their connections at once. A client given to
// NewFromClient stays open. Close is idempotent.
func (t *Transport) Close() error {
	if !t.sessions.Close() { // closes the fetch sessions
		return nil
	}
	// Sockets first: a request in flight (a dial to an unreachable
	// broker, say) would otherwise hold up the clients' Close.
	t.prodDial.Close()
	if p, ok := t.prod.Settle(); ok {
		p.close()
	}
	if t.ownsClient {
		t.dial.Close()
		if c, ok := t.cl.Settle(); ok {
			_ = c.Close()
		}
	}
	return nil
}

// client returns the client for metadata, offsets and admin requests. New's
// client connects on first use (sarama.NewClient fetches metadata before it
// returns), under ctx.
func (t *Transport) client(ctx context.Context) (sarama.Client, error) {
	if t.isClosed() {
		return nil, closedErr("", "")
	}
	return t.cl.Get(ctx, func() (sarama.Client, error) {
		return sarama.NewClient(t.seeds, t.mainCfg)
	})
}

func (t *Transport) isClosed() bool { return t.sessions.Closed() }

// finish classifies err from a call under ctx (transport.Finish): the
// last connection failure explains sarama's "run out of available
// brokers", and credentials the SASL watch rejected are blamed for any
// error that is not a broker's answer.
func (t *Transport) finish(ctx context.Context, op, topic string, err error) error {
	return transport.Finish(ctx, err, transport.Ending{Op: op, Topic: topic, Classify: classify, Last: t.lastConnErr(),
		Join: func(err, last error) error {
			if errors.Is(err, sarama.ErrOutOfBrokers) {
				return fmt.Errorf("%w: %w", err, last)
			}
			return err
		},
		SASL: func(err error) *transport.SASLClosedError {
			if _, isKErr := errors.AsType[sarama.KError](err); t.sasl.Blamed() && !isKErr {
				return &transport.SASLClosedError{Err: err}
			}
			return nil
		}})
}

// Partitions returns the partition ids of topic in ascending order, from a
// metadata request of its own (one round trip: sarama's client would retry
// an unknown topic for Metadata.Retry.Max rounds). When the topic has grown
// beyond what the client's metadata knows, the client is refreshed so that
// leaders of new partitions are found. (X1)
func (t *Transport) Partitions(ctx context.Context, topic string) ([]int32, error) {
	const op = "partitions"
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	c, err := t.client(ctx)
	if err != nil {
		return nil, t.finish(ctx, op, topic, err)
	}
	ps, err := transport.Run(ctx, func() ([]int32, error) { return t.partitions(c, topic) })
	return ps, t.finish(ctx, op, topic, err)
}

func (t *Transport) partitions(c sarama.Client, topic string) ([]int32, error) {
	b := c.LeastLoadedBroker()
	if b == nil {
		return nil, sarama.ErrOutOfBrokers
	}
	req := sarama.NewMetadataRequest(t.cfg.Version, []string{topic})
	req.AllowAutoTopicCreation = false
	resp, err := b.GetMetadata(req)
	if err != nil {
		_ = b.Close() // sarama closes on network errors; reopen next time
		return nil, err
	}
	for _, mt := range resp.Topics {
		if mt.Name != topic {
			continue
		}
		if mt.Err != sarama.ErrNoError {
			return nil, mt.Err
		}
		ps := make([]int32, 0, len(mt.Partitions))
		for _, p := range mt.Partitions {
			ps = append(ps, p.ID)
		}
		slices.Sort(ps)
		if known, err := c.Partitions(topic); err != nil || len(known) < len(ps) {
			_ = c.RefreshMetadata(topic)
		}
		return ps, nil
	}
	return nil, sarama.ErrUnknownTopicOrPartition
}

// StartOffsets returns the log start offset of each partition. (X2)
func (t *Transport) StartOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "start offsets", topic, partitions, sarama.OffsetOldest, false)
}

// EndOffsets returns the high watermark of each partition, or the last
// stable offset when the transport reads committed. It is one ListOffsets
// round trip per partition leader on the transport's main client, whose
// connections carry no fetches: fetch sessions use connections of their
// own, so an in-flight long poll cannot delay it. (X2, B4)
func (t *Transport) EndOffsets(ctx context.Context, topic string, partitions []int32) (map[int32]int64, error) {
	return t.listOffsets(ctx, "end offsets", topic, partitions, sarama.OffsetNewest, t.readCommitted)
}

func (t *Transport) listOffsets(ctx context.Context, op, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	if t.isClosed() {
		return nil, closedErr(op, topic)
	}
	if len(partitions) == 0 {
		return map[int32]int64{}, nil
	}
	c, err := t.client(ctx)
	if err != nil {
		return nil, t.finish(ctx, op, topic, err)
	}
	out, err := transport.Run(ctx, func() (map[int32]int64, error) {
		return listOffsets(c, topic, partitions, ts, committed)
	})
	return out, t.finish(ctx, op, topic, err)
}

// listOffsets sends one ListOffsets request to each partition leader known
// to client. On a leadership error it refreshes client's metadata and
// returns the error (retriable) for the core to retry.
func listOffsets(client sarama.Client, topic string, partitions []int32, ts int64, committed bool) (map[int32]int64, error) {
	byLeader := make(map[*sarama.Broker][]int32)
	for _, p := range partitions {
		b, err := client.Leader(topic, p)
		if err != nil {
			return nil, err
		}
		byLeader[b] = append(byLeader[b], p)
	}
	out := make(map[int32]int64, len(partitions))
	for b, ps := range byLeader {
		req := &sarama.OffsetRequest{Version: 4} // Config.Version is at least MinVersion (2.1)
		if committed {
			req.IsolationLevel = sarama.ReadCommitted
		}
		for _, p := range ps {
			req.AddBlock(topic, p, ts, 1)
		}
		resp, err := b.GetAvailableOffsets(req)
		if err != nil {
			_ = client.RefreshMetadata(topic)
			return nil, err
		}
		for _, p := range ps {
			blk := resp.GetBlock(topic, p)
			if blk == nil {
				return nil, fmt.Errorf("partition %d missing from ListOffsets response: %w", p, sarama.ErrIncompleteResponse)
			}
			if blk.Err != sarama.ErrNoError {
				if isLeadershipErr(blk.Err) {
					_ = client.RefreshMetadata(topic)
				}
				return nil, blk.Err
			}
			out[p] = blk.Offset
		}
	}
	return out, nil
}

func isLeadershipErr(ke sarama.KError) bool {
	switch ke {
	case sarama.ErrNotLeaderForPartition, sarama.ErrLeaderNotAvailable, sarama.ErrFencedLeaderEpoch,
		sarama.ErrUnknownLeaderEpoch, sarama.ErrReplicaNotAvailable, sarama.ErrOffsetNotAvailable,
		sarama.ErrUnknownTopicOrPartition, sarama.ErrNotController:
		return true
	}
	return false
}

// clusterAdmin returns the admin over the main client, connecting it (it
// looks up the controller) on first use.
func (t *Transport) clusterAdmin(c sarama.Client) (sarama.ClusterAdmin, error) {
	t.adminMu.Lock()
	defer t.adminMu.Unlock()
	if t.admin != nil {
		return t.admin, nil
	}
	adm, err := sarama.NewClusterAdminFromClient(c)
	if err != nil {
		return nil, err
	}
	t.admin = adm
	return adm, nil
}

// admin runs fn with the cluster admin under ctx.
func (t *Transport) withAdmin(ctx context.Context, op, topic string, fn func(sarama.ClusterAdmin) error) error {
	if t.isClosed() {
		return closedErr(op, topic)
	}
	c, err := t.client(ctx)
	if err != nil {
		return t.finish(ctx, op, topic, err)
	}
	_, err = transport.Run(ctx, func() (struct{}, error) {
		adm, err := t.clusterAdmin(c)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, fn(adm)
	})
	return t.finish(ctx, op, topic, err)
}

// CreateTopic creates a topic; an existing one is an error matching
// transport.ErrTopicExists. (X5)
func (t *Transport) CreateTopic(ctx context.Context, spec transport.TopicSpec) error {
	parts, rf := spec.Counts() // rf -1: the broker's default (CreateTopics v4+)
	detail := &sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: rf}
	if len(spec.Configs) > 0 {
		detail.ConfigEntries = make(map[string]*string, len(spec.Configs))
		for k, v := range spec.Configs {
			detail.ConfigEntries[k] = &v
		}
	}
	return t.withAdmin(ctx, "create topic", spec.Name, func(adm sarama.ClusterAdmin) error {
		return adm.CreateTopic(spec.Name, detail, false)
	})
}

// CreatePartitions grows topic to total partitions. Asking for the current
// count is not an error. (transport.PartitionAdder)
func (t *Transport) CreatePartitions(ctx context.Context, topic string, total int32) error {
	cur, err := t.Partitions(ctx, topic)
	if err != nil {
		return err
	}
	if int32(len(cur)) == total {
		return nil
	}
	err = t.withAdmin(ctx, "create partitions", topic, func(adm sarama.ClusterAdmin) error {
		return adm.CreatePartitions(topic, total, nil, false)
	})
	if c, cerr := t.client(ctx); err == nil && cerr == nil {
		_, _ = transport.Run(ctx, func() (struct{}, error) { return struct{}{}, c.RefreshMetadata(topic) })
	}
	return err
}

// DescribeTopicConfig returns every config entry of topic with its source.
// (transport.TopicConfigurer)
func (t *Transport) DescribeTopicConfig(ctx context.Context, topic string) ([]transport.ConfigEntry, error) {
	var entries []sarama.ConfigEntry
	err := t.withAdmin(ctx, "describe topic config", topic, func(adm sarama.ClusterAdmin) error {
		var err error
		entries, err = describeTopic(adm, topic)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]transport.ConfigEntry, 0, len(entries))
	for _, c := range entries {
		out = append(out, transport.ConfigEntry{
			Name:      c.Name,
			Value:     c.Value,
			Source:    transport.ConfigSourceOf(int8(c.Source), c.Default),
			ReadOnly:  c.ReadOnly,
			Sensitive: c.Sensitive,
		})
	}
	return out, nil
}

// describeTopic describes the configuration of topic.
func describeTopic(adm sarama.ClusterAdmin, topic string) ([]sarama.ConfigEntry, error) {
	rs, err := adm.DescribeConfigs([]*sarama.ConfigResource{{Type: sarama.TopicResource, Name: topic}}, sarama.DescribeConfigsOptions{})
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.Name != topic {
			continue
		}
		if r.ErrorCode != sarama.ErrNoError {
			return nil, &sarama.DescribeConfigError{Err: r.ErrorCode, ErrMsg: r.ErrorMsg}
		}
		return r.Configs, nil
	}
	return nil, sarama.ErrUnknownTopicOrPartition
}

// AlterTopicConfig sets the given keys and keeps every other explicit
// override of the topic. With Config.Version 2.3 or newer it is one
// IncrementalAlterConfigs request. With an older version, sarama only
// speaks the legacy AlterConfigs, which replaces the whole set of
// overrides: the transport then reads the current overrides
// (DescribeConfigs, source topic) and sends them all back with the new
// values. That read-modify-write can lose a concurrent change made by
// someone else between the two requests, and it fails (rather than drop
// it) when the topic has a sensitive override, whose value is not readable.
// (transport.TopicConfigurer)
func (t *Transport) AlterTopicConfig(ctx context.Context, topic string, set map[string]string) error {
	const op = "alter topic config"
	if len(set) == 0 {
		return nil
	}
	if t.cfg.Version.IsAtLeast(sarama.V2_3_0_0) {
		entries := make(map[string]sarama.IncrementalAlterConfigsEntry, len(set))
		for k, v := range set {
			entries[k] = sarama.IncrementalAlterConfigsEntry{Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &v}
		}
		return t.withAdmin(ctx, op, topic, func(adm sarama.ClusterAdmin) error {
			return adm.IncrementalAlterConfig(sarama.TopicResource, topic, entries, false)
		})
	}
	return t.withAdmin(ctx, op, topic, func(adm sarama.ClusterAdmin) error {
		cur, err := describeTopic(adm, topic)
		if err != nil {
			return err
		}
		all := make(map[string]*string, len(cur)+len(set))
		for _, c := range cur {
			if c.Source != sarama.SourceTopic {
				continue
			}
			if _, overwritten := set[c.Name]; c.Sensitive && !overwritten {
				// Its value is not readable, so it cannot be sent back:
				// a full replace would drop it.
				return fmt.Errorf("%w: topic override %s is sensitive and cannot be preserved by the legacy AlterConfigs (Config.Version < 2.3); use Config.Version 2.3 or newer", sarama.ErrUnsupportedVersion, c.Name)
			}
			all[c.Name] = &c.Value
		}
		for k, v := range set {
			all[k] = &v
		}
		return adm.AlterConfig(sarama.TopicResource, topic, all, false)
	})
}
