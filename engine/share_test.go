package engine

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/platform/x/ratelimit"
)

func TestLiveNodes(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	e := &Engine{cfg: Config{NodeID: "n1"}, logger: slog.New(slog.DiscardHandler), clock: clk, store: openStore(t)}
	seen := func(id string, at time.Time) {
		t.Helper()
		_, err := updateDoc(ctx, e.store, clk.Now, nodesKey, func(m map[string]nodeState, _ time.Time) {
			m[id] = nodeState{LastSeen: at}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	live := &liveNodes{e: e}
	if n := live.count(); n != 1 {
		t.Fatalf("no heartbeats: %d; want 1 (this node)", n)
	}
	seen("n2", t0)
	seen("n3", t0.Add(-time.Hour)) // dead
	if n := live.count(); n != 1 {
		t.Fatalf("within the refresh: %d; want the cached 1", n)
	}
	clk.Advance(liveNodesRefresh)
	if n := live.count(); n != 2 {
		t.Fatalf("n2 alive, n3 dead, n1 without a heartbeat yet: %d; want 2", n)
	}
	seen("n1", clk.Now())
	seen("n3", clk.Now())
	clk.Advance(liveNodesRefresh)
	if n := live.count(); n != 3 {
		t.Fatalf("n1, n2, n3 alive: %d; want 3", n)
	}
}

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
