// Package backoff is Herald's one rule for waiting between tries: capped
// exponential growth, with full jitter where many waiters could otherwise
// retry together. Every loop that retries (publishing, store writes,
// metrics lookups, reconciliation reads, webhooks) takes its delays from
// here, so the rule is stated and tested once.
package backoff

import "time"

// Policy is a capped exponential backoff: the n-th wait (n from 1) has the
// ceiling Base*2^(n-1), at most Max.
type Policy struct {
	Base time.Duration
	Max  time.Duration
}

// Ceiling is the largest wait before the n-th retry: Base*2^(n-1) capped at
// Max (n < 1 counts as 1). It never overflows.
func (p Policy) Ceiling(n int) time.Duration {
	if p.Base <= 0 {
		return 0
	}
	n = max(n, 1)
	d := p.Base
	for i := 1; i < n; i++ {
		if p.Max > 0 && d >= p.Max {
			break
		}
		if d > time.Duration(1<<62)/2 {
			break
		}
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	return d
}

// Jittered is a "full jitter" wait before the n-th retry: uniform in
// [0, Ceiling(n)], drawn with randN (math/rand/v2's Int64N or a seeded
// source's), so that jobs failing together do not retry together.
func (p Policy) Jittered(n int, randN func(int64) int64) time.Duration {
	c := p.Ceiling(n)
	if c <= 0 {
		return 0
	}
	return time.Duration(randN(int64(c) + 1))
}
