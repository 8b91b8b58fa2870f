package store

import (
	"fmt"
	"time"
)

// PruneParams select the jobs PruneJobs deletes.
//
// Only terminal jobs are ever pruned (succeeded, cancelled, missed), and
// dead letters once they are older than DeadBefore (dead is not terminal:
// an operator may still retry or cancel it, so dead letters are kept
// longer). A job's age is its UpdatedAt: for a job no transition leaves,
// the instant it reached its final state.
//
// Forgetting a fire is safe for deduplication: the catch-up after downtime
// starts from the schedule's latest recorded fire, which the store keeps
// apart from the jobs (LatestFires), never from the jobs themselves, so a
// pruned fire is never planned again. Pruning only jobs older than every
// catch-up window (the 90-day default retention is far beyond any) makes
// that doubly moot.
type PruneParams struct {
	// Before: terminal jobs last changed before it are pruned. Required.
	Before time.Time
	// DeadBefore: dead letters last changed before it are pruned; zero
	// keeps every dead letter.
	DeadBefore time.Time
	// Limit caps the jobs deleted by one call (one short transaction);
	// required, positive. Callers loop until a call prunes fewer.
	Limit int
}

// PruneResult counts the rows one PruneJobs call deleted.
type PruneResult struct {
	Jobs      int
	Events    int
	Snapshots int
	// Tasks are metrics captures still pending for the pruned jobs (none,
	// normally: the last stage is due long before retention ends).
	Tasks int
	// Skipped is true when another node was pruning the same store (the
	// Postgres store lets one node prune at a time); nothing was deleted.
	Skipped bool
}

// JobStats is the size of the job table, for status pages.
type JobStats struct {
	// Jobs is the number of jobs stored. Approximate when Approximate is
	// set (Postgres reads the planner's estimate, as an exact count of
	// millions of rows takes seconds).
	Jobs        int64
	Approximate bool
	// OldestPlannedAt is the planned instant of the oldest job; zero when
	// there is none.
	OldestPlannedAt time.Time
}

// Validate reports ErrInvalid for params PruneJobs cannot run with.
func (p PruneParams) Validate() error {
	switch {
	case p.Before.IsZero():
		return fmt.Errorf("prune: Before is required: %w", ErrInvalid)
	case p.Limit <= 0:
		return fmt.Errorf("prune: Limit %d is not positive: %w", p.Limit, ErrInvalid)
	}
	return nil
}

// TerminalOrDead lists, as SQL string literals, the statuses a pruned job
// may have; drivers select from them with the cutoffs of PruneParams.
const TerminalOrDead = `'succeeded', 'cancelled', 'missed', 'dead'`
