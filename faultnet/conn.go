package faultnet

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one proxied connection: a client and the server connection the
// proxy opened for it, with a reader and a writer goroutine per direction.
type conn struct {
	p              *Proxy
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
	// stranded directions discard every byte from now on: the connection
	// was open when a Partition started (see Proxy.Set).
	stranded [2]atomic.Bool
}

// close closes both sides once, with a reset when asked.
func (c *conn) close(reset bool) {
	c.once.Do(func() {
		if reset {
			resetConn(c.client)
			resetConn(c.server)
		} else {
			_ = c.client.Close()
			_ = c.server.Close()
		}
		close(c.done)
	})
}

type chunk struct {
	b  []byte
	at time.Time // when it was read, for Latency
}

// chunkQueue bounds what a direction reads ahead of its writer: beyond it
// the proxy stops reading and TCP pushes back on the sender, as a stalled
// network path would.
const chunkQueue = 16

// pump moves the bytes of direction i from src to dst: a reader goroutine
// reads ahead into a small queue while the writer goroutine applies the
// fault, so a held or delayed chunk does not stop the proxy from noticing a
// closed connection.
func (c *conn) pump(i int, src, dst net.Conn) {
	chunks := make(chan chunk, chunkQueue)
	go func() {
		defer c.p.wg.Done()
		defer close(chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case chunks <- chunk{b: buf[:n], at: time.Now()}:
				case <-c.done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	defer c.p.wg.Done()
	w := writer{c: c, i: i, dst: dst}
	for ch := range chunks {
		if !w.deliver(ch) {
			c.close(false)
			// Drain so the reader is never stuck on a full queue.
			for range chunks {
			}
			return
		}
	}
	// src ended (EOF or error): end the connection once what was read is
	// delivered, as the peer's close would.
	c.close(false)
}

// writer is the delivering half of one direction. Its fields are owned by
// the direction's writer goroutine.
type writer struct {
	c   *conn
	i   int
	dst net.Conn

	budget    int // CloseAfter: bytes left before the close
	budgetGen uint64
	lastDrip  time.Time
}

// deliver applies the current fault to ch, re-reading the fault whenever it
// changes while ch waits. It reports false when the connection is over.
func (w *writer) deliver(ch chunk) bool {
	data := ch.b
	for len(data) > 0 {
		if w.c.stranded[w.i].Load() {
			return true
		}
		f, gen, changed := w.c.p.state(w.i)
		switch f.Mode {
		case Pass, Refuse:
			return w.write(data)
		case Reset:
			w.c.close(true)
			return false
		case Blackhole:
			return true
		case Partition:
			select {
			case <-changed:
			case <-w.c.done:
				return false
			}
		case Latency:
			switch w.wait(time.Until(ch.at.Add(f.Delay)), changed) {
			case waitDone:
				return false
			case waitElapsed:
				return w.write(data)
			}
		case Drip:
			switch w.wait(time.Until(w.lastDrip.Add(f.Delay)), changed) {
			case waitDone:
				return false
			case waitElapsed:
				n := min(max(f.Bytes, 1), len(data))
				if !w.write(data[:n]) {
					return false
				}
				w.lastDrip = time.Now()
				data = data[n:]
			}
		case CloseAfter:
			if w.budgetGen != gen {
				w.budget, w.budgetGen = f.Bytes, gen
			}
			n := min(w.budget, len(data))
			if n > 0 && !w.write(data[:n]) {
				return false
			}
			w.budget -= n
			data = data[n:]
			if w.budget == 0 {
				return false
			}
		}
	}
	return true
}

type waitResult int

const (
	waitElapsed waitResult = iota
	waitChanged
	waitDone
)

func (w *writer) wait(d time.Duration, changed <-chan struct{}) waitResult {
	if d <= 0 {
		return waitElapsed
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return waitElapsed
	case <-changed:
		return waitChanged
	case <-w.c.done:
		return waitDone
	}
}

func (w *writer) write(b []byte) bool {
	_, err := w.dst.Write(b)
	return err == nil
}
