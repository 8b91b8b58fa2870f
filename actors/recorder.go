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
// claimed. A fire recorded twice (a restart, a second node) is a no-op
// thanks to the store's unique key, and only the node that created a job
// claims it here.
//
// With Options.FireLocks (a cluster with Redis), a batch first asks for its
// fires' locks, in one round trip, and writes only those it won; the lost
// ones are checked by the verifier (see FireLocks). A write that fails is
// not retried in place: its fires are held (see held) and written when the
// store answers again, so a store that is down never blocks the schedule
// actors.
type recorder struct {
	rt       *Runtime
	b        *batcher[store.NewJob, store.CreateResult]
	pending  pendingFires
	held     *held
	verifier *verifier // nil without FireLocks
	stopBg   context.CancelFunc
	// locksDownUntil (Unix nanoseconds on the runtime's clock) is set when
	// the fire locks fail: until then batches are written without asking
	// them (see fireLockPause).
	locksDownUntil atomic.Int64
}

// fire is a fire on its way to the store.
type fire struct {
	job store.NewJob
	won bool // this node won its lock: marked written once it is
}

// maxLinger bounds how long a batch of fires waits for the rest of its
// burst (see pendingFires): a safety valve, not the usual end of the wait.
// It must outlast the delivery of a large burst: 1,667 fires (100,000
// schedules a minute) take 10 to 20 ms to pass through their actors on two
// cores, and a cut burst waits a whole write for its second batch.
const maxLinger = 50 * time.Millisecond

