package engine

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/store"
)

// heartbeat is how often a node records itself (store.Heartbeat) and
// re-reads the pauses.
const heartbeat = 10 * time.Second

// aliveFor is how long a node counts as alive after its last heartbeat:
// three heartbeats, so one slow write does not mark it dead.
const aliveFor = 3 * heartbeat

// forgetAfter is how long a silent node stays listed (as not alive).
const forgetAfter = 24 * time.Hour

// members is what the engine learnt of the cluster at its last heartbeat.
type members struct {
	mu sync.Mutex
	// live counts the live nodes of the last listing (0 before it).
	live int
	// warned is set once the warning about sharing a store without Redis
	// has been logged.
	warned bool
}

// LiveNodes is the number of live nodes sharing this node's store, as of
// the last heartbeat, at least 1 (this one): what a node that cannot reach
// Redis divides a shared budget by.
func (e *Engine) LiveNodes() int {
	e.members.mu.Lock()
	defer e.members.mu.Unlock()
	return max(e.members.live, 1)
}

// address is where the node's API is reached: its listen address, with
// the host name in place of an unspecified IP (0.0.0.0, ::).
func (e *Engine) address() string {
	if e.addr == nil {
		return ""
	}
	scheme := "http"
	if e.cfg.TLSCert != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(e.addr.String())
	if err != nil {
		return scheme + "://" + e.addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil && name != "" {
			host = name
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// beat records this node in the store, then lists the nodes to refresh
// LiveNodes and the revisions gauge.
func (e *Engine) beat(ctx context.Context) error {
	info := e.Info()
	n := store.Node{ID: info.ID, Address: info.Address, Version: info.Version, Revision: info.Revision,
		StartedAt: info.StartedAt, DryRun: info.DryRun, StoreHealth: "ok", InFlight: e.runtime.InFlight()}
	if configured, err := e.Redis(ctx); err != nil {
		n.RedisHealth = "degraded: " + err.Error()
	} else if configured {
		n.RedisHealth = "ok"
	}
	now := e.clock.Now()
	if err := e.store.Heartbeat(ctx, store.HeartbeatParams{Node: n, Now: now, ForgetBefore: now.Add(-forgetAfter)}); err != nil {
		return err
	}
	nodes, err := e.Nodes(ctx)
	if err != nil {
		return err
	}
	live, revisions := 0, map[string]bool{}
	for _, n := range nodes {
		if n.Alive {
			live++
			revisions[n.Revision] = true
		}
	}
	e.metrics.configRevisions.Set(float64(len(revisions)))
	e.members.mu.Lock()
	e.members.live = live
	warn := !e.members.warned && e.sharedWithoutRedis(live) != ""
	e.members.warned = e.members.warned || warn
	e.members.mu.Unlock()
	if warn {
		e.logger.Warn("nodes share this store without Redis", slog.Int("live_nodes", live),
			slog.String("detail", e.sharedWithoutRedis(live)))
	}
	return nil
}

// sharedWithoutRedis is the warning for a Postgres store shared by live
// nodes when this one has no Redis, "" otherwise.
func (e *Engine) sharedWithoutRedis(live int) string {
	if live < 2 || e.redis != nil || !isPostgres(e.cfg.DB) {
		return ""
	}
	return fmt.Sprintf("%d live nodes share this store without Redis: every node writes every fire and counts rate limits alone", live)
}

func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Warnings implements admin.Backend: what an operator should know about
// the cluster, as of the last heartbeat.
func (e *Engine) Warnings() []string {
	e.members.mu.Lock()
	live := e.members.live
	e.members.mu.Unlock()
	if w := e.sharedWithoutRedis(live); w != "" {
		return []string{w}
	}
	return nil
}

// Nodes implements admin.Backend: every node the store lists, whether it
// is alive, and whether its revision is the cluster's.
func (e *Engine) Nodes(ctx context.Context) ([]admin.NodeInfo, error) {
	nodes, err := e.store.ListNodes(ctx)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	out := make([]admin.NodeInfo, len(nodes))
	for i, n := range nodes {
		out[i] = admin.NodeInfo{ID: n.ID, Address: n.Address, Version: n.Version, Revision: n.Revision, DryRun: n.DryRun,
			StartedAt: n.StartedAt, LastSeen: n.LastSeen, Alive: now.Sub(n.LastSeen) < aliveFor,
			RedisHealth: n.RedisHealth, StoreHealth: n.StoreHealth, InFlight: n.InFlight}
	}
	flagRevisions(out)
	return out, nil
}

// flagRevisions sets RevisionMismatch on each live node whose revision is
// not the most common among live nodes. When several revisions are the
// most common, no revision is the cluster's and every live node is
// flagged: the operator must decide which checkout is right.
func flagRevisions(nodes []admin.NodeInfo) {
	count := map[string]int{}
	for _, n := range nodes {
		if n.Alive {
			count[n.Revision]++
		}
	}
	most := 0
	for _, c := range count {
		most = max(most, c)
	}
	var common []string
	for rev, c := range count {
		if c == most {
			common = append(common, rev)
		}
	}
	for i := range nodes {
		nodes[i].RevisionMismatch = nodes[i].Alive && (len(common) > 1 || nodes[i].Revision != common[0])
	}
}

// removeNode deletes this node's row at shutdown, so it is not listed as
// a dead node.
func (e *Engine) removeNode(ctx context.Context) error {
	return e.store.RemoveNode(ctx, e.cfg.NodeID)
}

// heartbeats records this node every heartbeat and picks up pauses made
// through other nodes, until ctx ends.
func (e *Engine) heartbeats(ctx context.Context) {
	for {
		if err := e.beat(ctx); err != nil && ctx.Err() == nil {
			e.logger.Warn("heartbeat failed", slog.String("error", err.Error()))
		}
		if err := e.refreshPauses(ctx); err != nil && ctx.Err() == nil {
			e.logger.Warn("reading pauses failed", slog.String("error", err.Error()))
		}
		done := make(chan struct{})
		t := e.clock.AfterFunc(heartbeat, func() { close(done) })
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-done:
		}
	}
}

// Pauses implements admin.Backend: the pauses in force now.
func (e *Engine) Pauses(ctx context.Context) (map[string]store.Pause, error) {
	ps, err := e.store.ListPauses(ctx, store.ListPausesParams{Now: e.clock.Now()})
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Pause, len(ps))
	for _, p := range ps {
		out[p.ScheduleID] = p
	}
	return out, nil
}

// refreshPauses hands the pauses in force to the actors.
func (e *Engine) refreshPauses(ctx context.Context) error {
	m, err := e.Pauses(ctx)
	if err != nil {
		return err
	}
	e.runtime.SetPauses(m)
	return nil
}

// Pause implements admin.Backend.
func (e *Engine) Pause(ctx context.Context, p store.Pause) error {
	if err := e.store.Pause(ctx, store.PauseParams(p)); err != nil {
		return err
	}
	return e.refreshPauses(ctx)
}

// Resume implements admin.Backend.
func (e *Engine) Resume(ctx context.Context, id string) error {
	if err := e.store.Resume(ctx, id); err != nil {
		return err
	}
	return e.refreshPauses(ctx)
}
