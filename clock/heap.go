package clock

import (
	"sync"
	"time"
)

// Heap is a Clock whose timers all share one timer of an underlying
// clock: it keeps them in its own min-heap and arms the underlying timer
// only for the earliest.
//
// Why: a node holds one timer per schedule, up to a million. In the Go
// runtime every timer lives in a per-processor heap, and each Reset of any
// timer (pgx resets one on every database write) later makes the scheduler
// walk that whole heap: with 100,000 schedule timers that walk took a third
// of the process's CPU. Behind a Heap the runtime sees one timer, and each
// armed timer costs a heap entry instead of a runtime timer.
//
// Functions run one after another on the Heap's own goroutine, so they
// must be quick (sending a message is).
type Heap struct {
	base Clock

	mu      sync.Mutex
	q       queue
	armed   Timer     // the underlying timer, for the earliest entry
	armedAt time.Time // its deadline
	burst   func(n int)
}

// OnBurst sets f to be called on the Heap's goroutine with the number of
// timers due together, before the first of them runs. Why: a caller that
// batches the work those timers start (Herald's fire recorder) can then
// wait for the whole burst instead of leaving with its first timer.
func (h *Heap) OnBurst(f func(n int)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.burst = f
}

// NewHeap returns a Heap over base.
func NewHeap(base Clock) *Heap {
	h := &Heap{base: base}
	h.q.mu = &h.mu
	return h
}

// Now is the underlying clock's time.
func (h *Heap) Now() time.Time { return h.base.Now() }

// AfterFunc calls f once d has elapsed on the underlying clock.
func (h *Heap) AfterFunc(d time.Duration, f func()) Timer {
	return h.AfterFuncAt(h.base.Now().Add(d), f)
}

// AfterFuncAt calls f once the underlying clock reaches t. Why beside
// AfterFunc: timers armed for one instant from many goroutines then share
// that exact deadline, so they go off as one burst (see OnBurst); computed
// from a duration, their deadlines differ by whatever passed between the
// caller reading the time and the Heap doing so (a wait for the Heap's
// lock during a burst is milliseconds), and the burst split.
func (h *Heap) AfterFuncAt(t time.Time, f func()) Timer {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.q.push(t, f)
	h.rearm()
	return e
}

// Len is the number of armed timers.
func (h *Heap) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.q.Len()
}

// rearm points the underlying timer at the earliest entry. h.mu is held.
func (h *Heap) rearm() {
	when, ok := h.q.next()
	if !ok {
		if h.armed != nil {
			h.armed.Stop()
			h.armed = nil
		}
		return
	}
	if h.armed != nil && h.armedAt.Equal(when) {
		return
	}
	if h.armed != nil {
		h.armed.Stop()
	}
	h.armedAt = when
	h.armed = h.base.AfterFunc(when.Sub(h.base.Now()), h.fire)
}

// fire runs every entry that is due, in deadline order, then re-arms. The
// entries due together are taken off the heap at once (so that OnBurst
// knows how many there are); stopping one of them then reports false, as
// for a timer already running.
func (h *Heap) fire() {
	for {
		h.mu.Lock()
		now := h.base.Now()
		var due []*entry
		for e := h.q.popDue(now); e != nil; e = h.q.popDue(now) {
			due = append(due, e)
		}
		if len(due) == 0 {
			h.armed = nil
			h.rearm()
			h.mu.Unlock()
			return
		}
		burst := h.burst
		h.mu.Unlock()
		if burst != nil {
			burst(len(due))
		}
		for _, e := range due {
			e.f()
		}
	}
}
