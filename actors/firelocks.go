package actors

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/herald-social/herald/store"
)

// FireLocks lets one node of a cluster write each fire instead of all of
// them (every node runs every schedule). Before writing a batch of fires,
// the recorder asks for their locks in one call and writes only those it
// won; after the write commits it marks them written; a fire it lost is
// checked FireVerifyDelay later and written after all if its winner never
// marked it (the winner died, or the lock was lost). Each method is one
// round trip whatever the number of fires, which are named by FireName.
//
// The locks are a fast path: the store's unique key on (schedule, planned
// instant) is the guarantee. An error from Acquire makes the recorder write
// every fire of the batch, and one from Written every fire it checked.
// Options.FireLocks nil writes every fire (one node, or no Redis).
type FireLocks interface {
	// Acquire reports, for each fire, whether this node won its lock.
	Acquire(ctx context.Context, fires []string) ([]bool, error)
	// MarkWritten records that fires this node won are in the store.
	MarkWritten(ctx context.Context, fires []string) error
	// Written reports, for each fire, whether its winner marked it
	// written.
	Written(ctx context.Context, fires []string) ([]bool, error)
}

// FireName names a fire for FireLocks: the schedule id and the planned
// instant in Unix nanoseconds, the fire's identity in the store.
func FireName(scheduleID string, planned time.Time) string {
	return scheduleID + ":" + strconv.FormatInt(planned.UnixNano(), 10)
}

// FireLockResult labels the outcome of a fire's lock, for metrics.
type FireLockResult string

const (
	FireLockWon   FireLockResult = "won"   // this node writes the fire
	FireLockLost  FireLockResult = "lost"  // another node does; checked after FireVerifyDelay
	FireLockError FireLockResult = "error" // the locks did not answer: written by this node
)

// FireLockOp labels a round trip of the fire locks, for metrics.
type FireLockOp string

const (
	OpFireLock   FireLockOp = "fire_lock"   // Acquire
	OpFireDone   FireLockOp = "fire_done"   // MarkWritten
	OpFireVerify FireLockOp = "fire_verify" // Written
)

// FireVerifyDelay is how long after losing a fire's lock a node checks
// that the winner wrote it. Why five seconds: a winner takes its lock,
// writes the batch and marks it in tens of milliseconds (hundreds under
// load), so five seconds leave it a wide margin; a winner that died (or a
// Redis that lost the lock) costs the fire those five seconds of lateness,
// well inside any catch-up window. A winner slower than that only costs an
// extra write, which the store's unique key makes a no-op.
const FireVerifyDelay = 5 * time.Second

// fireLockPause is how long a node writes every fire without asking the
// locks after they failed to answer. Why: a Redis that is down or paused
// costs each call its timeout, and a burst that waits for it is that much
// later at X; writing without the locks costs only extra no-op writes,
// which the store's unique key absorbs. After the pause the next batch
// asks again, so a node returns to the locks on its own.
const fireLockPause = 2 * time.Second

// maxVerifying bounds the lost fires a node keeps in memory to check. Over
// it, a lost fire is written at once instead (a no-op write if the winner
// wrote it): memory stays bounded and nothing is forgotten.
const maxVerifying = 100_000

// verifier keeps the fires this node lost, and at FireVerifyDelay checks
// them in one round trip per batch, writing those whose winner did not
// mark them written.
type verifier struct {
	r     *recorder
	mu    sync.Mutex
	queue []verifyEntry // by due time: the delay is constant
	wake  chan struct{}
	done  chan struct{}
}

type verifyEntry struct {
	due time.Time
	job store.NewJob
}

func newVerifier(r *recorder) *verifier {
	return &verifier{r: r, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// add keeps jobs to check at now + FireVerifyDelay, reporting how many it
// kept: the first ones, up to maxVerifying in all.
func (v *verifier) add(now time.Time, jobs []store.NewJob) int {
	v.mu.Lock()
	n := min(len(jobs), maxVerifying-len(v.queue))
	for _, j := range jobs[:max(n, 0)] {
		v.queue = append(v.queue, verifyEntry{due: now.Add(FireVerifyDelay), job: j})
	}
	v.mu.Unlock()
	if n > 0 {
		select {
		case v.wake <- struct{}{}:
		default:
		}
	}
	return max(n, 0)
}

// take removes and returns up to limit entries due at now (all when all),
// and the due time of the next one left (zero if none).
func (v *verifier) take(now time.Time, limit int, all bool) ([]store.NewJob, time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for n < len(v.queue) && n < limit && (all || !v.queue[n].due.After(now)) {
		n++
	}
	jobs := make([]store.NewJob, n)
	for i := range n {
		jobs[i] = v.queue[i].job
	}
	v.queue = v.queue[n:]
	if len(v.queue) == 0 {
		v.queue = nil // let the backing array go
		return jobs, time.Time{}
	}
	return jobs, v.queue[0].due
}

// run checks due fires until ctx ends.
func (v *verifier) run(ctx context.Context) {
	defer close(v.done)
	rt := v.r.rt
	for {
		jobs, next := v.take(rt.opts.Clock.Now(), rt.opts.BatchSize, false)
		if len(jobs) > 0 {
			v.check(ctx, jobs)
			continue
		}
		wait := time.Hour
		if !next.IsZero() {
			wait = next.Sub(rt.opts.Clock.Now())
		}
		if !sleepOrWake(ctx, rt.opts.Clock, wait, v.wake) {
			return
		}
	}
}

// flush checks every fire kept, due or not: Herald is stopping. Called
// after run ended.
func (v *verifier) flush(ctx context.Context) {
	for {
		jobs, _ := v.take(time.Time{}, v.r.rt.opts.BatchSize, true)
		if len(jobs) == 0 {
			return
		}
		v.check(ctx, jobs)
	}
}

// check asks which of jobs their winners marked written and writes the
// others (all of them if the locks do not answer).
func (v *verifier) check(ctx context.Context, jobs []store.NewJob) {
	rt := v.r.rt
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = FireName(j.ScheduleID, j.PlannedAt)
	}
	written, err := rt.opts.FireLocks.Written(ctx, names)
	rt.opts.Observer.FireLockRoundTrip(OpFireVerify)
	if err != nil {
		rt.logger.Warn("fire locks: checking lost fires failed; writing them", slog.Int("fires", len(jobs)), slog.String("error", err.Error()))
	}
	var write []fire
	for i, j := range jobs {
		if err != nil || !written[i] {
			write = append(write, fire{job: j})
		}
	}
	if len(write) == 0 {
		return
	}
	rt.logger.Info("fire locks: writing fires their winner did not mark written", slog.Int("fires", len(write)),
		slog.String("first_schedule_id", write[0].job.ScheduleID))
	v.r.writeOrHold(ctx, write)
}
