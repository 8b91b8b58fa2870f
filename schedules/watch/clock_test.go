package watch

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock whose time moves only when a test calls Advance.
// Due timers fire in their own goroutines, as with time.AfterFunc.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*fakeTimer
	changed chan struct{} // closed and replaced when a timer is armed or stopped
}

type fakeTimer struct {
	c    *fakeClock
	when time.Time
	f    func()
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC), changed: make(chan struct{})}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, when: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	c.notifyLocked()
	return t
}

func (t *fakeTimer) Stop() bool {
	c := t.c
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.Index(c.timers, t)
	if i < 0 {
		return false
	}
	c.timers = slices.Delete(c.timers, i, i+1)
	c.notifyLocked()
	return true
}

func (c *fakeClock) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Advance moves the time forward by d and fires the timers that fall due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*fakeTimer
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.when.After(c.now) {
			return false
		}
		due = append(due, t)
		return true
	})
	c.notifyLocked()
	c.mu.Unlock()
	for _, t := range due {
		go t.f()
	}
}

// waitFor waits (up to 10 s) until cond holds for the armed timers, given
// as their delays from now.
func (c *fakeClock) waitFor(t *testing.T, what string, cond func(delays []time.Duration) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		delays := make([]time.Duration, len(c.timers))
		for i, tm := range c.timers {
			delays[i] = tm.when.Sub(c.now)
		}
		changed := c.changed
		c.mu.Unlock()
		if cond(delays) {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting for timers: %s (armed: %v)", what, delays)
		}
	}
}

// waitTimers waits until exactly the timers with these delays are armed,
// in any order.
func (c *fakeClock) waitTimers(t *testing.T, delays ...time.Duration) {
	t.Helper()
	want := slices.Sorted(slices.Values(delays))
	c.waitFor(t, "armed "+durations(want), func(got []time.Duration) bool {
		return slices.Equal(slices.Sorted(slices.Values(got)), want)
	})
}

func durations(ds []time.Duration) string {
	s := "["
	for i, d := range ds {
		if i > 0 {
			s += " "
		}
		s += d.String()
	}
	return s + "]"
}

// ownTimer and ownClock stand for a clock package with its own Timer type
// (like Herald's clock package), to check that AdaptClock accepts it.
type ownTimer interface{ Stop() bool }

type ownClock struct{ c *fakeClock }

func (o ownClock) Now() time.Time                               { return o.c.Now() }
func (o ownClock) AfterFunc(d time.Duration, f func()) ownTimer { return o.c.AfterFunc(d, f) }

func TestAdaptClock(t *testing.T) {
	t.Parallel()
	fake := newFakeClock()
	c := AdaptClock(ownClock{fake})
	if !c.Now().Equal(fake.Now()) {
		t.Fatalf("Now = %v, want %v", c.Now(), fake.Now())
	}
	fired := make(chan struct{})
	c.AfterFunc(time.Second, func() { close(fired) })
	stopped := c.AfterFunc(time.Second, func() { t.Error("stopped timer fired") })
	if !stopped.Stop() {
		t.Fatal("Stop of an armed timer = false")
	}
	fake.Advance(time.Second)
	<-fired
}
