package faultnet

import (
	"errors"
	"net"
	"sync"
)

// Network is a set of proxies switched together, one per server of a
// cluster. Its Listen method plugs into servers that accept a listen
// function (kfake.ListenFn), so that each server advertises its proxy.
// It is safe for concurrent use.
type Network struct {
	mu      sync.Mutex
	proxies []*Proxy
	faults  [2]Fault // applied to proxies created later too
	closed  bool
}

// Listen has the signature of net.Listen. It listens privately on a free
// loopback port for the server, starts a proxy on address (the address the
// server asked for) in front of it, and returns the server's listener
// reporting the proxy's address as its Addr. Closing that listener closes
// the proxy too.
func (n *Network) Listen(network, address string) (net.Listener, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("faultnet: network closed")
	}
	inner, err := net.Listen(network, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p, err := Listen(address, inner.Addr().String())
	if err != nil {
		_ = inner.Close()
		return nil, err
	}
	for i, dir := range []Direction{ToServer, ToClient} {
		if n.faults[i] != (Fault{}) {
			_ = p.Set(dir, n.faults[i]) // validated when first set
		}
	}
	n.proxies = append(n.proxies, p)
	return &listener{Listener: inner, p: p}, nil
}

// Proxies returns the network's proxies in creation order.
func (n *Network) Proxies() []*Proxy {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*Proxy(nil), n.proxies...)
}

// Set switches the fault of direction dir on every proxy, now and for
// proxies created later.
func (n *Network) Set(dir Direction, f Fault) error {
	if err := dir.validate(); err != nil {
		return err
	}
	if err := f.validate(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if dir&ToServer != 0 {
		n.faults[0] = f
	}
	if dir&ToClient != 0 {
		n.faults[1] = f
	}
	var errs []error
	for _, p := range n.proxies {
		errs = append(errs, p.Set(dir, f))
	}
	return errors.Join(errs...)
}

// Heal switches every fault off on every proxy.
func (n *Network) Heal() error { return n.Set(Both, Fault{}) }

// ResetConns resets every live connection of every proxy and returns how
// many there were.
func (n *Network) ResetConns() int {
	total := 0
	for _, p := range n.Proxies() {
		total += p.ResetConns()
	}
	return total
}

// Close closes every proxy; Listen fails afterwards.
func (n *Network) Close() error {
	n.mu.Lock()
	n.closed = true
	ps := n.proxies
	n.mu.Unlock()
	for _, p := range ps {
		_ = p.Close()
	}
	return nil
}

// listener is the server's private listener reporting the proxy's address.
type listener struct {
	net.Listener
	p *Proxy
}

func (l *listener) Addr() net.Addr { return l.p.addr }

func (l *listener) Close() error {
	err := l.Listener.Close()
	_ = l.p.Close()
	return err
}
