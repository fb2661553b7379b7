package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ktables/ktables/transport"
)

// T is the part of *testing.T the cases use; *testing.T implements it.
// Another implementation must stop the calling goroutine in Fatalf and Skipf
// (runtime.Goexit, as package testing does) and run cleanups after the case
// returns, in reverse order of registration.
type T interface {
	Helper()
	Name() string
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	Cleanup(func())
}

var _ T = (*testing.T)(nil)

// Case is one check of the contract. Its Name starts with the SPEC clause it
// checks, e.g. "X3/fetch_returns_records_in_offset_order", and so does every
// failure it reports ("SPEC X3: ...").
type Case struct {
	Name   string
	Clause string
	// Requires lists the features without which the case is skipped.
	Requires []Feature
	// Serial cases must not run beside others, because they inject faults
	// a harness may apply cluster-wide.
	Serial bool

	run func(e *env)
}

// Run runs the case with t against h: it skips when h lacks a required
// feature, gives the case a fresh transport and a context whose deadline is
// the case timeout, and closes what it opened when the case ends. RunCases
// calls it in a subtest per case; call it directly to run a case under
// another T.
func (c Case) Run(t T, h Harness) {
	t.Helper()
	feats := h.Features()
	for _, f := range c.Requires {
		if !feats.Has(f) {
			t.Skipf("feature %s not supported by this harness: %s", f, featureInfo[f].why)
		}
	}
	tu := tuningOf(h)
	// Registered first, so it is stopped last: a cleanup that hangs on a
	// transport ignoring its context is caught too.
	dog := watchdog(t.Name(), c.Clause, tu.CaseTimeout+15*time.Second)
	t.Cleanup(func() { dog.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), tu.CaseTimeout)
	t.Cleanup(cancel)
	e := &env{t: t, c: c, h: h, feats: feats, tu: tu, ctx: ctx}
	e.tr = e.newTransport()
	c.run(e)
}

// watchdog ends the test binary with a goroutine dump when a case outlives
// its deadline by far, which only a call that ignores its context can cause:
// a hung suite tells nobody anything.
func watchdog(name, clause string, after time.Duration) *time.Timer {
	return time.AfterFunc(after, func() {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "conformance: case %s (SPEC %s) is still running %s after it started, past its deadline: "+
			"some call ignores its context. Goroutines:\n%s\n", name, clause, after, buf)
		panic(fmt.Sprintf("conformance: case %s hung (SPEC %s)", name, clause))
	})
}

// RunCases runs each case as a subtest of t named after it. Cases run in
// parallel with each other unless marked Serial.
func RunCases(t *testing.T, h Harness, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if !c.Serial {
				t.Parallel()
			}
			c.Run(t, h)
		})
	}
}

// RunTransport runs the transport contract (SPEC 11 and 2) against h.
func RunTransport(t *testing.T, h Harness) {
	t.Helper()
	RunCases(t, h, TransportCases())
}

// RunTable runs the table contract (SPEC 2 to 9) against h: the core library
// over the harness's transport.
func RunTable(t *testing.T, h Harness) {
	t.Helper()
	RunCases(t, h, TableCases())
}

// Run runs the whole suite: subtests "transport" then "table".
func Run(t *testing.T, h Harness) {
	t.Helper()
	t.Run("transport", func(t *testing.T) { RunTransport(t, h) })
	t.Run("table", func(t *testing.T) { RunTable(t, h) })
}

// AllCases returns the transport cases followed by the table cases.
func AllCases() []Case { return append(TransportCases(), TableCases()...) }

// runID keeps topics of separate runs against one external cluster apart.
var (
	runID    = fmt.Sprintf("%06x", rand.Uint32()&0xffffff)
	topicSeq atomic.Int64
)

