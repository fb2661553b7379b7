package ktables

import (
	"fmt"
	"log/slog"
	"time"
)

// Option configures Open, OpenWriter, OpenGrouped, OpenGroupedWriter and
// EnsureTopic. Options are checked when the value is constructed: a bad one
// fails construction with an error matching ErrInvalidOption, before any
// network call. An option that does not apply to what is being built (a
// catch-up timeout given to a writer, say) is an error too, so a mistake never
// passes silently.
type Option interface {
	apply(*config) error
	scope() scope
}

// scope is the set of constructors an option applies to: each constructor
// builds its config for exactly one of the for* bits.
type scope uint8

const (
	forTable         scope = 1 << iota // Open
	forGroupedTable                    // OpenGrouped
	forWriter                          // OpenWriter
	forGroupedWriter                   // OpenGroupedWriter
	forEnsure                          // EnsureTopic

	scopeTable   = forTable | forGroupedTable   // tables, flat and grouped
	scopeWriter  = forWriter | forGroupedWriter // writers, flat and grouped
	scopeEnsure  = forEnsure                    // topic management
	scopeGrouped = forGroupedTable | forGroupedWriter
	scopeFlat    = forTable | forWriter
	scopeAll     = scopeTable | scopeWriter | scopeEnsure
	scopeClient  = scopeTable | scopeWriter
)

func (s scope) String() string {
	switch s {
	case forTable:
		return "Open (flat tables)"
	case forGroupedTable:
		return "OpenGrouped"
	case forWriter:
		return "OpenWriter (flat writers)"
	case forGroupedWriter:
		return "OpenGroupedWriter"
	case forEnsure:
		return "EnsureTopic"
	}
	return "this constructor"
}

type option struct {
	name string
	sc   scope
	fn   func(*config) error
}

func (o option) apply(c *config) error {
	if err := o.fn(c); err != nil {
		return &OptionError{Option: o.name, Reason: err.Error()}
	}
	return nil
}
func (o option) scope() scope { return o.sc }

func newOption(name string, sc scope, fn func(*config) error) Option {
	return option{name: name, sc: sc, fn: fn}
}

// Defaults. The catch-up timeout follows the Python library.
//
// The fetch long poll is longer than Kafka's consumer default of 500 ms: an
// idle reader's cost is its polls (at 500 ms they were most of its CPU),
// and nothing waits for one to end. A record arriving ends the poll at
// once; a Barrier asks for end offsets on a path of its own; discovery ends
// the poll to hand over new partitions (pollwake.go); Close cancels it. It
// stays well inside every adapter's read timeout (sarama's 3 s is the
// shortest), so a dead connection is still told from a quiet one.
const (
	DefaultCatchUpTimeout   = 30 * time.Second
	DefaultFetchMaxWait     = 2 * time.Second
	DefaultPartitionRefresh = 10 * time.Second
	DefaultRetryBackoffMin  = 50 * time.Millisecond
	DefaultRetryBackoffMax  = 5 * time.Second
	DefaultWriteRetries     = 5
)

type config struct {
	// table
	catchUpTimeout  time.Duration
	fetchMaxWait    time.Duration
	fetchMaxWaitSet bool // WithFetchMaxWait was given: staleness does not shorten it
	// Hooks in registration order, checked against V at Open (hooks.go):
	// func(string, V) for flat tables, func(string, string, V) for grouped.
	onSet, onDelete             []any
	onMemberSet, onMemberDelete []any
	onCaughtUp                  func()
	maxStaleness                time.Duration                         // staleness.go; 0: off
	onStale                     func(stale bool, confirmed time.Time) // staleness.go

	// table and writer
	logger           *slog.Logger
	observers        []Observer // observer.go
	partitionRefresh time.Duration
	backoffMin       time.Duration
	backoffMax       time.Duration
	ownTransport     bool
	ensure           bool

	// writer
	writeRetries int

	// flat tables and writers
	keyFormat KeyFormat

	// grouped
	keyCodec KeyCodec

	// topic management
	partitions        int32
	replicationFactor int16
	topicConfigs      map[string]string
	onMismatch        MismatchMode
	onMismatchSet     bool

	// watch and leases (watch.go, expiry.go)
	ttl         time.Duration // zero: keys never expire
	watchBuffer int           // zero: DefaultWatchBuffer
}

