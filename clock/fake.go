package clock

import (
	"sync"
	"time"
)

// Fake is a Clock whose time moves only when a test calls Advance or Set.
// Timers due at or before the new time fire in deadline order (ties in
// arming order), each in its own goroutine as with time.AfterFunc.
type Fake struct {
	mu    sync.Mutex
	now   time.Time
	q     queue
	armed chan struct{} // closed and replaced whenever a timer is armed
}

// NewFake returns a fake clock reading now.
func NewFake(now time.Time) *Fake {
	f := &Fake{now: now, armed: make(chan struct{})}
	f.q.mu = &f.mu
	return f
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// AfterFunc arms a timer that fires once the fake time reaches now+d.
func (f *Fake) AfterFunc(d time.Duration, fn func()) Timer {
	f.mu.Lock()
	defer f.mu.Unlock()
	e := f.q.push(f.now.Add(d), fn)
	close(f.armed)
	f.armed = make(chan struct{})
	return e
}

// Advance moves the time forward by d, firing the timers that fall due.
func (f *Fake) Advance(d time.Duration) { f.Set(f.Now().Add(d)) }

// Set moves the time to t (never backwards), firing the timers that fall due.
func (f *Fake) Set(t time.Time) {
	for {
		f.mu.Lock()
		e := f.q.popDue(t)
		if e == nil {
			if t.After(f.now) {
				f.now = t
			}
			f.mu.Unlock()
			return
		}
		if e.when.After(f.now) {
			f.now = e.when
		}
		f.mu.Unlock()
		go e.f()
	}
}

// Pending returns the number of armed timers.
func (f *Fake) Pending() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.q.Len()
}

// Armed returns a channel closed the next time a timer is armed: tests use
// it to wait until the code under test has gone to sleep.
func (f *Fake) Armed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.armed
}

// NextDeadline returns the deadline of the earliest armed timer.
func (f *Fake) NextDeadline() (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.q.next()
}

// ArmedAt reports whether a timer is armed to fire exactly at t.
func (f *Fake) ArmedAt(t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range f.q.items {
		if e.when.Equal(t) {
			return true
		}
	}
	return false
}
