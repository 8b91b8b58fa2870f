// Package clock is the time source injected wherever Herald's behaviour
// depends on time (schedule timers, leases, backoff, metrics stages), so
// that tests drive time instead of sleeping. Real() is the wall clock; Fake
// is advanced by hand.
//
// It imports nothing else of Herald's.
package clock

import "time"

// Clock tells the time and arms timers.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer armed by a Clock.
type Timer interface {
	// Stop prevents the timer from firing; it reports whether it did so.
	Stop() bool
}

// Real returns the system clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
