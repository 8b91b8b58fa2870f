package limitertest

import (
	"time"

	"github.com/herald-social/herald/platform/x/ratelimit"
)

// stepCase is a sequence of calls against one fresh Limiter.
type stepCase struct {
	name    string
	windows []ratelimit.Window
	steps   []step
}

// stepCases are the Limiter contract as sequences of calls.
func stepCases() []stepCase {
	return []stepCase{
		{
			name:    "burst up to the limit, then the oldest must leave",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 3, time.Minute)},
			steps: []step{
				{n: 3, ok: true},
				{n: 2, retry: time.Minute, by: win(ratelimit.ScopeUser, 3, time.Minute)},
				{at: time.Minute, n: 3, ok: true},
				{at: time.Minute, retry: 2 * time.Minute, by: win(ratelimit.ScopeUser, 3, time.Minute)},
			},
		},
		{
			name:    "exact boundaries: a request counts until, not at, its instant plus the period",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 3, time.Minute)},
			steps: []step{
				{at: 0, ok: true},
				{at: 10 * time.Second, ok: true},
				{at: 20 * time.Second, ok: true},
				{at: time.Minute - time.Nanosecond, retry: time.Minute, by: win(ratelimit.ScopeUser, 3, time.Minute)},
				{at: time.Minute, ok: true},
				{at: time.Minute, retry: 70 * time.Second, by: win(ratelimit.ScopeUser, 3, time.Minute)},
				{at: 70*time.Second - time.Nanosecond, retry: 70 * time.Second, by: win(ratelimit.ScopeUser, 3, time.Minute)},
				{at: 70 * time.Second, ok: true},
			},
		},
		{
			name:    "a sliding window: no interval of the period holds more than the limit",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 2, time.Minute)},
			steps: []step{
				{at: 50 * time.Second, ok: true},
				{at: 55 * time.Second, ok: true},
				// A fixed window starting at T0 would reset at 1m.
				{at: 61 * time.Second, retry: 110 * time.Second, by: win(ratelimit.ScopeUser, 2, time.Minute)},
				{at: 110 * time.Second, ok: true},
			},
		},
		{
			name:    "two windows: the longer one refuses once the shorter has room",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 5, time.Minute), win(ratelimit.ScopeUser, 6, time.Hour)},
			steps: []step{
				{n: 5, ok: true},
				{retry: time.Minute, by: win(ratelimit.ScopeUser, 5, time.Minute)},
				{at: time.Minute, ok: true},
				{at: time.Minute, retry: time.Hour, by: win(ratelimit.ScopeUser, 6, time.Hour)},
				{at: time.Hour, n: 5, ok: true},
			},
		},
		{
			name:    "two windows refusing: the later instant, when both allow",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 2, time.Minute), win(ratelimit.ScopeUser, 2, time.Hour)},
			steps: []step{
				{n: 2, ok: true},
				{retry: time.Hour, by: win(ratelimit.ScopeUser, 2, time.Hour)},
			},
		},
		{
			name:    "the app window is shared by the accounts of one app",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 10, time.Minute), win(ratelimit.ScopeApp, 3, time.Minute)},
			steps: []step{
				{subj: alice, n: 2, ok: true},
				{at: time.Second, subj: bob, ok: true},
				{at: 2 * time.Second, subj: bob, retry: time.Minute, by: win(ratelimit.ScopeApp, 3, time.Minute)},
				{at: 2 * time.Second, subj: alice, retry: time.Minute, by: win(ratelimit.ScopeApp, 3, time.Minute)},
				{at: 2 * time.Second, subj: carol, n: 3, ok: true},
				{at: time.Minute, subj: bob, n: 2, ok: true},
				{at: time.Minute, subj: alice, retry: 61 * time.Second, by: win(ratelimit.ScopeApp, 3, time.Minute)},
			},
		},
		{
			name:    "a subject without an app is not counted in app windows",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 10, time.Minute), win(ratelimit.ScopeApp, 3, time.Minute)},
			steps:   []step{{subj: solo, n: 10, ok: true}},
		},
		{
			name:    "all or nothing: a refused request counts in no window",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 1, time.Hour), win(ratelimit.ScopeApp, 5, time.Minute)},
			steps: []step{
				{subj: alice, ok: true},
				{subj: alice, n: 10, retry: time.Hour, by: win(ratelimit.ScopeUser, 1, time.Hour)},
				{subj: bob, ok: true},
				{subj: bob, retry: time.Hour, by: win(ratelimit.ScopeUser, 1, time.Hour)},
				{subj: carol, ok: true},
				// app1 has 2 of 5: alice's refusals took nothing.
				{subj: ratelimit.Subject{Account: "dave", App: "app1"}, ok: true},
				{subj: ratelimit.Subject{Account: "erin", App: "app1"}, ok: true},
				{subj: ratelimit.Subject{Account: "fred", App: "app1"}, ok: true},
				{subj: ratelimit.Subject{Account: "gina", App: "app1"}, retry: time.Minute, by: win(ratelimit.ScopeApp, 5, time.Minute)},
			},
		},
		{
			name: "windows of other endpoints are ignored",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 2, time.Minute),
				{Endpoint: ratelimit.EndpointDeletePost, Scope: ratelimit.ScopeUser, Limit: 1, Period: time.Hour}},
			steps: []step{
				{n: 2, ok: true},
				{ep: ratelimit.EndpointDeletePost, ok: true},
				{ep: ratelimit.EndpointDeletePost, retry: time.Hour, by: ratelimit.Window{Endpoint: ratelimit.EndpointDeletePost, Scope: ratelimit.ScopeUser, Limit: 1, Period: time.Hour}},
				{ep: ratelimit.EndpointMe, n: 100, ok: true}, // no window at all
			},
		},
		{
			name:    "headers lower the remaining budget until X's reset",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)},
			steps: []step{
				{ok: true},
				{at: time.Second, op: observe, obs: ratelimit.Observation{Limit: new(100), Remaining: new(2), Reset: T0.Add(10 * time.Minute)}},
				{at: time.Second, n: 2, ok: true},
				{at: time.Second, retry: 10 * time.Minute, by: win(ratelimit.ScopeUser, 100, 15*time.Minute)},
				{at: 10 * time.Minute, n: 97, ok: true}, // 100 minus the 3 we counted
				{at: 10 * time.Minute, retry: 15 * time.Minute, by: win(ratelimit.ScopeUser, 100, 15*time.Minute)},
			},
		},
		{
			name:    "headers that report more than we count do not raise the budget",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 2, 15*time.Minute)},
			steps: []step{
				{n: 2, ok: true},
				{op: observe, obs: ratelimit.Observation{Limit: new(100), Remaining: new(50), Reset: T0.Add(15 * time.Minute)}},
				{retry: 15 * time.Minute, by: win(ratelimit.ScopeUser, 2, 15*time.Minute)},
			},
		},
		{
			name:    "remaining 0 blocks until the reset, even an endpoint without a window",
			windows: nil,
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(0), Reset: T0.Add(7 * time.Minute)}},
				{n: 3, retry: 7 * time.Minute, by: win(ratelimit.ScopeUser, 50, 15*time.Minute)},
				{subj: bob, ok: true},
				{at: 7 * time.Minute, n: 3, ok: true},
			},
		},
		{
			name: "stale and duplicate headers: a later reset wins, the same reset keeps the lower count",
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(0), Reset: T0.Add(5 * time.Minute)}},
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(40), Reset: T0.Add(3 * time.Minute)}},
				{retry: 5 * time.Minute, by: win(ratelimit.ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(9), Reset: T0.Add(5 * time.Minute)}},
				{retry: 5 * time.Minute, by: win(ratelimit.ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(1), Reset: T0.Add(20 * time.Minute)}},
				{ok: true},
				{retry: 20 * time.Minute, by: win(ratelimit.ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(9), Reset: T0.Add(20 * time.Minute)}},
				{retry: 20 * time.Minute, by: win(ratelimit.ScopeUser, 50, 15*time.Minute)},
			},
		},
		{
			// The 429 that parked a job for 15 minutes: no
			// x-rate-limit-limit, remaining 0, a reset 4 s ahead.
			name:    "a report without its limit blocks until its reset, named by the configured window",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)},
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Remaining: new(0), Reset: T0.Add(4 * time.Second)}},
				{n: 2, retry: 4 * time.Second, by: win(ratelimit.ScopeUser, 100, 15*time.Minute)},
				{at: 4 * time.Second, n: 99, ok: true},
			},
		},
		{
			name: "a report without its limit, and no configured window: the limit is zero, the reset still applies",
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Remaining: new(0), Reset: T0.Add(4 * time.Second)}},
				{retry: 4 * time.Second, by: win(ratelimit.ScopeUser, 0, 15*time.Minute)},
				{at: 4 * time.Second, ok: true},
			},
		},
		{
			name:    "an unknown remaining count is not zero",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 3, 15*time.Minute)},
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Limit: new(100), Reset: T0.Add(10 * time.Minute),
					User24h: &ratelimit.Header{Limit: new(17), Reset: T0.Add(time.Hour)}, App24h: &ratelimit.Header{Reset: T0.Add(time.Hour)}}},
				{n: 3, ok: true},
				{retry: 15 * time.Minute, by: win(ratelimit.ScopeUser, 3, 15*time.Minute)},
			},
		},
		{
			name: "a remaining count without a reset has no end, so it is not believed",
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(0),
					User24h: &ratelimit.Header{Limit: new(17), Remaining: new(0)}, App24h: &ratelimit.Header{Remaining: new(0)}}},
				{n: 3, ok: true},
			},
		},
		{
			name: "a later report of the same window without its limit keeps the limit known",
			steps: []step{
				{op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(5), Reset: T0.Add(5 * time.Minute)}},
				{op: observe, obs: ratelimit.Observation{Remaining: new(0), Reset: T0.Add(5 * time.Minute)}},
				{retry: 5 * time.Minute, by: win(ratelimit.ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: ratelimit.Observation{Remaining: new(0), Reset: T0.Add(6 * time.Minute)}},
				{retry: 6 * time.Minute, by: win(ratelimit.ScopeUser, 0, 15*time.Minute)},
			},
		},
		{
			name: "a header whose reset has passed changes nothing",
			steps: []step{
				{at: time.Hour, op: observe, obs: ratelimit.Observation{Limit: new(50), Remaining: new(0), Reset: T0.Add(time.Hour)}},
				{at: time.Hour, ok: true},
			},
		},
		{
			name: "24-hour headers: the user's for that account, the app's for every account of the app",
			steps: []step{
				{op: observe, obs: ratelimit.Observation{User24h: hdr(17, 0, 3*time.Hour)}},
				{retry: 3 * time.Hour, by: win(ratelimit.ScopeUser, 17, 24*time.Hour)},
				{subj: bob, ok: true},
				{subj: bob, op: observe, obs: ratelimit.Observation{App24h: hdr(1667, 1, 2*time.Hour)}},
				{subj: carol, ok: true},
				{subj: bob, ok: true},
				{subj: bob, retry: 2 * time.Hour, by: win(ratelimit.ScopeApp, 1667, 24*time.Hour)},
				{subj: alice, retry: 3 * time.Hour, by: win(ratelimit.ScopeUser, 17, 24*time.Hour)},
				{at: 2 * time.Hour, subj: bob, ok: true},
				{at: 3 * time.Hour, subj: alice, ok: true},
			},
		},
		{
			name: "an app header for a subject without an app is dropped",
			steps: []step{
				{subj: solo, op: observe, obs: ratelimit.Observation{App24h: hdr(10, 0, time.Hour)}},
				{subj: solo, ok: true},
			},
		},
		{
			name:    "a 429 blocks the endpoint for the user until its reset",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)},
			steps: []step{
				{ok: true},
				{op: exhausted, until: 5 * time.Minute},
				{n: 2, retry: 5 * time.Minute, by: ratelimit.Window{Endpoint: ep, Scope: ratelimit.ScopeUser}},
				{ep: ratelimit.EndpointDeletePost, ok: true},
				{subj: bob, ok: true},
				{op: exhausted, until: 2 * time.Minute}, // an earlier one does not shorten it
				{at: 2 * time.Minute, retry: 5 * time.Minute, by: ratelimit.Window{Endpoint: ep, Scope: ratelimit.ScopeUser}},
				{at: 5 * time.Minute, ok: true},
			},
		},
		{
			name: "a 429 in the app scope blocks every account of the app",
			steps: []step{
				{op: exhausted, scope: ratelimit.ScopeApp, until: time.Hour},
				{subj: bob, retry: time.Hour, by: ratelimit.Window{Endpoint: ep, Scope: ratelimit.ScopeApp}},
				{subj: carol, ok: true},
				{subj: solo, ok: true},
				{at: time.Hour, subj: bob, ok: true},
			},
		},
		{
			name:    "a block and a full window: the later of the two",
			windows: []ratelimit.Window{win(ratelimit.ScopeUser, 1, time.Hour)},
			steps: []step{
				{ok: true},
				{op: exhausted, until: 10 * time.Minute},
				{retry: time.Hour, by: win(ratelimit.ScopeUser, 1, time.Hour)},
			},
		},
	}
}
