package conformance

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables"
	"github.com/ktables/ktables/memtransport"
	"github.com/ktables/ktables/transport"
)

// The suite is only worth something if it fails broken transports. These
// tests run single cases under a recording T against memtransport wrapped
// in deliberate breakage, and check that the case fails citing its clause,
// while the same case passes against the unbroken transport.

// recorder is a T that records instead of reporting. Fatalf and Skipf stop
// the case's goroutine like package testing does.
type recorder struct {
	name string

	mu       sync.Mutex
	failed   bool
	skipped  bool
	msgs     []string
	cleanups []func()
}

var _ T = (*recorder)(nil)

func (r *recorder) Helper()      {}
func (r *recorder) Name() string { return r.name }

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, "log: "+fmt.Sprintf(format, args...))
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = true
	r.msgs = append(r.msgs, "skip: "+fmt.Sprintf(format, args...))
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

func (r *recorder) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups = append(r.cleanups, f)
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n\t")
}

// record runs c against h under a recorder, cleanups included.
func record(t *testing.T, c Case, h Harness) *recorder {
	r := &recorder{name: t.Name()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			for i := len(r.cleanups) - 1; i >= 0; i-- {
				r.cleanups[i]()
			}
		}()
		c.Run(r, h)
	}()
	<-done
	return r
}

func caseNamed(t *testing.T, name string) Case {
	t.Helper()
	for _, c := range AllCases() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case named %q", name)
	return Case{}
}

// memHarness serves memtransport clients, optionally wrapped in breakage,
// on fast clocks so that failures are quick to reach.
type memHarness struct {
	c     *memtransport.Cluster
	wrap  func(transport.Transport) transport.Transport
	feats Features
}

func newMemHarness(t *testing.T, wrap func(transport.Transport) transport.Transport) *memHarness {
	c := memtransport.NewCluster()
	t.Cleanup(func() { c.Close() })
	return &memHarness{c: c, wrap: wrap, feats: Features{Transactions: true, SecondProcess: true, CompactionControl: true}}
}

func (h *memHarness) NewTransport(context.Context) (transport.Transport, error) {
	var tr transport.Transport = h.c.Transport()
	if h.wrap != nil {
		tr = h.wrap(tr)
	}
	return tr, nil
}

func (h *memHarness) Features() Features { return h.feats }

func (h *memHarness) Tuning() Tuning {
	return Tuning{CaseTimeout: 3 * time.Second, Prompt: 250 * time.Millisecond, LongPoll: 2 * time.Second}
}

func (h *memHarness) Compact(_ context.Context, topic string) error { return h.c.Compact(topic) }

func (h *memHarness) ProduceTransaction(_ context.Context, topic string, recs []transport.Record, commit bool) error {
	for _, r := range recs {
		var err error
		if commit {
			_, err = h.c.Append(topic, r)
		} else {
			err = h.c.SkipOffsets(topic, r.Partition, 1)
		}
		if err != nil {
			return err
		}
	}
	seen := map[int32]bool{}
	for _, r := range recs {
		if !seen[r.Partition] {
			seen[r.Partition] = true
			if _, err := h.c.AppendControl(topic, r.Partition); err != nil {
				return err
			}
		}
	}
	return nil
}

// fetchWrapper rewrites what a fetcher returns.
type fetchWrapper struct {
	transport.Transport
	poll func(f transport.Fetcher, ctx context.Context) (transport.Batch, error)
}

func (w fetchWrapper) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	f, err := w.Transport.NewFetcher(ctx, topic, from, opts)
	if err != nil {
		return nil, err
	}
	return wrappedFetcher{f, w.poll}, nil
}

type wrappedFetcher struct {
	transport.Fetcher
	poll func(f transport.Fetcher, ctx context.Context) (transport.Batch, error)
}

func (f wrappedFetcher) Poll(ctx context.Context) (transport.Batch, error) {
	return f.poll(f.Fetcher, ctx)
}

// mapRecords breaks every fetched record with fn.
func mapRecords(fn func(*transport.Record)) func(transport.Transport) transport.Transport {
	return func(tr transport.Transport) transport.Transport {
		return fetchWrapper{tr, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
			b, err := f.Poll(ctx)
			for i := range b.Records {
				fn(&b.Records[i])
			}
			return b, err
		}}
	}
}

// emptyToNil turns fetched empty values into nil, like kafka-go's Reader.
var emptyToNil = mapRecords(func(r *transport.Record) {
	if r.Value != nil && len(r.Value) == 0 {
		r.Value = nil
	}
})

