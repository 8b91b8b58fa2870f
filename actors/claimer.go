package actors

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/store"
)

// claimer claims due jobs (planned, or retrying whose backoff ended) for
// this node's publisher pool whenever the pool has room and there may be
// work: when the recorder leaves due fires unclaimed, at the due time of a
// fire or retry this node knows of, when a worker frees up while more may
// be due, and every DispatchInterval for work of other nodes. Each claim
// takes at most the room the pool has (see pool), so leases are not spent
// in a queue.
type claimer struct {
	rt   *Runtime
	poke chan struct{}

	mu     sync.Mutex
	next   time.Time // the earliest wake armed, zero if none
	timer  clock.Timer
	closed bool
}

func newClaimer(rt *Runtime) *claimer {
	return &claimer{rt: rt, poke: make(chan struct{}, 1)}
}

// wake says that due jobs may be waiting.
func (c *claimer) wake() {
	select {
	case c.poke <- struct{}{}:
	default:
	}
}

// wakeAt arranges a wake at t (at once if t has come). Only the earliest
// pending wake is armed; a later one is covered by the periodic look.
func (c *claimer) wakeAt(t time.Time) {
	now := c.rt.opts.Clock.Now()
	if !t.After(now) {
		c.wake()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || (!c.next.IsZero() && !t.Before(c.next)) {
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.next = t
	c.timer = c.rt.opts.Clock.AfterFunc(t.Sub(now), func() {
		c.mu.Lock()
		c.next = time.Time{}
		c.mu.Unlock()
		c.wake()
	})
}

func (c *claimer) stopTimer() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
}

// run claims until ctx ends.
func (c *claimer) run(ctx context.Context) {
	defer c.stopTimer()
	rt := c.rt
	tick := make(chan struct{}, 1)
	go func() {
		for sleep(ctx, rt.opts.Clock, rt.opts.DispatchInterval) {
			select {
			case tick <- struct{}{}:
			default:
			}
		}
	}()
	more := true
	for {
		if more && rt.currentConfig() != nil {
			if n := rt.pool.reserve(rt.opts.BatchSize); n > 0 {
				got, err := c.claim(ctx, n)
				rt.pool.release(n - got)
				if err == nil && got == n {
					continue // there may be more
				}
				more = false
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-c.poke:
			more = true
		case <-tick:
			more = true
		case <-rt.pool.freed:
		}
	}
}

// claim claims up to n due jobs and queues them; it returns how many.
func (c *claimer) claim(ctx context.Context, n int) (int, error) {
	rt := c.rt
	now := rt.opts.Clock.Now()
	claimed, err := rt.opts.Store.ClaimJobs(ctx, store.ClaimJobsParams{
		Limit: n, Node: rt.opts.Node, Now: now, LeaseUntil: now.Add(rt.opts.Lease), Detail: "claimed",
	})
	if err != nil {
		if ctx.Err() == nil {
			rt.logger.Warn("claiming due jobs failed", slog.String("error", err.Error()))
		}
		return 0, err
	}
	for i := range claimed {
		rt.leases.add(claimed[i].Job)
		rt.journal(ctx, claimed[i])
		rt.pool.push(claimed[i].Job)
	}
	return len(claimed), nil
}
