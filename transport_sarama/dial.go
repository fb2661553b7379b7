package saramatransport

import (
	"context"
	"net"

	"github.com/IBM/sarama"

	"github.com/ktables/ktables/transport"
)

// netDialer is what sarama's Config.Net.Proxy.Dialer holds
// (golang.org/x/net/proxy.Dialer).
type netDialer interface {
	Dial(network, addr string) (net.Conn, error)
}

// dialer is the dialer of every connection the transport opens. sarama
// calls it through Config.Net.Proxy, which is its only hook to the raw
// connection. It does three things sarama cannot:
//
//   - It dials under a context, and Close closes every connection it made.
//     sarama holds a broker's lock for the whole round trip of a request, so
//     Broker.Close waits behind an in-flight long-poll fetch; closing the
//     socket underneath ends that fetch at once. This is how a fetch
//     session's Close (and a client's) is prompt and leaks nothing.
//   - It keeps the caller's dialing: the caller's proxy dialer when
//     Net.Proxy is enabled, else a net.Dialer with the caller's DialTimeout,
//     KeepAlive and LocalAddr. TLS is layered on top by sarama as usual.
//   - It lets a saslWatch see SASL exchanges (transport.SniffSASL).
type dialer struct {
	base netDialer   // the caller's proxy dialer, or nil
	net  *net.Dialer // used when base is nil
	sasl *saslWatch  // nil: not watched
	// watch checks frames (plaintext only), keeps the last connection
	// failure (dial or read, cleared by a response: it names the cause
	// when a call runs out of time) and closes a broker's silent
	// connections together (issue 16 item 9).
	watch transport.ConnWatch
	conns transport.ConnSet // closed together by Close
	ctx   context.Context
	stop  context.CancelFunc
}

func newDialer(cfg *sarama.Config, w *saslWatch) *dialer {
	d := &dialer{}
	if cfg.Net.Proxy.Enable && cfg.Net.Proxy.Dialer != nil {
		if pd, ok := cfg.Net.Proxy.Dialer.(*dialer); ok {
			// A config we already instrumented (NewFromClient over a
			// client built by this package): dial as it did.
			d.base, d.net = pd.base, pd.net
		} else {
			d.base = cfg.Net.Proxy.Dialer
		}
	} else {
		d.net = &net.Dialer{Timeout: cfg.Net.DialTimeout, KeepAlive: cfg.Net.KeepAlive, LocalAddr: cfg.Net.LocalAddr}
	}
	if cfg.Net.SASL.Enable && !cfg.Net.TLS.Enable {
		// SASL exchanges can only be recognized in plaintext.
		d.sasl = w
	}
	d.watch.Frames, d.watch.MaxResponse = !cfg.Net.TLS.Enable, sarama.MaxResponseSize
	d.ctx, d.stop = context.WithCancel(context.Background())
	return d
}

// lastErr returns the last connection failure since the last response.
func (d *dialer) lastErr() error { return d.watch.Last.Err() }

// install makes cfg dial through d.
func (d *dialer) install(cfg *sarama.Config) {
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = d
}

// Dial implements golang.org/x/net/proxy.Dialer.
func (d *dialer) Dial(network, addr string) (net.Conn, error) {
	var (
		c   net.Conn
		err error
	)
	if d.base != nil {
		c, err = d.base.Dial(network, addr)
	} else {
		c, err = d.net.DialContext(d.ctx, network, addr)
	}
	if c, err = d.watch.Dialed(c, err); err != nil {
		return nil, err
	}
	if d.sasl != nil {
		c = transport.SniffSASL(c, d.sasl)
	}
	return d.conns.Add(c)
}

// drop closes every connection d made; later dials go on.
func (d *dialer) drop() { d.conns.Drop() }

// Close closes every connection d made and fails later dials.
func (d *dialer) Close() {
	d.stop()
	d.conns.Close()
}

// saslWatch makes rejected SASL credentials fail clearly.
//
// A broker that rejects credentials with SASL_AUTHENTICATION_FAILED (Kafka
// 1.0+) makes sarama fail with sarama.ErrSASLAuthenticationFailed, which
// maps to transport.ErrAuthentication directly. Some brokers instead close
// the connection in the middle of the SASL exchange: Kafka before 1.0, and
// kfake. sarama then sees io.EOF, takes the broker for unreachable and
// ends with sarama.ErrOutOfBrokers, so a wrong password would look like a
// network fault that the core retries forever.
//
// The transport's dialers watch the requests written on each plaintext
// connection: when connections keep dying right after a SASL request
// (twice in a row, with no authenticated connection since), network
// failures are reported as transport.ErrAuthentication instead.
type saslWatch = transport.SASLFailures
