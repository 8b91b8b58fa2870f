package engine

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herald-social/herald/platform/x/ratelimit"
)

// newLimiter returns the X platform's rate limiter: with --redis, one
// shared by the cluster (keys under --redis-prefix plus "rl:") that falls
// back to this node's share of every window while Redis is away; without,
// nil, for the platform's default one-node Memory. It registers the gauge
// herald_ratelimit_degraded, 0 without Redis.
func (e *Engine) newLimiter() ratelimit.Limiter {
	var shared *ratelimit.Shared
	if e.redis != nil {
		shared = ratelimit.NewShared(ratelimit.SharedOptions{
			Redis: ratelimit.NewRedis(e.redis, e.cfg.RedisPrefix+"rl:", e.clock), Clock: e.clock,
			Share: e.LiveNodes, Logger: e.logger.With(slog.String("component", "ratelimit")),
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
