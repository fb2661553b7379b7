package faultnet

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Proxy forwards TCP connections from its loopback address to a target and
// applies the faults set on it. It is safe for concurrent use.
type Proxy struct {
	target string
	addr   net.Addr // where the proxy listens, kept while refusing
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	ln      net.Listener // nil while refusing or closed
	faults  [2]Fault     // indexed by dirIndex
	gen     uint64       // bumped on every change of faults
	changed chan struct{}
	conns   map[*conn]struct{}
	closed  bool

	wg sync.WaitGroup
}

// New starts a proxy on a free loopback port that forwards to target
// (host:port).
func New(target string) (*Proxy, error) {
	return Listen("127.0.0.1:0", target)
}

// Listen starts a proxy listening on address (host:port; port 0 picks a
// free one) that forwards to target.
func Listen(address, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target:  target,
		addr:    ln.Addr(),
		ctx:     ctx,
		cancel:  cancel,
		ln:      ln,
		changed: make(chan struct{}),
		conns:   make(map[*conn]struct{}),
	}
	p.wg.Add(1)
	go p.serve(ln)
	return p, nil
}

// Addr returns the proxy's address (host:port), for clients to dial.
func (p *Proxy) Addr() string { return p.addr.String() }

// Target returns the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Set switches the fault of direction dir, for live and new connections.
// It fails with ErrInvalidFault for parameters that do not fit the mode,
// and, when a Refuse ends, with the error of listening again.
func (p *Proxy) Set(dir Direction, f Fault) error {
	if err := dir.validate(); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, d := range []Direction{ToServer, ToClient} {
		if dir&d == 0 {
			continue
		}
		p.faults[i] = f
		if f.Mode == Partition {
			for c := range p.conns {
				c.stranded[i].Store(true)
			}
		}
	}
	p.gen++
	close(p.changed)
	p.changed = make(chan struct{})
	return p.applyRefuseLocked()
}

// Heal switches every fault off (Pass in both directions).
func (p *Proxy) Heal() error { return p.Set(Both, Fault{}) }

// Fault returns the fault currently set for one direction (ToServer or
// ToClient).
func (p *Proxy) Fault(dir Direction) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	if dir == ToClient {
		return p.faults[1]
	}
	return p.faults[0]
}

// ResetConns resets every live connection now (TCP RST to both peers) and
// returns how many there were. New connections are not affected.
func (p *Proxy) ResetConns() int {
	p.mu.Lock()
	cs := make([]*conn, 0, len(p.conns))
	for c := range p.conns {
		cs = append(cs, c)
	}
	p.mu.Unlock()
	for _, c := range cs {
		c.close(true)
	}
	return len(cs)
}

// Conns returns the number of live proxied connections.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Close stops listening, closes every proxied connection and waits for the
// proxy's goroutines to end. It is idempotent.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.cancel()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.close(false)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// applyRefuseLocked stops or resumes listening so that Refuse gives dialers
// a real "connection refused" rather than an accepted-then-closed socket.
func (p *Proxy) applyRefuseLocked() error {
	refusing := p.faults[0].Mode == Refuse || p.faults[1].Mode == Refuse
	switch {
	case p.closed:
	case refusing && p.ln != nil:
		err := p.ln.Close()
		p.ln = nil
		return err
	case !refusing && p.ln == nil:
		ln, err := net.Listen("tcp", p.addr.String())
		if err != nil {
			return err
		}
		p.ln = ln
		p.wg.Add(1)
		go p.serve(ln)
	}
	return nil
}

// state returns the fault of direction index i, the generation it belongs
// to and a channel closed at the next change.
func (p *Proxy) state(i int) (Fault, uint64, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults[i], p.gen, p.changed
}

func (p *Proxy) serve(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors or similar: give the system a moment
			// instead of spinning on Accept.
			select {
			case <-time.After(10 * time.Millisecond):
				continue
			case <-p.ctx.Done():
				return
			}
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

var dialer net.Dialer

func (p *Proxy) handle(client net.Conn) {
	defer p.wg.Done()
	server, err := dialer.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		// The client sees what it would see from a dead server behind a
		// live address: a reset.
		resetConn(client)
		return
	}
	c := &conn{p: p, client: client, server: server, done: make(chan struct{})}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.close(false)
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	p.wg.Add(4)
	go c.pump(0, client, server)
	go c.pump(1, server, client)
	<-c.done
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close with RST instead of FIN
	}
	_ = c.Close()
}
