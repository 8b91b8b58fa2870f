package ratelimit

import (
	"fmt"
	"strings"
	"time"
)

// Scope says whose requests a window counts.
type Scope string

// The scopes X counts by.
const (
	// ScopeUser counts one account's requests.
	ScopeUser Scope = "user"
	// ScopeApp counts the requests of every account of one app (client id
	// or consumer key) together.
	ScopeApp Scope = "app"
)

// Valid reports whether s is ScopeUser or ScopeApp.
func (s Scope) Valid() bool { return s == ScopeUser || s == ScopeApp }

// Window is one limit: at most Limit requests to Endpoint by one subject of
// Scope in any interval of length Period.
type Window struct {
	Endpoint string
	Scope    Scope
	Limit    int
	Period   time.Duration
}

// String formats w as create_post/user: 100 per 15m0s.
func (w Window) String() string {
	return fmt.Sprintf("%s/%s: %d per %s", w.Endpoint, w.Scope, w.Limit, w.Period)
}

// The endpoint names: the same strings as the X client's, and as the
// schedules package's list of names a `limits.windows` entry may use.
// Changing one list means changing all three (each side has a test against
// the same literal list).
const (
	EndpointCreatePost    = "create_post"    // POST /2/tweets
	EndpointDeletePost    = "delete_post"    // DELETE /2/tweets/:id
	EndpointLookupPosts   = "lookup_posts"   // GET /2/tweets?ids=
	EndpointUserPosts     = "user_posts"     // GET /2/users/:id/tweets
	EndpointMe            = "me"             // GET /2/users/me
	EndpointMediaUpload   = "media_upload"   // POST /2/media/upload/initialize, append, finalize; GET status
	EndpointMediaMetadata = "media_metadata" // POST /2/media/metadata
)

// Endpoints returns the endpoint names, in a new slice.
func Endpoints() []string {
	return []string{EndpointCreatePost, EndpointDeletePost, EndpointLookupPosts, EndpointUserPosts,
		EndpointMe, EndpointMediaUpload, EndpointMediaMetadata}
}

// Periods of X's windows.
const (
	Period15m = 15 * time.Minute
	Period24h = 24 * time.Hour
)

// PresetCurrent is the preset an account gets by default.
const PresetCurrent = "current"

// Presets returns the preset names, the default first, in a new slice.
func Presets() []string {
	return []string{PresetCurrent, "legacy-free", "legacy-basic", "legacy-pro"}
}

// Preset returns the windows of a named preset, in a new slice: "current"
// (also for ""), "legacy-free", "legacy-basic" or "legacy-pro". The numbers
// are X's published ones (shared/x-api/README.md, "Rate limits").
//
// Endpoints X publishes no number for (me, media_metadata) have no window:
// nothing is counted for them, and only X's headers and 429s can hold them
// back. The legacy tiers' published numbers cover POST /2/tweets only; for
// every other endpoint they use the current numbers, which is what a legacy
// subscription is believed to get today (unverified).
func Preset(name string) ([]Window, error) {
	switch name {
	case "", PresetCurrent:
		return currentWindows(), nil
	case "legacy-free":
		// Free: 17 posts per 24 hours. X's old tier table gave the same
		// number per user and per app, so both are counted.
		return Merge(currentWindows(), []Window{
			{EndpointCreatePost, ScopeUser, 17, Period24h},
			{EndpointCreatePost, ScopeApp, 17, Period24h},
		}), nil
	case "legacy-basic":
		// Basic: 100 posts per 24 hours per user, 1,667 per app. The
		// current 100 per 15 minutes per user is implied by the first.
		return Merge(currentWindows(), []Window{
			{EndpointCreatePost, ScopeUser, 100, Period24h},
			{EndpointCreatePost, ScopeApp, 1667, Period24h},
		}), nil
	case "legacy-pro":
		// Pro: 100 posts per 15 minutes per user, 10,000 per 24 hours per
		// app; the same as the current numbers, stated again so that a
		// change of the current ones does not change this tier.
		return Merge(currentWindows(), []Window{
			{EndpointCreatePost, ScopeUser, 100, Period15m},
			{EndpointCreatePost, ScopeApp, 10000, Period24h},
		}), nil
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownPreset, name, strings.Join(Presets(), ", "))
}

// currentWindows are X's limits since 2026 (pay-per-use, no tiers).
func currentWindows() []Window {
	return []Window{
		{EndpointCreatePost, ScopeUser, 100, Period15m},
		{EndpointCreatePost, ScopeApp, 10000, Period24h},
		{EndpointDeletePost, ScopeUser, 50, Period15m},
		// The README gives "3,500 per app" beside the 15-minute user
		// number without a period; it is read as per 15 minutes, as X's
		// tables list both scopes of one window side by side.
		{EndpointLookupPosts, ScopeUser, 5000, Period15m},
		{EndpointLookupPosts, ScopeApp, 3500, Period15m},
		{EndpointUserPosts, ScopeUser, 900, Period15m},
		// X counts initialize, append and finalize separately, 1,875 each;
		// the client reserves every call of an upload under one name, so
		// one window of 1,875 for them all is the safe reading.
		{EndpointMediaUpload, ScopeUser, 1875, Period15m},
	}
}

// Merge returns base with the windows of every (Endpoint, Scope) pair that
// explicit names replaced by explicit's windows for that pair; explicit
// windows for a pair base lacks are added. The result is a new slice: base's
// remaining windows in order, then explicit's.
func Merge(base, explicit []Window) []Window {
	type pair struct {
		endpoint string
		scope    Scope
	}
	replaced := make(map[pair]bool, len(explicit))
	for _, w := range explicit {
		replaced[pair{w.Endpoint, w.Scope}] = true
	}
	out := make([]Window, 0, len(base)+len(explicit))
	for _, w := range base {
		if !replaced[pair{w.Endpoint, w.Scope}] {
			out = append(out, w)
		}
	}
	return append(out, explicit...)
}
