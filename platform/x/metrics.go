package x

import "github.com/herald-social/herald/platform/x/ratelimit"

// Limiter is the rate limiter the platform reserves requests in: with
// Windows, what metrics and status need to report each account's remaining
// budget (Limiter.Remaining) without counting anything.
func (p *Platform) Limiter() ratelimit.Limiter { return p.opts.Limiter }
