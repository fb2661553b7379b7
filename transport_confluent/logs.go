//go:build cgo

package confluenttransport

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Option configures [New].
type Option func(*options) error

type options struct {
	logger *slog.Logger
	logged bool // WithLogger was given
}

// WithLogger sends librdkafka's log lines from every handle the transport
// opens to l (default: discarded, so nothing reaches stderr). Each record
// carries librdkafka's message, prefixed "librdkafka: ", at a level mapped
// from syslog's (0–3 Error, 4 Warn, 5–6 Info, 7 Debug), with attributes
// name (the handle, "rdkafka#producer-1"), tag (librdkafka's context:
// "FAIL", "METADATA", ...) and client (the client.id the name starts
// with). A nil logger is an error matching transport.ErrInvalidConfig.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			return invalidConfig(errors.New("WithLogger: nil logger"))
		}
		o.logger, o.logged = l, true
		return nil
	}
}

func newOptions(opts []Option) (options, error) {
	o := options{logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		if opt == nil {
			return options{}, invalidConfig(errors.New("nil Option"))
		}
		if err := opt(&o); err != nil {
			return options{}, err
		}
	}
	return o, nil
}

// Configuration keys of confluent-kafka-go's log forwarding. Without
// logsEnable, librdkafka prints its log lines to stderr itself.
const (
	logsEnable  = "go.logs.channel.enable"
	logsChannel = "go.logs.channel"
)

// logBuffer is the shared channel's capacity. When it is full, each
// handle's log goroutine waits and librdkafka keeps further lines queued
// inside itself: a slow handler delays logs, never the client.
const logBuffer = 1024

// logSink forwards the log lines of every handle the transport opens, sent
// to one channel, to a logger. One goroutine serves all the handles.
type logSink struct {
	log  *slog.Logger
	ch   chan kafka.LogEvent
	stop chan struct{} // closed by Close once every handle is closed
	done chan struct{} // closed when run returns
}

// routeLogs sets base, which every handle's ConfigMap starts from, to
// forward librdkafka's logs to a sink over o's logger, unless conf (the
// caller's) chose otherwise: go.logs.channel.enable=false keeps
// librdkafka's stderr, a go.logs.channel of the caller's gets the lines
// instead. It returns nil when the transport has no sink to run.
//
// Without a logger, and when conf says nothing of logs, librdkafka is told
// to log nothing (log_level 0, emergencies, which it never logs) instead:
// confluent-kafka-go serves a forwarded handle's logs with a goroutine that
// wakes every 100 ms, a tenth of an idle reader's CPU, to discard every
// line.
func routeLogs(base, conf kafka.ConfigMap, o options) *logSink {
	if !o.logged && !setsAny(conf, logsEnable, logsChannel, "log_level", "debug") {
		base["log_level"] = 0
		return nil
	}
	log := o.logger
	if _, set := conf[logsEnable]; !set {
		base[logsEnable] = true
	}
	if enabled, _ := base[logsEnable].(bool); !enabled {
		return nil
	}
	if _, set := conf[logsChannel]; set {
		return nil
	}
	s := &logSink{log: log, ch: make(chan kafka.LogEvent, logBuffer), stop: make(chan struct{}), done: make(chan struct{})}
	base[logsChannel] = s.ch
	go s.run()
	return s
}

func setsAny(conf kafka.ConfigMap, keys ...string) bool {
	for _, k := range keys {
		if _, set := conf[k]; set {
			return true
		}
	}
	return false
}

func (s *logSink) run() {
	defer close(s.done)
	for {
		select {
		case ev := <-s.ch:
			s.emit(ev)
		case <-s.stop:
			// The handles are closed: nothing more is sent, and what
			// they sent before is still told.
			for {
				select {
				case ev := <-s.ch:
					s.emit(ev)
				default:
					return
				}
			}
		}
	}
}

// close ends the sink once every handle sending to it is closed. The
// channel itself is never closed: a handle's log goroutine may still be
// selecting on it while librdkafka shuts down.
func (s *logSink) close() {
	if s == nil {
		return
	}
	close(s.stop)
	<-s.done
}

func (s *logSink) emit(ev kafka.LogEvent) {
	// A handler that panics loses its record, not the process.
	defer func() { _ = recover() }()
	ctx := context.Background()
	h := s.log.Handler()
	level := slogLevel(ev.Level)
	if !h.Enabled(ctx, level) {
		return
	}
	r := slog.NewRecord(ev.Timestamp, level, "librdkafka: "+ev.Message, 0)
	r.AddAttrs(slog.String("name", ev.Name), slog.String("tag", ev.Tag), slog.String("client", clientID(ev.Name)))
	_ = h.Handle(ctx, r)
}

// slogLevel maps a syslog level (lower is more severe), librdkafka's.
func slogLevel(syslog int) slog.Level {
	switch {
	case syslog <= 3: // emergency, alert, critical, error
		return slog.LevelError
	case syslog == 4: // warning
		return slog.LevelWarn
	case syslog <= 6: // notice, informational
		return slog.LevelInfo
	default:
		return slog.LevelDebug
	}
}

// clientID is the client.id part of a librdkafka handle name,
// "<client.id>#<type>-<n>".
func clientID(name string) string {
	id, _, _ := strings.Cut(name, "#")
	return id
}
