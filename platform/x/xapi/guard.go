package xapi

import (
	"context"
	"time"
)

// guard decides, right before a request is sent, whether it may be.
type guard func(endpoint string, timeout time.Duration) error

// guardKey is the context key of the guard set by WithGuard.
type guardKey struct{}

// WithGuard returns a copy of ctx whose requests g fences: every request
// of a call made with the returned context (each media chunk and STATUS
// poll, and the replay after a 401 included) is first shown to g, right
// before it is sent (after Authorize, before Options.BeforeRequest), with
// its endpoint (an Endpoint* name) and its timeout: Options.Timeout, the
// longest the request may take (the caller's context may end it sooner).
// If g returns an error nothing is sent, and the call fails with an *Error
// of ClassTransient whose Err wraps g's error.
//
// The publisher uses it to refuse a request that its job's lease would not
// outlive. A guard already in ctx still applies: it is asked first, then
// g. A nil g returns ctx itself.
func WithGuard(ctx context.Context, g func(endpoint string, timeout time.Duration) error) context.Context {
	if g == nil {
		return ctx
	}
	if outer := guardFrom(ctx); outer != nil {
		inner := g
		g = func(endpoint string, timeout time.Duration) error {
			if err := outer(endpoint, timeout); err != nil {
				return err
			}
			return inner(endpoint, timeout)
		}
	}
	return context.WithValue(ctx, guardKey{}, guard(g))
}

// guardFrom returns the guard of ctx, nil when it has none.
func guardFrom(ctx context.Context) guard {
	g, _ := ctx.Value(guardKey{}).(guard)
	return g
}
