package actors

import (
	"context"
	"fmt"
	"time"

	"github.com/herald-social/herald/store"
)

// SetPauses replaces the set of paused schedules (by id). Schedule actors
// read it at each fire: a paused schedule's fires are skipped. The engine
// owns the durable copy (in the store) and hands every change here.
func (rt *Runtime) SetPauses(p map[string]store.Pause) {
	rt.pauses.Store(&p)
}

// paused reports whether the schedule is paused at now.
func (rt *Runtime) paused(id string, now time.Time) bool {
	m := rt.pauses.Load()
	if m == nil {
		return false
	}
	p, ok := (*m)[id]
	return ok && p.Active(now)
}

// Trigger fires a schedule now, once, outside its timing: the job is
// recorded with trigger "manual", its post frozen, and claimed by this node
// in the same write when a publisher has room, then handed to the
// publishers. It returns the job as recorded.
func (rt *Runtime) Trigger(ctx context.Context, scheduleID string) (store.Job, error) {
	cfg := rt.currentConfig()
	if cfg == nil || cfg.Schedule(scheduleID) == nil {
		return store.Job{}, fmt.Errorf("schedule %q is not loaded: %w", scheduleID, store.ErrNotFound)
	}
	if rt.accepting.Err() != nil {
		return store.Job{}, fmt.Errorf("stopping: %w", rt.accepting.Err())
	}
	now := rt.opts.Clock.Now()
	p := store.CreateJobsParams{
		Jobs: []store.NewJob{{ScheduleID: scheduleID, PlannedAt: now, DueAt: now, Trigger: store.TriggerManual,
			CorrelationID: newCorrelationID(), Detail: "triggered by an operator", Render: renderer(cfg.Schedule(scheduleID), now),
			Revision: cfg.Revision}},
		Node: rt.opts.Node, Now: now,
	}
	reserved := rt.pool.reserve(1)
	if reserved > 0 {
		p.ClaimLeaseUntil, p.ClaimLimit = now.Add(rt.opts.Lease), 1
	}
	res, err := rt.opts.Store.CreateJobs(ctx, p)
	if err != nil {
		rt.pool.release(reserved)
		return store.Job{}, fmt.Errorf("recording the manual fire: %w", err)
	}
	r := res[0]
	if r.Claim == nil {
		rt.pool.release(reserved)
	}
	if !r.Created {
		return r.Job, fmt.Errorf("a fire of %q at %s already exists: %w", scheduleID, now.Format(time.RFC3339Nano), store.ErrConflict)
	}
	rt.journal(ctx, store.Change{Job: r.Job, Event: r.Event})
	if r.Claim != nil {
		rt.leases.add(r.Claim.Job)
		rt.journal(ctx, *r.Claim)
		rt.pool.push(r.Claim.Job)
		return r.Claim.Job, nil
	}
	rt.claimer.wake()
	return r.Job, nil
}

// InFlight is how many jobs this node holds the lease of, queued for a
// publisher or being published: what its heartbeat reports.
func (rt *Runtime) InFlight() int { return rt.leases.count() }
