package actors

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// publisher is one worker of the publisher pool (a round-robin router of
// Options.Publishers of them): it claims a job, renders its post from the
// current configuration, publishes it through the platform and records the
// outcome. A publish blocks this worker only; claims and outcomes of all
// workers are written in shared batches.
type publisher struct {
	rt *Runtime
}

func (p *publisher) Receive(c actor.Context) {
	if m, ok := c.Message().(*publishMsg); ok {
		p.handle(m)
	}
}

func (p *publisher) handle(m *publishMsg) {
	if p.rt.accepting.Err() != nil {
		// Stopping: the job is claimed but not started. Its lease is
		// released at the end of the shutdown, so the next start (or
		// another node) takes it over after reconciling.
		return
	}
	p.publish(m.Job)
}

// Dead reasons: short codes stored on the job (DeadReason) for operators
// and filters; the event and LastError keep the full message.
const (
	reasonExpired   = "expired"   // past the schedule's deadline
	reasonRejected  = "rejected"  // the platform refused the post (permanent)
	reasonReauth    = "reauth"    // credentials refused even after a refresh
	reasonExhausted = "exhausted" // max_attempts failed attempts
	reasonRemoved   = "removed"   // the schedule is no longer configured
	reasonRender    = "render"    // the post template failed
	// reasonUnreconciled: an ambiguous publish could not be checked (the
	// account's posts cannot be read), so only an operator may retry it.
	reasonUnreconciled = "unreconciled"
)

// publish runs one claimed job to its outcome.
func (p *publisher) publish(job store.Job) {
	rt := p.rt
	var s *schedules.Schedule
	if cfg := rt.currentConfig(); cfg != nil {
		s = cfg.Schedule(job.ScheduleID)
	}
	if s == nil {
		p.dead(job, reasonRemoved, "schedule not in the loaded configuration", nil)
		return
	}
	if deadline, ok := jobDeadline(s, job); ok && rt.opts.Clock.Now().After(deadline) {
		p.dead(job, reasonExpired, "deadline "+deadline.UTC().Format(time.RFC3339)+" passed before publishing", nil)
		return
	}
	post, err := renderPost(s, job)
	if err != nil {
		p.dead(job, reasonRender, "render: "+err.Error(), nil)
		return
	}
	ctx, cancel := context.WithTimeout(rt.inflight, rt.opts.PublishTimeout)
	defer cancel()
	recorded := len(job.PostIDs)
	progress := func(id string) error {
		// Record each post of a thread before the next is attempted, so a
		// takeover resumes after it; the last one goes with the outcome.
		if recorded+1 >= len(post.Texts) {
			return nil
		}
		_, err := rt.opts.Store.RecordPosts(ctx, store.RecordPostsParams{JobID: job.ID, Node: rt.opts.Node, Attempt: job.Attempt, PostIDs: []string{id}, Now: rt.opts.Clock.Now()})
		if err == nil {
			recorded++
		}
		return err
	}
	began := rt.opts.Clock.Now()
	ids, err := rt.platform.Publish(ctx, post, progress)
	outcome := publishOutcome(err)
	rt.opts.Observer.Published(s.Account, outcome, rt.opts.Clock.Now().Sub(began))
	newIDs := ids[min(recorded, len(ids)):]
	all := append(append([]string(nil), job.PostIDs...), newIDs...)
	switch outcome {
	case OutcomeSucceeded:
		p.succeed(job, s, newIDs, all)
	case OutcomeDeferred:
		// Over a known rate-limit budget: nothing was sent, and waiting
		// costs no attempt.
		at, _ := platform.RetryAt(err)
		p.retry(job, s, err, newIDs, at, false)
	case OutcomeReauth:
		p.dead(job, reasonReauth, err.Error(), newIDs)
	case OutcomePermanent:
		p.dead(job, reasonRejected, err.Error(), newIDs)
	case OutcomeAmbiguous:
		p.finish(job, store.TransitionParams{To: store.StatusUnknown, Detail: err.Error(), LastError: err.Error(), AppendPostIDs: newIDs, Failed: true})
	default: // transient, or unclassified
		if failures := job.Failures + 1; failures >= maxAttempts(s, rt.opts.MaxAttempts) {
			p.dead(job, reasonExhausted, fmt.Sprintf("attempts exhausted (%d failed): %v", failures, err), newIDs)
			return
		}
		at, ok := platform.RetryAt(err)
		if !ok {
			at = rt.opts.Clock.Now().Add(p.backoff(job.Failures + 1))
		}
		p.retry(job, s, err, newIDs, at, true)
	}
}

