package engine

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-social/herald/platform/x/ratelimit"
)

// liveNodesRefresh is how long a count of the live nodes is used before
// the heartbeats are read again.
const liveNodesRefresh = 10 * time.Second

// liveNodes counts the nodes whose heartbeats are fresh, for the rate
// limiter's fallback: while Redis is away each node keeps to its share of
// every window, the window divided by this count. The count is cached and
// read from the store at most every liveNodesRefresh, so a limiter call
// waits on the store at most that often (one second at most). A node that
// died still counts for up to three heartbeats, which only makes shares
// smaller; one that just started is missed until the next refresh.
//
// TODO(lead): reconcile with Engine.LiveNodes from the heartbeat work.
type liveNodes struct {
	e *Engine

	mu   sync.Mutex
	n    int
	read time.Time // when n was read; zero before the first read
}

// count returns the live nodes, at least 1 (this node, whether or not its
// first heartbeat is written yet).
func (l *liveNodes) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.e.clock.Now()
	if !l.read.IsZero() && now.Sub(l.read) < liveNodesRefresh {
		return max(l.n, 1)
	}
	l.read = now // a failed read is not retried before the refresh either
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	nodes, err := l.e.Nodes(ctx)
	if err != nil {
		l.e.logger.Warn("rate limits: counting the live nodes failed, keeping the last count",
			slog.Int("nodes", max(l.n, 1)), slog.String("error", err.Error()))
		return max(l.n, 1)
	}
	n, self := 0, false
	for _, node := range nodes {
		if node.Alive {
			n++
			self = self || node.ID == l.e.cfg.NodeID
		}
	}
	if !self {
		n++
	}
	l.n = n
	return n
}

// newLimiter returns the X platform's rate limiter: with --redis, one
// shared by the cluster (keys under --redis-prefix plus "rl:") that falls
// back to this node's share of every window while Redis is away; without,
// nil, for the platform's default one-node Memory. It registers the gauge
// herald_ratelimit_degraded, 0 without Redis.
func (e *Engine) newLimiter() ratelimit.Limiter {
	var shared *ratelimit.Shared
	if e.redis != nil {
		live := &liveNodes{e: e}
		shared = ratelimit.NewShared(ratelimit.SharedOptions{
			Redis: ratelimit.NewRedis(e.redis, e.cfg.RedisPrefix+"rl:", e.clock), Clock: e.clock,
			Share: live.count, Logger: e.logger.With(slog.String("component", "ratelimit")),
		})
	}
	gauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "herald_ratelimit_degraded",
		Help: "1 while Redis fails and this node keeps to its share of each rate-limit window (limit divided by the live nodes), else 0.",
	}, func() float64 {
		if shared != nil && shared.Degraded() {
			return 1
		}
		return 0
	})
	if err := e.metrics.registry.Register(gauge); err != nil {
		e.logger.Warn("metrics: registering herald_ratelimit_degraded failed", slog.String("error", err.Error()))
	}
	if shared == nil {
		return nil
	}
	return shared
}
