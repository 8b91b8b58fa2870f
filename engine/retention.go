package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/store"
)

// Retention defaults: terminal jobs are kept 90 days, dead letters a year
// (they wait for an operator). Both are far longer than any catch-up
// window, so a pruned fire is never one a catch-up could still plan.
const (
	DefaultRetain     = 90 * 24 * time.Hour
	DefaultRetainDead = 365 * 24 * time.Hour
	// MinRetain is the shortest retention accepted: below an hour the
	// history an operator reads after an incident would already be gone.
	MinRetain = time.Hour
)

// The pruning rhythm. A batch is one short transaction of at most
// pruneBatch jobs; between batches the pruner pauses so fires queued
// behind it (SQLite has one writer) go through; a round stops after
// pruneBudget batches (a million jobs) and resumes at the next.
const (
	pruneFirst  = time.Minute     // after start: not during the start's burst of catch-up fires
	pruneEvery  = 5 * time.Minute // between rounds
	prunePause  = 50 * time.Millisecond
	pruneBatch  = 1000
	pruneBudget = 1000
)

// ParseRetention reads a --retain value: a Go duration ("2160h"), a number
// of days ("90d"), or "off" or "0" for no pruning (zero).
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "off" || s == "0":
		return 0, nil
	case strings.HasSuffix(s, "d"):
		days, err := strconv.Atoi(strings.TrimSuffix(s, "d"))
		if err != nil || days <= 0 || days > 100*365 {
			return 0, fmt.Errorf("%q: want a number of days such as 90d, a duration such as 2160h, or off", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a number of days such as 90d, a duration such as 2160h, or off", s)
	}
	return d, nil
}

// validRetention checks --retain and --retain-dead.
func validRetention(retain, dead time.Duration) []error {
	var errs []error
	if retain != 0 && retain < MinRetain {
		errs = append(errs, fmt.Errorf("--retain %v: want at least %v, or off", retain, MinRetain))
	}
	if dead != 0 && dead < retain {
		errs = append(errs, fmt.Errorf("--retain-dead %v: want at least --retain (%v), or off: dead letters are kept longer than other jobs", dead, retain))
	}
	return errs
}

// pruner deletes old terminal jobs in rounds of small batches (see
// store.PruneJobs). On Postgres several nodes may run one: the store lets
// one batch at a time through and the others skip (PruneResult.Skipped),
// so their rounds end at once.
type pruner struct {
	store  store.Store
	clock  clock.Clock
	logger *slog.Logger
	// retain and retainDead are the retention periods; retainDead zero
	// keeps dead letters.
	retain, retainDead time.Duration
	// pruned counts the rows of each batch (the metric).
	pruned func(store.PruneResult)
}

// run prunes a first time pruneFirst after it starts, then every
// pruneEvery, until ctx ends.
func (p *pruner) run(ctx context.Context) {
	for wait := pruneFirst; p.sleep(ctx, wait); wait = pruneEvery {
		total, err := p.round(ctx)
		if err != nil && ctx.Err() == nil {
			p.logger.Warn("pruning old jobs failed", slog.String("error", err.Error()), slog.Int("jobs", total.Jobs))
		} else if total.Jobs > 0 {
			p.logger.Info("pruned old jobs", slog.Int("jobs", total.Jobs), slog.Int("events", total.Events),
				slog.Int("snapshots", total.Snapshots), slog.Int("tasks", total.Tasks))
		}
	}
}

// round runs batches until one deletes fewer jobs than its limit, another
// node is pruning, or the budget is spent; it returns what it deleted.
func (p *pruner) round(ctx context.Context) (store.PruneResult, error) {
	var total store.PruneResult
	now := p.clock.Now()
	params := store.PruneParams{Before: now.Add(-p.retain), Limit: pruneBatch}
	if p.retainDead > 0 {
		params.DeadBefore = now.Add(-p.retainDead)
	}
	for range pruneBudget {
		res, err := p.store.PruneJobs(ctx, params)
		if err != nil {
			return total, err
		}
		p.pruned(res)
		total.Jobs += res.Jobs
		total.Events += res.Events
		total.Snapshots += res.Snapshots
		total.Tasks += res.Tasks
		if res.Skipped || res.Jobs < params.Limit || !p.sleep(ctx, prunePause) {
			break
		}
	}
	return total, nil
}

// sleep waits d on the clock; false when ctx ended first.
func (p *pruner) sleep(ctx context.Context, d time.Duration) bool {
	done := make(chan struct{})
	t := p.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-ctx.Done():
		t.Stop()
		return false
	case <-done:
		return true
	}
}

// startPruner starts pruning old jobs when retention is on.
func (e *Engine) startPruner(ctx context.Context) {
	if e.cfg.Retain <= 0 {
		return
	}
	p := &pruner{store: e.store, clock: e.clock, logger: e.logger.With(slog.String("component", "retention")),
		retain: e.cfg.Retain, retainDead: e.cfg.RetainDead, pruned: e.metrics.Pruned}
	var pctx context.Context
	pctx, e.stopPrune = context.WithCancel(context.WithoutCancel(ctx))
	e.pruneDone = make(chan struct{})
	go func() {
		defer close(e.pruneDone)
		p.run(pctx)
	}()
}
