package actors

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// publisher runs one claimed job to its outcome: it publishes the post
// frozen on the job (freezing it first for a job recorded without one),
// fenced by the job's lease, and records the outcome decideOutcome gives.
// It is the work of one pool worker; outcomes of all workers are written
// in shared batches.
type publisher struct {
	rt *Runtime
}

// publish runs one job the pool handed over and returns how long the
// platform took (zero when the job never reached it), the pool's measure
// of its pace. A job the runtime is too far into stopping to start is
// given back (to retrying, at once, costing no attempt), so that the next
// node to claim it need not wait for its lease nor reconcile a publish
// that never began.
func (p *publisher) publish(job store.Job) (took time.Duration) {
	rt := p.rt
	if rt.accepting.Err() != nil {
		p.giveBack(job, "not started: the node is stopping")
		return 0
	}
	s := rt.scheduleOf(job.ScheduleID)
	pol := rt.policy(s, job)
	if job.Post == nil {
		frozen, ok := p.freeze(job, s, pol)
		if !ok {
			return 0
		}
		job = frozen
	}
	if s == nil && job.FirstSentAt.IsZero() && len(job.PostIDs) == 0 {
		// Nothing of it was ever sent: the operator's removal stops it.
		p.finish(job, p.deadParams(reasonRemoved, "schedule not in the loaded configuration"))
		return 0
	}
	now := rt.opts.Clock.Now()
	if !pol.Deadline.IsZero() && now.After(pol.Deadline) && len(job.PostIDs) == 0 {
		// (A thread whose first post is out is finished however late.)
		p.finish(job, p.deadParams(reasonExpired, "deadline "+pol.Deadline.UTC().Format(time.RFC3339)+" passed before publishing"))
		return 0
	}
	post := platformPost(job)
	post.SentBefore = job.SendFloor
	post.Guard = rt.leases.guard(job.ID, job.Attempt)
	recorded := len(job.PostIDs)
	hooks := platform.Hooks{
		Media: func(media []platform.Media) error { return p.recordMedia(job, media) },
		Posted: func(id string, sentAt time.Time) error {
			// Record each post of a thread before the next is attempted,
			// so a takeover resumes after it; the last one goes with the
			// outcome.
			if recorded+1 >= len(post.Texts) {
				return nil
			}
			_, err := rt.opts.Store.RecordPosts(rt.writes, store.RecordPostsParams{JobID: job.ID, Node: rt.opts.Node, Attempt: job.Attempt,
				PostIDs: []string{id}, Now: rt.opts.Clock.Now(), SentAt: sentAt})
			if err == nil {
				recorded++
			}
			return fenceIfLost(err)
		},
	}
	res, err := rt.platform.Publish(rt.inflight, post, hooks)
	took = rt.opts.Clock.Now().Sub(now)
	rt.opts.Observer.Published(post.Account, publishOutcome(err), took)
	newIDs := res.IDs[min(recorded, len(res.IDs)):]
	tp := decideOutcome(job, attempt{Err: err, NewIDs: newIDs, AllIDs: res.IDs, SentAt: res.SentAt}, pol, rt.opts.Clock.Now(), rand.Int64N)
	p.finish(job, tp)
	return took
}

// freeze renders a job recorded without a post from its schedule and stores
// the post on the job, under the lease (the store keeps a post another
// attempt froze first). It reports false when the job ended here.
func (p *publisher) freeze(job store.Job, s *schedules.Schedule, pol jobPolicy) (store.Job, bool) {
	rt := p.rt
	if s == nil {
		p.finish(job, p.deadParams(reasonRemoved, "schedule not in the loaded configuration, and the job has no frozen post"))
		return job, false
	}
	post, err := freezePost(s, job.Run, job.PlannedAt)
	if err != nil {
		p.finish(job, p.deadParams(reasonRender, "render: "+err.Error()))
		return job, false
	}
	frozen, err := rt.opts.Store.FreezePost(rt.writes, store.FreezePostParams{JobID: job.ID, Node: rt.opts.Node, Attempt: job.Attempt, Post: *post, Now: rt.opts.Clock.Now()})
	if err != nil {
		if leaseLost(err) {
			rt.logger.Warn("lease lost before the post was frozen", slog.Int64("job_id", job.ID), slog.String("error", err.Error()))
			rt.leases.remove(job.ID, job.Attempt)
			return job, false
		}
		p.finish(job, decideOutcome(job, attempt{Err: err}, pol, rt.opts.Clock.Now(), rand.Int64N))
		return job, false
	}
	return frozen, true
}

// recordMedia makes a post's uploads durable before the post is sent, so
// that a retry reuses them and the job's SendFloor moves past the upload.
func (p *publisher) recordMedia(job store.Job, media []platform.Media) error {
	rt := p.rt
	fm := make([]store.FrozenMedia, len(media))
	for i, m := range media {
		fm[i] = store.FrozenMedia{Path: m.Path, Alt: m.Alt, Root: m.Root, Digest: m.Digest, Size: m.Size, MediaID: m.MediaID, ExpiresAt: m.ExpiresAt}
	}
	_, err := rt.opts.Store.RecordMedia(rt.writes, store.RecordMediaParams{JobID: job.ID, Node: rt.opts.Node, Attempt: job.Attempt, Media: fm, Now: rt.opts.Clock.Now()})
	return fenceIfLost(err)
}

// leaseLost reports whether the store refused a write under a lease
// because the lease is no longer the caller's.
func leaseLost(err error) bool {
	return errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)
}

