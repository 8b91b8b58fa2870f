package ratelimit

import "time"

// slidingLog holds the instants (Unix nanoseconds, ascending) of the
// requests one window counts. A request at t counts at every instant
// before t+period and no longer at t+period itself, so X's fixed window
// resetting at t+period and ours agree at the boundary.
type slidingLog struct {
	at   []int64
	head int // at[:head] have left the window
}

func (l *slidingLog) len() int { return len(l.at) - l.head }

// trim forgets the requests that have left the window at now.
func (l *slidingLog) trim(now time.Time, period time.Duration) {
	cut := now.Add(-period).UnixNano()
	for l.head < len(l.at) && l.at[l.head] <= cut {
		l.head++
	}
	if l.head == len(l.at) {
		l.at, l.head = l.at[:0], 0
	} else if l.head > 64 && l.head > len(l.at)/2 {
		n := copy(l.at, l.at[l.head:])
		l.at, l.head = l.at[:n], 0
	}
}

// freeAt reports whether one more request fits under limit now (the log
// trimmed), and otherwise the instant it will: when all but limit-1 of the
// counted requests have left, that is when the (n-limit)th oldest leaves.
func (l *slidingLog) freeAt(limit int, period time.Duration) (time.Time, bool) {
	n := l.len()
	if n < limit {
		return time.Time{}, true
	}
	return time.Unix(0, l.at[l.head+n-limit]).UTC().Add(period), false
}

// budget returns how many more requests fit under limit and when that
// number next grows (zero when nothing is counted).
func (l *slidingLog) budget(limit int, period time.Duration) (int, time.Time) {
	n := l.len()
	if n == 0 {
		return limit, time.Time{}
	}
	return max(limit-n, 0), time.Unix(0, l.at[l.head+max(n-limit, 0)]).UTC().Add(period)
}

// add counts a request at now. A clock that steps back cannot break the
// order: the request is then counted at the latest instant already held,
// which only keeps it in the window longer.
func (l *slidingLog) add(now time.Time) {
	t := now.UnixNano()
	if n := len(l.at); n > l.head && l.at[n-1] > t {
		t = l.at[n-1]
	}
	l.at = append(l.at, t)
}

// shrink releases the backing array when it is mostly unused, after a
// burst has left the window.
func (l *slidingLog) shrink() {
	if n := l.len(); cap(l.at) > 64 && cap(l.at) > 4*n {
		at := make([]int64, n, 2*n)
		copy(at, l.at[l.head:])
		l.at, l.head = at, 0
	}
}
