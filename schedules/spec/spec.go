package spec

import (
	"fmt"
	"strings"
	"time"
)

// Spec is a compiled schedule timing. Implementations are immutable and safe
// for concurrent use: compile once at load, then ask for the next time from
// any goroutine.
type Spec interface {
	// Next returns the first planned fire instant strictly after t, in the
	// spec's location, and false when the spec never fires again.
	Next(t time.Time) (time.Time, bool)
	// Location is the zone whose offset fire instants are reported in.
	Location() *time.Location
}

// Window limits a spec to planned instants in [Start, End). A zero bound is
// open. Bounds are local wall times in the spec's zone, resolved with the
// package's DST rules, so a window written as wall times means the same
// thing on either side of a DST change.
type Window struct {
	Start, End Civil
}

// Validate checks that each set bound is a real calendar date and time and
// that End is after Start. An empty window (End == Start) is refused too: a
// schedule that can never fire is a mistake worth reporting at load.
func (w Window) Validate() error {
	for _, b := range []struct {
		name string
		c    Civil
	}{{"start", w.Start}, {"end", w.End}} {
		if b.c.IsZero() {
			continue
		}
		if err := b.c.Validate(); err != nil {
			return newError(fmt.Sprintf("window: %s: %v", b.name, err), ErrInvalidWindow, err)
		}
	}
	if w.Start.IsZero() || w.End.IsZero() {
		return nil
	}
	switch w.End.Compare(w.Start) {
	case -1:
		return newError(fmt.Sprintf("window: end %s is before start %s", w.End, w.Start), ErrInvalidWindow)
	case 0:
		return newError(fmt.Sprintf("window: end %s equals start; the window is empty", w.End), ErrInvalidWindow)
	}
	return nil
}

// Contains reports whether instant t lies in [Resolve(Start), Resolve(End))
// in loc. The schedules loader uses it to check that a one-shot `at` falls
// inside its schedule's window with the same DST rules as the planner.
func (w Window) Contains(t time.Time, loc *time.Location) bool {
	lo, hi := w.bounds(loc)
	s := t.Unix()
	// Sub-second instants: t >= lo holds if its whole second is >= lo; t < hi
	// needs the whole second < hi (hi is a whole second).
	return s >= lo && s < hi
}

// bounds resolves the window to unix seconds [lo, hi); open bounds become
// the extremes of int64 so comparisons need no special cases.
func (w Window) bounds(loc *time.Location) (lo, hi int64) {
	lo, hi = minInstant, maxInstant
	if !w.Start.IsZero() {
		lo, _, _ = resolveNaive(w.Start.naive(), nonNil(loc))
	}
	if !w.End.IsZero() {
		hi, _, _ = resolveNaive(w.End.naive(), nonNil(loc))
	}
	return lo, hi
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

// String formats c as 2006-01-02T15:04:05. It prints the fields as they are,
// without normalising, so an invalid value reads as what was written.
func (c Civil) String() string {
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", c.Year, int(c.Month), c.Day, c.Hour, c.Minute, c.Second)
}

// Compare returns -1, 0 or +1 as c is before, equal to or after d in
// wall-clock order (no zone involved).
func (c Civil) Compare(d Civil) int {
	a, b := c.naive(), d.naive()
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Validate checks that c is a real calendar date and time in years
// 0000-9999 (the range RFC 3339 and the YAML files can express).
func (c Civil) Validate() error {
	bad := func(what string, v, lo, hi int) error {
		return newError(fmt.Sprintf("civil: %s is not a valid wall time: %s %d out of range %d-%d", c, what, v, lo, hi), ErrInvalidCivil)
	}
	switch {
	case c.Year < 0 || c.Year > 9999:
		return bad("year", c.Year, 0, 9999)
	case c.Month < 1 || c.Month > 12:
		return bad("month", int(c.Month), 1, 12)
	case c.Day < 1 || c.Day > daysIn(int64(c.Year), int(c.Month)):
		return bad("day", c.Day, 1, daysIn(int64(c.Year), int(c.Month)))
	case c.Hour < 0 || c.Hour > 23:
		return bad("hour", c.Hour, 0, 23)
	case c.Minute < 0 || c.Minute > 59:
		return bad("minute", c.Minute, 0, 59)
	case c.Second < 0 || c.Second > 59:
		return bad("second", c.Second, 0, 59)
	}
	return nil
}

// CivilOf returns the wall time of t in t's own location.
func CivilOf(t time.Time) Civil {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return Civil{y, mo, d, h, mi, s}
}

// ParseCivil parses a local wall time: 2006-01-02T15:04:05, 2006-01-02T15:04
// or 2006-01-02 (midnight). An offset or zone suffix is an error, and so are
// fractional seconds: a schedule's wall times are whole seconds.
func ParseCivil(s string) (Civil, error) {
	if strings.ContainsAny(s, ".,") {
		return Civil{}, newError(fmt.Sprintf("civil: %q: fractional seconds are not allowed in a wall time", s), ErrInvalidCivil)
	}
	var lastErr error
	for _, layout := range civilLayouts {
		t, err := time.Parse(layout, s)
		if err == nil {
			return CivilOf(t), nil
		}
		if len(s) == len(layout) {
			lastErr = err // the layout that fits the shape explains best
		}
	}
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return Civil{}, newError(fmt.Sprintf("civil: %q has a UTC offset; a local wall time has none (2006-01-02T15:04:05)", s), ErrInvalidCivil)
	}
	if pe, ok := lastErr.(*time.ParseError); ok && pe.Message != "" {
		return Civil{}, newError(fmt.Sprintf("civil: %q: %s", s, strings.TrimPrefix(pe.Message, ": ")), ErrInvalidCivil)
	}
	return Civil{}, newError(fmt.Sprintf("civil: %q is not a local wall time (want 2006-01-02T15:04:05, 2006-01-02T15:04 or 2006-01-02, no offset)", s), ErrInvalidCivil)
}

var civilLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// naive returns c as seconds since 1970-01-01T00:00:00 of the proleptic
// Gregorian calendar, as if c were UTC: the "naive" representation all
// stepping in this package runs on.
func (c Civil) naive() int64 {
	return daysFromCivil(int64(c.Year), int(c.Month), c.Day)*secsPerDay +
		int64(c.Hour)*3600 + int64(c.Minute)*60 + int64(c.Second)
}

// civilOfNaive is the inverse of Civil.naive.
func civilOfNaive(n int64) Civil {
	days := floorDiv(n, secsPerDay)
	sod := int(n - days*secsPerDay)
	y, m, d := civilFromDays(days)
	return Civil{int(y), time.Month(m), d, sod / 3600, sod / 60 % 60, sod % 60}
}

func nonNil(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}
