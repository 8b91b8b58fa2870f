package xapi

import (
	"net/http"
	"strconv"
	"time"
)

// RateLimit is what one answer of X said about the caller's rate-limit
// windows. The rate limiter corrects its own accounting with it.
//
// X may send any subset of the headers, so each value is known or unknown
// on its own: a nil Limit or Remaining, or a zero Reset, is a header X did
// not send (or sent unreadable). It is unknown, never zero.
type RateLimit struct {
	Endpoint string
	// At is the Clock's time when the answer was read.
	At time.Time
	// Limit and Remaining are x-rate-limit-limit and -remaining: the
	// endpoint's 15-minute window; nil when unknown.
	Limit, Remaining *int
	// Reset is x-rate-limit-reset (Unix seconds); zero when unknown.
	Reset time.Time
	// User24h and App24h are the x-user-limit-24hour-* and
	// x-app-limit-24hour-* windows, nil when X sent none of their headers
	// (they are undocumented and often absent).
	User24h, App24h *WindowHeader
	// Status is the HTTP status of the answer (429 included).
	Status int
}

// WindowHeader is one 24-hour window reported by X; as in RateLimit, a
// nil Limit or Remaining, or a zero Reset, is unknown.
type WindowHeader struct {
	Limit, Remaining *int
	Reset            time.Time
}

// parseRateLimit reads the rate-limit headers of h; ok is false when no
// value could be read. A header that is absent, or is not a number (a
// reset must also be positive), leaves its value unknown rather than
// failing a request that otherwise succeeded.
func parseRateLimit(h http.Header) (rl RateLimit, ok bool) {
	rl.Limit = headerInt(h, "x-rate-limit-limit")
	rl.Remaining = headerInt(h, "x-rate-limit-remaining")
	rl.Reset = headerTime(h, "x-rate-limit-reset")
	rl.User24h = parseWindow(h, "x-user-limit-24hour-")
	rl.App24h = parseWindow(h, "x-app-limit-24hour-")
	ok = rl.Limit != nil || rl.Remaining != nil || !rl.Reset.IsZero() || rl.User24h != nil || rl.App24h != nil
	return rl, ok
}

// parseWindow reads one 24-hour window, nil when none of its values could
// be read.
func parseWindow(h http.Header, prefix string) *WindowHeader {
	w := WindowHeader{
		Limit:     headerInt(h, prefix+"limit"),
		Remaining: headerInt(h, prefix+"remaining"),
		Reset:     headerTime(h, prefix+"reset"),
	}
	if w.Limit == nil && w.Remaining == nil && w.Reset.IsZero() {
		return nil
	}
	return &w
}

// headerInt is the integer value of header name, nil when it is absent or
// not an integer.
func headerInt(h http.Header, name string) *int {
	n, err := strconv.Atoi(h.Get(name))
	if err != nil {
		return nil
	}
	return &n
}

// headerTime is the instant of header name in Unix seconds, zero when it
// is absent, not an integer or not positive.
func headerTime(h http.Header, name string) time.Time {
	n, err := strconv.ParseInt(h.Get(name), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// resetAt is when a 429 stops applying. A request needs every window open,
// so the latest reset among the windows X reports exhausted decides: the
// 15-minute window and the 24-hour ones, each with remaining 0 and a known
// reset. When none is, it is x-rate-limit-reset (X refused anyway, and that
// is the endpoint's own window); when that is unknown too, zero, and the
// caller backs off on its own. A 24-hour reset alone is never used: X did
// not say that window was spent, and waiting up to a day on a guess is
// worse than backing off.
func (rl RateLimit) resetAt() time.Time {
	var latest time.Time
	exhausted := func(remaining *int, reset time.Time) {
		if remaining != nil && *remaining <= 0 && reset.After(latest) {
			latest = reset
		}
	}
	exhausted(rl.Remaining, rl.Reset)
	if w := rl.User24h; w != nil {
		exhausted(w.Remaining, w.Reset)
	}
	if w := rl.App24h; w != nil {
		exhausted(w.Remaining, w.Reset)
	}
	if latest.IsZero() {
		return rl.Reset
	}
	return latest
}
