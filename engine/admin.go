package engine

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// adminHandler is the admin API, authenticated, for every protocol.
func (e *Engine) adminHandler() (string, http.Handler) {
	srv := admin.NewServer(adminBackend{e}, e.logger.With(slog.String("component", "admin")))
	return adminv1connect.NewAdminServiceHandler(srv, connect.WithInterceptors(admin.NewAuthInterceptor(e.tokens, e.logger.With(slog.String("component", "admin")))),
		connect.WithReadMaxBytes(maxMessageBytes))
}

// Info implements admin.Backend.
func (e *Engine) Info() admin.NodeInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := admin.NodeInfo{ID: e.cfg.NodeID, Address: e.address(), Version: cmp.Or(e.cfg.Version, "devel"), DryRun: e.cfg.DryRun,
		StartedAt: e.startedAt, LastSeen: e.clock.Now(), Alive: true, StoreHealth: "ok"}
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

// adminBackend adapts the engine's Reload to admin.Backend (the engine's
// own Reload returns its ReloadResult).
type adminBackend struct{ *Engine }

func (b adminBackend) Reload(ctx context.Context) (admin.Reload, error) { return b.reloadFromAPI(ctx) }
