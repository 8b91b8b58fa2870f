package spec

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/teambition/rrule-go"
)

// PROVISIONAL: naive implementations so that callers can build against the
// API; the DST-correct versions replace these.

// ParseCivil parses a local wall time: 2006-01-02T15:04:05, 2006-01-02T15:04
// or 2006-01-02 (midnight). An offset or zone suffix is an error.
func ParseCivil(s string) (Civil, error) {
	for _, layout := range []string{civilLayout, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return civilOf(t), nil
		}
	}
	return Civil{}, fmt.Errorf("%q is not a local wall time (want 2006-01-02T15:04:05, no offset)", s)
}

func civilOf(t time.Time) Civil {
	return Civil{t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second()}
}

// Resolve maps a wall time in loc to its instant by the package's DST rules.
func Resolve(c Civil, loc *time.Location) time.Time {
	return time.Date(c.Year, c.Month, c.Day, c.Hour, c.Minute, c.Second, 0, loc)
}

// ParseAt parses a one-shot time: RFC 3339 with an offset (an absolute
// instant), or a local wall time resolved in loc.
func ParseAt(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.In(loc), nil
	}
	c, err := ParseCivil(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a local wall time", s)
	}
	return Resolve(c, loc), nil
}

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

type cronSpec struct {
	s   *cron.SpecSchedule
	loc *time.Location
	w   Window
}

// Cron compiles a 5- or 6-field cron expression (or a descriptor such as
// @daily) in loc, limited to w.
func Cron(expr string, loc *time.Location, w Window) (Spec, error) {
	s, err := cronParser.Parse(expr)
	if err != nil {
		return nil, err
	}
	ss := s.(*cron.SpecSchedule)
	ss.Location = loc
	return &cronSpec{ss, loc, w}, nil
}

func (c *cronSpec) Next(t time.Time) (time.Time, bool) {
	n := c.s.Next(t)
	return n, !n.IsZero()
}
func (c *cronSpec) Location() *time.Location { return c.loc }

type rruleSpec struct {
	r   *rrule.RRule
	loc *time.Location
}

// RRule compiles an RFC 5545 RRULE (with or without the "RRULE:" prefix)
// whose DTSTART is the wall time start in loc, limited to w (w.Start is
// ignored: DTSTART is the start).
func RRule(rule string, start Civil, loc *time.Location, w Window) (Spec, error) {
	opt, err := rrule.StrToROption(strings.TrimPrefix(rule, "RRULE:"))
	if err != nil {
		return nil, err
	}
	opt.Dtstart = Resolve(start, loc)
	r, err := rrule.NewRRule(*opt)
	if err != nil {
		return nil, err
	}
	return &rruleSpec{r, loc}, nil
}

func (r *rruleSpec) Next(t time.Time) (time.Time, bool) {
	n := r.r.After(t, false)
	return n.In(r.loc), !n.IsZero()
}
func (r *rruleSpec) Location() *time.Location { return r.loc }

type atSpec struct{ t time.Time }

// At is a one-shot spec firing once at t (reported in t's location).
func At(t time.Time) Spec { return atSpec{t} }

func (a atSpec) Next(t time.Time) (time.Time, bool) {
	if a.t.After(t) {
		return a.t, true
	}
	return time.Time{}, false
}
func (a atSpec) Location() *time.Location { return a.t.Location() }

// Jitter returns the deterministic delay in [0, max) added to the planned
// instant of a fire: the same schedule id and planned instant give the same
// delay on every node.
func Jitter(scheduleID string, planned time.Time, max time.Duration) time.Duration {
	return 0
}
