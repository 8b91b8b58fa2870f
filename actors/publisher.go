package actors

import (
	"context"
	"errors"
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

// publish runs one claimed job to its outcome.
func (p *publisher) publish(job store.Job) {
	rt := p.rt
	var s *schedules.Schedule
	if cfg := rt.currentConfig(); cfg != nil {
		s = cfg.Schedule(job.ScheduleID)
	}
	if s == nil {
		p.finish(job, store.StatusDead, "schedule not in the loaded configuration", nil, "")
		return
	}
	texts, err := s.Render(schedules.RenderData{Run: job.Run, Planned: job.PlannedAt.In(s.Location), Schedule: s.ID, Account: s.Account})
	if err != nil {
		p.finish(job, store.StatusDead, "render: "+err.Error(), nil, err.Error())
		return
	}
	post := platform.Post{
		JobID: job.ID, CorrelationID: job.CorrelationID, ScheduleID: s.ID, Account: s.Account,
		PlannedAt: job.PlannedAt, Texts: texts, Published: job.PostIDs,
	}
	for _, m := range s.Post.Media {
		post.Media = append(post.Media, platform.Media{Path: m.Path, Alt: m.Alt})
	}
	ctx, cancel := context.WithTimeout(rt.inflight, rt.opts.PublishTimeout)
	defer cancel()
	recorded := len(job.PostIDs)
	progress := func(id string) error {
		// Record each post of a thread before the next is attempted, so a
		// takeover resumes after it; the last one goes with the outcome.
		if recorded+1 >= len(texts) {
			return nil
		}
		_, err := rt.opts.Store.RecordPosts(ctx, store.RecordPostsParams{JobID: job.ID, Node: rt.opts.Node, Attempt: job.Attempt, PostIDs: []string{id}, Now: rt.opts.Clock.Now()})
		if err == nil {
			recorded++
		}
		return err
	}
	ids, err := rt.platform.Publish(ctx, post, progress)
	newIDs := ids[min(recorded, len(ids)):]
	switch {
	case err == nil:
		p.finish(job, store.StatusSucceeded, "", newIDs, "")
	case errors.Is(err, platform.ErrPermanent):
		p.finish(job, store.StatusDead, err.Error(), newIDs, err.Error())
	case errors.Is(err, platform.ErrAmbiguous):
		p.finish(job, store.StatusUnknown, err.Error(), newIDs, err.Error())
	default: // transient, or unclassified
		if job.Attempt >= rt.opts.MaxAttempts {
			p.finish(job, store.StatusDead, fmt.Sprintf("attempts exhausted (%d): %v", job.Attempt, err), newIDs, err.Error())
			return
		}
		p.retry(job, err, newIDs)
	}
}

// retry schedules the next attempt with capped exponential backoff and
// full jitter.
func (p *publisher) retry(job store.Job, cause error, ids []string) {
	rt := p.rt
	backoff := min(rt.opts.RetryBase<<min(job.Attempt-1, 20), rt.opts.RetryMax)
	delay := time.Duration(rand.Int64N(int64(backoff) + 1))
	p.record(store.TransitionParams{
		JobID: job.ID, From: store.StatusRunning, To: store.StatusRetrying, Node: rt.opts.Node, Attempt: job.Attempt,
		Now: rt.opts.Clock.Now(), RetryAt: rt.opts.Clock.Now().Add(delay), Detail: cause.Error(), LastError: cause.Error(), AppendPostIDs: ids,
	})
}

func (p *publisher) finish(job store.Job, to store.Status, detail string, ids []string, lastErr string) {
	rt := p.rt
	tp := store.TransitionParams{
		JobID: job.ID, From: store.StatusRunning, To: to, Node: rt.opts.Node, Attempt: job.Attempt,
		Now: rt.opts.Clock.Now(), Detail: detail, AppendPostIDs: ids, LastError: lastErr,
	}
	if to == store.StatusDead {
		tp.DeadReason = detail
	}
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
			logChange(context.Background(), rt.logger, res.Change)
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
