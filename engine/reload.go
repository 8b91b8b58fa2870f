package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// ReloadResult is the outcome of one reload, as logged in the "config
// reload" event (a contract: operators' log pipelines read it).
type ReloadResult struct {
	Result   string // "ok" or "error"
	Trigger  string
	Revision string // the revision now running
	Added    int
	Removed  int
	Changed  int
	Errors   []string
	At       time.Time
}

type reloadRequest struct {
	trigger string
	reply   chan ReloadResult
}

// Reload loads and validates the configuration and applies it if valid;
// an invalid one is rejected as a whole and the last good one keeps
// running. It is the one path for every trigger (file change, SIGHUP, API).
func (e *Engine) Reload(ctx context.Context, trigger string) (ReloadResult, error) {
	req := reloadRequest{trigger: trigger, reply: make(chan ReloadResult, 1)}
	select {
	case e.reloads <- req:
	case <-ctx.Done():
		return ReloadResult{}, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r, nil
	case <-ctx.Done():
		return ReloadResult{}, ctx.Err()
	}
}

func (e *Engine) reload(ctx context.Context, trigger string) ReloadResult {
	cfg, err := e.loader.Load(e.cfg.ConfigPaths...)
	if err != nil {
		return e.reject(trigger, diagnostics(err))
	}
	// Accounts first: a new account whose secret is missing rejects the
	// whole reload, like a schedule error would.
	if err := e.platform.Configure(ctx, cfg); err != nil {
		return e.reject(trigger, strings.Split(err.Error(), "\n"))
	}
	return e.apply(ctx, cfg, trigger)
}

// reject records a load that is not applied: the running configuration
// stays, and its revision is reported.
func (e *Engine) reject(trigger string, errs []string) ReloadResult {
	e.mu.Lock()
	rev := ""
	if e.current != nil {
		rev = e.current.Revision
	}
	e.mu.Unlock()
	r := ReloadResult{Result: "error", Trigger: trigger, Revision: rev, Errors: errs, At: e.clock.Now()}
	e.logReload(r)
	e.setLast(r, nil)
	return r
}

// latestFires is the latest recorded fire of schedules, read from the
// store (read), or why it could not be read.
type latestFires struct {
	read  bool
	fires map[string]store.Fire
	err   error
}

// apply hands a valid configuration to the actors with the latest recorded
// fire of each schedule it starts, for catch-up.
func (e *Engine) apply(ctx context.Context, cfg *schedules.Config, trigger string) ReloadResult {
	return e.applyFires(ctx, cfg, trigger, latestFires{})
}

// applyFires is apply with the latest fires already read (at start, all of
// them); when they were not (the zero latestFires), it reads those of the
// schedules starting.
func (e *Engine) applyFires(ctx context.Context, cfg *schedules.Config, trigger string, pre latestFires) ReloadResult {
	e.logWarnings(cfg)
	r := ReloadResult{Trigger: trigger, Revision: cfg.Revision, At: e.clock.Now()}
	fires, err := pre.fires, pre.err
	if !pre.read {
		e.mu.Lock()
		prev := e.current
		e.mu.Unlock()
		fires, err = e.store.LatestFires(ctx, actors.StartingSchedules(prev, cfg))
	}
	if err == nil {
		var res actors.ApplyResult
		res, err = e.runtime.Apply(ctx, cfg, fires, newID())
		r.Added, r.Removed, r.Changed = res.Added, res.Removed, res.Changed
	}
	if err != nil {
		r.Result, r.Errors = "error", []string{err.Error()}
		e.logReload(r)
		e.setLast(r, nil)
		return r
	}
	r.Result = "ok"
	e.logReload(r)
	e.setLast(r, cfg)
	return r
}

func (e *Engine) setLast(r ReloadResult, cfg *schedules.Config) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.lastLoad = r
	if cfg != nil {
		e.current = cfg
		e.metrics.setSchedules(len(cfg.Schedules))
	}
}

// logReload writes the "config reload" event: result, revision, added,
// removed, changed, and on error the errors (FILE:LINE:COL: message each).
func (e *Engine) logReload(r ReloadResult) {
	attrs := []slog.Attr{
		slog.String("result", r.Result), slog.String("revision", r.Revision), slog.String("trigger", r.Trigger),
		slog.Int("added", r.Added), slog.Int("removed", r.Removed), slog.Int("changed", r.Changed),
	}
	e.observeReload(r)
	level := slog.LevelInfo
	if r.Result != "ok" {
		level = slog.LevelError
		attrs = append(attrs, slog.Any("errors", r.Errors))
	}
	e.logger.LogAttrs(context.Background(), level, "config reload", attrs...)
}

// maxLoggedWarnings bounds the "config warning" events of one load: a
// generated plan may hold thousands of warnings, and a reload must not
// flood the log with them; `herald validate` lists them all.
const maxLoggedWarnings = 100

// logWarnings writes a "config warning" event for each warning of a
// configuration about to be applied (what loads but will probably fail
// when published, see schedules.Config.Warnings), once per load, with the
// attributes file, line, col and message; past maxLoggedWarnings, one
// event counts the rest.
func (e *Engine) logWarnings(cfg *schedules.Config) {
	ctx := context.Background()
	for i, w := range cfg.Warnings {
		if i == maxLoggedWarnings {
			e.logger.LogAttrs(ctx, slog.LevelWarn, "config warnings not logged",
				slog.Int("count", len(cfg.Warnings)-i), slog.String("revision", cfg.Revision),
				slog.String("hint", "herald validate lists them all"))
			return
		}
		e.logger.LogAttrs(ctx, slog.LevelWarn, "config warning",
			slog.String("file", w.File), slog.Int("line", w.Line), slog.Int("col", w.Col),
			slog.String("message", w.Message), slog.String("revision", cfg.Revision))
	}
}

// diagnostics turns a load error into one line per problem.
func diagnostics(err error) []string {
	var diags schedules.Diagnostics
	if errors.As(err, &diags) {
		out := make([]string, len(diags))
		for i, d := range diags {
			out[i] = d.String()
		}
		return out
	}
	return []string{err.Error()}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
