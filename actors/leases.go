package actors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// leases is what this node knows of the job leases it holds: each one's
// expiry as the store last confirmed it, and whether it was lost. It is the
// fence of every request to the platform: a publisher sends a request for
// a job only while the lease outlives that request (see guard), so that a
// job taken over by another attempt (after this node was slow, paused or
// cut off from the store) never hears from the old one again.
//
// The renewer extends every lease held, queued or in flight, every
// Lease/4; a lease the store says is gone is marked lost at once, and one
// that cannot be renewed (the store is unreachable) simply runs towards its
// expiry, which the guard sees.
type leases struct {
	rt *Runtime
	// margin is kept between a request's end and the lease's expiry: what
	// another node's clock may be ahead of ours.
	margin time.Duration

	mu   sync.Mutex
	held map[int64]*heldLease
}

type heldLease struct {
	attempt int
	until   time.Time
	lost    error
}

func newLeases(rt *Runtime) *leases {
	return &leases{rt: rt, margin: rt.opts.LeaseMargin, held: map[int64]*heldLease{}}
}

// add registers the lease of a job this node has just claimed.
func (l *leases) add(job store.Job) {
	l.mu.Lock()
	l.held[job.ID] = &heldLease{attempt: job.Attempt, until: job.LeaseUntil}
	l.mu.Unlock()
}

// remove forgets a lease: its outcome is being recorded, or it was given up.
func (l *leases) remove(jobID int64, attempt int) {
	l.mu.Lock()
	if h := l.held[jobID]; h != nil && h.attempt == attempt {
		delete(l.held, jobID)
	}
	l.mu.Unlock()
}

// guard is the fence of one attempt: nil while its lease outlives a request
// of the given timeout started now (with the margin), else an error
// wrapping platform.ErrFenced. A request given no timeout is checked for
// the margin alone.
func (l *leases) guard(jobID int64, attempt int) func(endpoint string, timeout time.Duration) error {
	return func(endpoint string, timeout time.Duration) error {
		now := l.rt.opts.Clock.Now()
		l.mu.Lock()
		h := l.held[jobID]
		var until time.Time
		var lost error
		if h != nil && h.attempt == attempt {
			until, lost = h.until, h.lost
		}
		l.mu.Unlock()
		switch {
		case h == nil || h.attempt != attempt:
			return fmt.Errorf("job %d attempt %d: %s: %w: this node no longer holds the lease", jobID, attempt, endpoint, platform.ErrFenced)
		case lost != nil:
			return fmt.Errorf("job %d attempt %d: %s: %w: lease lost: %v", jobID, attempt, endpoint, platform.ErrFenced, lost)
		case !now.Add(timeout + l.margin).Before(until):
			return fmt.Errorf("job %d attempt %d: %s: %w: the lease ends at %s, before a request of %s could be sure to end",
				jobID, attempt, endpoint, platform.ErrFenced, until.UTC().Format(time.RFC3339Nano), timeout)
		}
		return nil
	}
}

// run renews the leases held every Lease/4 until ctx ends.
func (l *leases) run(ctx context.Context) {
	every := l.rt.opts.Lease / 4
	for sleep(ctx, l.rt.opts.Clock, every) {
		l.renew(ctx)
	}
}

// renew extends every lease held, in batches.
func (l *leases) renew(ctx context.Context) {
	rt := l.rt
	l.mu.Lock()
	refs := make([]store.LeaseRef, 0, len(l.held))
	for id, h := range l.held {
		if h.lost == nil {
			refs = append(refs, store.LeaseRef{JobID: id, Attempt: h.attempt})
		}
	}
	l.mu.Unlock()
	for len(refs) > 0 {
		n := min(len(refs), rt.opts.BatchSize)
		batch := refs[:n]
		refs = refs[n:]
		now := rt.opts.Clock.Now()
		until := now.Add(rt.opts.Lease)
		res, err := rt.opts.Store.RenewLeases(ctx, store.RenewLeasesParams{Leases: batch, Node: rt.opts.Node, Now: now, LeaseUntil: until})
		if err != nil {
			if ctx.Err() == nil {
				rt.logger.Warn("renewing leases failed; they run towards their expiry", slog.Int("leases", len(batch)), slog.String("error", err.Error()))
			}
			return
		}
		l.mu.Lock()
		for i, ref := range batch {
			h := l.held[ref.JobID]
			if h == nil || h.attempt != ref.Attempt {
				continue
			}
			switch e := res[i]; {
			case e == nil:
				h.until = until
			case leaseLost(e):
				h.lost = e
				// A job whose outcome this node just recorded is no
				// longer running: that is no news. One taken over (by
				// another attempt, or expired to unknown) is.
				level := slog.LevelDebug
				if le := (*store.LeaseError)(nil); !errors.As(e, &le) || le.ActualAttempt != ref.Attempt ||
					le.Actual == store.StatusRunning || le.Actual == store.StatusUnknown {
					level = slog.LevelWarn
				}
				rt.logger.Log(ctx, level, "lease lost", slog.Int64("job_id", ref.JobID), slog.Int("attempt", ref.Attempt), slog.String("error", e.Error()))
			}
		}
		l.mu.Unlock()
	}
}

// count is how many leases this node holds (queued or in flight).
func (l *leases) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}
