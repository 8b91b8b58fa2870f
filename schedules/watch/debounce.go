package watch

import "time"

// debouncer folds a burst of triggers into one Change. It is plain data
// driven by the loop, which owns the one timer: add says when to arm it,
// expire (called when it fires) says whether the burst is over. Triggers
// inside a burst only move a timestamp, so a git checkout of a thousand
// files arms one timer, not a thousand.
type debouncer struct {
	wait    time.Duration // quiet time that ends a burst
	maxWait time.Duration // a burst never delays its Change longer than this

	pending     bool
	first, last time.Time
	reason      string
	events      int
}

// add records a trigger at now. When no burst is pending it starts one and
// returns the delay to arm the timer for, with arm true.
func (d *debouncer) add(now time.Time, reason string) (delay time.Duration, arm bool) {
	if d.pending {
		d.last = now
		d.events++
		return 0, false
	}
	d.pending, d.first, d.last, d.reason, d.events = true, now, now, reason, 1
	return d.wait, true
}

// expire is called when the timer fires at now. If the files have been
// quiet for wait (or the burst is maxWait old) it ends the burst and
// returns its Change with done true; otherwise it returns the delay to arm
// the timer for again (0 when no burst is pending: nothing to arm).
func (d *debouncer) expire(now time.Time) (c Change, again time.Duration, done bool) {
	if !d.pending {
		return Change{}, 0, false // a stale timer; nothing to do
	}
	quiet, age := now.Sub(d.last), now.Sub(d.first)
	if quiet >= d.wait || age >= d.maxWait {
		c = Change{Reason: d.reason, At: now, Events: d.events}
		*d = debouncer{wait: d.wait, maxWait: d.maxWait}
		return c, 0, true
	}
	return Change{}, min(d.wait-quiet, d.maxWait-age), false
}
