package xapi

import (
	"net/http"
	"strconv"
	"time"
)

// RateLimit is what one answer of X said about the caller's rate-limit
// windows. The rate limiter corrects its own accounting with it.
type RateLimit struct {
	Endpoint string
	// At is the Clock's time when the answer was read.
	At time.Time
	// Limit and Remaining are x-rate-limit-limit and -remaining: the
	// endpoint's 15-minute window.
	Limit, Remaining int
	// Reset is x-rate-limit-reset (Unix seconds); zero when absent.
	Reset time.Time
	// User24h and App24h are the x-user-limit-24hour-* and
	// x-app-limit-24hour-* windows, nil when X did not send them
	// (they are undocumented and often absent).
	User24h, App24h *WindowHeader
	// Status is the HTTP status of the answer (429 included).
	Status int
}

// WindowHeader is one 24-hour window reported by X.
type WindowHeader struct {
	Limit, Remaining int
	Reset            time.Time
}

// parseRateLimit reads the rate-limit headers of h; ok is false when the
// answer carried none. Unparsable numbers are ignored (left zero) rather
// than failing a request that otherwise succeeded.
func parseRateLimit(h http.Header) (rl RateLimit, ok bool) {
	var has bool
	rl.Limit, has = headerInt(h, "x-rate-limit-limit", has)
	rl.Remaining, has = headerInt(h, "x-rate-limit-remaining", has)
	rl.Reset, has = headerTime(h, "x-rate-limit-reset", has)
	rl.User24h = parseWindow(h, "x-user-limit-24hour-")
	rl.App24h = parseWindow(h, "x-app-limit-24hour-")
	return rl, has || rl.User24h != nil || rl.App24h != nil
}

func parseWindow(h http.Header, prefix string) *WindowHeader {
	var w WindowHeader
	var has bool
	w.Limit, has = headerInt(h, prefix+"limit", has)
	w.Remaining, has = headerInt(h, prefix+"remaining", has)
	w.Reset, has = headerTime(h, prefix+"reset", has)
	if !has {
		return nil
	}
	return &w
}

// headerInt returns the integer value of header name; seen becomes true
// when the header is present.
func headerInt(h http.Header, name string, seen bool) (int, bool) {
	v := h.Get(name)
	if v == "" {
		return 0, seen
	}
	n, _ := strconv.Atoi(v)
	return n, true
}

func headerTime(h http.Header, name string, seen bool) (time.Time, bool) {
	v := h.Get(name)
	if v == "" {
		return time.Time{}, seen
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, true
	}
	return time.Unix(n, 0).UTC(), true
}

// resetAt is when a 429 stops applying: the latest reset among the windows
// X reports exhausted (a request needs every window open, so the latest
// one decides), else x-rate-limit-reset, else zero (the caller backs off on
// its own).
func (rl RateLimit) resetAt() time.Time {
	var latest time.Time
	exhausted := func(remaining int, reset time.Time) {
		if remaining <= 0 && !reset.IsZero() && reset.After(latest) {
			latest = reset
		}
	}
	if rl.User24h != nil {
		exhausted(rl.User24h.Remaining, rl.User24h.Reset)
	}
	if rl.App24h != nil {
		exhausted(rl.App24h.Remaining, rl.App24h.Reset)
	}
	if rl.Remaining <= 0 && !rl.Reset.IsZero() && rl.Reset.After(latest) {
		latest = rl.Reset
	}
	if latest.IsZero() {
		return rl.Reset
	}
	return latest
}
