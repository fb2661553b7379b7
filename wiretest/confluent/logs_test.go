//go:build cgo

package confluentwire

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/confluentinc/confluent-kafka-go/v2/kafka"

	"github.com/ktables/ktables/kafkatest"
	"github.com/ktables/ktables/transport"
	confluenttransport "github.com/ktables/ktables/transport_confluent"
)

// refused is an address nothing listens on: librdkafka logs a FAIL line
// ("Connection refused") as soon as the producer tries its bootstrap.
var refused = kafka.ConfigMap{"bootstrap.servers": "127.0.0.1:1"}

// childMode, in the environment, makes TestLogsSilentByDefault the child
// process whose stderr its parent reads: librdkafka writes to file
// descriptor 2 from C, which only another process can watch without
// taking the whole test binary's stderr.
const childMode = "KTABLES_CONFLUENT_LOG_CHILD"

// TestLogsSilentByDefault: a transport without WithLogger writes nothing to
// stderr, even while its connections are refused (log/slog, silent by
// default); a ConfigMap that sets go.logs.channel.enable=false keeps
// librdkafka's own printing, which also shows that the child's stderr is
// really watched.
func TestLogsSilentByDefault(t *testing.T) {
	if mode := os.Getenv(childMode); mode != "" {
		refusedChild(t, mode)
		return
	}
	for _, tc := range []struct {
		mode       string
		wantStderr bool
	}{
		{"default", false},
		{"stderr", true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			cmd := exec.CommandContext(kafkatest.Ctx(t, time.Minute), os.Args[0], "-test.run=^TestLogsSilentByDefault$", "-test.count=1")
			cmd.Env = append(os.Environ(), childMode+"="+tc.mode)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("child: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), "connection refused, transport closed") {
				t.Fatalf("child did not reach a refused connection:\n%s", stdout.String())
			}
			switch got := stderr.String(); {
			case tc.wantStderr && !strings.Contains(got, "FAIL"):
				t.Fatalf("go.logs.channel.enable=false: stderr has no FAIL line from librdkafka:\n%s", got)
			case !tc.wantStderr && got != "":
				t.Fatalf("stderr of a transport without a logger:\n%s", got)
			}
		})
	}
}

// refusedChild opens a transport against a refused address, waits until a
// call reports the refusal (librdkafka has logged its FAIL line by then)
// and closes it.
func refusedChild(t *testing.T, mode string) {
	conf := cloneConf(refused)
	if mode == "stderr" {
		conf["go.logs.channel.enable"] = false
	}
	tr, err := confluenttransport.New(conf)
	if err != nil {
		t.Fatal(err)
	}
	// A call's own deadline can come before librdkafka met the refusal
	// under load: ask again until one reports it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err = tr.Partitions(ctx, "t")
		cancel()
		if isRefused(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Partitions: %v (want ECONNREFUSED)", err)
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("connection refused, transport closed\n")
}

// isRefused reports whether err says the connection was refused: itself,
// or as the last failure of a call that ran out of time.
func isRefused(err error) bool {
	var ce *transport.ContextError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &ce) && errors.Is(ce.Last, syscall.ECONNREFUSED)
}

func cloneConf(m kafka.ConfigMap) kafka.ConfigMap {
	c := kafka.ConfigMap{}
	for k, v := range m {
		c[k] = v
	}
	return c
}

// records is a slog.Handler that hands every record to a channel, without
// ever blocking the transport's log goroutine.
type records chan slog.Record

func (records) Enabled(context.Context, slog.Level) bool { return true }
func (r records) Handle(_ context.Context, rec slog.Record) error {
	select {
	case r <- rec:
	default:
	}
	return nil
}
func (r records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r records) WithGroup(string) slog.Handler      { return r }

func attrs(r slog.Record) map[string]string {
	m := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	return m
}