func defaultConfig() config {
	return config{
		catchUpTimeout:   DefaultCatchUpTimeout,
		fetchMaxWait:     DefaultFetchMaxWait,
		logger:           slog.New(slog.DiscardHandler),
		partitionRefresh: DefaultPartitionRefresh,
		backoffMin:       DefaultRetryBackoffMin,
		backoffMax:       DefaultRetryBackoffMax,
		ensure:           true,
		writeRetries:     DefaultWriteRetries,
		partitions:       1,
		onMismatch:       OnMismatchWarn,
		keyFormat:        UTF8Keys(),
		keyCodec:         DefaultKeyCodec,
	}
}

// buildConfig applies opts for a constructor of scope sc and checks the
// combination.
func buildConfig(sc scope, opts []Option) (config, error) {
	c := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return c, optionErr("nil", "a nil Option was passed")
		}
		if o.scope()&sc == 0 {
			name := fmt.Sprintf("%T", o)
			if op, ok := o.(option); ok {
				name = op.name
			}
			return c, optionErr(name, "does not apply to %s", sc)
		}
		if err := o.apply(&c); err != nil {
			return c, err
		}
	}
	// warn and ignore change nothing, so they combine with WithoutEnsureTopic
	// (SPEC E2); fail and reconcile promise a checked topic, which needs
	// topic management.
	if !c.ensure && c.onMismatchSet && (c.onMismatch == OnMismatchFail || c.onMismatch == OnMismatchReconcile) {
		return c, optionErr("WithOnMismatch", "mode %s needs topic management, which WithoutEnsureTopic disabled", c.onMismatch)
	}
	if c.backoffMin > c.backoffMax {
		return c, optionErr("WithRetryBackoff", "min %s exceeds max %s", c.backoffMin, c.backoffMax)
	}
	// An idle table confirms the head once per long poll: several per
	// staleness bound keep a quiet table from reading as stale.
	if !c.fetchMaxWaitSet && c.maxStaleness > 0 {
		c.fetchMaxWait = max(min(c.fetchMaxWait, c.maxStaleness/4), minAutoFetchWait)
	}
	return c, nil
}

// minAutoFetchWait is the shortest long poll a staleness bound chooses.
const minAutoFetchWait = 10 * time.Millisecond

func positive(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("must be positive, got %s", d)
	}
	return nil
}

// WithCatchUpTimeout bounds how long Open waits for the table to reach the
// end offsets it saw at open time (default 30 s). When it passes, Open returns
// a serving table with status Degraded that keeps catching up (SPEC L1).
func WithCatchUpTimeout(d time.Duration) Option {
	return newOption("WithCatchUpTimeout", scopeTable, func(c *config) error {
		c.catchUpTimeout = d
		return positive(d)
	})
}

// WithFetchMaxWait sets the fetch long poll: how long a caught-up reader's
// fetch waits for records before the broker answers empty (default
// DefaultFetchMaxWait, or a quarter of WithMaxStaleness when that is
// shorter). It does not delay records, Barrier, new partitions or Close;
// shorter polls only confirm the head more often (SPEC T4) at the cost of
// idle CPU.
func WithFetchMaxWait(d time.Duration) Option {
	return newOption("WithFetchMaxWait", scopeTable, func(c *config) error {
		c.fetchMaxWait, c.fetchMaxWaitSet = d, true
		return positive(d)
	})
}

// OnSet registers a hook called on the reader goroutine after a key of a
// flat table is set, with the decoded value (SPEC D3). V must match the
// table's value type. The hook must not block for long: the table applies
// nothing while it runs. OnSet may be given more than once: the hooks all
// run, in the order given. Grouped tables take OnMemberSet instead.
func OnSet[V any](fn func(key string, value V)) Option {
	return newOption("OnSet", forTable, func(c *config) error {
		if fn == nil {
			return fmt.Errorf("nil hook")
		}
		c.onSet = append(c.onSet, fn)
		return nil
	})
}

// OnDelete registers a hook called on the reader goroutine after a tombstone
// removed a key of a flat table that was present, with the value it had. A
// tombstone for a key the table does not hold changes nothing and calls no
// hook (ADR 9); Stats.TombstonesApplied counts every tombstone. OnDelete may
// be given more than once: the hooks all run, in the order given. Grouped
// tables take OnMemberDelete instead.
func OnDelete[V any](fn func(key string, old V)) Option {
	return newOption("OnDelete", forTable, func(c *config) error {
		if fn == nil {
			return fmt.Errorf("nil hook")
		}
		c.onDelete = append(c.onDelete, fn)
		return nil
	})
}

