package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ktables/ktables/kafkatest"
)

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// cli runs the command in-process with a one-minute safety bound.
func cli(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return cliCtx(ctx, args...)
}

func cliCtx(ctx context.Context, args ...string) result {
	var out, errb syncBuffer
	start := time.Now()
	code := run(ctx, args, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
}

// ok runs the command and fails the test unless it exits 0.
func ok(t *testing.T, args ...string) result {
	t.Helper()
	r := cli(t, args...)
	if r.code != 0 {
		t.Fatalf("ktables %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// expectFail runs the command and checks its exit code and that stderr is
// one "ktables: " line containing want.
func expectFail(t *testing.T, code int, want string, args ...string) result {
	t.Helper()
	r := cli(t, args...)
	checkFail(t, r, code, want, args...)
	return r
}

func checkFail(t *testing.T, r result, code int, want string, args ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("ktables %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if code == 2 {
		// A usage error: the error line, then where to find the help.
		if len(lines) != 2 || !strings.HasPrefix(last, "run 'ktables ") || !strings.HasSuffix(last, " --help'") {
			t.Fatalf("ktables %s: usage error without the help pointer:\n%s", strings.Join(args, " "), r.stderr)
		}
		last = lines[0]
	}
	if !strings.HasPrefix(last, "ktables: ") || !strings.Contains(last, want) {
		t.Fatalf("ktables %s: stderr's last line %q, want a \"ktables: \" line containing %q\nstderr: %s", strings.Join(args, " "), last, want, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
		t.Fatalf("stack trace on stderr: %s", r.stderr)
	}
}

// clientNamesList lists the clients to run client-dependent tests with.
func clientNamesList() []string {
	names := make([]string, 0, len(clients))
	for n := range clients {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// forEachClient runs f as a parallel subtest per Kafka client.
func forEachClient(t *testing.T, f func(t *testing.T, client string)) {
	for _, c := range clientNamesList() {
		t.Run(c, func(t *testing.T) {
			t.Parallel()
			f(t, c)
		})
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// conn returns the connection flags for brokers and client.
func conn(seeds []string, client string) []string {
	return []string{"--brokers", strings.Join(seeds, ","), "--client", client, "--timeout", "30s"}
}

func args(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func topicFlag(t *testing.T) (string, []string) {
	topic := kafkatest.Topic(t)
	return topic, []string{"--topic", topic}
}
