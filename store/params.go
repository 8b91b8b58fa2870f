package store

import "time"

// NewJob is one fire to record.
type NewJob struct {
	// ScheduleID and PlannedAt identify the fire (required).
	ScheduleID string
	PlannedAt  time.Time
	// DueAt is the jittered fire time, when the job may be claimed; zero means
	// PlannedAt.
	DueAt time.Time
	// Status is StatusPlanned (the default when empty) or StatusMissed for a
	// fire recorded past its catch-up window.
	Status Status
	// Trigger defaults to TriggerScheduled.
	Trigger       Trigger
	CorrelationID string
	// Detail goes into the creation event (for example why it was missed).
	Detail string
	// Revision is the configuration revision the fire was computed from,
	// stored as Job.Revision.
	Revision string
	// Post, when set, is frozen on the job at its creation (see
	// FrozenPost). A fire already recorded keeps the post it has.
	Post *FrozenPost
	// Render, when set and Post is not, makes the post to freeze from the
	// run number the job gets: CreateJobs calls it, inside its
	// transaction, for each job it creates (a template may print the run,
	// which only the store assigns). It must be pure: it may be called
	// again if the transaction is retried. An error, or a nil post, leaves
	// the job without one (it is then frozen at its first claim, where the
	// error shows).
	Render func(run int64) (*FrozenPost, error)
}

// CreateJobsParams records a batch of fires.
type CreateJobsParams struct {
	Jobs []NewJob
	// Node is recorded in the creation events and as each new job's
	// FiredBy.
	Node string
	// Now is the creation time (required).
	Now time.Time
	// ClaimLeaseUntil, when set, also claims for Node, in the same
	// transaction, the jobs this call creates as planned that are already
	// due (DueAt not after Now), exactly as ClaimJobs would with this lease:
	// a node that records a fire and publishes it at once pays one write
	// transaction instead of two. The claims are in CreateResult.Claim.
	ClaimLeaseUntil time.Time
	// ClaimLimit, with ClaimLeaseUntil, claims at most this many of those
	// jobs (the first ones in input order); the rest stay planned. Zero
	// means no limit. A node claims only what its publishers are free to
	// start.
	ClaimLimit int
}

// ClaimJobsParams claims due jobs for a node. A job is claimable when it is
// planned or retrying and its DueAt is not after Now. Claimed jobs become
// running with Attempt+1, Node and LeaseUntil set.
type ClaimJobsParams struct {
	// IDs, when set, restricts the claim to these jobs (those not claimable
	// are skipped silently: another node has them, or they are not due).
	IDs []int64
	// Limit caps how many jobs are claimed, earliest DueAt first (ties by
	// ID). Required without IDs; with IDs, zero means len(IDs).
	Limit int
	// Node becomes the lease owner (required).
	Node string
	// Now decides what is due and stamps the events (required).
	Now time.Time
	// LeaseUntil is when the lease expires unless renewed (required, after
	// Now).
	LeaseUntil time.Time
	// Detail goes into the claim events.
	Detail string
	// PlannedDueBefore, when set (and only without IDs), holds planned jobs
	// back until their DueAt is not after it, while retrying jobs are
	// claimable from their DueAt: the dispatcher leaves a fresh fire, already
	// on its way to a publisher, a grace period before re-driving it.
	PlannedDueBefore time.Time
}

// TransitionParams moves one job from From to To. Moves to running are claims
// and go through [Store.ClaimJobs].
type TransitionParams struct {
	JobID int64
	From  Status
	To    Status
	// Node is who makes the transition, recorded in the event. Out of
	// running it must be the lease owner.
	Node string
	// Attempt, when non-zero, must equal the job's attempt; out of running
	// it is required. With Node it names the lease, so a publisher whose
	// lease was taken over cannot overwrite the new attempt's outcome.
	Attempt int
	// Now stamps the change (required).
	Now time.Time
	// Detail goes into the event.
	Detail string
	// RetryAt is the new DueAt: required for -> retrying, optional for
	// dead -> planned (default Now) and for -> unknown (when reconciliation
	// first looks at the job; default Now).
	RetryAt time.Time
	// AppendPostIDs are appended to the job's PostIDs (for example the last
	// post of a thread on -> succeeded, or the posts found by reconciliation).
	AppendPostIDs []string
	// LastError, when non-empty, replaces the job's LastError.
	LastError string
	// DeadReason is stored on -> dead.
	DeadReason string
	// Failed counts this transition as a failed attempt: Job.Failures is
	// incremented in the same update, only if the transition applies. A
	// rate-limit wait (running -> retrying without Failed) costs no budget.
	// Not allowed on dead -> planned, which resets Failures to 0.
	Failed bool
	// SentAt, when set (only out of running), says that the attempt sent,
	// or may have sent, a request creating a post, first at SentAt:
	// Job.FirstSentAt becomes SentAt unless it is already set.
	SentAt time.Time
	// MetricsTasks are created, in the same transaction, when the transition
	// applies (and only then), so a published post's metrics stages are
	// durable the moment its success is. Only on -> succeeded. A task already
	// recorded for the same (job, post, stage) is not created twice.
	MetricsTasks []NewMetricsTask
}

