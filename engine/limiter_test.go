package engine

import (
	"log/slog"
	"testing"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/platform/x/ratelimit"
)

func TestNewLimiter(t *testing.T) {
	newEngine := func() *Engine {
		return &Engine{cfg: Config{NodeID: "n1", RedisPrefix: "x:"}, logger: slog.New(slog.DiscardHandler), clock: clock.NewFake(t0),
			store: openStore(t), metrics: newEngineMetrics()}
	}
	e := newEngine()
	if l := e.newLimiter(); l != nil {
		t.Errorf("without redis: %T; want nil (the platform's Memory)", l)
	}
	if got := valueOf(t, e.metrics.registry, "herald_ratelimit_degraded"); got != 0 {
		t.Errorf("herald_ratelimit_degraded without redis = %v", got)
	}
	e = newEngine()
	e.redis, e.cfg.RedisPrefix = redistest.Open(t)
	if _, ok := e.newLimiter().(*ratelimit.Shared); !ok {
		t.Error("with redis: not the shared limiter")
	}
	if got := valueOf(t, e.metrics.registry, "herald_ratelimit_degraded"); got != 0 {
		t.Errorf("herald_ratelimit_degraded with redis up = %v", got)
	}
}
