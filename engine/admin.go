package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"sort"
	"time"

	"connectrpc.com/connect"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// Keys of the engine's durable state in the store (store.GetState).
const (
	// pausesKey holds every paused schedule (JSON, id -> pause): runtime
	// state that survives restarts and is shared by the nodes of a
	// cluster, each of which re-reads it with its heartbeat.
	pausesKey = "engine/pauses"
	// nodesKey holds every node's heartbeat (JSON, id -> node).
	nodesKey = "engine/nodes"
)

// heartbeat is how often a node records itself and re-reads the pauses;
// a node not seen for three heartbeats is reported not alive.
const heartbeat = 10 * time.Second

// adminTokens reads the tokens from HERALD_ADMIN_TOKENS and the token
// file.
func (c Config) adminTokens() (*admin.Tokens, error) {
	t, err := admin.ParseTokens(c.AdminTokens, "HERALD_ADMIN_TOKENS")
	if err != nil {
		return nil, err
	}
	if c.AdminTokenFile != "" {
		b, err := os.ReadFile(c.AdminTokenFile)
		if err != nil {
			return nil, fmt.Errorf("--admin-token-file: %w", err)
		}
		if err := t.Add(string(b), c.AdminTokenFile); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// loopbackOnly turns a listen address into its loopback equivalent (same
// port) when it would listen beyond this machine.
func loopbackOnly(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, false
	}
	if host == "localhost" {
		return addr, false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return addr, false
	}
	return net.JoinHostPort("127.0.0.1", port), true
}

// adminHandler is the admin API, authenticated, for every protocol.
func (e *Engine) adminHandler() (string, http.Handler) {
	srv := admin.NewServer(adminBackend{e}, e.logger.With(slog.String("component", "admin")))
	return adminv1connect.NewAdminServiceHandler(srv, connect.WithInterceptors(admin.NewAuthInterceptor(e.tokens, e.logger.With(slog.String("component", "admin")))))
}

// Info implements admin.Backend.
func (e *Engine) Info() admin.NodeInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := admin.NodeInfo{ID: e.cfg.NodeID, Version: cmp.Or(e.cfg.Version, "devel"), DryRun: e.cfg.DryRun, StartedAt: e.startedAt, LastSeen: e.clock.Now(), Alive: true}
	if e.current != nil {
		n.Revision = e.current.Revision
	}
	return n
}

// Config implements admin.Backend.
func (e *Engine) Config() *schedules.Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.current
}

// LastReload implements admin.Backend.
func (e *Engine) LastReload() admin.Reload {
	e.mu.Lock()
	defer e.mu.Unlock()
	return toAdminReload(e.lastLoad)
}

func toAdminReload(r ReloadResult) admin.Reload {
	return admin.Reload{Result: r.Result, Trigger: r.Trigger, Revision: r.Revision, Added: r.Added, Removed: r.Removed, Changed: r.Changed, Errors: r.Errors, At: r.At}
}

// ReloadFromAPI implements admin.Backend's Reload.
func (e *Engine) reloadFromAPI(ctx context.Context) (admin.Reload, error) {
	r, err := e.Reload(ctx, "api")
	return toAdminReload(r), err
}

// Store implements admin.Backend.
func (e *Engine) Store() store.Store { return e.store }

// Now implements admin.Backend.
func (e *Engine) Now() time.Time { return e.clock.Now() }

// Journal implements admin.Backend.
func (e *Engine) Journal(ctx context.Context, c store.Change) { e.runtime.Journal(ctx, c) }

// Trigger implements admin.Backend.
func (e *Engine) Trigger(ctx context.Context, id string) (store.Job, error) {
	return e.runtime.Trigger(ctx, id)
}

// pauseState is a pause as stored.
type pauseState struct {
	Note  string    `json:"note,omitempty"`
	At    time.Time `json:"at"`
	Until time.Time `json:"until,omitzero"`
}

// Pauses implements admin.Backend: the pauses in force now.
func (e *Engine) Pauses(ctx context.Context) (map[string]actors.Pause, error) {
	m, _, err := e.readPauses(ctx)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	out := make(map[string]actors.Pause, len(m))
	for id, p := range m {
		if ap := (actors.Pause{Note: p.Note, At: p.At, Until: p.Until}); ap.Active(now) {
			out[id] = ap
		}
	}
	return out, nil
}

func (e *Engine) readPauses(ctx context.Context) (map[string]pauseState, int64, error) {
	return readDoc[pauseState](ctx, e.store, pausesKey)
}

// updatePauses applies change to the stored pauses with a compare-and-swap
// (retried when another node wrote first), then hands them to the actors.
func (e *Engine) updatePauses(ctx context.Context, change func(map[string]pauseState)) error {
	m, err := updateDoc(ctx, e.store, e.clock.Now, pausesKey, func(m map[string]pauseState, now time.Time) {
		change(m)
		maps.DeleteFunc(m, func(_ string, p pauseState) bool { return !p.Until.IsZero() && !now.Before(p.Until) })
	})
	if err != nil {
		return err
	}
	e.applyPauses(m)
	return nil
}

