// Package limitertest is the conformance suite of ratelimit.Limiter: every
// implementation (Memory, Redis) runs the same cases, so that a cluster
// sharing its limits through Redis keeps exactly the semantics one node
// has alone.
package limitertest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x/ratelimit"
)

// New returns a new, empty Limiter reading time from c. Limiters returned
// by different calls must share nothing (for Redis: a key prefix each).
type New func(t *testing.T, c clock.Clock) ratelimit.Limiter

// Run runs the conformance suite against the Limiters newLimiter returns.
func Run(t *testing.T, newLimiter New) {
	t.Run("Steps", func(t *testing.T) { testSteps(t, newLimiter) })
	t.Run("Remaining", func(t *testing.T) { t.Parallel(); testRemaining(t, newLimiter) })
	t.Run("Errors", func(t *testing.T) { t.Parallel(); testErrors(t, newLimiter) })
	t.Run("Concurrent", func(t *testing.T) { t.Parallel(); testConcurrent(t, newLimiter) })
}

// T0 is the instant the suite's fake clocks start at.
var T0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const ep = ratelimit.EndpointCreatePost

var (
	alice = ratelimit.Subject{Account: "alice", App: "app1"}
	bob   = ratelimit.Subject{Account: "bob", App: "app1"}
	carol = ratelimit.Subject{Account: "carol", App: "app2"}
	solo  = ratelimit.Subject{Account: "solo"} // no app: no app-scope accounting
)

type op uint8

const (
	reserve op = iota
	observe
	exhausted
)

// step is one call at a clock offset from T0. A reserve step makes n calls
// (default 1) and wants each to answer ok; a refusal must also name the
// retry instant (an offset from T0) and the refusing window.
type step struct {
	at    time.Duration
	op    op
	subj  ratelimit.Subject // alice when zero
	ep    string            // ep when empty
	n     int
	ok    bool
	retry time.Duration
	by    ratelimit.Window
	obs   ratelimit.Observation
	scope ratelimit.Scope
	until time.Duration
}

func win(scope ratelimit.Scope, limit int, period time.Duration) ratelimit.Window {
	return ratelimit.Window{Endpoint: ep, Scope: scope, Limit: limit, Period: period}
}

func hdr(limit, remaining int, reset time.Duration) *ratelimit.Header {
	return &ratelimit.Header{Limit: new(limit), Remaining: new(remaining), Reset: T0.Add(reset)}
}

// ws is a WindowState.
func ws(w ratelimit.Window, remaining int, reset time.Time) ratelimit.WindowState {
	return ratelimit.WindowState{Window: w, Remaining: remaining, Reset: reset}
}

