package spec

import (
	"fmt"
	"strings"
	"time"
)

// ParseAt parses a one-shot time. With an offset (RFC 3339, fractional
// seconds allowed, e.g. 2026-03-08T02:30:00-05:00 or ...Z) it is an absolute
// instant, reported in loc. Without one (2006-01-02T15:04:05 or
// 2006-01-02T15:04) it is a wall time in loc, resolved with Resolve, so
// "2026-03-08T02:30" in New York fires at 03:30 EDT like a cron or RRULE
// would. A bare date is refused: a post needs a time of day. A nil loc is
// UTC.
func ParseAt(s string, loc *time.Location) (time.Time, error) {
	loc = nonNil(loc)
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(loc), nil
	}
	if len(s) == len("2006-01-02") {
		if _, err := time.Parse("2006-01-02", s); err == nil {
			return time.Time{}, newError(fmt.Sprintf("at: %q has no time of day (want 2006-01-02T15:04[:05], optionally with an offset)", s), ErrInvalidAt)
		}
	}
	if hasOffset(s) {
		// Looks like RFC 3339 but did not parse: say why.
		_, err := time.Parse(time.RFC3339Nano, s)
		return time.Time{}, newError(fmt.Sprintf("at: %q is not a valid RFC 3339 time: %s", s, parseErrText(err)), ErrInvalidAt, err)
	}
	c, err := ParseCivil(s)
	if err != nil {
		return time.Time{}, newError(fmt.Sprintf("at: %q is neither an RFC 3339 time with offset nor a local wall time (2006-01-02T15:04[:05]): %s", s, strings.TrimPrefix(err.Error(), "civil: ")), ErrInvalidAt, err)
	}
	return Resolve(c, loc), nil
}

// hasOffset reports whether s ends in Z or ±hh:mm after a time of day.
func hasOffset(s string) bool {
	_, clock, ok := strings.Cut(s, "T")
	if !ok {
		return false
	}
	return strings.HasSuffix(clock, "Z") || strings.HasSuffix(clock, "z") || strings.ContainsAny(clock, "+-")
}

func parseErrText(err error) string {
	if pe, ok := err.(*time.ParseError); ok && pe.Message != "" {
		return strings.TrimPrefix(pe.Message, ": ")
	}
	return "want 2006-01-02T15:04:05Z07:00"
}

// atSpec fires once, at t.
type atSpec struct{ t time.Time }

// At is a one-shot spec firing once at t (reported in t's location). The
// monotonic clock reading, if any, is dropped so comparisons are on the
// wall clock like every other spec.
func At(t time.Time) Spec { return atSpec{t.Round(0)} }

func (a atSpec) Next(t time.Time) (time.Time, bool) {
	if a.t.After(t) {
		return a.t, true
	}
	return time.Time{}, false
}

func (a atSpec) Location() *time.Location { return a.t.Location() }