// renderPost renders a job's post from its schedule.
func renderPost(s *schedules.Schedule, job store.Job) (platform.Post, error) {
	texts, err := s.Render(schedules.RenderData{Run: job.Run, Planned: job.PlannedAt.In(s.Location), Schedule: s.ID, Account: s.Account})
	if err != nil {
		return platform.Post{}, err
	}
	post := platform.Post{
		JobID: job.ID, CorrelationID: job.CorrelationID, ScheduleID: s.ID, Account: s.Account,
		PlannedAt: job.PlannedAt, Texts: texts, Published: job.PostIDs, Attempt: job.Attempt,
	}
	for _, m := range s.Post.Media {
		post.Media = append(post.Media, platform.Media{Path: m.Path, Alt: m.Alt})
	}
	return post, nil
}

// jobDeadline is the instant after which a job's post must not go out.
func jobDeadline(s *schedules.Schedule, job store.Job) (time.Time, bool) {
	if s.Deadline <= 0 {
		return time.Time{}, false
	}
	return job.PlannedAt.Add(s.Deadline), true
}

func maxAttempts(s *schedules.Schedule, def int) int {
	if s.MaxAttempts > 0 {
		return s.MaxAttempts
	}
	return def
}

// backoff is capped exponential backoff with full jitter: a random delay
// in [0, min(RetryBase*2^(n-1), RetryMax)] before the n-th retry, so that
// jobs failing together do not retry together.
func (p *publisher) backoff(n int) time.Duration {
	o := p.rt.opts
	ceiling := min(o.RetryBase<<min(max(n-1, 0), 20), o.RetryMax)
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// retry schedules the next attempt at at, unless that is past the post's
// deadline: then the job is dead as expired now rather than later.
// failed says whether the attempt counts against max_attempts.
func (p *publisher) retry(job store.Job, s *schedules.Schedule, cause error, ids []string, at time.Time, failed bool) {
	if deadline, ok := jobDeadline(s, job); ok && at.After(deadline) {
		p.dead(job, reasonExpired, fmt.Sprintf("next attempt at %s would be past the deadline %s: %v",
			at.UTC().Format(time.RFC3339), deadline.UTC().Format(time.RFC3339), cause), ids)
		return
	}
	tp := store.TransitionParams{To: store.StatusRetrying, RetryAt: at, Detail: cause.Error(), AppendPostIDs: ids, Failed: failed}
	if failed {
		tp.LastError = cause.Error()
	}
	p.finish(job, tp)
}

// succeed records a published job and, in the same write, its metrics
// capture tasks: one per stage of the schedule, on the main post.
func (p *publisher) succeed(job store.Job, s *schedules.Schedule, ids, all []string) {
	tp := store.TransitionParams{To: store.StatusSucceeded, AppendPostIDs: ids}
	tp.MetricsTasks = metricsTasks(s, all, p.rt.opts.Clock.Now())
	p.finish(job, tp)
}

// metricsTasks are the capture tasks of a post published at now.
func metricsTasks(s *schedules.Schedule, postIDs []string, now time.Time) []store.NewMetricsTask {
	if s == nil || len(postIDs) == 0 || len(s.Metrics) == 0 {
		return nil
	}
	tasks := make([]store.NewMetricsTask, len(s.Metrics))
	for i, stage := range s.Metrics {
		tasks[i] = store.NewMetricsTask{Account: s.Account, PostID: postIDs[0], Stage: stage, DueAt: now.Add(stage)}
	}
	return tasks
}

func (p *publisher) dead(job store.Job, reason, detail string, ids []string) {
	p.finish(job, store.TransitionParams{To: store.StatusDead, DeadReason: reason, Detail: reason + ": " + detail, LastError: detail, AppendPostIDs: ids})
}

// finish records the outcome tp (To, Detail and the rest set by the
// caller) of the job's current attempt.
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
