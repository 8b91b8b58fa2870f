package spec

import (
	"fmt"
	"slices"
	"strings"

	"github.com/teambition/rrule-go"
)

// Compile-time checks that refuse an RRULE which can never fire. rrule-go
// has no notion of "never": asked for the next occurrence of such a rule it
// iterates to year 9999 or, for some sub-daily rules, forever. A schedule
// that never posts is a typo worth reporting at load, and the planner must
// never hang, so every rule is proven to fire before it is accepted.

// unreachable reports a sub-daily rule whose BYHOUR/BYMINUTE/BYSECOND can
// never be reached by its counter (FREQ=HOURLY;INTERVAL=2;BYHOUR=1 from an
// even hour): rrule-go would loop forever looking for it.
func (s *rruleSpec) unreachable() string {
	var unit, perDay int64
	switch s.freq {
	case rrule.HOURLY:
		unit, perDay = 3600, 24
	case rrule.MINUTELY:
		unit, perDay = 60, 1440
	case rrule.SECONDLY:
		unit, perDay = 1, 86400
	default:
		return ""
	}
	g := gcd(s.interval, perDay)
	residue := floorMod(floorDiv(s.dtstart, unit), g)
	in := func(list []int, v int) bool { return len(list) == 0 || slices.Contains(list, v) }
	for v := residue; v < perDay; v += g {
		sec := v * unit
		h, m, sc := int(sec/3600), int(sec/60%60), int(sec%60)
		if in(s.opt.Byhour, h) && (s.freq == rrule.HOURLY || in(s.opt.Byminute, m)) &&
			(s.freq != rrule.SECONDLY || in(s.opt.Bysecond, sc)) {
			return ""
		}
	}
	return fmt.Sprintf("with INTERVAL=%d from the start's time of day, no allowed BYHOUR/BYMINUTE/BYSECOND value is ever reached", s.interval)
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// checkFires refuses a rule with no occurrence: first statically (BYMONTHDAY
// days that no BYMONTH month has), then by looking for a first occurrence
// within searchYears of the start (or up to UNTIL: ruleUntil is its naive
// bound, ruleEnd the exclusive instant bound of an UNTIL ending in Z). rrule-go is run under
// recover here, so a rule that makes it panic is an error, not a crash.
func (s *rruleSpec) checkFires(orig string, ruleUntil, ruleEnd int64) (err error) {
	if len(s.opt.Bymonthday) > 0 {
		possible := false
		for m := 1; m <= 12 && !possible; m++ {
			if len(s.opt.Bymonth) > 0 && !slices.Contains(s.opt.Bymonth, m) {
				continue
			}
			for _, d := range s.opt.Bymonthday {
				if abs(d) <= daysIn(2000, m) { // 2000 is a leap year
					possible = true
				}
			}
		}
		if !possible {
			return neverFires(orig, "no BYMONTHDAY day exists in its months")
		}
	}
	if len(s.opt.Bysetpos) > 0 {
		// BYSETPOS picks from each period's candidates; rrule-go would
		// search for centuries if no period can have that many.
		most := s.maxPerPeriod()
		if !slices.ContainsFunc(s.opt.Bysetpos, func(p int) bool { return abs(p) <= most }) {
			return neverFires(orig, fmt.Sprintf("a %s period has at most %d candidates, fewer than every BYSETPOS", strings.ToLower(s.freq.String()), most))
		}
	}
	if !s.calendarFires() {
		return neverFires(orig, "no day its BYxxx parts allow is ever reached at an allowed time of day")
	}
	if s.freq >= rrule.DAILY && ruleUntil == maxNaive {
		return nil // calendarFires is exact; no search needed
	}
	defer func() {
		if p := recover(); p != nil {
			err = rruleError(fmt.Sprintf("rrule: %q: rejected (rrule-go failed on it: %v)", orig, p))
		}
	}()
	// Only the rule's own UNTIL counts here: a window that ends before the
	// first occurrence is a valid (if idle) schedule, like a cron's.
	limit := min(ruleUntil, s.dtstart+searchYears*366*secsPerDay)
	t, ok := s.iterate(s.dtstart, limit, 0)()
	if ok {
		r, _, _ := resolveNaive(t.Unix(), s.loc)
		ok = r < ruleEnd
	}
	if !ok {
		switch {
		case limit == ruleUntil && ruleUntil != maxNaive:
			return neverFires(orig, "no occurrence between the start and UNTIL")
		case limit == maxNaive:
			return neverFires(orig, "no occurrence between the start and the end of year 9999")
		}
		return neverFires(orig, fmt.Sprintf("no occurrence in the %d years after the start", searchYears))
	}
	return nil
}

// maxPerPeriod bounds the number of candidates in one period: its days
// times the times of day. BYxxx lists are explicit for the parts rrule-go
// derives from DTSTART, and rrule-go keeps duplicates in its time set, so
// for DAILY and shorter periods the bound is exact.
func (s *rruleSpec) maxPerPeriod() int {
	o := s.opt
	n := func(l []int) int { return max(len(l), 1) }
	times := n(o.Byhour) * n(o.Byminute) * n(o.Bysecond)
	plain, numbered := 0, 0
	for _, d := range o.Byweekday {
		if d.N() == 0 {
			plain++
		} else {
			numbered++
		}
	}
	days := 1
	switch s.freq {
	case rrule.YEARLY:
		days = 366
		if len(o.Bymonth) > 0 {
			days = min(days, 31*len(o.Bymonth))
		}
		months := 12
		if len(o.Bymonth) > 0 {
			months = len(o.Bymonth)
		}
		if len(o.Bymonthday) > 0 {
			days = min(days, len(o.Bymonthday)*months)
		}
		if len(o.Byyearday) > 0 {
			days = min(days, len(o.Byyearday))
		}
		if len(o.Byweekno) > 0 {
			days = min(days, 7*(len(o.Byweekno)+1))
		}
		if len(o.Byweekday) > 0 {
			days = min(days, plain*53+numbered*months)
		}
	case rrule.MONTHLY:
		days = 31
		if len(o.Bymonthday) > 0 {
			days = min(days, len(o.Bymonthday))
		}
		if len(o.Byweekday) > 0 {
			days = min(days, plain*5+numbered)
		}
	case rrule.WEEKLY:
		days = 7
		if plain > 0 {
			days = min(days, plain)
		}
	case rrule.HOURLY:
		return n(o.Byminute) * n(o.Bysecond)
	case rrule.MINUTELY:
		return n(o.Bysecond)
	case rrule.SECONDLY:
		return 1
	}
	return days * times
}

// calendarFires decides exactly whether a DAILY or sub-daily rule ever
// fires. For these frequencies BYMONTH, BYMONTHDAY, BYYEARDAY and (plain)
// BYDAY are pure day filters and the time of day comes from a counter
// stepping INTERVAL units from DTSTART. The filters repeat every 400 years
// (146097 days), so the rule fires iff some matching day of one cycle has
// an allowed unit of the day congruent to DTSTART's counter modulo
// gcd(INTERVAL, units per cycle). The scan starts at DTSTART's day and
// stops at the first hit, so it costs a few steps for a rule that fires.
// (rrule-go itself would iterate to year 9999 looking, minutes for a
// SECONDLY rule.)
func (s *rruleSpec) calendarFires() bool {
	var unit int64
	switch s.freq {
	case rrule.DAILY:
		unit = secsPerDay
	case rrule.HOURLY:
		unit = 3600
	case rrule.MINUTELY:
		unit = 60
	case rrule.SECONDLY:
		unit = 1
	default:
		return true
	}
	const cycleDays = 146097
	perDay := secsPerDay / unit
	g := gcd(s.interval, cycleDays*perDay)
	x0 := floorMod(floorDiv(s.dtstart, unit), g)
	// Residues (mod g) of the allowed units of the day.
	in := func(l []int, v int) bool { return len(l) == 0 || slices.Contains(l, v) }
	residues := map[int64]bool{}
	for v := int64(0); v < perDay; v++ {
		sec := v * unit
		h, m, sc := int(sec/3600), int(sec/60%60), int(sec%60)
		if s.freq == rrule.DAILY || in(s.opt.Byhour, h) && (s.freq == rrule.HOURLY || in(s.opt.Byminute, m)) && (s.freq != rrule.SECONDLY || in(s.opt.Bysecond, sc)) {
			residues[v%g] = true
		}
		if len(residues) == int(min(g, perDay)) {
			break
		}
	}
	first := floorDiv(s.dtstart, secsPerDay)
	for d := first; d < first+cycleDays; d++ {
		if !s.dayMatches(d) {
			continue
		}
		if residues[floorMod(x0-d*perDay, g)] {
			return true
		}
	}
	return false
}

// dayMatches applies the day filters of a DAILY or sub-daily rule to day
// number d, with rrule-go's meaning of negative month and year days.
func (s *rruleSpec) dayMatches(d int64) bool {
	o := &s.opt
	y, m, md := civilFromDays(d)
	if len(o.Bymonth) > 0 && !slices.Contains(o.Bymonth, m) {
		return false
	}
	if len(o.Bymonthday) > 0 && !slices.Contains(o.Bymonthday, md) && !slices.Contains(o.Bymonthday, md-daysIn(y, m)-1) {
		return false
	}
	if len(o.Byyearday) > 0 {
		yd := int(d-daysFromCivil(y, 1, 1)) + 1
		ylen := 365
		if isLeap(y) {
			ylen = 366
		}
		if !slices.Contains(o.Byyearday, yd) && !slices.Contains(o.Byyearday, yd-ylen-1) {
			return false
		}
	}
	if len(o.Byweekday) > 0 {
		wd := int(floorMod(d+3, 7)) // rrule-go: 0 = Monday; day 0 was a Thursday
		if !slices.ContainsFunc(o.Byweekday, func(w rrule.Weekday) bool { return w.Day() == wd }) {
			return false
		}
	}
	return true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
