package actors

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

// recorder writes fires to the store in batches, each with its post frozen,
// and claims, for the publisher pool, as many of the ones it creates as the
// pool has room for, in the same transaction: a batch of fires costs one
// write whatever the pool size, and the publishers receive jobs already
// claimed. A fire is the moment a job becomes durable, so a
// failed write is retried with backoff until it succeeds or Herald stops; a
// fire recorded twice (a restart, a second node) is a no-op thanks to the
// store's unique key, and only the node that created a job claims it here.
type recorder struct {
	rt      *Runtime
	b       *batcher[store.NewJob, store.CreateResult]
	pending pendingFires
}

// maxLinger bounds how long a batch of fires waits for the rest of its
// burst (see pendingFires): a safety valve, not the usual end of the wait.
// It must outlast the delivery of a large burst: 1,667 fires (100,000
// schedules a minute) take 10 to 20 ms to pass through their actors on two
// cores, and a cut burst waits a whole write for its second batch.
const maxLinger = 50 * time.Millisecond

func newRecorder(rt *Runtime) *recorder {
	r := &recorder{rt: rt, pending: pendingFires{settled: make(chan struct{}, 1)}}
	r.b = newBatcher(rt.opts.BatchSize, r.write)
	r.b.linger = &linger{more: r.pending.more, settled: r.pending.settled, clock: rt.opts.Clock, max: maxLinger}
	if h, ok := rt.opts.Timers.(*clock.Heap); ok {
		// The heap counts each burst before running it: counted one by
		// one in the timers' callbacks, a burst could look over after its
		// first fire, when that fire is recorded before the next timer
		// runs.
		h.OnBurst(r.pending.addN)
		r.pending.byBurst = true
	}
	return r
}

// pendingFires counts the fires whose timer went off but which have not
// reached the recorder yet (they are in a schedule actor's mailbox), so
// that a batch waits for the rest of its burst instead of leaving with the
// first fire. Why: schedules due at the same instant go off together, and
// without the wait the first one or two leave alone and the others wait a
// whole write for the next batch, which doubled the lateness of most
// fires of a burst. The timers' clock.Heap adds each burst as a whole (or,
// on another clock, each timer's callback adds its fire); the actor settles
// the message after handing the fire to the recorder, or when it disarms
// a timer that already went off (a stopping actor never sees the message).
type pendingFires struct {
	n       atomic.Int64
	settled chan struct{} // signalled when n drops to zero or below
	byBurst bool          // the timers' clock.Heap adds whole bursts; else each callback adds its fire
}

// fired is called by a schedule timer's callback.
func (p *pendingFires) fired() {
	if !p.byBurst {
		p.n.Add(1)
	}
}

func (p *pendingFires) addN(n int) { p.n.Add(int64(n)) }

func (p *pendingFires) done() {
	if p.n.Add(-1) <= 0 {
		select {
		case p.settled <- struct{}{}:
		default:
		}
	}
}

// more reports whether fires are on their way to the recorder. The count
// can dip below zero for a moment (a disarm settling a message whose
// callback has not added it yet), which reads as none.
func (p *pendingFires) more() bool { return p.n.Load() > 0 }

// record queues a fire; it never blocks the calling actor for the write.
// A fire refused because Herald is stopping is not lost: it is not
// recorded, so the next start sees it as missed and catches it up.
func (r *recorder) record(job store.NewJob) {
	if !r.b.submit(job, r.done) {
		r.rt.logger.Info("fire not recorded: shutting down", slog.String("schedule_id", job.ScheduleID),
			slog.String("planned_at", job.PlannedAt.UTC().Format(time.RFC3339Nano)))
	}
}

func (r *recorder) write(ctx context.Context, jobs []store.NewJob) ([]store.CreateResult, error) {
	rt := r.rt
	return retryStore(ctx, rt, "record fires", func() ([]store.CreateResult, error) {
		now := rt.opts.Clock.Now()
		p := store.CreateJobsParams{Jobs: jobs, Node: rt.opts.Node, Now: now}
		reserved := 0
		if rt.accepting.Err() == nil {
			// Claim what is created and due, as far as the publishers
			// have room; the rest stays planned for the claimer.
			reserved = rt.pool.reserve(len(jobs))
			if reserved > 0 {
				p.ClaimLeaseUntil, p.ClaimLimit = now.Add(rt.opts.Lease), reserved
			}
		}
		res, err := rt.opts.Store.CreateJobs(ctx, p)
		if err != nil {
			rt.pool.release(reserved)
			return res, err
		}
		claimed := 0
		for i := range res {
			if res[i].Claim != nil {
				// Registered here, before the batch's callbacks run, so
				// that the renewer knows the lease from the start.
				rt.leases.add(res[i].Claim.Job)
				claimed++
			}
		}
		rt.pool.release(reserved - claimed)
		return res, nil
	})
}

// renderer freezes the post of a fire of s planned at planned, with the run
// number the store gives the job (see store.NewJob.Render).
func renderer(s *schedules.Schedule, planned time.Time) func(int64) (*store.FrozenPost, error) {
	return func(run int64) (*store.FrozenPost, error) { return freezePost(s, run, planned) }
}

func (r *recorder) done(res store.CreateResult, err error) {
	if err != nil {
		r.rt.logger.Error("fire not recorded", slog.String("error", err.Error()))
		return
	}
	if !res.Created {
		return
	}
	ctx := context.Background()
	r.rt.journal(ctx, store.Change{Job: res.Job, Event: res.Event})
	switch {
	case res.Claim != nil:
		r.rt.journal(ctx, *res.Claim)
		r.rt.pool.push(res.Claim.Job)
	case res.Job.Status == store.StatusPlanned:
		// Left for the claimer: at once when due (the publishers had no
		// room), else at its due time.
		r.rt.claimer.wakeAt(res.Job.DueAt)
	}
}

// storeBackoff paces retries of a store write: the store being briefly
// unreachable must not lose a fire or an outcome.
var storeBackoff = backoff.Policy{Base: 50 * time.Millisecond, Max: 5 * time.Second}

// retryStore runs op until it succeeds or ctx ends, backing off from 50 ms
// to 5 s between attempts.
func retryStore[T any](ctx context.Context, rt *Runtime, what string, op func() (T, error)) (T, error) {
	for try := 1; ; try++ {
		res, err := op()
		if err == nil || ctx.Err() != nil {
			return res, err
		}
		delay := storeBackoff.Ceiling(try)
		rt.logger.Warn("store write failed; retrying", slog.String("op", what), slog.String("error", err.Error()), slog.Duration("in", delay))
		if !sleep(ctx, rt.opts.Clock, delay) {
			return res, err
		}
	}
}