// LeaseRef names one lease: a job and the attempt its owner is running.
type LeaseRef struct {
	JobID   int64
	Attempt int
}

// RenewLeasesParams extends the leases a node holds.
type RenewLeasesParams struct {
	Leases []LeaseRef
	// Node must be the owner of every lease (required).
	Node string
	// Now stamps the change (required).
	Now time.Time
	// LeaseUntil is the new expiry (required).
	LeaseUntil time.Time
}

// RecordPostsParams durably appends published post IDs to a running job
// before the next post of a thread is attempted, so a takeover resumes after
// them instead of posting twice.
type RecordPostsParams struct {
	JobID   int64
	Node    string
	Attempt int
	PostIDs []string
	Now     time.Time
	// SentAt, when set, is when the attempt first sent a post: FirstSentAt
	// becomes SentAt unless it is already set.
	SentAt time.Time
}

// FreezePostParams freezes the post of a running job, under the caller's
// lease, for a job that has none yet (see FrozenPost).
type FreezePostParams struct {
	JobID   int64
	Node    string
	Attempt int
	Post    FrozenPost
	Now     time.Time
}

// RecordMediaParams records, under the caller's lease, what the upload of a
// frozen post's media produced: Media replaces the frozen post's media and
// must name the same files (Path and Alt) in the same order.
type RecordMediaParams struct {
	JobID   int64
	Node    string
	Attempt int
	Media   []FrozenMedia
	Now     time.Time
}

// ClaimUnknownParams takes unknown jobs due for a reconciliation check
// (DueAt not after Now), earliest DueAt first (ties by ID), and moves each
// one's DueAt to Until, so that concurrent callers on any node never check
// the same job at once and a job not settled by this check waits until
// Until for the next. Not a transition: the jobs stay unknown, no event,
// and UpdatedAt stays the moment each became unknown (how long the
// platform has had to show its post is counted from it).
type ClaimUnknownParams struct {
	Node  string
	Now   time.Time
	Until time.Time
	// Limit caps the batch (required).
	Limit int
}

// ExpireLeasesParams moves running jobs whose lease expired before Now to
// unknown: their publisher stopped renewing, so whether the post exists is
// ambiguous until reconciled.
type ExpireLeasesParams struct {
	// Node is who noticed, recorded in the events.
	Node string
	Now  time.Time
	// Limit caps the batch; zero means no limit.
	Limit int
}

// ReleaseLeasesParams ends, at shutdown, the leases a node holds: their
// LeaseUntil becomes Now, so the next ExpireLeases on any node (Now later
// than this one) takes them over without waiting for the lease to run out.
type ReleaseLeasesParams struct {
	Node string
	Now  time.Time
}

// ListJobsParams filters and pages jobs, ordered by (PlannedAt, ID).
type ListJobsParams struct {
	// ScheduleID, when set, lists only that schedule's jobs.
	ScheduleID string
	// Statuses, when set, lists only jobs in these states.
	Statuses []Status
	// PlannedFrom and PlannedTo bound PlannedAt to [PlannedFrom, PlannedTo);
	// a zero bound is open.
	PlannedFrom time.Time
	PlannedTo   time.Time
	// Limit is the page size: default 100, at most 1000.
	Limit int
	// PageToken continues a previous listing with the same filters. Paging
	// is by key, so it is stable while jobs are added or change state.
	PageToken string
}

// ListEventsParams reads the event log in ID order, for a resumable stream.
type ListEventsParams struct {
	// AfterID returns events with a greater ID (0 from the start).
	AfterID int64
	// Limit is the page size: default 100, at most 1000.
	Limit int
}
