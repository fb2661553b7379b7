package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokerEnv marks a process started to run the kfake broker. The broker
// runs in a process of its own so that its log, which holds every record a
// scenario wrote, is not in the measured client's heap: a real broker never
// is, and its garbage collection would otherwise be charged to whichever
// side ran while the log grew (ten million records are gigabytes).
const BrokerEnv = "KTABLES_BENCH_BROKER"

// brokerProc is a kfake broker in a child process.
type brokerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

// runBrokerChild serves a one-broker kfake cluster, prints its addresses
// as one JSON line, and exits when its standard input closes (the parent
// ended or closed it).
func runBrokerChild() {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "start kfake:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(c.ListenAddrs())
	fmt.Println(string(out))
	_, _ = io.Copy(io.Discard, os.Stdin)
	c.Close()
	os.Exit(0)
}

// startBrokerProc re-executes this binary as a broker and returns once it
// listens.
func startBrokerProc(timeout time.Duration) (*brokerProc, []string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), BrokerEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start broker process: %w", err)
	}
	p := &brokerProc{cmd: cmd, stdin: stdin, done: make(chan struct{})}
	type answer struct {
		seeds []string
		err   error
	}
	ready := make(chan answer, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		var seeds []string
		if err == nil {
			err = json.Unmarshal([]byte(strings.TrimSpace(line)), &seeds)
		}
		ready <- answer{seeds, err}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(p.done)
	}()
	select {
	case a := <-ready:
		if a.err != nil || len(a.seeds) == 0 {
			p.close()
			return nil, nil, fmt.Errorf("broker process: no addresses (%v)", a.err)
		}
		return p, a.seeds, nil
	case <-time.After(timeout):
		p.close()
		return nil, nil, fmt.Errorf("broker process did not listen within %v", timeout)
	}
}

// close asks the broker to stop and waits for it, killing it if it does
// not exit soon.
func (p *brokerProc) close() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
