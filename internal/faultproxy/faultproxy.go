// Package faultproxy is a TCP proxy that tests put between a process and
// a server (Postgres, Redis) to break the network between them on cue.
//
// It has two ways of breaking it, because clients react to them
// differently and Herald must survive both:
//
//   - Cut is a network cut that the kernel reports: every open connection
//     is reset and every new one is accepted and reset at once, so clients
//     fail fast (connection reset, EOF).
//   - Blackhole is a partition: connections stay open but nothing crosses
//     the proxy, either way, and new connections are accepted and left
//     waiting, so clients hang until their own timeouts fire. Bytes read
//     during the partition are held, not dropped, and delivered after
//     Restore, as TCP retransmission would.
//
// Restore forwards again. The proxy keeps its port for its whole life, so
// a client configured with its address reconnects after Restore.
//
// It imports nothing of Herald's and is meant for tests only.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is what the proxy does with traffic.
type Mode int

const (
	// Forward passes bytes both ways.
	Forward Mode = iota
	// Cutting resets every connection.
	Cutting
	// Blackholing holds every connection and forwards nothing.
	Blackholing
)

func (m Mode) String() string {
	switch m {
	case Forward:
		return "forward"
	case Cutting:
		return "cut"
	case Blackholing:
		return "blackhole"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Counts are the proxy's counters since New.
type Counts struct {
	Accepted  int64 // connections accepted, whatever became of them
	Forwarded int64 // connections dialled through to the target
	Reset     int64 // connections reset by Cut, or accepted while cut
	Held      int64 // connections accepted while blackholed
	DialFails int64 // dials to the target that failed
	Open      int64 // connections open now
	BytesUp   int64 // client to target
	BytesDown int64 // target to client
}

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener

	mu     sync.Mutex
	mode   Mode
	closed bool
	gate   chan struct{}     // closed whenever the mode is not Blackholing
	conns  map[net.Conn]bool // true for the client's side, false for the target's

	accepted, forwarded, reset, held, dialFails, open, up, down atomic.Int64
	wg                                                          sync.WaitGroup
}

// DialTimeout bounds each dial to the target.
const DialTimeout = 5 * time.Second

// New listens on 127.0.0.1:0 and forwards every connection to target
// (host:port) until Close.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listening for %s: %w", target, err)
	}
	gate := make(chan struct{})
	close(gate)
	p := &Proxy{target: target, ln: ln, gate: gate, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Target is the address the proxy forwards to.
func (p *Proxy) Target() string { return p.target }

// Mode is the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Cut resets every open connection and every new one until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setMode(Cutting)
	for c, client := range p.conns {
		if client {
			p.reset.Add(1)
		}
		resetConn(c)
	}
}

// Blackhole stops forwarding, both ways, until Restore; connections stay
// open and new ones are accepted and left waiting.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setMode(Blackholing)
}

// Restore forwards again; what a blackhole held is delivered.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setMode(Forward)
}

// setMode changes the mode, opening or closing the gate; p.mu is held.
func (p *Proxy) setMode(m Mode) {
	if m == Blackholing && p.mode != Blackholing {
		p.gate = make(chan struct{})
	}
	if m != Blackholing && p.mode == Blackholing {
		close(p.gate)
	}
	p.mode = m
}

// Counts returns the counters.
func (p *Proxy) Counts() Counts {
	return Counts{
		Accepted: p.accepted.Load(), Forwarded: p.forwarded.Load(), Reset: p.reset.Load(), Held: p.held.Load(),
		DialFails: p.dialFails.Load(), Open: p.open.Load(), BytesUp: p.up.Load(), BytesDown: p.down.Load(),
	}
}

// Close stops listening, closes every connection and waits for the
// proxy's goroutines. Closing twice is safe.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	if p.mode == Blackholing {
		close(p.gate)
	}
	p.mode = Cutting
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // EMFILE and the like: back off
			continue
		}
		p.accepted.Add(1)
		p.mu.Lock()
		mode, closed := p.mode, p.closed
		if mode == Cutting || closed {
			p.mu.Unlock()
			p.reset.Add(1)
			resetConn(c)
			continue
		}
		if mode == Blackholing {
			p.held.Add(1)
		}
		p.track(c, true)
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(c)
	}
}

// track registers c for Cut and Close; p.mu is held. Open counts the
// clients' connections only.
func (p *Proxy) track(c net.Conn, client bool) {
	p.conns[c] = client
	if client {
		p.open.Add(1)
	}
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	if client, ok := p.conns[c]; ok {
		delete(p.conns, c)
		if client {
			p.open.Add(-1)
		}
	}
	p.mu.Unlock()
	c.Close()
}

// serve waits out a blackhole, dials the target and pipes both ways.
func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	if !p.pass() {
		return
	}
	server, err := net.DialTimeout("tcp", p.target, DialTimeout)
	if err != nil {
		p.dialFails.Add(1)
		resetConn(client)
		return
	}
	p.mu.Lock()
	if p.mode == Cutting {
		p.mu.Unlock()
		server.Close()
		return
	}
	p.track(server, false)
	p.mu.Unlock()
	defer p.untrack(server)
	p.forwarded.Add(1)
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client, &p.up); done <- struct{}{} }()
	go func() { p.pipe(client, server, &p.down); done <- struct{}{} }()
	<-done
	client.Close() // the other direction ends too
	server.Close()
	<-done
}

// pass blocks while the proxy is blackholed; it reports whether the
// connection may go on (false once cut or closed).
func (p *Proxy) pass() bool {
	for {
		p.mu.Lock()
		mode, gate := p.mode, p.gate
		p.mu.Unlock()
		switch mode {
		case Forward:
			return true
		case Cutting:
			return false
		}
		<-gate
	}
}

// pipe copies src to dst, holding each chunk while blackholed.
func (p *Proxy) pipe(dst, src net.Conn, n *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if !p.pass() {
				return
			}
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
			n.Add(int64(k))
		}
		if err != nil {
			return
		}
	}
}

// resetConn closes c with an RST rather than a FIN, as a cut does.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	c.Close()
}
