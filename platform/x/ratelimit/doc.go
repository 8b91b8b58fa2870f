// Package ratelimit keeps Herald inside X's rate limits: it decides before a
// request whether every window of its endpoint still allows it, and learns
// from X's answers (rate-limit headers, 429s) where our own count is wrong.
//
// X counts requests per endpoint in windows per user (the account) and per
// app (the client id or consumer key, shared by every account of one app):
// 15-minute windows reported in every response's headers, and 24-hour
// windows that some responses report. Windows are configuration (see Preset
// and Merge) because the numbers differ between X's current pay-per-use
// plan and the legacy tiers, and X changes them.
//
// Limiter is the interface the publisher uses. Memory implements it for one
// node; Redis implements it for a cluster (one Lua script per call, so the
// nodes count against the same windows atomically), which is why the
// interface keys everything by strings, takes a context on every call and
// returns an error from each. Shared is what a node of a cluster uses:
// Redis while it answers, and this node's share of every window (the limit
// divided by the live nodes) while it does not. Every implementation passes
// the conformance suite in package limitertest.
//
// The package imports nothing else of Herald's but clock: it must not
// import schedules (schedules keeps its own copy of the endpoint names,
// checked against the same literal list by a test on each side).
package ratelimit