// topicName makes a unique, valid topic name from a test name.
func topicName(testName string) string {
	var b strings.Builder
	for i := 0; i < len(testName); i++ {
		switch c := testName[i]; {
		case c == '/':
			b.WriteByte('.')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	const keep = 200 // of Kafka's 249; the end of a test name says most
	if len(s) > keep {
		s = s[len(s)-keep:]
	}
	return fmt.Sprintf("ktc-%s-%s-%d", runID, s, topicSeq.Add(1))
}

// env is what a case works with.
type env struct {
	t     T
	c     Case
	h     Harness
	feats Features
	tu    Tuning
	ctx   context.Context     // the case deadline
	tr    transport.Transport // the case's own client
}

func (e *env) msg(clause, format string, args []any) string {
	return fmt.Sprintf("SPEC %s: %s", clause, fmt.Sprintf(format, args...))
}

// Errorf reports a failure of the case's clause.
func (e *env) Errorf(format string, args ...any) {
	e.t.Helper()
	e.t.Errorf("%s", e.msg(e.c.Clause, format, args))
}

// Fatalf reports a failure of the case's clause and stops the case.
func (e *env) Fatalf(format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("%s", e.msg(e.c.Clause, format, args))
}

// ErrorfAt and FatalfAt report a failure of another clause than the case's.
func (e *env) ErrorfAt(clause, format string, args ...any) {
	e.t.Helper()
	e.t.Errorf("%s", e.msg(clause, format, args))
}

func (e *env) FatalfAt(clause, format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("%s", e.msg(clause, format, args))
}

// harnessFatalf reports a broken harness: not a contract failure.
func (e *env) harnessFatalf(format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("harness: %s", fmt.Sprintf(format, args...))
}

// newTransport returns a new client, closed when the case ends.
func (e *env) newTransport() transport.Transport {
	e.t.Helper()
	tr, err := e.h.NewTransport(e.ctx)
	if err != nil {
		e.harnessFatalf("NewTransport: %v", err)
	}
	if tr == nil {
		e.harnessFatalf("NewTransport returned nil")
	}
	e.t.Cleanup(func() { tr.Close() })
	return tr
}

// otherProcess returns a client standing for another process: an
// independent one when the harness can make it, else the case's own.
func (e *env) otherProcess() transport.Transport {
	e.t.Helper()
	if e.feats.SecondProcess {
		return e.newTransport()
	}
	return e.tr
}

// topic returns a fresh topic name for the case (not created).
func (e *env) topic() string { return topicName(e.t.Name()) }

// newTopic creates a fresh topic with n partitions and the given configs
// (nil: the broker's defaults, so cleanup.policy=delete, which unlike compact
// accepts keyless records) and waits until the transport lists it.
func (e *env) newTopic(n int32, configs map[string]string) string {
	e.t.Helper()
	name := e.topic()
	if err := e.tr.CreateTopic(e.ctx, transport.TopicSpec{Name: name, Partitions: n, Configs: configs}); err != nil {
		e.FatalfAt("X5", "CreateTopic(%q, %d partitions): %v", name, n, err)
	}
	e.waitPartitions(e.tr, name, n)
	return name
}

// waitPartitions polls until tr lists n partitions of topic: a real cluster
// propagates metadata asynchronously.
func (e *env) waitPartitions(tr transport.Transport, topic string, n int32) []int32 {
	e.t.Helper()
	var (
		parts []int32
		err   error
	)
	e.eventually(fmt.Sprintf("Partitions(%q) lists %d partitions", topic, n), func() bool {
		parts, err = tr.Partitions(e.ctx, topic)
		return err == nil && int32(len(parts)) == n
	}, func() string { return fmt.Sprintf("last answer %v, %v", parts, err) })
	return parts
}

// eventually polls cond until it holds or the case deadline passes.
func (e *env) eventually(what string, cond func() bool, last func() string) {
	e.t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-e.ctx.Done():
			detail := ""
			if last != nil {
				detail = "; " + last()
			}
			e.Fatalf("timed out waiting until %s%s", what, detail)
		case <-tick.C:
		}
	}
}

func (e *env) produce(tr transport.Transport, topic string, rec transport.Record) int64 {
	e.t.Helper()
	off, err := tr.Produce(e.ctx, topic, rec)
	if err != nil {
		e.FatalfAt("X4", "Produce(%q, partition %d, key %q): %v", topic, rec.Partition, rec.Key, err)
	}
	return off
}

func (e *env) endOffsets(tr transport.Transport, topic string, parts []int32) map[int32]int64 {
	e.t.Helper()
	m, err := tr.EndOffsets(e.ctx, topic, parts)
	if err != nil {
		e.FatalfAt("X2", "EndOffsets(%q, %v): %v", topic, parts, err)
	}
	return m
}

func (e *env) startOffsets(tr transport.Transport, topic string, parts []int32) map[int32]int64 {
	e.t.Helper()
	m, err := tr.StartOffsets(e.ctx, topic, parts)
	if err != nil {
		e.FatalfAt("X2", "StartOffsets(%q, %v): %v", topic, parts, err)
	}
	return m
}

func (e *env) newFetcher(tr transport.Transport, topic string, from map[int32]int64, maxWait time.Duration) transport.Fetcher {
	e.t.Helper()
	f, err := tr.NewFetcher(e.ctx, topic, from, transport.FetchOptions{MaxWait: maxWait})
	if err != nil {
		e.FatalfAt("X3", "NewFetcher(%q, %v): %v", topic, from, err)
	}
	e.t.Cleanup(func() { f.Close() })
	return f
}

// drain polls f until its positions reach until (per partition) and returns
// the records and the final positions. The fetch must make progress before
// the case deadline.
func (e *env) drain(f transport.Fetcher, from, until map[int32]int64) ([]transport.Record, map[int32]int64) {
	e.t.Helper()
	pos := make(map[int32]int64, len(from))
	for p, o := range from {
		pos[p] = o
	}
	done := func() bool {
		for p, end := range until {
			if pos[p] < end {
				return false
			}
		}
		return true
	}
	var recs []transport.Record
	for !done() {
		b, err := f.Poll(e.ctx)
		if err != nil {
			if e.ctx.Err() != nil {
				e.FatalfAt("R4", "fetch never reached the end offsets %v: positions stalled at %v (Batch.Next must move past gaps and control records, X3)", until, pos)
			}
			e.FatalfAt("X3", "Poll: %v", err)
		}
		recs = append(recs, b.Records...)
		for p, n := range b.Next {
			if n < pos[p] {
				e.ErrorfAt("X3", "Batch.Next[%d] = %d went backwards from %d", p, n, pos[p])
			}
			pos[p] = n
		}
		for _, r := range b.Records {
			if r.Offset >= pos[r.Partition] {
				e.ErrorfAt("R4", "record at partition %d offset %d, but Batch.Next[%d] = %d does not move past it", r.Partition, r.Offset, r.Partition, pos[r.Partition])
			}
		}
	}
	return recs, pos
}

// compacted returns the configs of a table topic.
func compacted() map[string]string { return map[string]string{"cleanup.policy": "compact"} }

// partitionIDs returns 0..n-1.
func partitionIDs(n int32) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(i)
	}
	return out
}