var dropHeaders = mapRecords(func(r *transport.Record) { r.Headers = nil })

// naiveNext reports positions as last record offset + 1 only, so it never
// moves past trailing control records.
func naiveNext(tr transport.Transport) transport.Transport {
	return fetchWrapper{tr, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		b, err := f.Poll(ctx)
		b.Next = nil
		for _, r := range b.Records {
			if b.Next == nil {
				b.Next = map[int32]int64{}
			}
			b.Next[r.Partition] = r.Offset + 1
		}
		return b, err
	}}
}

// holdErrors delivers records and keeps the error of the same Poll for the
// next one, as the adapters did before ADR 7.
func holdErrors(tr transport.Transport) transport.Transport {
	var mu sync.Mutex
	var held error
	return fetchWrapper{tr, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		mu.Lock()
		defer mu.Unlock()
		if err := held; err != nil {
			held = nil
			return transport.Batch{}, err
		}
		b, err := f.Poll(ctx)
		if err != nil && len(b.Records) > 0 {
			held, err = err, nil
		}
		return b, err
	}}
}

// silentReset moves out-of-range positions to the log start itself and
// says nothing, as the adapters did before ADR 7.
func silentReset(tr transport.Transport) transport.Transport {
	return &resetter{Transport: tr}
}

type resetter struct{ transport.Transport }

func (r *resetter) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	f, err := r.Transport.NewFetcher(ctx, topic, from, opts)
	if err != nil {
		return nil, err
	}
	return wrappedFetcher{f, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		b, err := f.Poll(ctx)
		te, ok := errors.AsType[*transport.Error](err)
		if !ok || !errors.Is(err, transport.ErrOffsetOutOfRange) {
			return b, err
		}
		starts, serr := r.StartOffsets(ctx, topic, te.Partitions)
		if serr != nil {
			return b, serr
		}
		if aerr := f.Assign(starts); aerr != nil {
			return b, aerr
		}
		if b.Next == nil {
			b.Next = map[int32]int64{}
		}
		for p, o := range starts {
			b.Next[p] = o
		}
		return b, nil
	}}, nil
}

// deafPoll ignores the caller's context.
func deafPoll(tr transport.Transport) transport.Transport {
	return fetchWrapper{tr, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		return f.Poll(context.Background())
	}}
}

// oneConnection makes offset requests wait behind an in-flight fetch, like
// a client with a single connection per broker (sarama, SPEC §12).
type oneConnection struct {
	transport.Transport
	conn chan struct{} // a token: whoever holds it uses the connection
}

func serialOffsets(tr transport.Transport) transport.Transport {
	return &oneConnection{Transport: tr, conn: make(chan struct{}, 1)}
}

func (c *oneConnection) acquire(ctx context.Context) error {
	select {
	case c.conn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *oneConnection) release() { <-c.conn }

func (c *oneConnection) EndOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	return c.Transport.EndOffsets(ctx, topic, parts)
}

func (c *oneConnection) StartOffsets(ctx context.Context, topic string, parts []int32) (map[int32]int64, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, err
	}
	defer c.release()
	return c.Transport.StartOffsets(ctx, topic, parts)
}

func (c *oneConnection) NewFetcher(ctx context.Context, topic string, from map[int32]int64, opts transport.FetchOptions) (transport.Fetcher, error) {
	f, err := c.Transport.NewFetcher(ctx, topic, from, opts)
	if err != nil {
		return nil, err
	}
	return wrappedFetcher{f, func(f transport.Fetcher, ctx context.Context) (transport.Batch, error) {
		if err := c.acquire(ctx); err != nil {
			return transport.Batch{}, err
		}
		defer c.release()
		return f.Poll(ctx)
	}}, nil
}

// fnvPartitions ignores the partition it is given and hashes the key with
// FNV-1a, like sarama's default partitioner (SPEC P1).
type fnvPartitions struct{ transport.Transport }

func (t fnvPartitions) Produce(ctx context.Context, topic string, rec transport.Record) (int64, error) {
	parts, err := t.Partitions(ctx, topic)
	if err != nil {
		return 0, err
	}
	h := fnv.New32a()
	h.Write(rec.Key)
	rec.Partition = int32(h.Sum32() % uint32(len(parts)))
	return t.Transport.Produce(ctx, topic, rec)
}

