package actors

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// dispatcher re-drives what is durable but not moving, every
// Options.DispatchInterval: jobs whose lease expired (their publisher died:
// they go to unknown and are reconciled with the platform before any
// retry), and due planned or retrying jobs nobody is publishing (fires
// recorded before a crash, retries whose backoff ended). It is what makes a
// kill -9 lose nothing, on this node or any other.
type dispatcher struct {
	rt *Runtime
}

func (d *dispatcher) run(ctx context.Context) {
	for {
		d.tick(ctx)
		if !sleep(ctx, d.rt.opts.Clock, d.rt.opts.DispatchInterval) {
			return
		}
	}
}

func (d *dispatcher) tick(ctx context.Context) {
	rt := d.rt
	if rt.currentConfig() == nil {
		return // nothing can be published before the first configuration
	}
	now := rt.opts.Clock.Now()
	expired, err := rt.opts.Store.ExpireLeases(ctx, store.ExpireLeasesParams{Node: rt.opts.Node, Now: now, Limit: rt.opts.BatchSize})
	if err != nil {
		if ctx.Err() == nil {
			rt.logger.Warn("dispatcher: expiring leases failed", slog.String("error", err.Error()))
		}
		return
	}
	for _, c := range expired {
		rt.journal(ctx, c)
	}
	d.reconcileUnknown(ctx)

	// Claim only as much as the publishers can start soon, so that leases
	// do not run out in a mailbox.
	claimed, err := rt.opts.Store.ClaimJobs(ctx, store.ClaimJobsParams{
		Limit: rt.opts.Publishers * 2, Node: rt.opts.Node, Now: now, LeaseUntil: now.Add(rt.opts.Lease),
		PlannedDueBefore: now.Add(-rt.opts.DispatchGrace), Detail: "dispatcher",
	})
	if err != nil {
		if ctx.Err() == nil {
			rt.logger.Warn("dispatcher: claiming due jobs failed", slog.String("error", err.Error()))
		}
		return
	}
	for i := range claimed {
		rt.journal(ctx, claimed[i])
		rt.enqueue(publishMsg{Job: claimed[i].Job})
	}
}

// reconcileUnknown settles jobs whose publish may or may not have happened:
// if the platform has the post, the job succeeded; otherwise it is retried.
// Herald never publishes a job again before asking.
func (d *dispatcher) reconcileUnknown(ctx context.Context) {
	rt := d.rt
	page, err := rt.opts.Store.ListJobs(ctx, store.ListJobsParams{Statuses: []store.Status{store.StatusUnknown}, Limit: rt.opts.BatchSize})
	if err != nil {
		rt.logger.Warn("dispatcher: listing unknown jobs failed", slog.String("error", err.Error()))
		return
	}
	cfg := rt.currentConfig()
	for _, job := range page.Jobs {
		tp := store.TransitionParams{JobID: job.ID, From: store.StatusUnknown, Node: rt.opts.Node, Attempt: job.Attempt, Now: rt.opts.Clock.Now()}
		s := cfg.Schedule(job.ScheduleID)
		ids, err := d.find(ctx, s, job)
		deadline, hasDeadline := time.Time{}, false
		if s != nil {
			deadline, hasDeadline = jobDeadline(s, job)
		}
		switch {
		case errors.Is(err, platform.ErrPermanent) || errors.Is(err, platform.ErrReauth):
			// Herald cannot tell whether the post exists, and never
			// publishes twice: an operator decides (retry or cancel).
			tp.To, tp.DeadReason = store.StatusDead, reasonUnreconciled
			tp.Detail = reasonUnreconciled + ": cannot read the account's posts to reconcile: " + err.Error()
			tp.LastError = err.Error()
		case err != nil:
			rt.logger.Warn("dispatcher: reconciliation failed; will try again", slog.Int64("job_id", job.ID), slog.String("error", err.Error()))
			continue
		case len(ids) > 0:
			tp.To, tp.AppendPostIDs, tp.Detail = store.StatusSucceeded, ids, "reconciled: post found on the platform"
			tp.MetricsTasks = metricsTasks(s, append(append([]string(nil), job.PostIDs...), ids...), tp.Now)
		case hasDeadline && tp.Now.After(deadline):
			tp.To, tp.DeadReason = store.StatusDead, reasonExpired
			tp.Detail = "reconciled: post not found, and the deadline " + deadline.UTC().Format(time.RFC3339) + " has passed"
			tp.LastError = tp.Detail
		default:
			tp.To, tp.RetryAt, tp.Detail = store.StatusRetrying, tp.Now, "reconciled: post not found; retrying"
		}
		res, err := rt.outcomes.do(ctx, tp)
		if err == nil && res.Err == nil {
			rt.journal(ctx, res.Change)
			rt.afterChange(res.Change, tp)
		}
	}
}

func (d *dispatcher) find(ctx context.Context, s *schedules.Schedule, job store.Job) ([]string, error) {
	if s == nil {
		return nil, nil
	}
	post, err := renderPost(s, job)
	if err != nil {
		return nil, nil
	}
	return d.rt.platform.Find(ctx, post)
}
