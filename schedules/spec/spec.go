// Package spec compiles a schedule's timing (cron, RRULE or a one-shot
// instant) once and then answers "when is the next fire after t?".
//
// It owns Herald's time-zone semantics, the same for every kind: a schedule
// is a set of local wall-clock times in its zone, and each wall time maps to
// exactly one instant:
//   - a wall time inside a DST gap takes the UTC offset in force before the
//     gap (RFC 5545: 02:30 on a spring-forward day in New York is 03:30 EDT);
//   - a wall time that occurs twice (fall back) takes its first occurrence;
//   - wall times that map to the same instant fire once.
//
// The cron and RRULE parsers are robfig/cron and teambition/rrule-go; their
// stepping runs on naive wall-clock times (a time.Time in UTC standing for a
// civil time) and this package maps wall times to instants, because neither
// library implements the rules above in a real zone.
//
// Schedule maths here is pure: no clock, no I/O. The package imports nothing
// else of Herald's.
package spec

import (
	"time"
)

// Spec is a compiled schedule timing. Implementations are immutable and safe
// for concurrent use.
type Spec interface {
	// Next returns the first planned fire instant strictly after t, in the
	// spec's location, and false when the spec never fires again.
	Next(t time.Time) (time.Time, bool)
	// Location is the zone whose offset fire instants are reported in.
	Location() *time.Location
}

// Window limits a spec to planned instants in [Start, End). A zero bound is
// open. Bounds are local wall times in the spec's zone, resolved with the
// package's DST rules.
type Window struct {
	Start, End Civil
}

// Civil is a wall-clock date and time with no zone, to the second. The zero
// value means "unset".
type Civil struct {
	Year                      int
	Month                     time.Month
	Day, Hour, Minute, Second int
}

// IsZero reports whether c is unset.
func (c Civil) IsZero() bool { return c == Civil{} }

// String formats c as 2006-01-02T15:04:05.
func (c Civil) String() string { return c.naive().Format(civilLayout) }

// naive returns c as a time.Time in UTC standing for the wall time.
func (c Civil) naive() time.Time {
	return time.Date(c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second, 0, time.UTC)
}

const civilLayout = "2006-01-02T15:04:05"
