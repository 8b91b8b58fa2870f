package watch

import "time"

// Clock arms the debounce and poll timers. It is injected so that tests
// drive time instead of sleeping; nil in Options means the wall clock.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed, as
	// time.AfterFunc does.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer armed by a Clock.
type Timer interface {
	// Stop prevents the timer from firing; it reports whether it did so.
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// AdaptClock turns any clock with the same shape as Clock, but its own
// Timer type (such as Herald's clock.Clock), into a Clock. It exists
// because Go compares method results by type name, and this package may not
// import Herald's clock package:
//
//	opts.Clock = watch.AdaptClock(clk)
func AdaptClock[T Timer](c interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) T
}) Clock {
	return adapted[T]{c}
}

type adapted[T Timer] struct {
	c interface {
		Now() time.Time
		AfterFunc(d time.Duration, f func()) T
	}
}

func (a adapted[T]) Now() time.Time { return a.c.Now() }

func (a adapted[T]) AfterFunc(d time.Duration, f func()) Timer { return a.c.AfterFunc(d, f) }
