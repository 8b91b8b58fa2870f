package ratelimit_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/platform/x/ratelimit/limitertest"
)

var (
	t0    = limitertest.T0
	alice = ratelimit.Subject{Account: "alice", App: "app1"}
	bob   = ratelimit.Subject{Account: "bob", App: "app1"}
)

const ep = ratelimit.EndpointCreatePost

func win(scope ratelimit.Scope, limit int, period time.Duration) ratelimit.Window {
	return ratelimit.Window{Endpoint: ep, Scope: scope, Limit: limit, Period: period}
}

func TestRedisConformance(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, c clock.Clock) ratelimit.Limiter {
		client, prefix := redistest.Open(t)
		return ratelimit.NewRedis(client, prefix+"rl:", c)
	})
}

// twoNodes returns two Redis limiters with their own clients sharing one
// prefix, as two nodes of a cluster, on one fake clock.
func twoNodes(t *testing.T) (a, b *ratelimit.Redis, clk *clock.Fake, prefix string) {
	t.Helper()
	ca, prefix := redistest.Open(t)
	cb, _ := redistest.Open(t)
	clk = clock.NewFake(t0)
	return ratelimit.NewRedis(ca, prefix+"rl:", clk), ratelimit.NewRedis(cb, prefix+"rl:", clk), clk, prefix
}

// TestRedisNodesShareWindows races goroutines of two nodes for one user
// window and one app window: together they take exactly the limits.
func TestRedisNodesShareWindows(t *testing.T) {
	t.Parallel()
	a, b, _, _ := twoNodes(t)
	ctx := context.Background()
	windows := []ratelimit.Window{win(ratelimit.ScopeUser, 30, time.Minute), win(ratelimit.ScopeApp, 45, time.Hour)}
	var taken [2]atomic.Int64 // alice, bob
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := range 16 {
		wg.Go(func() {
			node := []*ratelimit.Redis{a, b}[g%2]
			who := (g / 2) % 2
			subj := []ratelimit.Subject{alice, bob}[who]
			<-start
			for range 10 {
				r, err := node.Reserve(ctx, subj, ep, windows)
				if err != nil {
					t.Error(err)
					return
				}
				if r.OK {
					taken[who].Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if x, y := taken[0].Load(), taken[1].Load(); x > 30 || y > 30 || x+y != 45 {
		t.Errorf("taken alice %d, bob %d; want each at most 30 and 45 in all", x, y)
	}
}

func TestRedisNodesShareReportsAndBlocks(t *testing.T) {
	t.Parallel()
	a, b, clk, _ := twoNodes(t)
	ctx := context.Background()
	windows := []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)}
	reserve := func(l ratelimit.Limiter, subj ratelimit.Subject) ratelimit.Reservation {
		t.Helper()
		r, err := l.Reserve(ctx, subj, ep, windows)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	// X's headers seen by a hold b back.
	if err := a.Observe(ctx, alice, ep, ratelimit.Observation{Limit: new(100), Remaining: new(1), Reset: t0.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if r := reserve(b, alice); !r.OK {
		t.Fatalf("b's first reserve after a report of 1 remaining: %+v", r)
	}
	if r := reserve(a, alice); r.OK || !r.RetryAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("a after b took the last one X reported: %+v; want refused until +5m", r)
	}

	// A 429 seen by b blocks the app on a.
	if err := b.Exhausted(ctx, bob, ep, ratelimit.ScopeApp, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	want := ratelimit.Window{Endpoint: ep, Scope: ratelimit.ScopeApp}
	if r := reserve(a, alice); r.OK || !r.RetryAt.Equal(t0.Add(10*time.Minute)) || r.Window != want {
		t.Fatalf("a after b's app block: %+v; want refused until +10m by %v", r, want)
	}
	st, err := a.Remaining(ctx, bob, ep, []ratelimit.Window{win(ratelimit.ScopeApp, 1000, 24*time.Hour)})
	if err != nil || len(st) != 1 || st[0].Remaining != 0 {
		t.Fatalf("a's Remaining of bob during b's block: %+v, %v", st, err)
	}
	clk.Set(t0.Add(10 * time.Minute))
	if r := reserve(a, bob); !r.OK {
		t.Fatalf("after the block: %+v", r)
	}
}

// TestRedisKeys checks that every key is under the prefix and expires.
func TestRedisKeys(t *testing.T) {
	t.Parallel()
	client, prefix := redistest.Open(t)
	ctx := context.Background()
	l := ratelimit.NewRedis(client, prefix+"rl:", clock.NewFake(t0))
	windows := []ratelimit.Window{win(ratelimit.ScopeUser, 10, 15*time.Minute), win(ratelimit.ScopeApp, 100, 24*time.Hour)}
	if _, err := l.Reserve(ctx, alice, ep, windows); err != nil {
		t.Fatal(err)
	}
	obs := ratelimit.Observation{Limit: new(100), Remaining: new(50), Reset: t0.Add(10 * time.Minute),
		App24h: &ratelimit.Header{Remaining: new(9), Reset: t0.Add(time.Hour)}}
	if err := l.Observe(ctx, alice, ep, obs); err != nil {
		t.Fatal(err)
	}
	if err := l.Exhausted(ctx, alice, ep, ratelimit.ScopeUser, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	keys, err := client.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 5 { // 2 logs, 2 reports, 1 block
		t.Fatalf("keys = %v; want 5", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix+"rl:") {
			t.Errorf("key %s is not under the prefix", k)
		}
		if ttl := client.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %s has no expiry (%v)", k, ttl)
		}
	}
}
