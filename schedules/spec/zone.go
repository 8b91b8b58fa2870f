package spec

import (
	"math"
	"time"
)

// Resolve maps a wall time in loc to its instant by the package's DST rules:
// a wall time in a gap takes the offset in force before the gap, a repeated
// wall time takes its first occurrence. It does not rely on time.Date, whose
// choice in gaps and overlaps is unspecified (and in practice differs by
// direction, see the package doc); it reads loc's offsets around the wall
// time and applies the rules. A nil loc is UTC.
func Resolve(c Civil, loc *time.Location) time.Time {
	loc = nonNil(loc)
	r, _, _ := resolveNaive(c.naive(), loc)
	return time.Unix(r, 0).In(loc)
}

// zoneSpan returns the UTC offset (seconds) in force at instant sec and the
// bounds [start, end) of the period it is in force for; open bounds are the
// int64 extremes.
func zoneSpan(loc *time.Location, sec int64) (off, start, end int64) {
	t := time.Unix(sec, 0).In(loc)
	_, o := t.Zone()
	s, e := t.ZoneBounds()
	start, end = math.MinInt64, math.MaxInt64
	if !s.IsZero() {
		start = s.Unix()
	}
	if !e.IsZero() {
		end = e.Unix()
	}
	return int64(o), start, end
}

// resolveNaive maps naive wall time n to an instant. It walks the zone's
// periods that can contain an instant of n (those within maxOffset of it)
// in time order: the first period in which n - offset falls is the first
// occurrence; if n - offset falls before a period's start while the previous
// period's candidate fell after that period's end, n is in the gap between
// them and takes the previous (pre-gap) offset. In that case gap is true
// and gapEnd is the first wall time after the gap (transition + new
// offset): the real wall time gapEnd + (n - gapStart) maps to the same
// instant, which the planner needs to keep Next minimal.
func resolveNaive(n int64, loc *time.Location) (r, gapEnd int64, gap bool) {
	off, start, end := zoneSpan(loc, n-maxOffset)
	prevOff, first := off, true
	for range 16 {
		r = n - off
		if !first && r < start {
			return n - prevOff, start + off, true
		}
		if r < end || end == math.MaxInt64 {
			return r, 0, false
		}
		prevOff, first = off, false
		off, start, end = zoneSpan(loc, end)
	}
	return n - off, 0, false // a zone with >16 transitions in 52h: none exist
}

// zonePeriod is the zone period an instant b falls in, with the offset in
// force just before it began: enough to know whether b sits just after a
// spring-forward (gap) or inside the second pass of a fall-back.
type zonePeriod struct {
	off, prevOff, start, end int64
}

func periodAt(loc *time.Location, b int64) zonePeriod {
	off, start, end := zoneSpan(loc, b)
	p := zonePeriod{off: off, prevOff: off, start: start, end: end}
	if start != math.MinInt64 {
		_, o := time.Unix(start-1, 0).In(loc).Zone()
		p.prevOff = int64(o)
	}
	return p
}
