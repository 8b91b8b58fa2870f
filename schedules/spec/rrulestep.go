package spec

import (
	"fmt"
	"slices"
	"time"

	"github.com/teambition/rrule-go"
)

// Stepping an RRULE.
//
// rrule-go can only iterate forward from DTSTART, so asking it for the
// next occurrence costs O(occurrences since the start). Instead each Next
// restarts the iteration from a new DTSTART: the start of the latest period
// (year, month, WKST-aligned week, day, hour, minute or second) at or before
// the asked wall time whose distance from DTSTART's period is a whole
// multiple of INTERVAL. That preserves the occurrence set from there on
// because
//   - every BYxxx default rrule-go derives from DTSTART (day of month,
//     month, weekday, time of day) was made explicit at compile;
//   - rrule-go evaluates BYxxx and BYSETPOS per period, and every period
//     after DTSTART's own is a full one (only DTSTART's week is cut short),
//     so anchoring is only done after DTSTART's period;
//   - sub-daily frequencies step a running hour/minute/second counter
//     modulo INTERVAL; the anchor keeps its residue.
// TestRRuleAnchoring checks this against plain iteration from DTSTART on
// many random rules. COUNT rules count from DTSTART and are expanded once
// at compile instead.

func (s *rruleSpec) Location() *time.Location { return s.loc }

// Next returns the first fire strictly after t within the window.
func (s *rruleSpec) Next(t time.Time) (time.Time, bool) {
	b, ok := clampAfter(t)
	if !ok {
		return time.Time{}, false
	}
	var r int64
	if s.counted {
		i, _ := slices.BinarySearch(s.occ, b)
		if i == len(s.occ) {
			return time.Time{}, false
		}
		r = s.occ[i]
	} else {
		cur := rruleCursor{s: s}
		if r, ok = nextInstant(&cur, s.loc, b, s.end); !ok {
			return time.Time{}, false
		}
	}
	return time.Unix(r, 0).In(s.loc), true
}

// periodIndex numbers the rule's periods: the period containing naive time
// w is periodIndex(w), consecutive periods differ by one.
func (s *rruleSpec) periodIndex(w int64) int64 {
	days := floorDiv(w, secsPerDay)
	switch s.freq {
	case rrule.YEARLY:
		y, _, _ := civilFromDays(days)
		return y
	case rrule.MONTHLY:
		y, m, _ := civilFromDays(days)
		return y*12 + int64(m-1)
	case rrule.WEEKLY:
		return floorDiv(days-s.wkst0, 7)
	case rrule.DAILY:
		return days
	case rrule.HOURLY:
		return floorDiv(w, 3600)
	case rrule.MINUTELY:
		return floorDiv(w, 60)
	}
	return w
}

// periodStart is the naive time period k begins.
func (s *rruleSpec) periodStart(k int64) int64 {
	switch s.freq {
	case rrule.YEARLY:
		return daysFromCivil(k, 1, 1) * secsPerDay
	case rrule.MONTHLY:
		return daysFromCivil(floorDiv(k, 12), int(floorMod(k, 12))+1, 1) * secsPerDay
	case rrule.WEEKLY:
		return (s.wkst0 + 7*k) * secsPerDay
	case rrule.DAILY:
		return k * secsPerDay
	case rrule.HOURLY:
		return k * 3600
	case rrule.MINUTELY:
		return k * 60
	}
	return k
}

// anchor returns the DTSTART to iterate from to find occurrences >= w.
func (s *rruleSpec) anchor(w int64) int64 {
	k := s.periodIndex(w)
	k -= floorMod(k-s.k0, s.interval)
	if k <= s.k0 {
		return s.dtstart
	}
	return s.periodStart(k)
}

// iterate starts rrule-go at naive dtstart, stopping after naive until.
func (s *rruleSpec) iterate(dtstart, until int64, count int) rrule.Next {
	o := s.opt
	o.Dtstart = time.Unix(dtstart, 0).UTC()
	o.Until = time.Unix(until, 0).UTC()
	o.Count = count
	r, err := rrule.NewRRule(o)
	if err != nil { // cannot happen: the same options compiled
		return func() (time.Time, bool) { return time.Time{}, false }
	}
	return r.Iterator()
}

// rruleCursor feeds nextInstant: one rrule-go iteration per Next call,
// started at the anchor of the first wall time asked for and then advanced
// as later wall times are asked for.
type rruleCursor struct {
	s           *rruleSpec
	next        rrule.Next
	cur         int64
	ok, started bool
}

func (c *rruleCursor) atLeast(w int64) (int64, bool) {
	if !c.started {
		c.started = true
		a := c.s.anchor(w)
		if a > c.s.until {
			return 0, false
		}
		c.next = c.s.iterate(a, c.s.until, 0)
		c.advance()
	}
	for c.ok && c.cur < w {
		c.advance()
	}
	return c.cur, c.ok
}

func (c *rruleCursor) advance() {
	t, ok := c.next()
	c.cur, c.ok = t.Unix(), ok
}

// expand lists every fire of a COUNT rule as distinct sorted instants
// before the window end.
func (s *rruleSpec) expand() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("rejected (rrule-go failed on it: %v)", p)
		}
	}()
	next := s.iterate(s.dtstart, s.until, s.opt.Count)
	for {
		t, ok := next()
		if !ok {
			break
		}
		if r, _, _ := resolveNaive(t.Unix(), s.loc); r < s.end {
			s.occ = append(s.occ, r)
		}
	}
	slices.Sort(s.occ)
	s.occ = slices.Clip(slices.Compact(s.occ))
	return nil
}
