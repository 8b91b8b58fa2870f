package x

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/dryrun"
)

// countingLock counts the locks a process took through it.
type countingLock struct {
	RefreshLock
	taken atomic.Int64
}

func (c *countingLock) TryLock(ctx context.Context, account string) (func(), bool, error) {
	unlock, ok, err := c.RefreshLock.TryLock(ctx, account)
	if ok {
		c.taken.Add(1)
	}
	return unlock, ok, err
}

// lockedNode is one process's platform on the world's store, with lock.
func (w *world) lockedNode(lock RefreshLock, l *logs) *Platform {
	w.t.Helper()
	p, err := New(Options{
		BaseURL: w.url, Store: storeTokens{w.store, w.clk}, RefreshLock: lock, TokenKey: testKey, Clock: w.clk,
		Logger:  slog.New(slog.NewJSONHandler(l, nil)),
		Secrets: Resolver{LookupEnv: func(k string) (string, bool) { v, ok := w.env[k]; return v, ok }},
		DryRun:  dryrun.New(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if err := p.Configure(context.Background(), config(oauth2Account("brand", true))); err != nil {
		w.t.Fatal(err)
	}
	return p
}

// publishAll publishes one post from each node at once, and fails the
// test on any error.
func publishAll(t *testing.T, nodes []*Platform, round int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, p := range nodes {
		wg.Go(func() {
			_, errs[i] = p.Publish(context.Background(), post("brand", fmt.Sprintf("round %d node %d", round, i)), platform.Hooks{})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("round %d: node %d: %v", round, i, err)
		}
	}
}

// TestThreeNodesRefreshOncePerExpiry: three processes on one store and one
// Redis publish at once after each expiry of the access token (the first
// time through a 401, then before it expires): one refresh request
// reaches X per expiry, none is refused, every post goes out, and each
// process took the lock once per expiry.
func TestThreeNodesRefreshOncePerExpiry(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Open(t)
	w := refreshWorld(t)
	var nodes []*Platform
	var locks []*countingLock
	var all []*logs
	for range 3 {
		cl := &countingLock{RefreshLock: cluster.NewRefreshLock(c, prefix+"token:", time.Minute)}
		l := &logs{}
		locks, all = append(locks, cl), append(all, l)
		nodes = append(nodes, w.lockedNode(cl, l))
	}
	const expiries = 3
	for round := 1; round <= expiries; round++ {
		w.clk.Advance(2*time.Hour + time.Minute)
		publishAll(t, nodes, round)
		if got := w.tokenRequests(); got[http.StatusOK] != round || len(got) != 1 {
			t.Fatalf("after expiry %d, token requests by status: %v; want %d answered, none refused", round, got, round)
		}
		// The lock is held across the refresh only, not the publish.
		if n := c.Exists(context.Background(), prefix+"token:brand").Val(); n != 0 {
			t.Fatalf("after expiry %d the refresh lock is still held", round)
		}
	}
	for i, cl := range locks {
		if n := cl.taken.Load(); n != expiries {
			t.Errorf("node %d took the lock %d times, want once per expiry (%d)", i, n, expiries)
		}
	}
	adopted := 0
	for _, l := range all {
		adopted += len(l.find(t, "INFO", "using the token another process refreshed"))
	}
	if adopted != 2*expiries {
		t.Errorf("%d adoptions of another process's pair, want two per expiry (%d)", adopted, 2*expiries)
	}
	if got := len(w.fake.Posts()); got != 3*expiries {
		t.Errorf("%d posts at the fake, want %d", got, 3*expiries)
	}
}

// TestRedisDownFallsBackToTheStore: with a Redis that does not answer,
// the store's protocol alone still lets one refresh reach X per expiry,
// and each process warns once, not at every refresh.
func TestRedisDownFallsBackToTheStore(t *testing.T) {
	t.Parallel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { down.Close() })
	w := refreshWorld(t)
	var nodes []*Platform
	var all []*logs
	for range 3 {
		l := &logs{}
		all = append(all, l)
		nodes = append(nodes, w.lockedNode(cluster.NewRefreshLock(down, "herald:token:", 0), l))
	}
	for round := 1; round <= 2; round++ {
		w.clk.Advance(2*time.Hour + time.Minute)
		publishAll(t, nodes, round)
		if got := w.tokenRequests(); got[http.StatusOK] != round || len(got) != 1 {
			t.Fatalf("after expiry %d, token requests by status: %v; want %d answered, none refused", round, got, round)
		}
	}
	for i, l := range all {
		if n := len(l.find(t, "WARN", "the refresh lock does not answer")); n != 1 {
			t.Errorf("node %d warned %d times that the lock does not answer, want once", i, n)
		}
	}
}

// heldLock is a lock another process holds for good.
type heldLock struct{ tries atomic.Int64 }

func (h *heldLock) TryLock(context.Context, string) (func(), bool, error) {
	h.tries.Add(1)
	return nil, false, nil
}

// A lock another process keeps past the wait does not stop the refresh:
// the store's protocol goes on alone, and the lock was retried meanwhile.
func TestLockHeldPastTheWaitFallsBackToTheStore(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	a := w.newAuth(t)
	held := &heldLock{}
	a.lock, a.lockHealth, a.awaitMax = held, &lockHealth{}, 100*time.Millisecond
	w.clk.Advance(2*time.Hour + time.Minute)
	a.mu.Lock()
	err := a.refreshLocked(context.Background(), false)
	a.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if got := w.tokenRequests(); got[http.StatusOK] != 1 || len(got) != 1 {
		t.Errorf("token requests by status: %v, want one answered", got)
	}
	if n := held.tries.Load(); n < 2 {
		t.Errorf("the lock was tried %d times, want retries during the wait", n)
	}
}

func TestRefreshDue(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		tok  tokenState
		at   time.Duration // after t0
		want bool
	}{
		{"unknown expiry", tokenState{}, 10 * time.Hour, false},
		{"X's 2h token, an hour left", tokenState{IssuedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, time.Hour, false},
		{"X's 2h token, 59s left", tokenState{IssuedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}, 2*time.Hour - 59*time.Second, true},
		{"a stored token without IssuedAt: a minute", tokenState{ExpiresAt: t0.Add(2 * time.Hour)}, 2*time.Hour - 59*time.Second, true},
		{"8s token at 5s", tokenState{IssuedAt: t0, ExpiresAt: t0.Add(8 * time.Second)}, 5 * time.Second, false},
		{"8s token at 6.5s", tokenState{IssuedAt: t0, ExpiresAt: t0.Add(8 * time.Second)}, 6500 * time.Millisecond, true},
		{"expired", tokenState{IssuedAt: t0, ExpiresAt: t0.Add(8 * time.Second)}, 9 * time.Second, true},
	}
	for _, tt := range tests {
		if got := tt.tok.refreshDue(t0.Add(tt.at)); got != tt.want {
			t.Errorf("%s: refreshDue = %v, want %v", tt.name, got, tt.want)
		}
	}
}
