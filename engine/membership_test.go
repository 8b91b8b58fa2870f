package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

func TestFlagRevisions(t *testing.T) {
	t.Parallel()
	type n struct {
		rev   string
		alive bool
	}
	tests := []struct {
		name  string
		nodes []n
		want  []bool
	}{
		{"one node", []n{{"a", true}}, []bool{false}},
		{"all agree", []n{{"a", true}, {"a", true}}, []bool{false, false}},
		{"one lags", []n{{"a", true}, {"b", true}, {"a", true}}, []bool{false, true, false}},
		{"a dead node is never flagged nor counted", []n{{"b", false}, {"b", false}, {"a", true}}, []bool{false, false, false}},
		{"a tie flags every live node", []n{{"a", true}, {"b", true}, {"c", false}}, []bool{true, true, false}},
		{"no live node", []n{{"a", false}}, []bool{false}},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := make([]admin.NodeInfo, len(tt.nodes))
			for i, x := range tt.nodes {
				nodes[i] = admin.NodeInfo{ID: fmt.Sprint(i), Revision: x.rev, Alive: x.alive}
			}
			flagRevisions(nodes)
			for i, want := range tt.want {
				if nodes[i].RevisionMismatch != want {
					t.Errorf("node %d (%+v): mismatch %t, want %t", i, tt.nodes[i], nodes[i].RevisionMismatch, want)
				}
			}
		})
	}
}

// memberEngine is an engine with what heartbeats use: a store, a runtime
// on a fake clock, metrics and a logger writing to logs.
func memberEngine(t *testing.T, db string, logs *bytes.Buffer) (*Engine, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	st := openStore(t)
	rt, err := actors.New(actors.Options{Store: st, Node: "node-a", Platform: &scriptedPlatform{}, Clock: clk, Timers: clk,
		DispatchInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background(), time.Second) })
	e := &Engine{cfg: Config{NodeID: "node-a", DB: db, Version: "v1"}, clock: clk, store: st, runtime: rt, metrics: newEngineMetrics(),
		logger: slog.New(slog.NewTextHandler(logs, nil)), startedAt: t0, current: &schedules.Config{Revision: "rev-a"},
		addr: &net.TCPAddr{IP: net.IPv4zero, Port: 8080}}
	return e, clk
}

// TestHeartbeatSeesTheCluster: a heartbeat records this node with its
// address, lists the others, counts the live ones and their revisions,
// flags the one that differs, and warns once about a Postgres store
// shared without Redis; nodes silent for three heartbeats drop out.
func TestHeartbeatSeesTheCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	// The warning depends on the kind of store named by --db, not on the
	// store itself: SQLite stands in for Postgres here.
	e, clk := memberEngine(t, "postgres://db.example/herald", &logs)
	for _, id := range []string{"node-b", "node-c"} {
		if err := e.store.Heartbeat(ctx, store.HeartbeatParams{Now: t0,
			Node: store.Node{ID: id, Revision: "rev-b", StartedAt: t0, StoreHealth: "ok"}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.LiveNodes(); got != 1 {
		t.Errorf("LiveNodes before any heartbeat = %d, want 1", got)
	}
	for range 2 {
		if err := e.beat(ctx); err != nil {
			t.Fatalf("beat: %v", err)
		}
	}
	if got := e.LiveNodes(); got != 3 {
		t.Errorf("LiveNodes = %d, want 3", got)
	}
	if got := testutil.ToFloat64(e.metrics.configRevisions); got != 2 {
		t.Errorf("herald_config_revisions = %v, want 2", got)
	}
	if n := strings.Count(logs.String(), `msg="nodes share this store without Redis"`); n != 1 {
		t.Errorf("the warning was logged %d times, want once:\n%s", n, logs.String())
	}
	if w := e.Warnings(); len(w) != 1 || !strings.HasPrefix(w[0], "3 live nodes share this store without Redis") {
		t.Errorf("Warnings = %q", w)
	}
	nodes, err := e.Nodes(ctx)
	if err != nil || len(nodes) != 3 {
		t.Fatalf("Nodes = %+v, %v", nodes, err)
	}
	host, _ := os.Hostname()
	a := nodes[0]
	if a.ID != "node-a" || a.Address != "http://"+net.JoinHostPort(host, "8080") || a.Revision != "rev-a" || !a.Alive ||
		!a.RevisionMismatch || a.StoreHealth != "ok" || a.RedisHealth != "" || a.Version != "v1" {
		t.Errorf("this node = %+v; want it recorded with its host name and flagged (rev-a against rev-b twice)", a)
	}
	if nodes[1].RevisionMismatch || !nodes[1].Alive {
		t.Errorf("node-b = %+v, want alive and not flagged", nodes[1])
	}

	clk.Set(t0.Add(aliveFor))
	if err := e.beat(ctx); err != nil {
		t.Fatalf("beat: %v", err)
	}
	if got := e.LiveNodes(); got != 1 {
		t.Errorf("LiveNodes after the others fell silent = %d, want 1", got)
	}
	if got := testutil.ToFloat64(e.metrics.configRevisions); got != 1 {
		t.Errorf("herald_config_revisions = %v, want 1", got)
	}
	if w := e.Warnings(); len(w) != 0 {
		t.Errorf("Warnings alone = %q, want none", w)
	}
	if err := e.removeNode(ctx); err != nil {
		t.Fatal(err)
	}
	if nodes, err := e.store.ListNodes(ctx); err != nil || len(nodes) != 2 || nodes[0].ID != "node-b" {
		t.Errorf("after removing this node: %+v, %v", nodes, err)
	}
}

// TestNoWarningOnSQLite: nodes cannot share a SQLite file, so there is
// nothing to warn about.
func TestNoWarningOnSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logs bytes.Buffer
	e, _ := memberEngine(t, "sqlite:herald.db", &logs)
	if err := e.store.Heartbeat(ctx, store.HeartbeatParams{Now: t0, Node: store.Node{ID: "node-b", StartedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := e.beat(ctx); err != nil {
		t.Fatal(err)
	}
	if w := e.Warnings(); len(w) != 0 || strings.Contains(logs.String(), "without Redis") {
		t.Errorf("Warnings = %q, logs %s; want none", w, logs.String())
	}
}

// TestPausesThroughTheStore: a pause made through the engine is in the
// store and in force; resuming ends it.
func TestPausesThroughTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _ := memberEngine(t, "sqlite:herald.db", new(bytes.Buffer))
	if err := e.Pause(ctx, store.Pause{ScheduleID: "s", Note: "freeze", At: t0, Until: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	m, err := e.Pauses(ctx)
	if err != nil || m["s"].Note != "freeze" || !m["s"].Until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Pauses = %+v, %v", m, err)
	}
	if err := e.Resume(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	if m, err := e.Pauses(ctx); err != nil || len(m) != 0 {
		t.Fatalf("Pauses after resuming = %+v, %v", m, err)
	}
}
