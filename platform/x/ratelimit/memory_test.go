package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const ep = EndpointCreatePost

var (
	alice = Subject{Account: "alice", App: "app1"}
	bob   = Subject{Account: "bob", App: "app1"}
	carol = Subject{Account: "carol", App: "app2"}
	solo  = Subject{Account: "solo"} // no app: no app-scope accounting
)

type op uint8

const (
	reserve op = iota
	observe
	exhausted
)

// step is one call at a clock offset from t0. A reserve step makes n calls
// (default 1) and wants each to answer ok; a refusal must also name the
// retry instant (an offset from t0) and the refusing window.
type step struct {
	at    time.Duration
	op    op
	subj  Subject // alice when zero
	ep    string  // ep when empty
	n     int
	ok    bool
	retry time.Duration
	by    Window
	obs   Observation
	scope Scope
	until time.Duration
}

func win(scope Scope, limit int, period time.Duration) Window {
	return Window{Endpoint: ep, Scope: scope, Limit: limit, Period: period}
}

func hdr(limit, remaining int, reset time.Duration) *Header {
	return &Header{Limit: new(limit), Remaining: new(remaining), Reset: t0.Add(reset)}
}

func TestMemory(t *testing.T) {
	tests := []struct {
		name    string
		windows []Window
		steps   []step
	}{
		{
			name:    "burst up to the limit, then the oldest must leave",
			windows: []Window{win(ScopeUser, 3, time.Minute)},
			steps: []step{
				{n: 3, ok: true},
				{n: 2, retry: time.Minute, by: win(ScopeUser, 3, time.Minute)},
				{at: time.Minute, n: 3, ok: true},
				{at: time.Minute, retry: 2 * time.Minute, by: win(ScopeUser, 3, time.Minute)},
			},
		},
		{
			name:    "exact boundaries: a request counts until, not at, its instant plus the period",
			windows: []Window{win(ScopeUser, 3, time.Minute)},
			steps: []step{
				{at: 0, ok: true},
				{at: 10 * time.Second, ok: true},
				{at: 20 * time.Second, ok: true},
				{at: time.Minute - time.Nanosecond, retry: time.Minute, by: win(ScopeUser, 3, time.Minute)},
				{at: time.Minute, ok: true},
				{at: time.Minute, retry: 70 * time.Second, by: win(ScopeUser, 3, time.Minute)},
				{at: 70*time.Second - time.Nanosecond, retry: 70 * time.Second, by: win(ScopeUser, 3, time.Minute)},
				{at: 70 * time.Second, ok: true},
			},
		},
		{
			name:    "a sliding window: no interval of the period holds more than the limit",
			windows: []Window{win(ScopeUser, 2, time.Minute)},
			steps: []step{
				{at: 50 * time.Second, ok: true},
				{at: 55 * time.Second, ok: true},
				// A fixed window starting at t0 would reset at 1m.
				{at: 61 * time.Second, retry: 110 * time.Second, by: win(ScopeUser, 2, time.Minute)},
				{at: 110 * time.Second, ok: true},
			},
		},
		{
			name:    "two windows: the longer one refuses once the shorter has room",
			windows: []Window{win(ScopeUser, 5, time.Minute), win(ScopeUser, 6, time.Hour)},
			steps: []step{
				{n: 5, ok: true},
				{retry: time.Minute, by: win(ScopeUser, 5, time.Minute)},
				{at: time.Minute, ok: true},
				{at: time.Minute, retry: time.Hour, by: win(ScopeUser, 6, time.Hour)},
				{at: time.Hour, n: 5, ok: true},
			},
		},
		{
			name:    "two windows refusing: the later instant, when both allow",
			windows: []Window{win(ScopeUser, 2, time.Minute), win(ScopeUser, 2, time.Hour)},
			steps: []step{
				{n: 2, ok: true},
				{retry: time.Hour, by: win(ScopeUser, 2, time.Hour)},
			},
		},
		{
			name:    "the app window is shared by the accounts of one app",
			windows: []Window{win(ScopeUser, 10, time.Minute), win(ScopeApp, 3, time.Minute)},
			steps: []step{
				{subj: alice, n: 2, ok: true},
				{at: time.Second, subj: bob, ok: true},
				{at: 2 * time.Second, subj: bob, retry: time.Minute, by: win(ScopeApp, 3, time.Minute)},
				{at: 2 * time.Second, subj: alice, retry: time.Minute, by: win(ScopeApp, 3, time.Minute)},
				{at: 2 * time.Second, subj: carol, n: 3, ok: true},
				{at: time.Minute, subj: bob, n: 2, ok: true},
				{at: time.Minute, subj: alice, retry: 61 * time.Second, by: win(ScopeApp, 3, time.Minute)},
			},
		},
		{
			name:    "a subject without an app is not counted in app windows",
			windows: []Window{win(ScopeUser, 10, time.Minute), win(ScopeApp, 3, time.Minute)},
			steps:   []step{{subj: solo, n: 10, ok: true}},
		},
		{
			name:    "all or nothing: a refused request counts in no window",
			windows: []Window{win(ScopeUser, 1, time.Hour), win(ScopeApp, 5, time.Minute)},
			steps: []step{
				{subj: alice, ok: true},
				{subj: alice, n: 10, retry: time.Hour, by: win(ScopeUser, 1, time.Hour)},
				{subj: bob, ok: true},
				{subj: bob, retry: time.Hour, by: win(ScopeUser, 1, time.Hour)},
				{subj: carol, ok: true},
				// app1 has 2 of 5: alice's refusals took nothing.
				{subj: Subject{Account: "dave", App: "app1"}, ok: true},
				{subj: Subject{Account: "erin", App: "app1"}, ok: true},
				{subj: Subject{Account: "fred", App: "app1"}, ok: true},
				{subj: Subject{Account: "gina", App: "app1"}, retry: time.Minute, by: win(ScopeApp, 5, time.Minute)},
			},
		},
		{
			name: "windows of other endpoints are ignored",
			windows: []Window{win(ScopeUser, 2, time.Minute),
				{Endpoint: EndpointDeletePost, Scope: ScopeUser, Limit: 1, Period: time.Hour}},
			steps: []step{
				{n: 2, ok: true},
				{ep: EndpointDeletePost, ok: true},
				{ep: EndpointDeletePost, retry: time.Hour, by: Window{EndpointDeletePost, ScopeUser, 1, time.Hour}},
				{ep: EndpointMe, n: 100, ok: true}, // no window at all
			},
		},
		{
			name:    "headers lower the remaining budget until X's reset",
			windows: []Window{win(ScopeUser, 100, 15*time.Minute)},
			steps: []step{
				{ok: true},
				{at: time.Second, op: observe, obs: Observation{Limit: new(100), Remaining: new(2), Reset: t0.Add(10 * time.Minute)}},
				{at: time.Second, n: 2, ok: true},
				{at: time.Second, retry: 10 * time.Minute, by: win(ScopeUser, 100, 15*time.Minute)},
				{at: 10 * time.Minute, n: 97, ok: true}, // 100 minus the 3 we counted
				{at: 10 * time.Minute, retry: 15 * time.Minute, by: win(ScopeUser, 100, 15*time.Minute)},
			},
		},
		{
			name:    "headers that report more than we count do not raise the budget",
			windows: []Window{win(ScopeUser, 2, 15*time.Minute)},
			steps: []step{
				{n: 2, ok: true},
				{op: observe, obs: Observation{Limit: new(100), Remaining: new(50), Reset: t0.Add(15 * time.Minute)}},
				{retry: 15 * time.Minute, by: win(ScopeUser, 2, 15*time.Minute)},
			},
		},
		{
			name:    "remaining 0 blocks until the reset, even an endpoint without a window",
			windows: nil,
			steps: []step{
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(0), Reset: t0.Add(7 * time.Minute)}},
				{n: 3, retry: 7 * time.Minute, by: win(ScopeUser, 50, 15*time.Minute)},
				{subj: bob, ok: true},
				{at: 7 * time.Minute, n: 3, ok: true},
			},
		},
		{
			name: "stale and duplicate headers: a later reset wins, the same reset keeps the lower count",
			steps: []step{
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(0), Reset: t0.Add(5 * time.Minute)}},
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(40), Reset: t0.Add(3 * time.Minute)}},
				{retry: 5 * time.Minute, by: win(ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(9), Reset: t0.Add(5 * time.Minute)}},
				{retry: 5 * time.Minute, by: win(ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(1), Reset: t0.Add(20 * time.Minute)}},
				{ok: true},
				{retry: 20 * time.Minute, by: win(ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(9), Reset: t0.Add(20 * time.Minute)}},
				{retry: 20 * time.Minute, by: win(ScopeUser, 50, 15*time.Minute)},
			},
		},
		{
			// The 429 that parked a job for 15 minutes: no
			// x-rate-limit-limit, remaining 0, a reset 4 s ahead.
			name:    "a report without its limit blocks until its reset, named by the configured window",
			windows: []Window{win(ScopeUser, 100, 15*time.Minute)},
			steps: []step{
				{op: observe, obs: Observation{Remaining: new(0), Reset: t0.Add(4 * time.Second)}},
				{n: 2, retry: 4 * time.Second, by: win(ScopeUser, 100, 15*time.Minute)},
				{at: 4 * time.Second, n: 99, ok: true},
			},
		},
		{
			name: "a report without its limit, and no configured window: the limit is zero, the reset still applies",
			steps: []step{
				{op: observe, obs: Observation{Remaining: new(0), Reset: t0.Add(4 * time.Second)}},
				{retry: 4 * time.Second, by: win(ScopeUser, 0, 15*time.Minute)},
				{at: 4 * time.Second, ok: true},
			},
		},
		{
			name:    "an unknown remaining count is not zero",
			windows: []Window{win(ScopeUser, 3, 15*time.Minute)},
			steps: []step{
				{op: observe, obs: Observation{Limit: new(100), Reset: t0.Add(10 * time.Minute),
					User24h: &Header{Limit: new(17), Reset: t0.Add(time.Hour)}, App24h: &Header{Reset: t0.Add(time.Hour)}}},
				{n: 3, ok: true},
				{retry: 15 * time.Minute, by: win(ScopeUser, 3, 15*time.Minute)},
			},
		},
		{
			name: "a remaining count without a reset has no end, so it is not believed",
			steps: []step{
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(0),
					User24h: &Header{Limit: new(17), Remaining: new(0)}, App24h: &Header{Remaining: new(0)}}},
				{n: 3, ok: true},
			},
		},
		{
			name: "a later report of the same window without its limit keeps the limit known",
			steps: []step{
				{op: observe, obs: Observation{Limit: new(50), Remaining: new(5), Reset: t0.Add(5 * time.Minute)}},
				{op: observe, obs: Observation{Remaining: new(0), Reset: t0.Add(5 * time.Minute)}},
				{retry: 5 * time.Minute, by: win(ScopeUser, 50, 15*time.Minute)},
				{op: observe, obs: Observation{Remaining: new(0), Reset: t0.Add(6 * time.Minute)}},
				{retry: 6 * time.Minute, by: win(ScopeUser, 0, 15*time.Minute)},
			},
		},
		{
			name: "a header whose reset has passed changes nothing",
			steps: []step{
				{at: time.Hour, op: observe, obs: Observation{Limit: new(50), Remaining: new(0), Reset: t0.Add(time.Hour)}},
				{at: time.Hour, ok: true},
			},
		},
		{
			name: "24-hour headers: the user's for that account, the app's for every account of the app",
			steps: []step{
				{op: observe, obs: Observation{User24h: hdr(17, 0, 3*time.Hour)}},
				{retry: 3 * time.Hour, by: win(ScopeUser, 17, 24*time.Hour)},
				{subj: bob, ok: true},
				{subj: bob, op: observe, obs: Observation{App24h: hdr(1667, 1, 2*time.Hour)}},
				{subj: carol, ok: true},
				{subj: bob, ok: true},
				{subj: bob, retry: 2 * time.Hour, by: win(ScopeApp, 1667, 24*time.Hour)},
				{subj: alice, retry: 3 * time.Hour, by: win(ScopeUser, 17, 24*time.Hour)},
				{at: 2 * time.Hour, subj: bob, ok: true},
				{at: 3 * time.Hour, subj: alice, ok: true},
			},
		},
		{
			name: "an app header for a subject without an app is dropped",
			steps: []step{
				{subj: solo, op: observe, obs: Observation{App24h: hdr(10, 0, time.Hour)}},
				{subj: solo, ok: true},
			},
		},
		{
			name:    "a 429 blocks the endpoint for the user until its reset",
			windows: []Window{win(ScopeUser, 100, 15*time.Minute)},
			steps: []step{
				{ok: true},
				{op: exhausted, until: 5 * time.Minute},
				{n: 2, retry: 5 * time.Minute, by: Window{Endpoint: ep, Scope: ScopeUser}},
				{ep: EndpointDeletePost, ok: true},
				{subj: bob, ok: true},
				{op: exhausted, until: 2 * time.Minute}, // an earlier one does not shorten it
				{at: 2 * time.Minute, retry: 5 * time.Minute, by: Window{Endpoint: ep, Scope: ScopeUser}},
				{at: 5 * time.Minute, ok: true},
			},
		},
		{
			name: "a 429 in the app scope blocks every account of the app",
			steps: []step{
				{op: exhausted, scope: ScopeApp, until: time.Hour},
				{subj: bob, retry: time.Hour, by: Window{Endpoint: ep, Scope: ScopeApp}},
				{subj: carol, ok: true},
				{subj: solo, ok: true},
				{at: time.Hour, subj: bob, ok: true},
			},
		},
		{
			name:    "a block and a full window: the later of the two",
			windows: []Window{win(ScopeUser, 1, time.Hour)},
			steps: []step{
				{ok: true},
				{op: exhausted, until: 10 * time.Minute},
				{retry: time.Hour, by: win(ScopeUser, 1, time.Hour)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clk := clock.NewFake(t0)
			m := NewMemory(clk)
			for i, s := range tt.steps {
				clk.Set(t0.Add(s.at))
				if s.subj == (Subject{}) {
					s.subj = alice
				}
				if s.ep == "" {
					s.ep = ep
				}
				switch s.op {
				case observe:
					if err := m.Observe(ctx, s.subj, s.ep, s.obs); err != nil {
						t.Fatalf("step %d: Observe: %v", i, err)
					}
				case exhausted:
					if err := m.Exhausted(ctx, s.subj, s.ep, s.scope, t0.Add(s.until)); err != nil {
						t.Fatalf("step %d: Exhausted: %v", i, err)
					}
				case reserve:
					for j := range max(s.n, 1) {
						r, err := m.Reserve(ctx, s.subj, s.ep, tt.windows)
						if err != nil {
							t.Fatalf("step %d.%d: Reserve: %v", i, j, err)
						}
						want := Reservation{OK: s.ok}
						if !s.ok {
							want.RetryAt, want.Window = t0.Add(s.retry), s.by
						}
						if r.OK != want.OK || !r.RetryAt.Equal(want.RetryAt) || r.Window != want.Window {
							t.Fatalf("step %d.%d at +%v: Reserve(%s) = %+v; want %+v", i, j, s.at, s.subj.Account, r, want)
						}
					}
				}
			}
		})
	}
}

