package actors

import (
	"errors"
	"fmt"
	"time"

	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// Dead reasons: short codes stored on the job (DeadReason) for operators
// and filters; the event and LastError keep the full message.
const (
	reasonExpired   = "expired"   // past the schedule's deadline
	reasonRejected  = "rejected"  // the platform refused the post (permanent)
	reasonDuplicate = "duplicate" // refused as a duplicate of a post that is not this job's
	reasonMedia     = "media_changed"
	reasonReauth    = "reauth"    // credentials refused even after a refresh
	reasonExhausted = "exhausted" // max_attempts failed attempts
	reasonRemoved   = "removed"   // the schedule is no longer configured
	reasonRender    = "render"    // the post template failed
	// reasonUnreconciled: an ambiguous publish could not be checked (the
	// account's posts cannot be read), so only an operator may retry it.
	reasonUnreconciled = "unreconciled"
)

// jobPolicy is what a schedule says about its jobs' outcomes, read from the
// configuration when the outcome is decided (the post itself is frozen on
// the job; the policy is not).
type jobPolicy struct {
	MaxAttempts int
	// Deadline is the instant after which nothing of the job may be sent;
	// zero for none.
	Deadline time.Time
	Backoff  backoff.Policy
	// Account and Metrics make the capture tasks of a success.
	Account string
	Metrics []time.Duration
	// FirstCheck is how long after an ambiguous send reconciliation first
	// looks (the platform's timeline shows new posts with a lag).
	FirstCheck time.Duration
}

// attempt is what one publish attempt did.
type attempt struct {
	// Err is the platform's error; nil when the whole post is published.
	Err error
	// NewIDs are the posts this attempt published (and did not record
	// yet as progress), in thread order.
	NewIDs []string
	// AllIDs are all the job's posts so far, for the metrics tasks.
	AllIDs []string
	// SentAt is when the attempt first sent a request creating a post;
	// zero when it sent none.
	SentAt time.Time
}

// decideOutcome is the one place that turns an attempt's result into the
// job's next state: a pure function of the job, the attempt, the policy,
// the time and a random draw (for the jittered backoff), used by the
// publisher for every attempt and table-tested over every failure class.
// It fills To and what goes with it; the caller sets the job, the lease
// (From, Node, Attempt) and Now.
//
//   - success: succeeded, with the new post ids and the metrics tasks;
//   - fenced (the lease might not outlive a request): retrying at once,
//     not a failed attempt: nothing was sent that is not recorded;
//   - deferred (a rate-limit window, ours or a 429 from X): retrying at the
//     window's reset, not a failed attempt; without a reset, a backoff;
//   - reauth or permanent: dead, with the reason (duplicate, media
//     changed, rejected);
//   - ambiguous (the post may exist): unknown, a failed attempt;
//     reconciliation decides before anything is sent again;
//   - transient: retrying after a jittered backoff, or dead when the
//     attempts are exhausted;
//
// and any retry whose time is past the deadline is dead as expired now,
// unless the job's thread has begun: its first post is out, and the rest
// is finished however late.
func decideOutcome(job store.Job, a attempt, pol jobPolicy, now time.Time, randN func(int64) int64) store.TransitionParams {
	tp := store.TransitionParams{AppendPostIDs: a.NewIDs, SentAt: a.SentAt}
	err := a.Err
	dead := func(reason string, detail string) store.TransitionParams {
		tp.To, tp.DeadReason, tp.Detail, tp.LastError = store.StatusDead, reason, reason+": "+detail, detail
		return tp
	}
	// A thread whose first post is out is finished, however late: a
	// thread cut in the middle is worse than a late reply.
	started := len(job.PostIDs)+len(a.NewIDs) > 0
	retry := func(at time.Time, failed bool) store.TransitionParams {
		if !pol.Deadline.IsZero() && at.After(pol.Deadline) && !started {
			return dead(reasonExpired, fmt.Sprintf("next attempt at %s would be past the deadline %s: %v",
				at.UTC().Format(time.RFC3339), pol.Deadline.UTC().Format(time.RFC3339), err))
		}
		tp.To, tp.RetryAt, tp.Detail, tp.Failed = store.StatusRetrying, at, err.Error(), failed
		if failed {
			tp.LastError = err.Error()
		}
		return tp
	}
	switch {
	case err == nil:
		tp.To = store.StatusSucceeded
		tp.MetricsTasks = metricsTasks(pol.Account, pol.Metrics, a.AllIDs, now)
		return tp
	case errors.Is(err, platform.ErrFenced):
		return retry(now, false)
	case errors.Is(err, platform.ErrDeferred):
		at, ok := platform.RetryAt(err)
		if !ok || !at.After(now) {
			at = now.Add(pol.Backoff.Jittered(job.Attempt, randN))
		}
		return retry(at, false)
	case errors.Is(err, platform.ErrReauth):
		return dead(reasonReauth, err.Error())
	case errors.Is(err, platform.ErrDuplicate):
		return dead(reasonDuplicate, err.Error())
	case errors.Is(err, platform.ErrMediaChanged):
		return dead(reasonMedia, err.Error())
	case errors.Is(err, platform.ErrPermanent):
		return dead(reasonRejected, err.Error())
	case errors.Is(err, platform.ErrAmbiguous):
		tp.To, tp.Detail, tp.LastError, tp.Failed = store.StatusUnknown, err.Error(), err.Error(), true
		tp.RetryAt = now.Add(pol.FirstCheck)
		if tp.SentAt.IsZero() {
			// Whatever the platform said, an ambiguous answer means a
			// request that may create a post left: keep a bound.
			tp.SentAt = now
		}
		return tp
	}
	if failures := job.Failures + 1; failures >= pol.MaxAttempts {
		return dead(reasonExhausted, fmt.Sprintf("attempts exhausted (%d failed): %v", failures, err))
	}
	at, ok := platform.RetryAt(err)
	if !ok {
		at = now.Add(pol.Backoff.Jittered(job.Failures+1, randN))
	}
	return retry(at, true)
}

// metricsTasks are the capture tasks of a post published at now: one per
// stage, on the main post.
func metricsTasks(account string, stages []time.Duration, postIDs []string, now time.Time) []store.NewMetricsTask {
	if len(postIDs) == 0 || len(stages) == 0 {
		return nil
	}
	tasks := make([]store.NewMetricsTask, len(stages))
	for i, stage := range stages {
		tasks[i] = store.NewMetricsTask{Account: account, PostID: postIDs[0], Stage: stage, DueAt: now.Add(stage)}
	}
	return tasks
}

// reconciliation is what one look at the platform found for an unknown job.
type reconciliation struct {
	// Found are the job's posts found after its recorded ones.
	Found []string
	// Err is the read's error, nil when the platform was read.
	Err error
	// Settled says that "not found" is proof: the read came late enough
	// after the job's last send for the platform to show its post.
	Settled bool
	// Complete says that Found finishes the job's thread.
	Complete bool
}

// decideReconcile is the rule for an unknown job after a look at the
// platform; ok is false when the job stays unknown until its next check.
//
//   - the whole post found: succeeded, with its ids (a thread found in part,
//     once settled, records what was found and is retried, to finish the
//     thread after them);
//   - the account's posts cannot be read for good (permanent, reauth):
//     dead as unreconciled, for an operator: Herald never publishes twice;
//   - any other read error, or not found before the timeline settled: stays
//     unknown;
//   - not found, settled: retrying now, or dead as expired past the
//     deadline (unless a post of the job's thread is out: it is finished).
func decideReconcile(job store.Job, r reconciliation, pol jobPolicy, now time.Time) (store.TransitionParams, bool) {
	var tp store.TransitionParams
	switch {
	case r.Err != nil && (errors.Is(r.Err, platform.ErrPermanent) || errors.Is(r.Err, platform.ErrReauth)):
		tp.To, tp.DeadReason = store.StatusDead, reasonUnreconciled
		tp.Detail = reasonUnreconciled + ": cannot read the account's posts to reconcile: " + r.Err.Error()
		tp.LastError = r.Err.Error()
		return tp, true
	case r.Err != nil:
		return tp, false
	case len(r.Found) > 0 && r.Complete:
		tp.To, tp.AppendPostIDs, tp.Detail = store.StatusSucceeded, r.Found, "reconciled: post found on the platform"
		tp.MetricsTasks = metricsTasks(pol.Account, pol.Metrics, append(append([]string(nil), job.PostIDs...), r.Found...), now)
		return tp, true
	case !r.Settled:
		return tp, false
	case len(r.Found) > 0:
		tp.To, tp.AppendPostIDs, tp.RetryAt = store.StatusRetrying, r.Found, now
		tp.Detail = fmt.Sprintf("reconciled: %d more post(s) of the thread found; resuming after them", len(r.Found))
		return tp, true
	case !pol.Deadline.IsZero() && now.After(pol.Deadline) && len(job.PostIDs) == 0:
		tp.To, tp.DeadReason = store.StatusDead, reasonExpired
		tp.Detail = "reconciled: post not found, and the deadline " + pol.Deadline.UTC().Format(time.RFC3339) + " has passed"
		tp.LastError = tp.Detail
		return tp, true
	default:
		tp.To, tp.RetryAt, tp.Detail = store.StatusRetrying, now, "reconciled: post not found; retrying"
		return tp, true
	}
}
