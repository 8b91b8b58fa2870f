package store

import (
	"context"
	"time"
)

// Store is Herald's durable state. Implementations are safe for concurrent
// use by many goroutines and, for Postgres, many nodes.
//
// Errors wrap the sentinels of errors.go; driver errors that match none are
// wrapped with context and returned as they are.
type Store interface {
	// CreateJobs records fires, insert-or-ignore on (ScheduleID, PlannedAt),
	// in one transaction. Results are in input order. A new job gets the
	// schedule's next run number and a creation event; a fire already
	// recorded returns the existing job with Created false. The same fire
	// twice in one batch is created once; later copies report Created false.
	// An invalid NewJob fails the whole call with ErrInvalid and records
	// nothing.
	CreateJobs(ctx context.Context, params CreateJobsParams) ([]CreateResult, error)

	// ClaimJobs moves due planned or retrying jobs to running for
	// params.Node, atomically: under any concurrency each job is claimed by
	// exactly one caller. It returns the claimed jobs, in (DueAt, ID) order,
	// with their claim events.
	ClaimJobs(ctx context.Context, params ClaimJobsParams) ([]Change, error)

	// Transition applies a batch of transitions in one transaction, in
	// order. Each item succeeds or fails alone; a failed item changes
	// nothing and records no event. The returned error is for the batch as a
	// whole (the database is unreachable, ctx is done), in which case
	// nothing was applied.
	Transition(ctx context.Context, params ...TransitionParams) ([]TransitionResult, error)

	// RenewLeases extends leases still held by params.Node. The result has
	// one entry per lease, nil when renewed, else a *LeaseError (ErrConflict
	// when the lease is lost, ErrNotFound).
	RenewLeases(ctx context.Context, params RenewLeasesParams) ([]error, error)

	// RecordPosts appends post IDs to a running job whose lease the caller
	// holds; a *LeaseError otherwise. It is not a transition and records no
	// event.
	RecordPosts(ctx context.Context, params RecordPostsParams) (Job, error)

	// FreezePost stores params.Post on a running job whose lease the caller
	// holds, if the job has no post yet; a job with a post keeps it. It
	// returns the job with the post it holds. A *LeaseError when the lease
	// is not the caller's. Not a transition; no event.
	FreezePost(ctx context.Context, params FreezePostParams) (Job, error)

	// RecordMedia records the uploaded media of a running job's frozen post
	// under the caller's lease, and sets SendFloor to params.Now. ErrInvalid
	// when the job has no frozen post or the files differ; a *LeaseError
	// when the lease is not the caller's. Not a transition; no event.
	RecordMedia(ctx context.Context, params RecordMediaParams) (Job, error)

	// ClaimUnknown takes unknown jobs due for a reconciliation check and
	// pushes their next check to params.Until (see ClaimUnknownParams).
	ClaimUnknown(ctx context.Context, params ClaimUnknownParams) ([]Job, error)

	// ExpireLeases moves running jobs whose LeaseUntil is before params.Now
	// to unknown, and returns them with their events.
	ExpireLeases(ctx context.Context, params ExpireLeasesParams) ([]Change, error)

	// ReleaseLeases sets LeaseUntil to params.Now on every job params.Node
	// is running, and returns those jobs. Not a transition: the jobs stay
	// running until some node's ExpireLeases sees them.
	ReleaseLeases(ctx context.Context, params ReleaseLeasesParams) ([]Job, error)

	// GetJob returns one job, or ErrNotFound.
	GetJob(ctx context.Context, id int64) (Job, error)

	// ListJobs returns a page of jobs matching the filters, ordered by
	// (PlannedAt, ID). A malformed page token is ErrInvalid.
	ListJobs(ctx context.Context, params ListJobsParams) (JobPage, error)

	// JobEvents returns a job's events, oldest first (empty for an unknown
	// job).
	JobEvents(ctx context.Context, jobID int64) ([]Event, error)

	// ListEvents returns events after params.AfterID in ID order. IDs are
	// assigned in commit order, so resuming after the last ID seen misses
	// nothing.
	ListEvents(ctx context.Context, params ListEventsParams) ([]Event, error)

	// LatestEventID is the greatest event ID so far (0 when none): where a
	// stream that wants only new events starts.
	LatestEventID(ctx context.Context) (int64, error)

	// LatestFires returns, in one query, the latest recorded fire of each
	// schedule named; schedules with no job are absent from the map.
	LatestFires(ctx context.Context, scheduleIDs []string) (map[string]Fire, error)

	// AllLatestFires returns the latest recorded fire of every schedule the
	// store has a record of, in one read. It takes no IDs so that a node
	// starting can read them while its configuration still loads (1M
	// schedules: the read overlaps the CPU-bound load); schedules no longer
	// configured are simply extra entries, to be ignored.
	AllLatestFires(ctx context.Context) (map[string]Fire, error)

	// ClaimMetricsTasks leases to params.Node the due tasks of
	// params.Account (DueAt not after Now) that are not leased or whose
	// lease ran out (LeaseUntil not after Now), earliest DueAt first (ties
	// by ID), at most Limit. Concurrent claimers, on any node, never get the
	// same task, so a post's stage is fetched once; a node that dies holding
	// tasks only delays them until the lease runs out.
	ClaimMetricsTasks(ctx context.Context, params ClaimMetricsTasksParams) ([]MetricsTask, error)

	// NextMetricsDue returns the earliest instant at which a task of
	// account becomes claimable (the later of its DueAt and LeaseUntil),
	// false when the account has no task: what a metrics actor sets its
	// timer to instead of polling.
	NextMetricsDue(ctx context.Context, account string) (time.Time, bool, error)

	// MetricsAccounts lists, sorted, the accounts with pending metrics
	// tasks, so a restarted node wakes their metrics actors even when no
	// schedule of the account publishes again.
	MetricsAccounts(ctx context.Context) ([]string, error)

	// CompleteMetricsTasks records each snapshot and deletes its task, in
	// one transaction, for the tasks params.Node holds the lease of. The
	// result has one entry per snapshot: nil, a *LeaseError (ErrConflict:
	// another node holds the task, or it was deferred; ErrNotFound: already
	// completed), or an error wrapping ErrInvalid; a failed item changes
	// nothing. A snapshot already recorded for the same (job, post, stage)
	// is kept and the new one ignored, not an error: the stage is done. A
	// lease that ran out is still the caller's until another node claims
	// the task: a late capture is as good as a punctual one.
	CompleteMetricsTasks(ctx context.Context, params CompleteMetricsTasksParams) ([]error, error)

	// DeferMetricsTasks gives back leased tasks (rate limited, a transient
	// error) to be claimed again from params.DueAt, counting a try and
	// storing the error. Per-task results as CompleteMetricsTasks.
	DeferMetricsTasks(ctx context.Context, params DeferMetricsTasksParams) ([]error, error)

	// PostMetrics returns all snapshots of a job, ordered by post (in the
	// order of the job's PostIDs, then other posts by ID) and stage; empty
	// for an unknown job.
	PostMetrics(ctx context.Context, jobID int64) ([]MetricsSnapshot, error)

	// GetState reads one entry of the key-value state, or ErrNotFound.
	GetState(ctx context.Context, key string) (State, error)

	// PutState writes one entry if its version is still params.Version (0:
	// the entry must not exist) and returns the new version; otherwise
	// nothing changes and the error wraps ErrConflict. Values are opaque:
	// callers encrypt secrets (OAuth refresh tokens) before they get here.
	PutState(ctx context.Context, params PutStateParams) (int64, error)

	// Heartbeat records a node as seen at params.Now, inserting or
	// replacing its row (and forgets nodes silent since
	// params.ForgetBefore). It never waits for job writes: a node's
	// heartbeat must not slow fires, nor fires its heartbeat.
	Heartbeat(ctx context.Context, params HeartbeatParams) error

	// RemoveNode deletes a node's row (at graceful shutdown); removing an
	// absent node is not an error.
	RemoveNode(ctx context.Context, id string) error

	// ListNodes returns every recorded node, ordered by ID, alive or not:
	// whether a node is alive is the caller's rule, from LastSeen.
	ListNodes(ctx context.Context) ([]Node, error)

	// Pause pauses a schedule, replacing its current pause if any. Like
	// Heartbeat, it does not wait for job writes.
	Pause(ctx context.Context, params PauseParams) error

	// Resume deletes a schedule's pause; resuming a schedule that is not
	// paused is not an error.
	Resume(ctx context.Context, scheduleID string) error

	// ListPauses returns the pauses in force at params.Now, ordered by
	// schedule ID; expired ones are not listed and may be deleted.
	ListPauses(ctx context.Context, params ListPausesParams) ([]Pause, error)

	// PruneJobs deletes, in one short transaction, at most params.Limit
	// jobs that params select (see PruneParams: never a job that is not
	// terminal, except a dead letter older than DeadBefore) with their
	// events, metrics snapshots and tasks. Writers wait for it at most one
	// batch (SQLite's single writer), or not at all (Postgres: it takes no
	// write lock, the rows it deletes being ones no fire writes). Limit
	// not positive or Before zero is ErrInvalid.
	PruneJobs(ctx context.Context, params PruneParams) (PruneResult, error)

	// JobStats reports how many jobs the store holds and the oldest one's
	// planned instant, cheaply (see JobStats).
	JobStats(ctx context.Context) (JobStats, error)

	// Migrate applies the embedded migrations the database lacks, in one
	// transaction; safe to call concurrently (from several nodes) and again.
	// A database newer than the binary is refused with ErrSchemaTooNew.
	Migrate(ctx context.Context) error

	// SchemaVersion reports the database's and the binary's schema versions.
	SchemaVersion(ctx context.Context) (SchemaVersion, error)

	// Close releases the store's connections. Safe to call twice.
	Close() error
}