func TestMemoryRemaining(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	m := NewMemory(clk)
	short, long, app := win(ScopeUser, 10, 15*time.Minute), win(ScopeUser, 100, 24*time.Hour), win(ScopeApp, 1000, 24*time.Hour)
	windows := []Window{short, long, app, {Endpoint: EndpointMe, Scope: ScopeUser, Limit: 5, Period: time.Minute}}
	state := func(subj Subject) []WindowState {
		t.Helper()
		st, err := m.Remaining(ctx, subj, ep, windows)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	check := func(name string, got, want []WindowState) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: Remaining = %+v; want %+v", name, got, want)
		}
		for i := range got {
			if got[i].Window != want[i].Window || got[i].Remaining != want[i].Remaining || !got[i].Reset.Equal(want[i].Reset) {
				t.Errorf("%s: Remaining[%d] = %+v; want %+v", name, i, got[i], want[i])
			}
		}
	}

	check("untouched", state(alice), []WindowState{{short, 10, time.Time{}}, {long, 100, time.Time{}}, {app, 1000, time.Time{}}})
	for range 3 {
		if r, _ := m.Reserve(ctx, alice, ep, windows); !r.OK {
			t.Fatal("refused")
		}
	}
	clk.Advance(time.Minute)
	if r, _ := m.Reserve(ctx, bob, ep, windows); !r.OK {
		t.Fatal("refused")
	}
	check("after 3 of alice and 1 of bob", state(alice), []WindowState{
		{short, 7, t0.Add(15 * time.Minute)}, {long, 97, t0.Add(24 * time.Hour)}, {app, 996, t0.Add(24 * time.Hour)}})
	check("no app", state(solo), []WindowState{{short, 10, time.Time{}}, {long, 100, time.Time{}}})

	if err := m.Observe(ctx, alice, ep, Observation{Limit: new(10), Remaining: new(2), Reset: t0.Add(12 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	check("lowered by X", state(alice)[:1], []WindowState{{short, 2, t0.Add(12 * time.Minute)}})
	if err := m.Exhausted(ctx, alice, ep, ScopeUser, t0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("blocked", state(alice)[:2], []WindowState{{short, 0, t0.Add(20 * time.Minute)}, {long, 0, t0.Add(20 * time.Minute)}})
	clk.Set(t0.Add(20 * time.Minute))
	check("after the block", state(alice)[:1], []WindowState{{short, 10, time.Time{}}})
}

func TestMemoryErrors(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(clock.NewFake(t0))
	good := []Window{win(ScopeUser, 1, time.Minute)}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"zero limit", func() error {
			_, err := m.Reserve(ctx, alice, ep, []Window{win(ScopeUser, 0, time.Minute)})
			return err
		}, ErrInvalid},
		{"zero period", func() error { _, err := m.Reserve(ctx, alice, ep, []Window{win(ScopeUser, 1, 0)}); return err }, ErrInvalid},
		{"bad scope", func() error { _, err := m.Reserve(ctx, alice, ep, []Window{win("org", 1, time.Minute)}); return err }, ErrInvalid},
		{"empty account", func() error { _, err := m.Reserve(ctx, Subject{App: "a"}, ep, good); return err }, ErrInvalid},
		{"empty endpoint", func() error { _, err := m.Reserve(ctx, alice, "", good); return err }, ErrInvalid},
		{"remaining of a bad window", func() error {
			_, err := m.Remaining(ctx, alice, ep, []Window{win(ScopeUser, -1, time.Minute)})
			return err
		}, ErrInvalid},
		{"app block without an app", func() error { return m.Exhausted(ctx, solo, ep, ScopeApp, t0.Add(time.Hour)) }, ErrInvalid},
		{"block of a bad scope", func() error { return m.Exhausted(ctx, alice, ep, "org", t0.Add(time.Hour)) }, ErrInvalid},
		{"observe without an account", func() error { return m.Observe(ctx, Subject{}, ep, Observation{}) }, ErrInvalid},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v; want %v", tt.name, err, tt.want)
		}
	}
	// A bad window refuses the whole call: nothing was taken.
	mixed := append([]Window{win(ScopeUser, 1, time.Minute)}, win(ScopeUser, 0, time.Minute))
	if _, err := m.Reserve(ctx, bob, ep, mixed); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Reserve with a bad window: %v", err)
	}
	if r, err := m.Reserve(ctx, bob, ep, good); err != nil || !r.OK {
		t.Errorf("after a rejected call: %+v, %v; want OK", r, err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Reserve(cancelled, carol, ep, good); !errors.Is(err, context.Canceled) {
		t.Errorf("Reserve with a cancelled context: %v", err)
	}
	if r, _ := m.Reserve(ctx, carol, ep, good); !r.OK {
		t.Errorf("a cancelled Reserve took a request")
	}
}

// TestMemoryConcurrent races 32 goroutines for one user window and one app
// window shared by two accounts; run it with -race.
func TestMemoryConcurrent(t *testing.T) {
	ctx := context.Background()
	m := NewMemory(clock.NewFake(t0))
	windows := []Window{win(ScopeUser, 40, time.Minute), win(ScopeApp, 50, time.Hour)}
	var ok [2]atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 32 {
		wg.Go(func() {
			subj := []Subject{alice, bob}[g%2]
			<-start
			for range 20 {
				r, err := m.Reserve(ctx, subj, ep, windows)
				if err != nil {
					t.Error(err)
					return
				}
				if r.OK {
					ok[g%2].Add(1)
				} else if r.RetryAt.IsZero() {
					t.Error("refused without a retry instant")
				}
				_, _ = m.Remaining(ctx, subj, ep, windows)
			}
		})
	}
	close(start)
	wg.Wait()
	a, b := ok[0].Load(), ok[1].Load()
	if a > 40 || b > 40 || a+b != 50 {
		t.Errorf("granted alice %d, bob %d; want each at most 40 and 50 in all", a, b)
	}
}

func TestMemoryPrunes(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	m := NewMemory(clk)
	windows := []Window{win(ScopeUser, 10, 15*time.Minute), win(ScopeApp, 1000, 24*time.Hour)}
	for i := range 100 {
		subj := Subject{Account: "acct" + itoa(i), App: "app" + itoa(i%3)}
		for range 5 {
			if _, err := m.Reserve(ctx, subj, ep, windows); err != nil {
				t.Fatal(err)
			}
		}
		_ = m.Observe(ctx, subj, ep, Observation{Limit: new(10), Remaining: new(5), Reset: t0.Add(10 * time.Minute)})
		_ = m.Exhausted(ctx, subj, ep, ScopeUser, t0.Add(20*time.Minute))
	}
	if logs, reqs, reports, blocks := m.size(); logs != 103 || reqs != 1000 || reports != 100 || blocks != 100 {
		t.Fatalf("size = %d logs, %d requests, %d reports, %d blocks; want 103, 1000, 100, 100", logs, reqs, reports, blocks)
	}

	// After 20 minutes the user windows, reports and blocks are over; the
	// app windows still count every request for a day.
	clk.Set(t0.Add(20 * time.Minute))
	_, _ = m.Remaining(ctx, alice, ep, nil)
	if logs, reqs, reports, blocks := m.size(); logs != 3 || reqs != 500 || reports != 0 || blocks != 0 {
		t.Fatalf("after 20m: %d logs, %d requests, %d reports, %d blocks; want 3, 500, 0, 0", logs, reqs, reports, blocks)
	}
	clk.Set(t0.Add(24 * time.Hour))
	_, _ = m.Reserve(ctx, alice, ep, windows)
	if logs, reqs, _, _ := m.size(); logs != 2 || reqs != 2 {
		t.Fatalf("after a day: %d logs, %d requests; want only alice's 2", logs, reqs)
	}
}

// TestSlidingLogCompacts checks that a long-lived window does not keep every
// request it ever counted.
func TestSlidingLogCompacts(t *testing.T) {
	var l slidingLog
	now := t0
	for range 100_000 {
		l.trim(now, time.Minute)
		l.add(now)
		now = now.Add(time.Second)
	}
	if n := l.len(); n != 60 {
		t.Errorf("len = %d; want 60", n)
	}
	if len(l.at) > 200 {
		t.Errorf("backing slice holds %d entries for 60 counted", len(l.at))
	}
	l.trim(now.Add(30*time.Second), time.Minute)
	l.shrink()
	if cap(l.at) > 4*l.len()+64 {
		t.Errorf("cap %d after shrink for %d entries", cap(l.at), l.len())
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
