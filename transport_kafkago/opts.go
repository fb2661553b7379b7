package kafkagotransport

import (
	"errors"
	"net"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ktables/ktables/transport"
)

// Option configures a Transport built by [New] or [NewFromClient].
type Option func(*config) error

type config struct {
	tpl           *kafka.Transport // connection settings (a template, never used itself)
	dialer        *kafka.Dialer
	acks          kafka.RequiredAcks
	readCommitted bool
	compression   kafka.Compression
	reqTimeout    time.Duration
}

// defaultConfig spells out the portable defaults every adapter shares
// (SPEC W4, ADR 8): acks=all, no compression (the zero kafka.Compression),
// read uncommitted. kafka-go has no idempotent producer.
func defaultConfig() config {
	return config{acks: kafka.RequireAll, compression: 0, readCommitted: false, reqTimeout: DefaultRequestTimeout}
}

// DefaultRequestTimeout bounds a request whose context has no deadline, so
// that a broker that stops answering on an open connection cannot hang a
// call forever (kafka-go's Transport only applies context deadlines to its
// connections). It plays the role of Kafka's request.timeout.ms, shorter
// than Java's 30 s: a connection gone silent (a network partition) is
// noticed only by it, and with 30 s writes stayed blocked about 28 s after
// a 2 s partition healed (issue 16 item 9). A request whose callers have
// deadlines ends shortly after the latest of them.
const DefaultRequestTimeout = 4 * time.Second

// WithTransport gives the connection settings of an existing kafka-go
// Transport: Dial, DialTimeout, IdleTimeout, MetadataTTL, ClientID, TLS,
// SASL, Resolver and Context. tpl is a template: the adapter builds its own
// kafka.Transport values with the same settings, so that Close can release
// them and never touches tpl's connections. Do not combine with WithDialer.
func WithTransport(tpl *kafka.Transport) Option {
	return func(c *config) error {
		if tpl == nil {
			return errors.New("kafkagotransport: WithTransport(nil)")
		}
		c.tpl = tpl
		return nil
	}
}

// WithDialer gives the connection settings of an existing kafka-go Dialer
// (the configuration kafka.Reader and kafka.Conn users already have):
// ClientID, TLS, SASLMechanism, Timeout, DialFunc or LocalAddr, KeepAlive
// and Resolver. Do not combine with WithTransport.
func WithDialer(d *kafka.Dialer) Option {
	return func(c *config) error {
		if d == nil {
			return errors.New("kafkagotransport: WithDialer(nil)")
		}
		c.dialer = d
		return nil
	}
}

// WithRequiredAcks sets the acknowledgement Produce waits for. The default
// is kafka.RequireAll (acks=all): a write acked by the leader alone can be
// lost on a leader change, and the core's read-your-own-writes barrier
// promises that acked writes are visible. With kafka.RequireNone Produce
// returns offset -1, since the broker does not answer.
func WithRequiredAcks(acks kafka.RequiredAcks) Option {
	return func(c *config) error {
		switch acks {
		case kafka.RequireAll, kafka.RequireOne, kafka.RequireNone:
			c.acks = acks
			return nil
		}
		return errors.New("kafkagotransport: invalid RequiredAcks")
	}
}

// WithReadCommitted makes fetch sessions skip records of aborted
// transactions (and stop before open ones), and EndOffsets list last stable
// offsets instead of high watermarks, so that a caught-up reader and its
// end offsets agree. Without it, fetches read uncommitted, Kafka's default.
func WithReadCommitted() Option {
	return func(c *config) error {
		c.readCommitted = true
		return nil
	}
}

// WithCompression compresses produced records with codec (kafka.Gzip,
// kafka.Snappy, kafka.Lz4, kafka.Zstd). Default: none.
func WithCompression(codec kafka.Compression) Option {
	return func(c *config) error {
		c.compression = codec
		return nil
	}
}

// WithRequestTimeout bounds each request whose context has no deadline
// (default DefaultRequestTimeout). A fetch may take its long poll on top.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return errors.New("kafkagotransport: request timeout must be positive")
		}
		c.reqTimeout = d
		return nil
	}
}

// cloneTransport returns a fresh kafka.Transport with tpl's settings (copied
// field by field: kafka.Transport holds a mutex and its connection pools).
func cloneTransport(tpl *kafka.Transport) *kafka.Transport {
	return &kafka.Transport{
		Dial:           tpl.Dial,
		DialTimeout:    tpl.DialTimeout,
		IdleTimeout:    tpl.IdleTimeout,
		MetadataTTL:    tpl.MetadataTTL,
		MetadataTopics: tpl.MetadataTopics,
		ClientID:       tpl.ClientID,
		TLS:            tpl.TLS,
		SASL:           tpl.SASL,
		Resolver:       tpl.Resolver,
		Context:        tpl.Context,
	}
}

// transportFromDialer translates a Dialer's settings into a Transport
// template.
func transportFromDialer(d *kafka.Dialer) *kafka.Transport {
	dial := d.DialFunc
	if dial == nil {
		nd := &net.Dialer{Timeout: d.Timeout, Deadline: d.Deadline, LocalAddr: d.LocalAddr,
			FallbackDelay: d.FallbackDelay, KeepAlive: d.KeepAlive}
		dial = nd.DialContext
		if r := d.Resolver; r != nil {
			dial = transport.ResolvingDial(nd, r)
		}
	}
	return &kafka.Transport{
		Dial:        dial,
		DialTimeout: d.Timeout,
		ClientID:    d.ClientID,
		TLS:         d.TLS,
		SASL:        d.SASLMechanism,
	}
}
