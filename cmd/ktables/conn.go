package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ktables/ktables/transport"
)

// Environment variables read by the command.
const (
	envBrokers      = "KTABLES_BROKERS"
	envSASLPassword = "KTABLES_SASL_PASSWORD"
)

// security is the TLS and SASL configuration, built once from the flags and
// mapped to each client's own configuration.
type security struct {
	tls *tls.Config // nil: plaintext
	// The PEM files behind tls, for clients that read files themselves
	// (librdkafka); empty when not given.
	caFile, certFile, keyFile string
	mechanism                 string // "", "plain", "scram-sha-256" or "scram-sha-512"
	user                      string
	password                  string
}

// clientFactory builds a transport for one Kafka client.
type clientFactory func(seeds []string, sec *security) (transport.Transport, error)

// clients are the Kafka clients the command can use, by --client name.
var clients = map[string]clientFactory{
	"franz":   newFranz,
	"sarama":  newSarama,
	"kafkago": newKafkaGo,
}

func clientNames() string {
	names := make([]string, 0, len(clients))
	for n := range clients {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

var saslMechanisms = []string{"plain", "scram-sha-256", "scram-sha-512"}

// connFlags are the flags shared by every command that talks to a cluster.
type connFlags struct {
	brokers  string
	client   string
	timeout  time.Duration
	tls      bool
	tlsCA    string
	tlsCert  string
	tlsKey   string
	saslMech string
	saslUser string
	saslPass string
}

func (c *connFlags) register(fs *flag.FlagSet, sio *stdio) {
	fs.StringVar(&c.brokers, "brokers", sio.getenv(envBrokers), "comma-separated seed brokers host:port (default $"+envBrokers+")")
	fs.StringVar(&c.client, "client", "franz", "Kafka client: "+clientNames())
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "bound on the whole command (connect, open, catch-up, writes)")
	fs.BoolVar(&c.tls, "tls", false, "connect with TLS (implied by --tls-ca, --tls-cert, --tls-key)")
	fs.StringVar(&c.tlsCA, "tls-ca", "", "PEM file of CA certificates to verify the brokers with (default: system roots)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM file of a client certificate (with --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM file of the client certificate's private key")
	fs.StringVar(&c.saslMech, "sasl-mechanism", "", "SASL mechanism: "+strings.Join(saslMechanisms, "|"))
	fs.StringVar(&c.saslUser, "sasl-user", "", "SASL user name")
	fs.StringVar(&c.saslPass, "sasl-password", sio.getenv(envSASLPassword), "SASL password (default $"+envSASLPassword+")")
}

// seeds returns the seed brokers, empty when none were given.
func (c *connFlags) seeds() []string {
	var out []string
	for s := range strings.SplitSeq(c.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validate checks what can be checked without the network; requireBrokers
// is false for the demo, which can start its own broker.
func (c *connFlags) validate(requireBrokers bool) error {
	if _, ok := clients[c.client]; !ok {
		return usagef("unknown --client %q (want %s)", c.client, clientNames())
	}
	if c.timeout <= 0 {
		return usagef("--timeout must be positive, got %s", c.timeout)
	}
	if requireBrokers && len(c.seeds()) == 0 {
		return usagef("no brokers: give --brokers host:port or set %s", envBrokers)
	}
	for _, s := range c.seeds() {
		if err := checkHostPort(s); err != nil {
			return usagef("--brokers: %v", err)
		}
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	if c.saslMech != "" && !slices.Contains(saslMechanisms, c.saslMech) {
		return usagef("unknown --sasl-mechanism %q (want %s)", c.saslMech, strings.Join(saslMechanisms, "|"))
	}
	if c.saslMech == "" && c.saslUser != "" {
		return usagef("--sasl-user needs --sasl-mechanism")
	}
	if c.saslMech != "" && c.saslUser == "" {
		return usagef("--sasl-mechanism %s needs --sasl-user", c.saslMech)
	}
	return nil
}

// checkHostPort accepts host:port with a port in 1..65535.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number in 1..65535", s, port)
	}
	return nil
}

// security loads the TLS files and returns the configuration.
func (c *connFlags) security() (*security, error) {
	sec := &security{mechanism: c.saslMech, user: c.saslUser, password: c.saslPass}
	if !c.tls && c.tlsCA == "" && c.tlsCert == "" {
		return sec, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsCA != "" {
		pem, err := os.ReadFile(c.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca: no PEM certificate found in %s", c.tlsCA)
		}
		cfg.RootCAs = pool
	}
	if c.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	sec.tls = cfg
	sec.caFile, sec.certFile, sec.keyFile = c.tlsCA, c.tlsCert, c.tlsKey
	return sec, nil
}

// connect checks that a broker answers on TCP, then builds the transport of
// the chosen client. It fails fast, naming the brokers, when none can be
// reached.
func (c *connFlags) connect(ctx context.Context) (transport.Transport, error) {
	sec, err := c.security()
	if err != nil {
		return nil, err
	}
	seeds := c.seeds()
	if err := dialAny(ctx, seeds); err != nil {
		return nil, err
	}
	tr, err := clients[c.client](seeds, sec)
	if err != nil {
		return nil, fmt.Errorf("%s client: %w", c.client, err)
	}
	return tr, nil
}

// dialAny returns nil once one seed accepts a TCP connection, or an error
// naming every seed and why it failed.
func dialAny(ctx context.Context, seeds []string) error {
	var d net.Dialer
	var errs []string
	for _, s := range seeds {
		conn, err := d.DialContext(ctx, "tcp", s)
		if err == nil {
			conn.Close()
			return nil
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("cannot reach any broker of %s: %s", strings.Join(seeds, ","), strings.Join(errs, "; "))
}

// explain turns an error from stage into a message naming the problem:
// the command's timeout, an interruption, a missing topic, credentials.
func (c *connFlags) explain(ctx context.Context, stage string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("timed out after %s %s on %s (%s client; is the broker reachable, and do TLS and SASL settings match it?): %w",
			c.timeout, stage, c.brokers, c.client, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("interrupted while %s", stage)
	case errors.Is(err, transport.ErrAuthentication):
		return fmt.Errorf("%s: authentication failed (check --sasl-mechanism, --sasl-user and the password): %w", stage, err)
	case errors.Is(err, transport.ErrAuthorization):
		return fmt.Errorf("%s: not authorized: %w", stage, err)
	}
	return fmt.Errorf("%s: %w", stage, err)
}
