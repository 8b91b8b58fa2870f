package store

import "context"

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

	// LatestFires returns, in one query, the latest recorded fire of each
	// schedule named; schedules with no job are absent from the map.
	LatestFires(ctx context.Context, scheduleIDs []string) (map[string]Fire, error)

	// Migrate applies the embedded migrations the database lacks, in one
	// transaction; safe to call concurrently (from several nodes) and again.
	// A database newer than the binary is refused with ErrSchemaTooNew.
	Migrate(ctx context.Context) error

	// SchemaVersion reports the database's and the binary's schema versions.
	SchemaVersion(ctx context.Context) (SchemaVersion, error)

	// Close releases the store's connections. Safe to call twice.
	Close() error
}