func (e *Engine) applyPauses(m map[string]pauseState) {
	out := make(map[string]actors.Pause, len(m))
	for id, p := range m {
		out[id] = actors.Pause{Note: p.Note, At: p.At, Until: p.Until}
	}
	e.runtime.SetPauses(out)
}

// Pause implements admin.Backend.
func (e *Engine) Pause(ctx context.Context, id string, p actors.Pause) error {
	return e.updatePauses(ctx, func(m map[string]pauseState) { m[id] = pauseState{Note: p.Note, At: p.At, Until: p.Until} })
}

// Resume implements admin.Backend.
func (e *Engine) Resume(ctx context.Context, id string) error {
	return e.updatePauses(ctx, func(m map[string]pauseState) { delete(m, id) })
}

// nodeState is a node's heartbeat as stored.
type nodeState struct {
	Version   string    `json:"version"`
	Revision  string    `json:"revision"`
	DryRun    bool      `json:"dry_run"`
	StartedAt time.Time `json:"started_at"`
	LastSeen  time.Time `json:"last_seen"`
}

// Nodes implements admin.Backend.
func (e *Engine) Nodes(ctx context.Context) ([]admin.NodeInfo, error) {
	m, _, err := e.readNodes(ctx)
	if err != nil {
		return nil, err
	}
	now := e.clock.Now()
	out := make([]admin.NodeInfo, 0, len(m))
	for id, n := range m {
		out = append(out, admin.NodeInfo{ID: id, Version: n.Version, Revision: n.Revision, DryRun: n.DryRun, StartedAt: n.StartedAt,
			LastSeen: n.LastSeen, Alive: now.Sub(n.LastSeen) < 3*heartbeat})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Accounts implements admin.Backend: every configured account and the
// state of its credentials, from the X platform.
func (e *Engine) Accounts(ctx context.Context) []admin.Account {
	if e.platform == nil {
		return nil
	}
	states := e.platform.AccountStates(ctx)
	out := make([]admin.Account, len(states))
	for i, s := range states {
		out[i] = admin.Account{Name: s.Account, Auth: s.Auth, DryRun: s.DryRun, State: string(s.State), Detail: s.Detail, Since: s.Since}
	}
	return out
}

func (e *Engine) readNodes(ctx context.Context) (map[string]nodeState, int64, error) {
	return readDoc[nodeState](ctx, e.store, nodesKey)
}

// beat records this node (or, with gone, removes it) and forgets nodes
// silent for a day.
func (e *Engine) beat(ctx context.Context, gone bool) error {
	info := e.Info()
	_, err := updateDoc(ctx, e.store, e.clock.Now, nodesKey, func(m map[string]nodeState, now time.Time) {
		maps.DeleteFunc(m, func(_ string, n nodeState) bool { return now.Sub(n.LastSeen) > 24*time.Hour })
		if gone {
			delete(m, info.ID)
		} else {
			m[info.ID] = nodeState{Version: info.Version, Revision: info.Revision, DryRun: info.DryRun, StartedAt: info.StartedAt, LastSeen: now}
		}
	})
	return err
}

// heartbeats records this node every heartbeat and picks up pauses made
// through other nodes, until ctx ends.
func (e *Engine) heartbeats(ctx context.Context) {
	for {
		if err := e.beat(ctx, false); err != nil && ctx.Err() == nil {
			e.logger.Warn("heartbeat failed", slog.String("error", err.Error()))
		}
		if m, _, err := e.readPauses(ctx); err == nil {
			e.applyPauses(m)
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

// adminBackend adapts the engine's Reload to admin.Backend (the engine's
// own Reload returns its ReloadResult).
type adminBackend struct{ *Engine }

func (b adminBackend) Reload(ctx context.Context) (admin.Reload, error) { return b.reloadFromAPI(ctx) }

// readDoc reads a JSON document of the store's state (id -> V) and its
// version; an absent one is empty at version 0.
func readDoc[V any](ctx context.Context, st store.Store, key string) (map[string]V, int64, error) {
	m := map[string]V{}
	got, err := st.GetState(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return m, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", key, err)
	}
	if err := json.Unmarshal(got.Value, &m); err != nil {
		return nil, 0, fmt.Errorf("stored %s: %w", key, err)
	}
	return m, got.Version, nil
}

// updateDoc applies change to a JSON document of the store's state with a
// compare-and-swap, reading and changing it again when another node wrote
// first (up to 10 times). It returns the document as stored.
func updateDoc[V any](ctx context.Context, st store.Store, now func() time.Time, key string, change func(map[string]V, time.Time)) (map[string]V, error) {
	for try := 0; ; try++ {
		m, version, err := readDoc[V](ctx, st, key)
		if err != nil {
			return nil, err
		}
		at := now()
		change(m, at)
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		_, err = st.PutState(ctx, store.PutStateParams{Key: key, Value: b, Version: version, Now: at})
		if errors.Is(err, store.ErrConflict) && try < 10 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", key, err)
		}
		return m, nil
	}
}
