package store

import "time"

// Job is one fire of a schedule, the unit that is claimed, published and
// retried. All times are UTC.
type Job struct {
	// ID is assigned by the store, increasing in creation order.
	ID int64
	// ScheduleID and PlannedAt are the fire's identity: the store holds at
	// most one job per pair, which is what makes a fire idempotent across
	// nodes and restarts.
	ScheduleID string
	// PlannedAt is the instant the schedule planned, before jitter, exact to
	// the nanosecond.
	PlannedAt time.Time
	// DueAt is when the job may next be claimed: the jittered fire time while
	// planned, the backoff time while retrying, the next reconciliation
	// check while unknown (see ClaimUnknown). Informational otherwise.
	DueAt time.Time
	// Status is the job's current state.
	Status Status
	// Attempt counts claims over the job's whole life (an operator's retry
	// does not reset it), so (Node, Attempt) names one lease unambiguously.
	// It is not the retry budget: a claim that ends in a rate-limit wait is
	// an attempt but not a failure.
	Attempt int
	// Failures counts the failed attempts (transitions made with
	// TransitionParams.Failed) since the job was created or since an
	// operator's last retry (dead -> planned resets it), so the publisher's
	// retry budget survives restarts and takeovers and an operator's retry
	// gets a fresh budget.
	Failures int
	// Run is the 1-based number of this fire within its schedule, in creation
	// order; missed fires take a number too.
	Run int64
	// Trigger says why the job exists.
	Trigger Trigger
	// CorrelationID is carried into logs and events of everything done for
	// this job.
	CorrelationID string
	// Node is the lease owner while running, and the last owner afterwards
	// (empty if never claimed).
	Node string
	// LeaseUntil is when the running lease expires; zero unless running.
	LeaseUntil time.Time
	// PostIDs are the platform IDs of the posts published so far, in order; a
	// thread resumes after the last one.
	PostIDs []string
	// LastError is the most recent failure recorded by a transition.
	LastError string
	// DeadReason says why the job went dead; cleared by an operator's retry.
	DeadReason string
	// Post is the post frozen for this job (see FrozenPost); nil until
	// frozen (a job recorded by an older Herald, or whose template failed
	// at the fire, is frozen at its first claim).
	Post *FrozenPost
	// SendFloor is the earliest instant at which the current (or last)
	// attempt may have sent a post: set to Now by every claim and by
	// RecordMedia (a post with media is sent only after its media are
	// recorded). Zero before the first claim.
	SendFloor time.Time
	// FirstSentAt is when the job first sent (or may have sent) a request
	// that creates a post, over all its attempts: set once, by the first
	// RecordPosts or transition out of running that carries SentAt, or by
	// ExpireLeases (from SendFloor, since a lost attempt may have sent).
	// A post of the account created before it is not this job's. Zero
	// while the job has never sent. An operator's retry keeps it.
	FirstSentAt time.Time
	// Revision is the configuration revision of the node that recorded the
	// fire (NewJob.Revision); empty for jobs recorded before Herald kept
	// it. Nodes that disagree on it fire from different schedules.
	Revision string
	// FiredBy is the node that recorded the fire (CreateJobsParams.Node);
	// empty for jobs recorded before Herald kept it.
	FiredBy string
	// CreatedAt and UpdatedAt are the caller's Now at creation and at the
	// last change.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Event records one transition of a job (or its creation, From == ""). Events
// are written in the transaction of the change they record.
type Event struct {
	// ID increases in commit order across all jobs (with gaps), so a reader
	// can resume an event stream after the last ID it saw without missing
	// any.
	ID    int64
	JobID int64
	// At is the caller's Now for the transition.
	At time.Time
	// From is the status before ("" for creation); To the status after.
	From Status
	To   Status
	// Node is the node that made the transition (not necessarily the lease
	// owner: an expiry is made by whichever node noticed it).
	Node string
	// Attempt is the job's attempt after the transition.
	Attempt int
	// Detail is free text from the caller: the error, the reason, the
	// operator's note.
	Detail string
}

// Change is one transition as it happened: the job after it and the event
// that records it. It holds everything a caller needs to log "job transition"
// (job_id, schedule_id, planned_at, from, to, attempt, node).
type Change struct {
	Job   Job
	Event Event
}

// CreateResult is the outcome of one [NewJob].
type CreateResult struct {
	// Job is the job for the fire, new or pre-existing.
	Job Job
	// Created is false when the fire was already recorded (by this call, an
	// earlier one, or another node); the existing job is returned unchanged.
	Created bool
	// Event is the creation event; zero when Created is false.
	Event Event
	// Claim is the job's claim when CreateJobsParams.ClaimLeaseUntil asked
	// for one and the job was created due; Job is then the job as created
	// (planned) and Claim.Job the job as claimed (running).
	Claim *Change
}

// TransitionResult is the outcome of one [TransitionParams] of a batch.
type TransitionResult struct {
	// Change is the job after the transition and its event; zero when Err is
	// set.
	Change
	// Err is nil on success. Otherwise nothing changed for this item, and Err
	// is a *TransitionError (ErrIllegalTransition, ErrConflict, ErrNotFound)
	// or wraps ErrInvalid.
	Err error
}

// Fire is the latest recorded fire of a schedule, what a schedule actor needs
// to resume after a restart.
type Fire struct {
	// PlannedAt is the greatest planned instant of the schedule's scheduled
	// and catch-up jobs (missed ones included); manual triggers do not move
	// it, since they are not on the schedule's timeline. Zero if the schedule
	// has only manual jobs.
	PlannedAt time.Time
	// Run is the highest run number assigned to the schedule (any trigger).
	Run int64
}

// JobPage is one page of [Store.ListJobs].
type JobPage struct {
	Jobs []Job
	// NextPageToken continues the listing; empty on the last page.
	NextPageToken string
}

// SchemaVersion compares a database's schema with this binary's migrations.
type SchemaVersion struct {
	// Database is the highest migration applied to the database (0 if none).
	Database int
	// Binary is the highest migration this binary embeds.
	Binary int
}
