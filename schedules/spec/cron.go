package spec

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser is robfig/cron's parser with an optional leading seconds field
// and descriptors. Only its bit sets are used; stepping is cronSpec's own
// (see cronstep.go), on naive wall times.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronFieldNames name the six fields in robfig's order, for error messages.
var cronFieldNames = [6]string{"second", "minute", "hour", "day-of-month", "month", "day-of-week"}

// cronSpec is a compiled cron expression. It is kept small (56 bytes) because
// a node may hold a million of them: the field bit sets, the Vixie day rule,
// the zone, and the window resolved once to unix seconds.
type cronSpec struct {
	loc        *time.Location
	start, end int64 // window as instants, [start, end)
	second     uint64
	minute     uint64
	hour       uint32
	dom        uint32 // bits 1-31
	month      uint16 // bits 1-12
	dow        uint8  // bits 0-6, 0 = Sunday
	dayAnd     bool   // day-of-month AND day-of-week (either field unrestricted)
}

// Cron compiles a 5-field (minute hour day-of-month month day-of-week) or
// 6-field (leading seconds) cron expression, or a descriptor such as @daily,
// in loc, limited to w.
//
// Day matching is classic Vixie cron: when both day-of-month and
// day-of-week are restricted a day matches either; when one of them starts
// with "*" (including a stepped "*/2") the day must match both. So
// "0 0 1,15 * MON" fires on the 1st, the 15th and every Monday, while
// "0 0 */2 * MON" fires only on Mondays that fall on an odd day of the
// month. Day-of-week is 0-6 or SUN-SAT (7 is not accepted).
//
// Refused, with a message naming the problem: @every (elapsed time is not a
// calendar), a TZ=/CRON_TZ= prefix (the zone is the schedule's timezone
// field), and an expression that can never fire such as "0 0 30 2 *".
func Cron(expr string, loc *time.Location, w Window) (Spec, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	loc = nonNil(loc)
	s := strings.TrimSpace(expr)
	fields := strings.Fields(s)
	var src string // text handed to robfig
	switch {
	case s == "":
		return nil, cronError("cron: empty expression")
	case hasPrefixFold(s, "TZ=") || hasPrefixFold(s, "CRON_TZ="):
		return nil, cronError(fmt.Sprintf("cron: %q: a TZ= or CRON_TZ= prefix is not allowed; the zone comes from the schedule's timezone field", s))
	case strings.HasPrefix(s, "@"):
		d := strings.ToLower(s)
		if d == "@every" || strings.HasPrefix(d, "@every ") || strings.HasPrefix(d, "@every\t") {
			return nil, cronError(fmt.Sprintf("cron: %q: @every is not supported: it counts elapsed time, not wall-clock times; use an rrule such as FREQ=MINUTELY;INTERVAL=15", s))
		}
		switch d {
		case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		default:
			return nil, cronError(fmt.Sprintf("cron: unknown descriptor %q (want @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)", s))
		}
		src = d
	case len(fields) != 5 && len(fields) != 6:
		return nil, cronError(fmt.Sprintf("cron: %q has %d fields; want 5 (minute hour day-of-month month day-of-week) or 6 (with leading seconds)", s, len(fields)))
	default:
		src = strings.Join(fields, " ")
	}

	parsed, err := cronParser.Parse(src)
	if err != nil {
		return nil, diagnoseCron(fields, err)
	}
	ss, ok := parsed.(*cron.SpecSchedule)
	if !ok { // only @every yields another type, and it was refused above
		return nil, cronError(fmt.Sprintf("cron: %q is not a calendar schedule", s))
	}

	c := &cronSpec{
		loc:    loc,
		second: ss.Second &^ starBit,
		minute: ss.Minute &^ starBit,
		hour:   uint32(ss.Hour &^ starBit),
		dom:    uint32(ss.Dom &^ starBit),
		month:  uint16(ss.Month &^ starBit),
		dow:    uint8(ss.Dow &^ starBit),
	}
	if src[0] == '@' {
		// Descriptors restrict at most one of the two day fields.
		c.dayAnd = ss.Dom&starBit != 0 || ss.Dow&starBit != 0
	} else {
		// Vixie: a day field is unrestricted when its text starts with "*".
		// robfig clears its star flag for "*/2"; decide from the text instead.
		n := len(fields)
		c.dayAnd = unrestricted(fields[n-3]) || unrestricted(fields[n-1])
	}
	if msg := c.neverFires(); msg != "" {
		return nil, newError(fmt.Sprintf("cron: %q never fires: %s", s, msg), ErrInvalidCron, ErrNeverFires)
	}
	c.start, c.end = w.bounds(loc)
	return c, nil
}

const starBit = 1 << 63 // robfig's "field was *" flag

func unrestricted(field string) bool {
	return strings.HasPrefix(field, "*") || strings.HasPrefix(field, "?")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func cronError(msg string, cause ...error) error {
	return newError(msg, append([]error{ErrInvalidCron}, cause...)...)
}

// neverFires returns why no day can ever match, or "". The time-of-day
// fields always hold at least one value, so only the day fields matter.
// With the OR rule any restricted weekday occurs in every month. With the
// AND rule a day fires iff some (month, day-of-month) pair exists: every
// date, Feb 29 included, falls on each weekday within a 400-year cycle.
func (c *cronSpec) neverFires() string {
	if !c.dayAnd {
		return ""
	}
	for m := 1; m <= 12; m++ { // 2000 is a leap year: Feb has 29 days
		if c.month&(1<<m) != 0 && c.dom&uint32(monthDayMask(daysIn(2000, m))) != 0 {
			return ""
		}
	}
	return "no day in the day-of-month field exists in any month of the month field"
}

// monthDayMask has bits 1..n set.
func monthDayMask(n int) uint64 { return (uint64(1)<<(n+1) - 1) &^ 1 }

func (c *cronSpec) Location() *time.Location { return c.loc }

// Next returns the first fire strictly after t (see nextInstant for the DST
// handling) within the window.
func (c *cronSpec) Next(t time.Time) (time.Time, bool) {
	b, ok := clampAfter(t)
	if !ok {
		return time.Time{}, false
	}
	b = max(b, c.start)
	r, ok := nextInstant(c, c.loc, b, c.end)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(r, 0).In(c.loc), true
}
