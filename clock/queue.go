package clock

import (
	"container/heap"
	"sync"
	"time"
)

// queue is the min-heap of timers that Fake and Heap keep: earliest
// deadline first, ties in arming order. Its owner's mutex guards it.
type queue struct {
	mu    *sync.Mutex
	items []*entry
	seq   uint64
}

// entry is one armed timer; it is its own Timer.
type entry struct {
	q     *queue
	when  time.Time
	seq   uint64
	f     func()
	index int // in q.items; -1 once fired or stopped
}

// push arms f for when. q.mu is held.
func (q *queue) push(when time.Time, f func()) *entry {
	q.seq++
	e := &entry{q: q, when: when, seq: q.seq, f: f, index: -1}
	heap.Push(q, e)
	return e
}

// popDue removes and returns the earliest entry if it is due at now. q.mu
// is held.
func (q *queue) popDue(now time.Time) *entry {
	if len(q.items) == 0 || q.items[0].when.After(now) {
		return nil
	}
	return heap.Pop(q).(*entry)
}

// next is the earliest deadline. q.mu is held.
func (q *queue) next() (time.Time, bool) {
	if len(q.items) == 0 {
		return time.Time{}, false
	}
	return q.items[0].when, true
}

// Stop removes the entry; it reports whether it was still armed.
func (e *entry) Stop() bool {
	e.q.mu.Lock()
	defer e.q.mu.Unlock()
	if e.index < 0 {
		return false
	}
	heap.Remove(e.q, e.index)
	return true
}

func (q *queue) Len() int { return len(q.items) }
func (q *queue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if a.when.Equal(b.when) {
		return a.seq < b.seq
	}
	return a.when.Before(b.when)
}
func (q *queue) Swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.items[i].index, q.items[j].index = i, j
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(q.items)
	q.items = append(q.items, e)
}
func (q *queue) Pop() any {
	old := q.items
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	q.items = old[:len(old)-1]
	return e
}