func testSteps(t *testing.T, newLimiter New) {
	for _, tt := range stepCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			clk := clock.NewFake(T0)
			m := newLimiter(t, clk)
			for i, s := range tt.steps {
				clk.Set(T0.Add(s.at))
				if s.subj == (ratelimit.Subject{}) {
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
					if err := m.Exhausted(ctx, s.subj, s.ep, s.scope, T0.Add(s.until)); err != nil {
						t.Fatalf("step %d: Exhausted: %v", i, err)
					}
				case reserve:
					for j := range max(s.n, 1) {
						r, err := m.Reserve(ctx, s.subj, s.ep, tt.windows)
						if err != nil {
							t.Fatalf("step %d.%d: Reserve: %v", i, j, err)
						}
						want := ratelimit.Reservation{OK: s.ok}
						if !s.ok {
							want.RetryAt, want.Window = T0.Add(s.retry), s.by
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

func testRemaining(t *testing.T, newLimiter New) {
	ctx := context.Background()
	clk := clock.NewFake(T0)
	m := newLimiter(t, clk)
	short, long, app := win(ratelimit.ScopeUser, 10, 15*time.Minute), win(ratelimit.ScopeUser, 100, 24*time.Hour), win(ratelimit.ScopeApp, 1000, 24*time.Hour)
	windows := []ratelimit.Window{short, long, app, {Endpoint: ratelimit.EndpointMe, Scope: ratelimit.ScopeUser, Limit: 5, Period: time.Minute}}
	state := func(subj ratelimit.Subject) []ratelimit.WindowState {
		t.Helper()
		st, err := m.Remaining(ctx, subj, ep, windows)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	check := func(name string, got, want []ratelimit.WindowState) {
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

	check("untouched", state(alice), []ratelimit.WindowState{ws(short, 10, time.Time{}), ws(long, 100, time.Time{}), ws(app, 1000, time.Time{})})
	for range 3 {
		if r, _ := m.Reserve(ctx, alice, ep, windows); !r.OK {
			t.Fatal("refused")
		}
	}
	clk.Advance(time.Minute)
	if r, _ := m.Reserve(ctx, bob, ep, windows); !r.OK {
		t.Fatal("refused")
	}
	check("after 3 of alice and 1 of bob", state(alice), []ratelimit.WindowState{
		ws(short, 7, T0.Add(15*time.Minute)), ws(long, 97, T0.Add(24*time.Hour)), ws(app, 996, T0.Add(24*time.Hour))})
	check("no app", state(solo), []ratelimit.WindowState{ws(short, 10, time.Time{}), ws(long, 100, time.Time{})})

	if err := m.Observe(ctx, alice, ep, ratelimit.Observation{Limit: new(10), Remaining: new(2), Reset: T0.Add(12 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	check("lowered by X", state(alice)[:1], []ratelimit.WindowState{ws(short, 2, T0.Add(12*time.Minute))})
	if err := m.Exhausted(ctx, alice, ep, ratelimit.ScopeUser, T0.Add(20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("blocked", state(alice)[:2], []ratelimit.WindowState{ws(short, 0, T0.Add(20*time.Minute)), ws(long, 0, T0.Add(20*time.Minute))})
	clk.Set(T0.Add(20 * time.Minute))
	check("after the block", state(alice)[:1], []ratelimit.WindowState{ws(short, 10, time.Time{})})
}

func testErrors(t *testing.T, newLimiter New) {
	ctx := context.Background()
	m := newLimiter(t, clock.NewFake(T0))
	good := []ratelimit.Window{win(ratelimit.ScopeUser, 1, time.Minute)}
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"zero limit", func() error {
			_, err := m.Reserve(ctx, alice, ep, []ratelimit.Window{win(ratelimit.ScopeUser, 0, time.Minute)})
			return err
		}, ratelimit.ErrInvalid},
		{"zero period", func() error {
			_, err := m.Reserve(ctx, alice, ep, []ratelimit.Window{win(ratelimit.ScopeUser, 1, 0)})
			return err
		}, ratelimit.ErrInvalid},
		{"bad scope", func() error {
			_, err := m.Reserve(ctx, alice, ep, []ratelimit.Window{win("org", 1, time.Minute)})
			return err
		}, ratelimit.ErrInvalid},
		{"empty account", func() error { _, err := m.Reserve(ctx, ratelimit.Subject{App: "a"}, ep, good); return err }, ratelimit.ErrInvalid},
		{"empty endpoint", func() error { _, err := m.Reserve(ctx, alice, "", good); return err }, ratelimit.ErrInvalid},
		{"remaining of a bad window", func() error {
			_, err := m.Remaining(ctx, alice, ep, []ratelimit.Window{win(ratelimit.ScopeUser, -1, time.Minute)})
			return err
		}, ratelimit.ErrInvalid},
		{"app block without an app", func() error { return m.Exhausted(ctx, solo, ep, ratelimit.ScopeApp, T0.Add(time.Hour)) }, ratelimit.ErrInvalid},
		{"block of a bad scope", func() error { return m.Exhausted(ctx, alice, ep, "org", T0.Add(time.Hour)) }, ratelimit.ErrInvalid},
		{"observe without an account", func() error { return m.Observe(ctx, ratelimit.Subject{}, ep, ratelimit.Observation{}) }, ratelimit.ErrInvalid},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v; want %v", tt.name, err, tt.want)
		}
	}
	// A bad window refuses the whole call: nothing was taken.
	mixed := append([]ratelimit.Window{win(ratelimit.ScopeUser, 1, time.Minute)}, win(ratelimit.ScopeUser, 0, time.Minute))
	if _, err := m.Reserve(ctx, bob, ep, mixed); !errors.Is(err, ratelimit.ErrInvalid) {
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

// testConcurrent races 32 goroutines for one user window and one app
// window shared by two accounts; run it with -race.
func testConcurrent(t *testing.T, newLimiter New) {
	ctx := context.Background()
	m := newLimiter(t, clock.NewFake(T0))
	windows := []ratelimit.Window{win(ratelimit.ScopeUser, 40, time.Minute), win(ratelimit.ScopeApp, 50, time.Hour)}
	var ok [2]atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 32 {
		wg.Go(func() {
			subj := []ratelimit.Subject{alice, bob}[g%2]
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
