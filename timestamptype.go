package ktables

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ktables/ktables/transport"
)

// TimestampType is how a topic's records are stamped
// (message.timestamp.type), as a table opened WithTTL read it at open: it
// says whose clock decides when a lease expires (docs/CONSISTENCY.md).
type TimestampType uint8

const (
	// TimestampUnknown: not read — the table has no TTL, the transport
	// cannot describe topic configs, or the describe failed.
	TimestampUnknown TimestampType = iota
	// TimestampCreateTime: producers stamp records with their own clocks;
	// expiry depends on them agreeing with this process's clock.
	TimestampCreateTime
	// TimestampLogAppendTime: the broker stamps records when it appends
	// them; only its clock and this process's matter.
	TimestampLogAppendTime
)

func (tt TimestampType) String() string {
	switch tt {
	case TimestampUnknown:
		return "unknown"
	case TimestampCreateTime:
		return "CreateTime"
	case TimestampLogAppendTime:
		return logAppendTime
	}
	return fmt.Sprintf("TimestampType(%d)", uint8(tt))
}

func parseTimestampType(s string) TimestampType {
	switch {
	case strings.EqualFold(s, logAppendTime):
		return TimestampLogAppendTime
	case strings.EqualFold(s, "CreateTime"):
		return TimestampCreateTime
	}
	return TimestampUnknown
}

// TimestampType returns the topic's message.timestamp.type as read when
// the table opened, for a table opened WithTTL; TimestampUnknown otherwise.
func (t *Table[V]) TimestampType() TimestampType { return t.tsType }

// TimestampType returns the topic's message.timestamp.type; see
// Table.TimestampType.
func (g *GroupedTable[V]) TimestampType() TimestampType { return g.t.TimestampType() }

// learnTimestampType finds, once at open and only for a table with a TTL,
// whose clock stamps the records it expires: from what EnsureTopic created,
// reconciled or read, else with one describe. It never fails the open:
// without an answer the table expires by record timestamps all the same.
func (t *Table[V]) learnTimestampType(ctx context.Context, ensured EnsureResult) {
	tt := TimestampUnknown
	switch {
	case wantsLogAppendTime(&t.cfg) && (ensured.Outcome == OutcomeCreated || ensured.Outcome == OutcomeReconciled):
		tt = TimestampLogAppendTime
	case ensured.TimestampType != "":
		tt = parseTimestampType(ensured.TimestampType)
	}
	if tt == TimestampUnknown {
		tc, ok := t.tr.(transport.TopicConfigurer)
		if !ok {
			t.log.Debug("ktables: transport cannot describe topic configs; message.timestamp.type unknown")
			return
		}
		entries, err := tc.DescribeTopicConfig(ctx, t.topic)
		if err != nil {
			t.log.Debug("ktables: cannot read message.timestamp.type", slog.Any("error", err))
			return
		}
		for _, e := range entries {
			if e.Name == timestampTypeConfig {
				tt = parseTimestampType(e.Value)
			}
		}
	}
	t.tsType = tt
	switch tt {
	case TimestampLogAppendTime:
		t.log.Debug("ktables: topic uses LogAppendTime: the broker's clock decides expiry")
	case TimestampCreateTime:
		t.log.Info("ktables: topic uses CreateTime: expiry depends on the producers' clocks agreeing with this one (see WithLogAppendTime)",
			slog.Duration("ttl", t.cfg.ttl))
	default:
		t.log.Debug("ktables: message.timestamp.type not listed by the broker")
	}
}
