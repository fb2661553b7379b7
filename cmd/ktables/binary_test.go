package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binPath is the ktables binary TestMain builds once for the tests that run
// the command as an operator would.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ktables-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "ktables")
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building ktables: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// bin runs the built binary to completion.
func bin(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), envBrokers+"=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
}

// started is a running binary whose output lines the test can wait for.
type started struct {
	cmd         *exec.Cmd
	stdout, err *syncBuffer
	done        chan struct{}
}

func startBin(t *testing.T, args ...string) *started {
	t.Helper()
	s := &started{cmd: exec.Command(binPath, args...), stdout: &syncBuffer{}, err: &syncBuffer{}, done: make(chan struct{})}
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.err
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// interrupt sends SIGINT, as Ctrl-C does, and returns the exit code.
func (s *started) interrupt(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20 s after SIGINT")
	}
	return s.cmd.ProcessState.ExitCode()
}

func brokerBin(t *testing.T) (*started, string) {
	t.Helper()
	b := startBin(t, "broker", "--listen", "127.0.0.1:0", "--partitions", "3")
	re := regexp.MustCompile(`listening on (\S+)`)
	var addr string
	waitFor(t, 20*time.Second, "the broker binary's address", func() bool {
		if m := re.FindStringSubmatch(b.stdout.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	return b, addr
}

// TestBinary runs the operator's commands through the built binary: every
// item of issue 20, and the freshness and lease commands of issues 18 and 19.
func TestBinary(t *testing.T) {
	b, addr := brokerBin(t)
	c := []string{"--brokers", addr, "--timeout", "20s"}
	t.Run("broker prints a kcat line", func(t *testing.T) {
		// The address comes first; the kcat line follows it in a write of
		// its own, which a loaded machine may deliver later.
		want := "kcat -b " + addr + " -X partitioner=murmur2_random"
		waitFor(t, 10*time.Second, "the broker's kcat line", func() bool {
			return strings.Contains(b.stdout.String(), want)
		})
	})
	t.Run("writes validate, dumps skip", func(t *testing.T) {
		_, tf := topicFlag(t)
		r := bin(t, args([]string{"set"}, c, tf, []string{"k\xff", "v"})...)
		checkFail(t, r, 2, "KEY is not valid UTF-8")
		if r = bin(t, args([]string{"set", "--keys", "base64"}, c, tf, []string{"a/8=", "v"})...); r.code != 0 {
			t.Fatalf("set --keys base64: %+v", r)
		}
		bin(t, args([]string{"set"}, c, tf, []string{"ok", `{"on":true}`})...)
		r = bin(t, args([]string{"dump"}, c, tf)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"ok"`) || !strings.Contains(r.stderr, "skipped 1 key that is not valid UTF-8") {
			t.Fatalf("dump: %+v", r)
		}
		checkFail(t, bin(t, args([]string{"dump", "--values", "json", "--keys", "base64"}, c, tf)...), 1, `the value of key "k\xff" is not JSON`)
		bin(t, args([]string{"delete", "--keys", "base64"}, c, tf, []string{"a/8="})...)
		r = bin(t, args([]string{"dump", "--values", "json"}, c, tf)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"on": true`) {
			t.Fatalf("dump --values json: %+v", r)
		}
	})
	t.Run("usage errors and version", func(t *testing.T) {
		r := bin(t, "dump", "--frobnicate")
		if r.code != 2 || r.stderr != "ktables: unknown flag --frobnicate\nrun 'ktables dump --help'\n" {
			t.Fatalf("dump --frobnicate: %+v", r)
		}
		checkFail(t, bin(t, "dump", "--brokers", "127.0.0.1", "--topic", "t"), 2, "is not host:port")
		if r := bin(t, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "ktables ") {
			t.Fatalf("--version: %+v", r)
		}
	})
	t.Run("missing topic once", func(t *testing.T) {
		topic, tf := topicFlag(t)
		r := bin(t, args([]string{"dump"}, c, tf)...)
		checkFail(t, r, 1, `topic "`+topic+`" does not exist`)
		if strings.Count(r.stderr, topic) != 1 {
			t.Fatalf("stderr %q", r.stderr)
		}
	})
	t.Run("doctor and grouped foreign keys", func(t *testing.T) {
		_, tf := topicFlag(t)
		bin(t, args([]string{"ensure-topic", "--partitions", "3"}, c, tf)...)
		bin(t, args([]string{"set"}, c, tf, []string{"a", "1"})...)
		r := bin(t, args([]string{"doctor"}, c, tf)...)
		if r.code != 0 || !strings.Contains(r.stdout, "verdict: 0 problems") {
			t.Fatalf("doctor: %+v", r)
		}
		r = bin(t, args([]string{"doctor", "--grouped", "--format", "json"}, c, tf)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"foreign_keys": 1`) {
			t.Fatalf("doctor --grouped --format json: %+v", r)
		}
		r = bin(t, args([]string{"dump", "--grouped"}, c, tf)...)
		if r.code != 0 || r.stdout != "{}\n" || !strings.Contains(r.stderr, "1 record with a foreign key") {
			t.Fatalf("dump --grouped: %+v", r)
		}
	})
	t.Run("print-token, wait-for, status, watch", func(t *testing.T) {
		topic, tf := topicFlag(t)
		bin(t, args([]string{"ensure-topic", "--partitions", "3"}, c, tf)...)
		w := startBin(t, args([]string{"watch", "--snapshot"}, c, tf)...)
		waitFor(t, 20*time.Second, "catch-up", func() bool { return strings.Contains(w.err.String(), "caught up with 0 keys;") })
		r := bin(t, args([]string{"set", "--print-token"}, c, tf, []string{"flag", "on"})...)
		if r.code != 0 || !tokenLine.MatchString(r.stdout) {
			t.Fatalf("set --print-token: %+v", r)
		}
		tok := strings.TrimSpace(r.stdout)
		if r := bin(t, args([]string{"get", "--wait-for", tok}, c, tf, []string{"flag"})...); r.code != 0 || r.stdout != "on\n" {
			t.Fatalf("get --wait-for: %+v", r)
		}
		checkFail(t, bin(t, args([]string{"dump", "--wait-for", "kt1:" + topic + ":x"}, c, tf)...), 2, "invalid token")
		r = bin(t, args([]string{"status", "--format", "json"}, c, tf)...)
		if r.code != 0 || !strings.Contains(r.stdout, `"position": "`+tok+`"`) || !strings.Contains(r.stdout, `"high_watermark": 1`) {
			t.Fatalf("status: %+v", r)
		}
		waitFor(t, 20*time.Second, "the watch line", func() bool { return strings.Contains(w.stdout.String(), `"op":"set","key":"flag","value":"on"`) })
		if code := w.interrupt(t); code != 0 {
			t.Fatalf("watch exit %d: %s", code, w.err.String())
		}
		if !strings.HasPrefix(w.stdout.String(), `{"op":"synced","token":"kt1:`+topic+`"}`) {
			t.Fatalf("watch --snapshot printed %q", w.stdout.String())
		}
	})
	t.Run("demo with leases", func(t *testing.T) {
		r := bin(t, "demo", "--duration", "1s", "--ttl", "500ms")
		if r.code != 0 || !strings.Contains(r.stdout, "search/host-a is gone from every reader's view") || !strings.Contains(r.stdout, "done") {
			t.Fatalf("demo: %+v", r)
		}
	})
	t.Run("demo Ctrl-C and cleanup", func(t *testing.T) {
		d := startBin(t, "demo", "--duration", "1m", "--brokers", addr)
		waitFor(t, 30*time.Second, "a heartbeat", func() bool { return strings.Contains(d.stdout.String(), "heartbeat #1") })
		if code := d.interrupt(t); code != 0 {
			t.Fatalf("demo after SIGINT: exit %d\n%s\n%s", code, d.stdout.String(), d.err.String())
		}
		if out := d.stdout.String(); !strings.Contains(out, "interrupted: ") || !strings.Contains(out, "deleted topic ktables-demo-") {
			t.Fatalf("demo after SIGINT printed:\n%s", out)
		}
	})
	t.Run("watch says the broker is gone", func(t *testing.T) {
		wb, waddr := brokerBin(t)
		wc := []string{"--brokers", waddr, "--timeout", "20s"}
		_, tf := topicFlag(t)
		bin(t, args([]string{"set"}, wc, tf, []string{"k", "v"})...)
		w := startBin(t, args([]string{"watch"}, wc, tf)...)
		waitFor(t, 20*time.Second, "catch-up", func() bool { return strings.Contains(w.err.String(), "caught up with 1 key;") })
		if code := wb.interrupt(t); code != 0 {
			t.Fatalf("broker exit %d", code)
		}
		waitFor(t, 10*time.Second, "the watch to notice", func() bool { return strings.Contains(w.err.String(), "cannot read topic") })
		select {
		case <-w.done:
			t.Fatalf("watch ended: %s", w.err.String())
		default:
		}
		if code := w.interrupt(t); code != 0 {
			t.Fatalf("watch exit %d: %s", code, w.err.String())
		}
	})
}