// fenceIfLost makes a lost lease, as the store reports it, a fencing
// refusal: nothing more may be sent for the attempt.
func fenceIfLost(err error) error {
	if err != nil && leaseLost(err) {
		return errors.Join(platform.ErrFenced, err)
	}
	return err
}

// platformPost is the frozen post of a job, as the platform takes it.
func platformPost(job store.Job) platform.Post {
	fp := job.Post
	post := platform.Post{
		JobID: job.ID, CorrelationID: job.CorrelationID, ScheduleID: job.ScheduleID, Account: fp.Account,
		PlannedAt: job.PlannedAt, Texts: fp.Texts, Published: job.PostIDs, FirstSentAt: job.FirstSentAt,
	}
	for _, m := range fp.Media {
		post.Media = append(post.Media, platform.Media{Path: m.Path, Alt: m.Alt, Root: m.Root, Digest: m.Digest, Size: m.Size, MediaID: m.MediaID, ExpiresAt: m.ExpiresAt})
	}
	return post
}

// freezePost renders the post of a schedule's fire, to be frozen on its job.
func freezePost(s *schedules.Schedule, run int64, planned time.Time) (*store.FrozenPost, error) {
	texts, err := s.Render(schedules.RenderData{Run: run, Planned: planned, Schedule: s.ID, Account: s.Account})
	if err != nil {
		return nil, err
	}
	fp := &store.FrozenPost{Account: s.Account, Texts: texts}
	for _, m := range s.Post.Media {
		fp.Media = append(fp.Media, store.FrozenMedia{Path: m.Path, Alt: m.Alt, Root: m.Root})
	}
	return fp, nil
}

// scheduleOf is the schedule of the loaded configuration, nil when removed.
func (rt *Runtime) scheduleOf(id string) *schedules.Schedule {
	if cfg := rt.currentConfig(); cfg != nil {
		return cfg.Schedule(id)
	}
	return nil
}

// policy is the outcome policy of a job of s (nil: removed, defaults).
func (rt *Runtime) policy(s *schedules.Schedule, job store.Job) jobPolicy {
	pol := jobPolicy{
		MaxAttempts: rt.opts.MaxAttempts,
		Backoff:     backoff.Policy{Base: rt.opts.RetryBase, Max: rt.opts.RetryMax},
		FirstCheck:  rt.opts.ReconcileFirstCheck,
	}
	if job.Post != nil {
		pol.Account = job.Post.Account
	}
	if s == nil {
		return pol
	}
	if s.MaxAttempts > 0 {
		pol.MaxAttempts = s.MaxAttempts
	}
	if s.Deadline > 0 {
		pol.Deadline = job.PlannedAt.Add(s.Deadline)
	}
	if pol.Account == "" {
		pol.Account = s.Account
	}
	pol.Metrics = s.Metrics
	return pol
}

func (p *publisher) deadParams(reason, detail string) store.TransitionParams {
	return store.TransitionParams{To: store.StatusDead, DeadReason: reason, Detail: reason + ": " + detail, LastError: detail}
}

// giveBack returns a job this node claimed but did not start.
func (p *publisher) giveBack(job store.Job, why string) {
	p.finish(job, store.TransitionParams{To: store.StatusRetrying, RetryAt: p.rt.opts.Clock.Now(), Detail: why})
}

// finish records the outcome tp (To, Detail and the rest set by the
// caller) of the job's current attempt. The lease is renewed until the
// store has the outcome (a slow write must not let another node take the
// job over meanwhile), and let go then.
func (p *publisher) finish(job store.Job, tp store.TransitionParams) {
	rt := p.rt
	tp.JobID, tp.From, tp.Node, tp.Attempt, tp.Now = job.ID, store.StatusRunning, rt.opts.Node, job.Attempt, rt.opts.Clock.Now()
	p.record(tp)
}

// record queues an outcome for the next batch and goes on to the next job
// without waiting: the outcome is retried until the store takes it, and
// if the process dies first the lease expires and the job is reconciled.
// The lease also protects it: if another node took the job over
// meanwhile, the store refuses the stale outcome.
func (p *publisher) record(tp store.TransitionParams) {
	rt := p.rt
	ok := rt.outcomes.submit(tp, func(res store.TransitionResult, err error) {
		rt.leases.remove(tp.JobID, tp.Attempt)
		switch {
		case err != nil:
			rt.logger.Error("outcome not recorded", slog.Int64("job_id", tp.JobID), slog.String("to", string(tp.To)), slog.String("error", err.Error()))
		case res.Err != nil:
			rt.logger.Warn("outcome refused", slog.Int64("job_id", tp.JobID), slog.String("to", string(tp.To)), slog.String("error", res.Err.Error()))
		default:
			rt.journal(context.Background(), res.Change)
			rt.afterChange(res.Change, tp)
		}
	})
	if !ok {
		rt.leases.remove(tp.JobID, tp.Attempt)
		rt.logger.Error("outcome not recorded: shut down", slog.Int64("job_id", tp.JobID), slog.String("to", string(tp.To)))
	}
}

// transitionBatch writes many publishers' outcomes in one transaction.
func transitionBatch(rt *Runtime) func(ctx context.Context, tps []store.TransitionParams) ([]store.TransitionResult, error) {
	return func(ctx context.Context, tps []store.TransitionParams) ([]store.TransitionResult, error) {
		return retryStore(ctx, rt, "record outcomes", func() ([]store.TransitionResult, error) {
			return rt.opts.Store.Transition(ctx, tps...)
		})
	}
}
