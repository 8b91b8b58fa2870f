package clock

import (
	"container/heap"
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
	entries heapEntries
	seq     uint64
	armed   Timer     // the underlying timer, for the earliest entry
	armedAt time.Time // its deadline
}

// NewHeap returns a Heap over base.
func NewHeap(base Clock) *Heap { return &Heap{base: base} }

// Now is the underlying clock's time.
func (h *Heap) Now() time.Time { return h.base.Now() }

// AfterFunc calls f once d has elapsed on the underlying clock.
func (h *Heap) AfterFunc(d time.Duration, f func()) Timer {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	e := &heapEntry{heap: h, when: h.base.Now().Add(d), seq: h.seq, f: f, index: -1}
	heap.Push(&h.entries, e)
	h.rearm()
	return e
}

// Len is the number of armed timers.
func (h *Heap) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

// rearm points the underlying timer at the earliest entry. h.mu is held.
func (h *Heap) rearm() {
	if len(h.entries) == 0 {
		if h.armed != nil {
			h.armed.Stop()
			h.armed = nil
		}
		return
	}
	when := h.entries[0].when
	if h.armed != nil && h.armedAt.Equal(when) {
		return
	}
	if h.armed != nil {
		h.armed.Stop()
	}
	h.armedAt = when
	h.armed = h.base.AfterFunc(when.Sub(h.base.Now()), h.fire)
}

// fire runs every entry that is due, in deadline order, then re-arms.
func (h *Heap) fire() {
	for {
		h.mu.Lock()
		now := h.base.Now()
		if len(h.entries) == 0 || h.entries[0].when.After(now) {
			h.armed = nil
			h.rearm()
			h.mu.Unlock()
			return
		}
		e := heap.Pop(&h.entries).(*heapEntry)
		h.mu.Unlock()
		e.f()
	}
}

type heapEntry struct {
	heap  *Heap
	when  time.Time
	seq   uint64
	f     func()
	index int
}

// Stop removes the entry; it reports whether it was still armed.
func (e *heapEntry) Stop() bool {
	h := e.heap
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.index < 0 {
		return false
	}
	heap.Remove(&h.entries, e.index)
	return true
}

type heapEntries []*heapEntry

func (q heapEntries) Len() int { return len(q) }
func (q heapEntries) Less(i, j int) bool {
	if q[i].when.Equal(q[j].when) {
		return q[i].seq < q[j].seq
	}
	return q[i].when.Before(q[j].when)
}
func (q heapEntries) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *heapEntries) Push(x any) {
	e := x.(*heapEntry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *heapEntries) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*q = old[:len(old)-1]
	return e
}