func TestSuiteCatchesBrokenTransports(t *testing.T) {
	tests := []struct {
		breakage string
		wrap     func(transport.Transport) transport.Transport
		cases    []string
	}{
		{"empty values fetched as nil", emptyToNil, []string{
			"R1/empty_value_is_data_both_ways", "R1/empty_value_is_data"}},
		{"headers dropped", dropHeaders, []string{
			"X3/fetch_keeps_key_value_headers_timestamp"}},
		{"positions stop at the last record", naiveNext, []string{
			"R4/fetch_moves_past_commit_markers", "R4/fetch_skips_aborted_records"}},
		{"errors held back for the next poll", holdErrors, []string{
			"X3/records_and_error_in_one_poll"}},
		{"out-of-range positions reset silently", silentReset, []string{
			"X3/out_of_range_is_reported_not_reset", "X3/records_and_error_in_one_poll"}},
		{"poll ignores its context", deafPoll, []string{
			"X3/poll_honours_context_cancellation", "X3/poll_with_done_context_returns_its_error"}},
		{"offsets wait behind a fetch", serialOffsets, []string{
			"X2/offsets_not_delayed_by_long_poll", "B4/idle_barrier_does_not_wait_for_the_long_poll"}},
		{"sarama's FNV partitioner", func(tr transport.Transport) transport.Transport { return fnvPartitions{tr} }, []string{
			"P1/writer_partition_is_java_murmur2", "X4/produce_to_explicit_partition"}},
	}
	for _, tt := range tests {
		for _, name := range tt.cases {
			c := caseNamed(t, name)
			t.Run(tt.breakage+"/"+name, func(t *testing.T) {
				t.Parallel()
				r := record(t, c, newMemHarness(t, tt.wrap))
				if r.skipped {
					t.Fatalf("case skipped: %s", r.report())
				}
				if !r.Failed() {
					t.Fatalf("case %s passed a transport whose %s", c.Name, tt.breakage)
				}
				if want := "SPEC " + c.Clause + ":"; !strings.Contains(r.report(), want) {
					t.Errorf("failure does not cite %q:\n\t%s", want, r.report())
				}
				t.Logf("reported as expected:\n\t%s", r.report())

				// The control: unbroken, the same case passes.
				ok := record(t, c, newMemHarness(t, nil))
				if ok.Failed() || ok.skipped {
					t.Errorf("case %s does not pass the unbroken memtransport:\n\t%s", c.Name, ok.report())
				}
			})
		}
	}
}

func TestMissingFeatureSkipsSayingWhy(t *testing.T) {
	h := newMemHarness(t, nil)
	h.feats = Features{}
	r := record(t, caseNamed(t, "R6/compacted_and_full_log_give_the_same_table"), h)
	if !r.skipped || r.Failed() {
		t.Fatalf("skipped=%v failed=%v, want a skip: %s", r.skipped, r.Failed(), r.report())
	}
	if want := "feature CompactionControl not supported by this harness"; !strings.Contains(r.report(), want) {
		t.Errorf("skip message %q does not say %q", r.report(), want)
	}
}

func TestCasesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	all := AllCases()
	if len(all) < 40 {
		t.Errorf("%d cases, want at least 40", len(all))
	}
	for _, c := range all {
		if seen[c.Name] {
			t.Errorf("duplicate case %q", c.Name)
		}
		seen[c.Name] = true
		if !strings.HasPrefix(c.Name, c.Clause+"/") {
			t.Errorf("case %q does not start with its clause %q", c.Name, c.Clause)
		}
		if c.run == nil {
			t.Errorf("case %q has no body", c.Name)
		}
		for _, f := range c.Requires {
			if _, ok := featureInfo[f]; !ok {
				t.Errorf("case %q requires unknown feature %d", c.Name, f)
			}
		}
	}
}

func TestTopicNames(t *testing.T) {
	long := strings.Repeat("Test/Ünïcode name with spaces#", 20)
	seen := map[string]bool{}
	for _, in := range []string{"TestX/X3/fetch", long, "a", "Test/with:colon", long} {
		got := topicName(in)
		if err := ktables.ValidateTopicName(got); err != nil {
			t.Errorf("topicName(%q) = %q: %v", in, got, err)
		}
		if seen[got] {
			t.Errorf("topicName repeated %q", got)
		}
		seen[got] = true
	}
}

// minimalHarness has no optional feature: every NewTransport is a client of
// its own fresh cluster. The suite must pass it, skipping only by feature.
type minimalHarness struct{}

func (minimalHarness) NewTransport(context.Context) (transport.Transport, error) {
	return memtransport.New(), nil
}

func (minimalHarness) Features() Features { return Features{} }

func TestMinimalHarnessPasses(t *testing.T) {
	Run(t, minimalHarness{})
}