// TestLogsToSlog: with WithLogger, librdkafka's FAIL lines about a refused
// connection, the producer's and a fetch session's consumer's, arrive as
// slog records at Error level (syslog 3) with the handle's name, tag and
// client.id; Close ends the log goroutine.
func TestLogsToSlog(t *testing.T) {
	base := runtime.NumGoroutine()
	recs := make(records, 1024)
	conf := cloneConf(refused)
	conf["client.id"] = "logtest"
	tr, err := confluenttransport.New(conf, confluenttransport.WithLogger(slog.New(recs)))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	waitFail(t, recs, "logtest#producer-")
	if _, err := tr.NewFetcher(kafkatest.Ctx(t, 10*time.Second), "t", map[int32]int64{0: 0}, transport.FetchOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFail(t, recs, "logtest#consumer-")
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	kafkatest.NoLeaks(t, base)
}

// waitFail waits for the record of a refused connection from the handle
// whose name starts with handle, and checks it.
func waitFail(t *testing.T, recs records, handle string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case r := <-recs:
			a := attrs(r)
			if a["tag"] != "FAIL" || !strings.HasPrefix(a["name"], handle) || !strings.Contains(r.Message, "Connection refused") {
				continue
			}
			if r.Level != slog.LevelError {
				t.Errorf("FAIL line at %v, want ERROR", r.Level)
			}
			if !strings.HasPrefix(r.Message, "librdkafka: ") {
				t.Errorf("message %q lacks the librdkafka: prefix", r.Message)
			}
			if a["client"] != "logtest" {
				t.Errorf("attributes %v: want client logtest", a)
			}
			if r.Time.IsZero() {
				t.Error("record without a time")
			}
			return
		case <-deadline:
			t.Fatalf("no FAIL record from %s* within 20s", handle)
		}
	}
}

// TestLogsCallersChannel: a ConfigMap with its own go.logs.channel gets the
// lines there, and the transport's logger gets none.
func TestLogsCallersChannel(t *testing.T) {
	mine := make(chan kafka.LogEvent, 1024)
	recs := make(records, 1024)
	conf := cloneConf(refused)
	conf["go.logs.channel.enable"] = true
	conf["go.logs.channel"] = mine
	tr, err := confluenttransport.New(conf, confluenttransport.WithLogger(slog.New(recs)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.After(20 * time.Second)
	for found := false; !found; {
		select {
		case ev := <-mine:
			found = ev.Tag == "FAIL"
		case <-deadline:
			t.Fatal("no FAIL line on the caller's channel within 20s")
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(recs); n != 0 {
		t.Fatalf("the logger got %d records; the caller's channel should have them all", n)
	}
}

// panicking is a handler that panics on every record.
type panicking struct{ calls *atomic.Int64 }

func (panicking) Enabled(context.Context, slog.Level) bool { return true }
func (p panicking) Handle(context.Context, slog.Record) error {
	p.calls.Add(1)
	panic("handler panics")
}
func (p panicking) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p panicking) WithGroup(string) slog.Handler      { return p }

// TestLogsHandlerPanics: a logger whose handler panics loses its records,
// not the process, and the transport still closes.
func TestLogsHandlerPanics(t *testing.T) {
	h := panicking{calls: new(atomic.Int64)}
	tr, err := confluenttransport.New(cloneConf(refused), confluenttransport.WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	// librdkafka logs the refused connection, and the handler panics on
	// it, while calls keep failing; what matters is that the process and
	// the transport survive it. The call's own error varies with timing
	// (refused, or its deadline first), so only its failure is asserted.
	deadline := time.Now().Add(20 * time.Second)
	for h.calls.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the handler was never called")
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := tr.Partitions(ctx, "t")
		cancel()
		if err == nil {
			t.Fatal("Partitions on a refused address succeeded")
		}
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestLogsInvalidOptions: a nil logger, a nil Option and a go.logs.channel
// that is not a chan kafka.LogEvent fail at construction.
func TestLogsInvalidOptions(t *testing.T) {
	wrongChan := cloneConf(refused)
	wrongChan["go.logs.channel"] = make(chan string)
	for name, open := range map[string]func() (*confluenttransport.Transport, error){
		"nil logger": func() (*confluenttransport.Transport, error) {
			return confluenttransport.New(refused, confluenttransport.WithLogger(nil))
		},
		"nil Option":    func() (*confluenttransport.Transport, error) { return confluenttransport.New(refused, nil) },
		"wrong channel": func() (*confluenttransport.Transport, error) { return confluenttransport.New(wrongChan) },
		"non-bool enable": func() (*confluenttransport.Transport, error) {
			c := cloneConf(refused)
			c["go.logs.channel.enable"] = "yes"
			return confluenttransport.New(c)
		},
	} {
		tr, err := open()
		if !errors.Is(err, transport.ErrInvalidConfig) {
			if tr != nil {
				_ = tr.Close()
			}
			t.Errorf("%s: %v (want ErrInvalidConfig)", name, err)
		}
	}
}
