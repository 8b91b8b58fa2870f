package ratelimit

import (
	"context"
	"time"
)

// Subject is who a request counts against: an account (user scope) and,
// when known, its app (app scope). An empty App turns app-scope accounting
// off for that subject: its app windows are neither checked nor counted.
type Subject struct {
	Account string
	App     string
}

// Reservation is the answer of Reserve.
type Reservation struct {
	// OK says the request was counted and may be sent now.
	OK bool
	// RetryAt is, when !OK, the earliest instant at which every window
	// would allow the request if nothing else is sent before: when enough
	// of the counted requests have left their windows, when X's reported
	// window resets, or when a 429 block ends.
	RetryAt time.Time
	// Window is, when !OK, the window that holds the request back longest.
	// For a block by X (a 429, see Exhausted) its Limit and Period are
	// zero. For a window X reported exhausted without saying its limit,
	// Limit is that of the window of the same scope and period passed to
	// Reserve, or zero when none was.
	Window Window
}

// Observation is what one response's rate-limit headers say. Limit,
// Remaining and Reset are the endpoint's 15-minute user window
// (x-rate-limit-limit, -remaining, -reset). User24h and App24h are the
// x-user-limit-24hour-* and x-app-limit-24hour-* headers, nil when X sent
// none of them (X does not document them).
//
// Each header is known or unknown on its own, because X may send any subset
// of them: a nil Limit or Remaining, or a zero Reset, is a header that was
// absent (or not a number), never a zero.
type Observation struct {
	Limit, Remaining *int
	Reset            time.Time
	User24h, App24h  *Header
}

// eachHeader calls f for each window obs reports for subj: the user's
// 15-minute window, and the 24-hour ones X sent (the app's only when subj
// has an app). id is the account for ScopeUser and the app for ScopeApp.
func (obs Observation) eachHeader(subj Subject, f func(scope Scope, id string, period time.Duration, h Header)) {
	f(ScopeUser, subj.Account, Period15m, Header{obs.Limit, obs.Remaining, obs.Reset})
	if obs.User24h != nil {
		f(ScopeUser, subj.Account, Period24h, *obs.User24h)
	}
	if obs.App24h != nil && subj.App != "" {
		f(ScopeApp, subj.App, Period24h, *obs.App24h)
	}
}

// Header is one window as X reports it. A nil Limit or Remaining, or a
// zero Reset, is unknown, as in Observation.
type Header struct {
	Limit, Remaining *int
	Reset            time.Time
}

// WindowState is one window's budget for a subject, for metrics and status.
type WindowState struct {
	Window Window
	// Remaining is how many requests the window allows now: the smaller of
	// our count and what X last reported, 0 while X blocks the endpoint.
	Remaining int
	// Reset is the next instant Remaining grows: when the oldest counted
	// request leaves the window, when X's reported window resets, or when a
	// block ends, whichever holds the budget down. Zero when nothing is
	// counted or reported (Remaining is then the full Limit).
	Reset time.Time
}

// Limiter decides whether a request may be sent and learns from X's
// answers. Implementations are safe for concurrent use. State is keyed by
// strings (account, app, endpoint) so that it can live outside the process.
//
// Windows are passed on each call rather than registered, so that a reload
// that changes an account's limits applies on the next request. Windows of
// other endpoints than the one named are ignored, so a caller may pass an
// account's whole list.
type Limiter interface {
	// Reserve takes one request of endpoint for subj if every window of
	// that endpoint allows it now (all or nothing), and also X's last
	// reported budgets and any 429 block; otherwise it takes nothing and
	// says when it could.
	Reserve(ctx context.Context, subj Subject, endpoint string, windows []Window) (Reservation, error)
	// Observe corrects the accounting from a response's headers. Where X
	// reports fewer remaining requests than we count, X is believed until
	// its reset; where it reports more, our count stands (it may know of
	// requests still in flight). Remaining 0 blocks the endpoint until the
	// reset. A window whose remaining count or reset is unknown changes
	// nothing: an unknown count is not zero, and a count without a reset
	// has no end.
	Observe(ctx context.Context, subj Subject, endpoint string, obs Observation) error
	// Exhausted records a 429: the endpoint is blocked for subj until
	// until, in scope (ScopeUser when empty; ScopeApp blocks every account
	// of subj.App).
	Exhausted(ctx context.Context, subj Subject, endpoint string, scope Scope, until time.Time) error
	// Remaining reports each window's budget for subj, in the order of
	// windows (those of other endpoints left out).
	Remaining(ctx context.Context, subj Subject, endpoint string, windows []Window) ([]WindowState, error)
}