func newRecorder(rt *Runtime) *recorder {
	r := &recorder{rt: rt, pending: pendingFires{settled: make(chan struct{}, 1)}}
	r.held = newHeld(r)
	if rt.opts.FireLocks != nil {
		r.verifier = newVerifier(r)
	}
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

// start runs the batching loop, the held fires' writer and the verifier
// on ctx.
func (r *recorder) start(ctx context.Context) {
	r.b.start(ctx)
	bg, cancel := context.WithCancel(ctx)
	r.stopBg = cancel
	go r.held.run(bg)
	if r.verifier != nil {
		go r.verifier.run(bg)
	}
}

// stop writes what was submitted, checks the lost fires kept (due or not),
// and makes a last attempt at the held ones. Called once, after the
// schedule actors stopped.
func (r *recorder) stop() {
	r.b.stop()
	r.stopBg()
	<-r.held.done
	ctx := r.rt.writes
	if r.verifier != nil {
		<-r.verifier.done
		r.verifier.flush(ctx)
	}
	r.held.flush(ctx)
}

// write is the batcher's run: it holds the batch if the store is known
// down, else takes the fires' locks and writes those won (all without
// locks). It never fails: what it cannot write is held, and its results
// (zero, so done ignores them) are reported later by writeFinish.
func (r *recorder) write(ctx context.Context, jobs []store.NewJob) ([]store.CreateResult, error) {
	res := make([]store.CreateResult, len(jobs))
	if r.held.active() {
		fires := make([]fire, len(jobs))
		for i, j := range jobs {
			fires[i] = fire{job: j}
		}
		if r.held.add(fires, true) {
			return res, nil
		}
	}
	idx, fires := r.lock(ctx, jobs)
	if len(fires) == 0 {
		return res, nil
	}
	out, err := r.writeFires(ctx, fires)
	if err != nil {
		r.rt.logger.Warn("store write failed; fires held until it answers", slog.Int("fires", len(fires)), slog.String("error", err.Error()))
		r.held.add(fires, false)
		return res, nil
	}
	for k, i := range idx {
		res[i] = out[k]
	}
	return res, nil
}

// lock returns the fires of jobs this node writes now, and their indices:
// all of them without FireLocks or when the locks fail, else those it won
// (and the lost ones the verifier has no room for).
func (r *recorder) lock(ctx context.Context, jobs []store.NewJob) ([]int, []fire) {
	rt := r.rt
	idx, fires := make([]int, 0, len(jobs)), make([]fire, 0, len(jobs))
	all := func(won bool) ([]int, []fire) {
		for i, j := range jobs {
			idx, fires = append(idx, i), append(fires, fire{job: j, won: won})
		}
		return idx, fires
	}
	if rt.opts.FireLocks == nil {
		return all(false)
	}
	if now := rt.opts.Clock.Now(); now.UnixNano() < r.locksDownUntil.Load() {
		rt.opts.Observer.FireLocks(FireLockError, len(jobs))
		return all(false)
	}
	names := make([]string, len(jobs))
	for i, j := range jobs {
		names[i] = FireName(j.ScheduleID, j.PlannedAt)
	}
	won, err := rt.opts.FireLocks.Acquire(ctx, names)
	rt.opts.Observer.FireLockRoundTrip(OpFireLock)
	if err != nil || len(won) != len(jobs) {
		rt.logger.Warn("fire locks: no answer; this node writes every fire for a while", slog.Int("fires", len(jobs)),
			slog.Any("error", err), slog.Duration("for", fireLockPause))
		r.locksDownUntil.Store(rt.opts.Clock.Now().Add(fireLockPause).UnixNano())
		rt.opts.Observer.FireLocks(FireLockError, len(jobs))
		return all(false)
	}
	var lost []store.NewJob
	var lostIdx []int
	for i, j := range jobs {
		if won[i] {
			idx, fires = append(idx, i), append(fires, fire{job: j, won: true})
		} else {
			lost, lostIdx = append(lost, j), append(lostIdx, i)
		}
	}
	rt.opts.Observer.FireLocks(FireLockWon, len(fires))
	rt.opts.Observer.FireLocks(FireLockLost, len(lost))
	kept := r.verifier.add(rt.opts.Clock.Now(), lost)
	for k := kept; k < len(lost); k++ {
		idx, fires = append(idx, lostIdx[k]), append(fires, fire{job: lost[k]})
	}
	return idx, fires
}

// writeFires records fires in one store write (one attempt, bounded by
// writeAttemptTimeout), claiming what the publishers have room for, and
// once it commits marks the won fires' locks written, in the background.
func (r *recorder) writeFires(ctx context.Context, fires []fire) ([]store.CreateResult, error) {
	rt := r.rt
	now := rt.opts.Clock.Now()
	jobs := make([]store.NewJob, len(fires))
	for i, f := range fires {
		jobs[i] = f.job
	}
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
	wctx, cancel := context.WithTimeout(ctx, writeAttemptTimeout)
	res, err := rt.opts.Store.CreateJobs(wctx, p)
	cancel()
	if err != nil {
		rt.pool.release(reserved)
		return nil, err
	}
	rt.opts.Observer.FireWrites(len(jobs))
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
	// Not waited for: the batch's jobs go to the publishers now, and a
	// mark that is late or lost only makes the losers write them too.
	go r.markWritten(context.WithoutCancel(ctx), fires)
	return res, nil
}

// markWritten marks the locks of the won fires written, in one round trip.
// A failure only makes the losers write them too (a no-op).
func (r *recorder) markWritten(ctx context.Context, fires []fire) {
	rt := r.rt
	var names []string
	for _, f := range fires {
		if f.won {
			names = append(names, FireName(f.job.ScheduleID, f.job.PlannedAt))
		}
	}
	if len(names) == 0 {
		return
	}
	err := rt.opts.FireLocks.MarkWritten(ctx, names)
	rt.opts.Observer.FireLockRoundTrip(OpFireDone)
	if err != nil {
		rt.logger.Warn("fire locks: marking fires written failed; other nodes will write them too", slog.Int("fires", len(names)), slog.String("error", err.Error()))
	}
}

// writeFinish writes fires outside the batcher (held fires, lost fires
// after their check) and reports each result to done.
func (r *recorder) writeFinish(ctx context.Context, fires []fire) error {
	res, err := r.writeFires(ctx, fires)
	if err != nil {
		return err
	}
	for _, c := range res {
		r.done(c, nil)
	}
	return nil
}

// writeOrHold writes fires outside the batcher, holding them if the store
// is down.
func (r *recorder) writeOrHold(ctx context.Context, fires []fire) {
	if r.held.add(fires, true) {
		return
	}
	if err := r.writeFinish(ctx, fires); err != nil {
		r.rt.logger.Warn("store write failed; fires held until it answers", slog.Int("fires", len(fires)), slog.String("error", err.Error()))
		r.held.add(fires, false)
	}
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
