package actors

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultMaxHeldFires is how many fires a node holds in memory, by
// default, while the store does not answer (Options.MaxHeldFires): at
// 100,000 schedules a minute, a minute of fires, a few tens of megabytes.
const DefaultMaxHeldFires = 100_000

// writeAttemptTimeout bounds one write of a batch of fires. A store that
// hangs (a network partition drops packets instead of refusing them) must
// not hold the recorder longer than this: after it, the batch is held and
// the recorder takes the next one.
const writeAttemptTimeout = 15 * time.Second

// DropStoreUnavailable is the reason of a fire dropped because the store
// did not answer and the held fires reached Options.MaxHeldFires.
const DropStoreUnavailable = "store_unavailable"

// held keeps the fires a failed write could not record, while the store
// does not answer: bounded in memory (Options.MaxHeldFires), retried in
// batches with backoff (50 ms to 5 s) by one goroutine, and written when
// the store answers again. While any are held the recorder holds new fires
// too, without trying the store, so that neither it nor the schedule
// actors feeding it wait on a store that is down: timers keep running.
//
// A fire that finds the bound reached is dropped: logged (warn, with its
// schedule and planned instant) and counted
// (herald_fires_dropped_total{reason="store_unavailable"}). It is not
// recorded, so only this node's catch-up at its next start recovers it
// (within the schedule's catch-up window, like any fire missed while a node
// was down); another node that held it writes it. Fires still held when
// Herald stops are lost the same way, and logged.
type held struct {
	r     *recorder
	mu    sync.Mutex
	fires []fire
	wake  chan struct{}
	done  chan struct{}
}

func newHeld(r *recorder) *held {
	return &held{r: r, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// active reports whether fires are held: the store did not answer the
// last write.
func (h *held) active() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.fires) > 0
}

// add holds fires, dropping those over the bound; if onlyIfActive, it holds
// them only if fires are held already, and reports whether it did.
func (h *held) add(fires []fire, onlyIfActive bool) bool {
	h.mu.Lock()
	if onlyIfActive && len(h.fires) == 0 {
		h.mu.Unlock()
		return false
	}
	n := min(len(fires), max(h.r.rt.opts.MaxHeldFires-len(h.fires), 0))
	h.fires = append(h.fires, fires[:n]...)
	h.mu.Unlock()
	for _, f := range fires[n:] {
		h.r.rt.logger.Warn("fire dropped: the store does not answer and the held fires reached their bound; the next start catches it up",
			slog.String("schedule_id", f.job.ScheduleID), slog.String("planned_at", f.job.PlannedAt.UTC().Format(time.RFC3339Nano)),
			slog.Int("max_held_fires", h.r.rt.opts.MaxHeldFires))
		h.r.rt.opts.Observer.FireDropped(f.job.ScheduleID, DropStoreUnavailable)
	}
	select {
	case h.wake <- struct{}{}:
	default:
	}
	return true
}

// peek returns up to limit held fires, oldest first, leaving them held.
func (h *held) peek(limit int) []fire {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]fire(nil), h.fires[:min(limit, len(h.fires))]...)
}

// remove forgets the n oldest held fires: they are written.
func (h *held) remove(n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.fires = h.fires[n:]
	if len(h.fires) == 0 {
		h.fires = nil
	}
}

// run writes held fires until ctx ends: a batch at a time, backing off
// while the store does not answer. The held fires stay held (and new ones
// join them) until a write goes through, so the recorder keeps holding
// meanwhile.
func (h *held) run(ctx context.Context) {
	defer close(h.done)
	rt := h.r.rt
	try := 0
	for {
		batch := h.peek(rt.opts.BatchSize)
		if len(batch) == 0 {
			try = 0
			select {
			case <-h.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		if try > 0 && !sleep(ctx, rt.opts.Clock, storeBackoff.Ceiling(try)) {
			return
		}
		if err := h.r.writeFinish(ctx, batch); err != nil {
			try++
			rt.logger.Warn("store write failed; fires held", slog.String("error", err.Error()), slog.Int("held", h.count()),
				slog.Duration("retry_in", storeBackoff.Ceiling(try)))
			continue
		}
		h.remove(len(batch))
		if try > 0 {
			rt.logger.Info("store answers again: writing held fires", slog.Int("left", h.count()))
		}
		try = 0
	}
}

func (h *held) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.fires)
}

// flush makes one last attempt at the held fires, batch by batch, when
// Herald stops (after run ended), and logs what is lost.
func (h *held) flush(ctx context.Context) {
	for {
		batch := h.peek(h.r.rt.opts.BatchSize)
		if len(batch) == 0 {
			return
		}
		if err := h.r.writeFinish(ctx, batch); err != nil {
			h.r.rt.logger.Warn("fires not recorded: shutting down while the store does not answer; the next start catches them up",
				slog.Int("fires", h.count()), slog.String("error", err.Error()))
			return
		}
		h.remove(len(batch))
	}
}

// heldFires reports how many fires this node holds, for tests.
func (rt *Runtime) heldFires() int { return rt.recorder.held.count() }