// OnMemberSet registers a hook called on the reader goroutine after a
// member of a grouped table is set, with its group, member and decoded
// value (SPEC D3, G3). Like OnSet it may be given more than once (the hooks
// run in order) and must not block for long.
func OnMemberSet[V any](fn func(group, member string, value V)) Option {
	return newOption("OnMemberSet", forGroupedTable, func(c *config) error {
		if fn == nil {
			return fmt.Errorf("nil hook")
		}
		c.onMemberSet = append(c.onMemberSet, fn)
		return nil
	})
}

// OnMemberDelete registers a hook called on the reader goroutine after a
// tombstone removed a member of a grouped table that was present, with the
// value it had. Like OnDelete it does not fire for absent members, and it
// may be given more than once.
func OnMemberDelete[V any](fn func(group, member string, old V)) Option {
	return newOption("OnMemberDelete", forGroupedTable, func(c *config) error {
		if fn == nil {
			return fmt.Errorf("nil hook")
		}
		c.onMemberDelete = append(c.onMemberDelete, fn)
		return nil
	})
}

// OnCaughtUp registers a hook called once when the table has caught up with
// the end offsets seen at open — before any later record is applied. It runs
// on the reader goroutine (in Open itself when the topic is empty). Hooks fired after it see live changes only, which
// is what a "watch" needs: no change is missed or shown twice between
// catch-up and Open returning.
func OnCaughtUp(fn func()) Option {
	return newOption("OnCaughtUp", scopeTable, func(c *config) error {
		if fn == nil {
			return fmt.Errorf("nil hook")
		}
		c.onCaughtUp = fn
		return nil
	})
}

// WithLogger sends the library's logs to l. The default discards them.
func WithLogger(l *slog.Logger) Option {
	return newOption("WithLogger", scopeAll, func(c *config) error {
		if l == nil {
			return fmt.Errorf("nil logger")
		}
		c.logger = l
		return nil
	})
}

// WithPartitionRefresh sets how often tables look for partitions added after
// open (SPEC L4) and writers refresh the partition count (SPEC W0). Default
// 10 s.
func WithPartitionRefresh(d time.Duration) Option {
	return newOption("WithPartitionRefresh", scopeClient, func(c *config) error {
		c.partitionRefresh = d
		return positive(d)
	})
}

// WithRetryBackoff sets the exponential backoff between retries of transient
// errors (default 50 ms doubling up to 5 s, with jitter).
func WithRetryBackoff(lo, hi time.Duration) Option {
	return newOption("WithRetryBackoff", scopeClient, func(c *config) error {
		c.backoffMin, c.backoffMax = lo, hi
		if err := positive(lo); err != nil {
			return err
		}
		return positive(hi)
	})
}

// WithOwnedTransport makes Close also close the transport. By default the
// caller keeps ownership, so one transport can serve many tables and writers.
func WithOwnedTransport() Option {
	return newOption("WithOwnedTransport", scopeClient, func(c *config) error {
		c.ownTransport = true
		return nil
	})
}

// WithoutEnsureTopic skips topic creation and the policy check at open: the
// topic must exist. Combining it with WithOnMismatch(OnMismatchFail) or
// WithOnMismatch(OnMismatchReconcile) is an error: they need the check.
// OnMismatchWarn and OnMismatchIgnore are allowed (they change nothing).
func WithoutEnsureTopic() Option {
	return newOption("WithoutEnsureTopic", scopeClient, func(c *config) error {
		c.ensure = false
		return nil
	})
}

// WithWriteRetries sets how many times a writer retries a transient produce
// error before returning it (default 5). Zero disables retries.
func WithWriteRetries(n int) Option {
	return newOption("WithWriteRetries", scopeWriter, func(c *config) error {
		c.writeRetries = n
		if n < 0 {
			return fmt.Errorf("must not be negative, got %d", n)
		}
		return nil
	})
}

// WithPartitions sets the partition count used when the topic is created
// (default 1).
func WithPartitions(n int32) Option {
	return newOption("WithPartitions", scopeAll, func(c *config) error {
		c.partitions = n
		if n <= 0 {
			return fmt.Errorf("must be positive, got %d", n)
		}
		return nil
	})
}

