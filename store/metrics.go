package store

import "time"

// NewMetricsTask is one metrics stage of a published post, created with the
// job's success (TransitionParams.MetricsTasks).
type NewMetricsTask struct {
	// Account is the platform account whose credentials and rate limits the
	// lookup uses; tasks are claimed per account (required).
	Account string
	// PostID is the published post to measure (required).
	PostID string
	// Stage is the delay after publishing this capture stands for (for
	// example 1h, 24h, 7d); with the job and post it names the snapshot.
	// Not negative.
	Stage time.Duration
	// DueAt is when the capture may be made, usually the publish time plus
	// Stage (required).
	DueAt time.Time
}

// MetricsTask is a pending metrics capture. It lives until its snapshot is
// recorded (CompleteMetricsTasks deletes it), so a restarted node finds the
// work still to do. All times are UTC.
type MetricsTask struct {
	// ID is assigned by the store.
	ID int64
	// JobID and ScheduleID are the job whose success created the task.
	JobID      int64
	ScheduleID string
	Account    string
	PostID     string
	Stage      time.Duration
	// DueAt is when the task may next be claimed: the stage's time, or the
	// time a deferral set.
	DueAt time.Time
	// Tries counts deferrals (rate limited, transient errors).
	Tries int
	// Node is the lease owner while leased, and the last owner afterwards
	// (empty if never claimed).
	Node string
	// LeaseUntil is when the claim runs out: the task is claimable again
	// from that instant. Zero when not leased.
	LeaseUntil time.Time
	// LastError is the error of the last deferral.
	LastError string
	// CreatedAt is the Now of the transition that created the task.
	CreatedAt time.Time
}

// MetricsSnapshot is the metrics of one post at one stage, as captured. It is
// kept forever; at most one is recorded per (JobID, PostID, Stage).
type MetricsSnapshot struct {
	// TaskID names the task a snapshot completes (input to
	// CompleteMetricsTasks); 0 when read back.
	TaskID int64
	// JobID, PostID, Stage and DueAt are the task's. CompleteMetricsTasks
	// takes them from the task; non-zero values given there must match it.
	JobID  int64
	PostID string
	Stage  time.Duration
	DueAt  time.Time
	// CapturedAt is when the platform was asked (default: the Now of
	// CompleteMetricsTasks).
	CapturedAt time.Time
	// The public counts.
	Likes, Reposts, Replies, Quotes, Bookmarks, Impressions int64
	// NonPublic and Organic are the platform's private metric groups, by
	// name. nil when not available (another account's post, an app without
	// the scope), which differs from an empty map (available, nothing in it);
	// both read back as written.
	NonPublic, Organic map[string]int64
	// Detail explains a snapshot without counts, for example "post not
	// found" when X no longer has the post: the snapshot is still recorded
	// so the stage is not retried forever.
	Detail string
}

// ClaimMetricsTasksParams leases due metrics tasks of one account to a node.
type ClaimMetricsTasksParams struct {
	// Account whose tasks to claim (required).
	Account string
	// Node becomes the lease owner (required).
	Node string
	// Now decides what is due and which leases ran out (required).
	Now time.Time
	// LeaseUntil ends the lease unless the task is completed or deferred
	// first (required, after Now).
	LeaseUntil time.Time
	// Limit caps the batch, earliest DueAt first (required, positive): a
	// platform lookup takes up to 100 posts.
	Limit int
}

// CompleteMetricsTasksParams records captured snapshots and ends their tasks.
type CompleteMetricsTasksParams struct {
	// Node must hold the lease of every task (required).
	Node string
	// Now is the default CapturedAt (required).
	Now time.Time
	// Snapshots, each naming its task by TaskID.
	Snapshots []MetricsSnapshot
}

// DeferMetricsTasksParams gives leased tasks back to be tried later.
type DeferMetricsTasksParams struct {
	// Node must hold the lease of every task (required).
	Node    string
	TaskIDs []int64
	// DueAt is when the tasks become claimable again (default Now).
	DueAt time.Time
	// Error, when non-empty, replaces the tasks' LastError (why they were
	// deferred; never a secret).
	Error string
	// Now is required.
	Now time.Time
}
