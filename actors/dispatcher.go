package actors

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// dispatcher settles, every Options.DispatchInterval, what is durable but
// not moving: jobs whose lease expired (their publisher died or was cut
// off: they go to unknown) and unknown jobs, which it reconciles with the
// platform before anything is sent again. Together with the claimer, which
// picks up due planned and retrying jobs, it is what makes a kill -9 lose
// nothing, on this node or any other.
type dispatcher struct {
	rt *Runtime
	// readBackoff holds, per account, when its timeline may be read again
	// after failed reads, and how many failed in a row.
	readBackoff map[string]accountBackoff
}

// readBackoff paces the timeline reads of an account whose reads fail:
// from 2 s to a minute, so that a flaky X delays reconciliation, not
// forever.
var readBackoff = backoff.Policy{Base: 2 * time.Second, Max: time.Minute}

// errNoSchedule: an unknown job with no frozen post whose schedule is no
// longer configured cannot be looked for.
var errNoSchedule = errors.New("schedule not in the loaded configuration")

type accountBackoff struct {
	until time.Time
	fails int
}

func (d *dispatcher) run(ctx context.Context) {
	d.readBackoff = map[string]accountBackoff{}
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
	expired, err := rt.opts.Store.ExpireLeases(ctx, store.ExpireLeasesParams{Node: rt.opts.Node, Now: rt.opts.Clock.Now(), Limit: rt.opts.BatchSize})
	if err != nil {
		if ctx.Err() == nil {
			rt.logger.Warn("dispatcher: expiring leases failed", slog.String("error", err.Error()))
		}
		return
	}
	for _, c := range expired {
		rt.journal(ctx, c)
	}
	d.reconcile(ctx)
}

// reconcile takes the unknown jobs due for a check and settles those it
// can: one read of each account's timeline serves all its jobs, and an
// account whose reads fail is left alone for a growing while. A job not
// settled is checked again ReconcileInterval later (ClaimUnknown's Until).
func (d *dispatcher) reconcile(ctx context.Context) {
	rt := d.rt
	now := rt.opts.Clock.Now()
	jobs, err := rt.opts.Store.ClaimUnknown(ctx, store.ClaimUnknownParams{Node: rt.opts.Node, Now: now, Until: now.Add(rt.opts.ReconcileInterval), Limit: rt.opts.BatchSize})
	if err != nil {
		if ctx.Err() == nil {
			rt.logger.Warn("dispatcher: taking unknown jobs failed", slog.String("error", err.Error()))
		}
		return
	}
	byAccount := map[string][]store.Job{}
	var order []string
	for _, job := range jobs {
		if job.Post == nil {
			frozen, ok := d.legacyPost(ctx, job)
			if !ok {
				continue
			}
			job.Post = frozen
		}
		a := job.Post.Account
		if _, ok := byAccount[a]; !ok {
			order = append(order, a)
		}
		byAccount[a] = append(byAccount[a], job)
	}
	for _, account := range order {
		if b := d.readBackoff[account]; now.Before(b.until) {
			continue
		}
		d.reconcileAccount(ctx, account, byAccount[account])
	}
}

// legacyPost renders the post of an unknown job recorded before posts were
// frozen, from the configuration: the best guess there is. A job whose
// schedule is gone cannot be matched and goes to an operator.
func (d *dispatcher) legacyPost(ctx context.Context, job store.Job) (*store.FrozenPost, bool) {
	rt := d.rt
	var fp *store.FrozenPost
	err := errNoSchedule
	if s := rt.scheduleOf(job.ScheduleID); s != nil {
		fp, err = freezePost(s, job.Run, job.PlannedAt)
	}
	if err == nil {
		return fp, true
	}
	d.settle(ctx, job, store.TransitionParams{To: store.StatusDead, DeadReason: reasonUnreconciled,
		Detail: reasonUnreconciled + ": the job has no frozen post to look for: " + err.Error(), LastError: err.Error()})
	return nil, false
}

func (d *dispatcher) reconcileAccount(ctx context.Context, account string, jobs []store.Job) {
	rt := d.rt
	posts := make([]platform.Post, len(jobs))
	for i, job := range jobs {
		posts[i] = platformPost(job)
		posts[i].SentBefore = job.UpdatedAt
	}
	found, err := rt.platform.Find(ctx, account, posts)
	now := rt.opts.Clock.Now()
	if err != nil {
		b := d.readBackoff[account]
		b.fails++
		b.until = now.Add(readBackoff.Jittered(b.fails, rand.Int64N))
		d.readBackoff[account] = b
		rt.logger.Warn("dispatcher: reading the account's posts to reconcile failed", slog.String("account", account),
			slog.Int("jobs", len(jobs)), slog.String("error", err.Error()), slog.Time("next_read", b.until))
	} else {
		delete(d.readBackoff, account)
	}
	for i, job := range jobs {
		r := reconciliation{Err: err, Settled: rt.platform.Settled(account, job.UpdatedAt, now)}
		if err == nil {
			r.Found = found[i]
			r.Complete = len(job.PostIDs)+len(r.Found) >= len(job.Post.Texts)
		}
		tp, ok := decideReconcile(job, r, rt.policy(rt.scheduleOf(job.ScheduleID), job), now)
		if ok {
			d.settle(ctx, job, tp)
			continue
		}
		if err == nil {
			rt.logger.Debug("reconciliation: post not found yet; looking again later", slog.Int64("job_id", job.ID),
				slog.String("account", account), slog.Time("unknown_since", job.UpdatedAt), slog.Time("first_sent_at", job.FirstSentAt))
		}
	}
}

// settle records a reconciliation's outcome for an unknown job.
func (d *dispatcher) settle(ctx context.Context, job store.Job, tp store.TransitionParams) {
	rt := d.rt
	tp.JobID, tp.From, tp.Node, tp.Attempt, tp.Now = job.ID, store.StatusUnknown, rt.opts.Node, job.Attempt, rt.opts.Clock.Now()
	res, err := rt.outcomes.do(ctx, tp)
	if err == nil && res.Err == nil {
		rt.journal(ctx, res.Change)
		rt.afterChange(res.Change, tp)
	}
}