// WithReplicationFactor sets the replication factor used when the topic is
// created (default: the broker's default).
func WithReplicationFactor(r int16) Option {
	return newOption("WithReplicationFactor", scopeAll, func(c *config) error {
		c.replicationFactor = r
		if r <= 0 {
			return fmt.Errorf("must be positive, got %d", r)
		}
		return nil
	})
}

// WithTopicConfig adds a topic config used when the topic is created, merged
// over the default cleanup.policy=compact. Setting cleanup.policy to a policy
// without compact is the caller's choice and is not enforced afterwards.
func WithTopicConfig(key, value string) Option {
	return newOption("WithTopicConfig", scopeAll, func(c *config) error {
		if key == "" {
			return fmt.Errorf("empty config key")
		}
		if c.topicConfigs == nil {
			c.topicConfigs = map[string]string{}
		}
		c.topicConfigs[key] = value
		return nil
	})
}

// WithOnMismatch sets what happens when the topic exists and its
// cleanup.policy does not compact (default OnMismatchWarn). See MismatchMode.
func WithOnMismatch(m MismatchMode) Option {
	return newOption("WithOnMismatch", scopeAll, func(c *config) error {
		c.onMismatch, c.onMismatchSet = m, true
		if m < OnMismatchWarn || m > OnMismatchReconcile {
			return fmt.Errorf("unknown mode %d", m)
		}
		return nil
	})
}

// WithKeyCodec sets how grouped tables and writers map (group, member) to a
// record key (default DefaultKeyCodec, the Python library's format). Flat
// tables and writers take WithKeyFormat instead.
func WithKeyCodec(kc KeyCodec) Option {
	return newOption("WithKeyCodec", scopeGrouped, func(c *config) error {
		if kc == nil {
			return fmt.Errorf("nil key codec")
		}
		c.keyCodec = kc
		return nil
	})
}

// WithTTL makes a table hide every key (every member, for a grouped table)
// whose last record is older than d by record timestamp, as leases written
// with GroupedWriter.Announce expect (SPEC V5). A timer hides a key at its
// deadline and watchers get an EventExpired; a fresh record shows it again.
// Records already older than d when they are read (say, during the replay
// at open) are hidden at once.
//
// The age is measured on this process's clock against the record
// timestamp, so clocks must agree to well within d: a topic created with
// WithLogAppendTime makes the broker's clock the only other one. A
// timestamp ahead of this clock counts as now, so a fast writer clock
// cannot extend a lease. d must be at least MinTTL, and longer than the
// writers' lease TTL.
func WithTTL(d time.Duration) Option {
	return newOption("WithTTL", scopeTable, func(c *config) error {
		c.ttl = d
		return validTTL(d)
	})
}

func validTTL(d time.Duration) error {
	if d < MinTTL {
		return fmt.Errorf("must be at least %s, got %s", MinTTL, d)
	}
	return nil
}

// WithWatchBuffer sets how many changes the table keeps for its watchers
// (default DefaultWatchBuffer): a watcher further behind than that gets an
// EventReset and a fresh snapshot. The buffer is shared by every watcher
// and only allocated while one is watching; n is rounded up to a power of
// two and must be between 16 and 1<<20.
func WithWatchBuffer(n int) Option {
	return newOption("WithWatchBuffer", scopeTable, func(c *config) error {
		if n < 16 || n > 1<<20 {
			return fmt.Errorf("must be between 16 and %d, got %d", 1<<20, n)
		}
		size := 16
		for size < n {
			size <<= 1
		}
		c.watchBuffer = size
		return nil
	})
}

// WithLogAppendTime creates the topic with message.timestamp.type=LogAppendTime,
// so that the broker stamps every record with its own clock when it appends
// it. Tables opened WithTTL then compare their clock with the broker's
// only, however skewed the writers' clocks are. It applies when the topic
// is created; on an existing topic with another message.timestamp.type,
// WithOnMismatch decides as for cleanup.policy: warn (the default), fail
// with a *TopicPolicyError, or reconcile (SPEC E2). Table.TimestampType
// says what a table opened WithTTL found.
func WithLogAppendTime() Option {
	return newOption("WithLogAppendTime", scopeAll, func(c *config) error {
		if c.topicConfigs == nil {
			c.topicConfigs = map[string]string{}
		}
		c.topicConfigs[timestampTypeConfig] = "LogAppendTime"
		return nil
	})
}

const timestampTypeConfig = "message.timestamp.type"
