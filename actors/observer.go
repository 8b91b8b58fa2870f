package actors

import (
	"errors"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// Observer hears what the actors do, for metrics (the engine maps each
// call to a Prometheus series; the actors know nothing of Prometheus).
//
// Its methods are called synchronously from the actors' hot paths: a
// schedule actor's fire, the recorder's and the publishers' batch
// callbacks, the dispatcher. An implementation must therefore be cheap,
// must never block, and must be safe for concurrent use. Options.Observer
// nil observes nothing.
//
// Each event is reported by the node that caused it: a fire is reported
// only by the node whose write created its job (the store's unique key
// lets one node win), so a sum over the nodes of a cluster counts it once.
type Observer interface {
	// Fired reports a fire recorded as a new job to publish (creation
	// planned), by trigger: scheduled, catchup or manual.
	Fired(scheduleID string, trigger store.Trigger)
	// FireSkipped reports a fire that will not be published; see
	// SkipReason.
	FireSkipped(scheduleID string, reason SkipReason)
	// FireLate reports a job's first claim (planned -> running on attempt
	// 1): how long after its planned instant (before jitter) it was
	// recorded running. It is never negative.
	FireLate(late time.Duration)
	// Transition reports one recorded job transition; from is "" for a
	// job's creation.
	Transition(from, to store.Status)
	// Published reports one call of the platform's Publish: how it ended
	// and how long it took (on the runtime's clock).
	Published(account string, outcome PublishOutcome, took time.Duration)
	// DeadLetter reports a job gone dead, with its dead reason (expired,
	// rejected, reauth, exhausted, removed, render, unreconciled).
	DeadLetter(scheduleID, reason string)
	// ActorRestarted reports a panicking schedule actor restarted by its
	// supervisor (not one stopped after failing too often).
	ActorRestarted()
	// MetricsCaptured reports n metrics snapshots stored for an account's
	// posts.
	MetricsCaptured(account string, n int)
	// FireWrites reports n fires this node wrote to the store (a committed
	// CreateJobs, fires checked after a lost lock included; failed
	// attempts are not counted): summed over the nodes and divided by the
	// fires, the store writes per fire.
	FireWrites(n int)
	// FireLocks reports the outcome of n fires' locks (see FireLocks).
	FireLocks(result FireLockResult, n int)
	// FireLockRoundTrip reports one round trip to the fire locks.
	FireLockRoundTrip(op FireLockOp)
	// FireDropped reports a fire dropped unrecorded (see held).
	FireDropped(scheduleID, reason string)
}

// SkipReason says why a fire is not published.
type SkipReason string

const (
	// SkipMissed: a fire found beyond its schedule's catch-up window after
	// downtime, recorded as missed. (Fires beyond maxMissedRecorded are
	// skipped unrecorded and not reported: only the truncation is logged.)
	SkipMissed SkipReason = "missed"
	// SkipPaused: a fire of a schedule an operator paused; not recorded.
	SkipPaused SkipReason = "paused"
	// SkipExpired: a job gone dead because its deadline passed before it
	// could be published.
	SkipExpired SkipReason = "expired"
)

// SkipReasons lists every SkipReason, so that a metric can start each at
// zero.
func SkipReasons() []SkipReason { return []SkipReason{SkipMissed, SkipPaused, SkipExpired} }

// PublishOutcome classifies how a call of the platform's Publish ended:
// one outcome per failure class of the platform contract, and the path the
// publisher takes after it.
type PublishOutcome string

const (
	OutcomeSucceeded PublishOutcome = "succeeded" // published
	OutcomeTransient PublishOutcome = "transient" // nothing published; retried with backoff (also unclassified errors)
	OutcomePermanent PublishOutcome = "permanent" // refused; the job is dead
	OutcomeAmbiguous PublishOutcome = "ambiguous" // may have been published; reconciled before anything else
	OutcomeDeferred  PublishOutcome = "deferred"  // over a rate-limit budget; nothing sent, waits without costing an attempt
	OutcomeReauth    PublishOutcome = "reauth"    // credentials refused even after a refresh; the job is dead
	OutcomeFenced    PublishOutcome = "fenced"    // not sent: the job's lease might not outlive the request; given back
)

// PublishOutcomes lists every PublishOutcome.
func PublishOutcomes() []PublishOutcome {
	return []PublishOutcome{OutcomeSucceeded, OutcomeTransient, OutcomePermanent, OutcomeAmbiguous, OutcomeDeferred, OutcomeReauth, OutcomeFenced}
}

// publishOutcome classifies a Publish error. The publisher switches on the
// result, so the outcome reported is always the path taken.
func publishOutcome(err error) PublishOutcome {
	switch {
	case err == nil:
		return OutcomeSucceeded
	case errors.Is(err, platform.ErrFenced):
		return OutcomeFenced
	case errors.Is(err, platform.ErrDeferred):
		return OutcomeDeferred
	case errors.Is(err, platform.ErrReauth):
		return OutcomeReauth
	case errors.Is(err, platform.ErrPermanent):
		return OutcomePermanent
	case errors.Is(err, platform.ErrAmbiguous):
		return OutcomeAmbiguous
	default:
		return OutcomeTransient
	}
}

// observeChange reports one recorded transition, and what it means: a new
// fire, a skipped (missed or expired) fire, a first claim's lateness, a
// dead letter.
func observeChange(o Observer, c store.Change) {
	from, to := c.Event.From, c.Event.To
	o.Transition(from, to)
	switch {
	case from == "" && to == store.StatusPlanned:
		o.Fired(c.Job.ScheduleID, c.Job.Trigger)
	case from == "" && to == store.StatusMissed:
		o.FireSkipped(c.Job.ScheduleID, SkipMissed)
	case from == store.StatusPlanned && to == store.StatusRunning && c.Event.Attempt == 1:
		// Only the first claim: a later one (after a released lease or an
		// operator's retry of a dead job) would measure the job's
		// history, not how late the fire was picked up. A claim before
		// the planned instant (another node's clock ahead) counts as on
		// time.
		o.FireLate(max(c.Event.At.Sub(c.Job.PlannedAt), 0))
	case to == store.StatusDead:
		o.DeadLetter(c.Job.ScheduleID, c.Job.DeadReason)
		if c.Job.DeadReason == reasonExpired {
			o.FireSkipped(c.Job.ScheduleID, SkipExpired)
		}
	}
}

// noObserver is the default Observer: it observes nothing.
type noObserver struct{}

func (noObserver) Fired(string, store.Trigger)                     {}
func (noObserver) FireSkipped(string, SkipReason)                  {}
func (noObserver) FireLate(time.Duration)                          {}
func (noObserver) Transition(store.Status, store.Status)           {}
func (noObserver) Published(string, PublishOutcome, time.Duration) {}
func (noObserver) DeadLetter(string, string)                       {}
func (noObserver) ActorRestarted()                                 {}
func (noObserver) MetricsCaptured(string, int)                     {}
func (noObserver) FireWrites(int)                                  {}
func (noObserver) FireLocks(FireLockResult, int)                   {}
func (noObserver) FireLockRoundTrip(FireLockOp)                    {}
func (noObserver) FireDropped(string, string)                      {}
