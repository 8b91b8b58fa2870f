package actors

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// cutProxy forwards TCP connections to target until cut, which closes its
// listener and every connection; restore listens again on the same address.
type cutProxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.restore(t)
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) restore(t *testing.T) {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *cutProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// A store that stops answering: the node keeps firing, holds the fires
// (up to MaxHeldFires; the rest are dropped and counted) and writes them
// when the store answers again, each as exactly one job.
func TestStoreDownHoldsFires(t *testing.T) {
	for _, tc := range []struct {
		maxHeld, dropped int
	}{{0, 0}, {6, 2}} {
		t.Run(fmt.Sprintf("max held %d", tc.maxHeld), func(t *testing.T) {
			const n = 4
			cfg := pgtest.Config(t).Copy() // its cleanup reaches the server directly
			proxy := newCutProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
			host, port, _ := net.SplitHostPort(proxy.addr)
			p, _ := strconv.Atoi(port)
			cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = host, uint16(p), nil
			cfg.ConnConfig.ConnectTimeout = time.Second
			s, err := postgres.OpenConfig(context.Background(), cfg, postgres.Options{Migrate: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })

			h := newHarness(t)
			h.store = s
			c := newCounts()
			h.tune = func(o *Options) { o.Observer, o.MaxHeldFires = c, tc.maxHeld }
			rt := h.runtime("node-a")
			if _, err := rt.Apply(context.Background(), h.load(burstYAML(n)), nil, "test"); err != nil {
				t.Fatal(err)
			}
			h.advanceTo(t0.Add(time.Minute))
			h.eventually("the first burst written", func() bool { return c.get(func(c *counts) int { return c.writes }) == n })

			proxy.cut()
			// Two bursts while the store is unreachable: the timers keep
			// running and the fires are held.
			h.advanceTo(t0.Add(2 * time.Minute))
			h.eventually("the second burst held", func() bool { return rt.heldFires() == n })
			h.advanceTo(t0.Add(3 * time.Minute))
			h.eventually("the third burst held or dropped", func() bool {
				return rt.heldFires()+c.get(func(c *counts) int { return c.dropped[DropStoreUnavailable] }) == 2*n
			})
			if d := c.get(func(c *counts) int { return c.dropped[DropStoreUnavailable] }); d != tc.dropped {
				t.Fatalf("%d fires dropped, want %d", d, tc.dropped)
			}

			proxy.restore(t)
			// The held fires' writer backs off on the runtime's clock.
			h.eventually("the held fires written", func() bool {
				if rt.heldFires() == 0 {
					return true
				}
				h.clock.Advance(time.Second)
				return false
			})
			// The clock moved on while the fires were written, and later
			// bursts may have fired: count the three bursts of the test.
			want := 3*n - tc.dropped
			upTo := func(at time.Time) []store.Job {
				var out []store.Job
				for _, j := range h.allJobs(n) {
					if !j.PlannedAt.After(at) {
						out = append(out, j)
					}
				}
				return out
			}
			h.eventually("one job per fire", func() bool { return len(upTo(t0.Add(3*time.Minute))) == want })
			seen := map[string]bool{}
			for _, j := range h.allJobs(n) {
				k := FireName(j.ScheduleID, j.PlannedAt)
				if seen[k] {
					t.Fatalf("fire %s recorded twice", k)
				}
				seen[k] = true
			}
			// And the node goes on firing.
			next := h.clock.Now().Truncate(time.Minute).Add(time.Minute)
			h.advanceTo(next)
			h.eventually("the next burst written", func() bool { return len(upTo(next))-len(upTo(next.Add(-time.Nanosecond))) == n })
		})
	}
}
