package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/platform/x/ratelimit/limitertest"
)

// switchable returns a client of the test Redis that fails every call
// while down is set (new connections and pooled ones alike), and a key
// prefix of the test's own.
func switchable(t *testing.T, down *atomic.Bool) (*redis.Client, string) {
	t.Helper()
	_, prefix := redistest.Open(t) // skips or fails without a Redis; cleans the prefix
	return switchableClient(t, down), prefix
}

func switchableClient(t *testing.T, down *atomic.Bool) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxRetries, opts.DialerRetries = -1, 1
	opts.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if down.Load() {
			return nil, errDown
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		return &flakyConn{Conn: c, down: down}, err
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

var errDown = errors.New("redis is down (test)")

// flakyConn fails reads and writes while down is set.
type flakyConn struct {
	net.Conn
	down *atomic.Bool
}

func (c *flakyConn) Read(b []byte) (int, error) {
	if c.down.Load() {
		return 0, errDown
	}
	return c.Conn.Read(b)
}

func (c *flakyConn) Write(b []byte) (int, error) {
	if c.down.Load() {
		return 0, errDown
	}
	return c.Conn.Write(b)
}

func TestSharedConformance(t *testing.T) {
	t.Run("redis up", func(t *testing.T) {
		limitertest.Run(t, func(t *testing.T, c clock.Clock) ratelimit.Limiter {
			client, prefix := redistest.Open(t)
			return ratelimit.NewShared(ratelimit.SharedOptions{Redis: ratelimit.NewRedis(client, prefix+"rl:", c), Clock: c})
		})
	})
	// One node without Redis is exactly Memory.
	t.Run("redis down, one node", func(t *testing.T) {
		limitertest.Run(t, func(t *testing.T, c clock.Clock) ratelimit.Limiter {
			var down atomic.Bool
			down.Store(true)
			client, prefix := switchable(t, &down)
			return ratelimit.NewShared(ratelimit.SharedOptions{Redis: ratelimit.NewRedis(client, prefix+"rl:", c), Clock: c})
		})
	})
}

// cluster is n Shared limiters ("nodes") over one switchable Redis.
type cluster struct {
	nodes []*ratelimit.Shared
	down  *atomic.Bool
	clk   *clock.Fake
	logs  *bytes.Buffer
	// plain reads the shared windows directly.
	plain *ratelimit.Redis
}

func newCluster(t *testing.T, n int) *cluster {
	t.Helper()
	c := &cluster{down: new(atomic.Bool), clk: clock.NewFake(t0), logs: new(bytes.Buffer)}
	logger := slog.New(slog.NewTextHandler(&syncWriter{w: c.logs}, nil))
	client, prefix := switchable(t, c.down)
	c.plain = ratelimit.NewRedis(client, prefix+"rl:", c.clk)
	for range n {
		client := switchableClient(t, c.down) // a node's own connections
		c.nodes = append(c.nodes, ratelimit.NewShared(ratelimit.SharedOptions{Redis: ratelimit.NewRedis(client, prefix+"rl:", c.clk),
			Clock: c.clk, Share: func() int { return n }, Logger: logger, Retry: time.Second}))
	}
	return c
}

// take reserves for subj on node until refused (at most 100), and returns
// how many it took and the refusal.
func (c *cluster) take(t *testing.T, node int, subj ratelimit.Subject, ws []ratelimit.Window) (int, ratelimit.Reservation) {
	t.Helper()
	for n := range 100 {
		r, err := c.nodes[node].Reserve(context.Background(), subj, ep, ws)
		if err != nil {
			t.Fatalf("node %d: %v", node, err)
		}
		if !r.OK {
			return n, r
		}
	}
	t.Fatalf("node %d took 100 without a refusal", node)
	return 0, ratelimit.Reservation{}
}

// TestSharedFallbackShares checks that, Redis down, each of 3 nodes takes
// its share of each window and no more, counting what it took through
// Redis before; that a window smaller than the nodes lets none send; and
// that Redis, back, is used again and holds what the nodes took without it.
func TestSharedFallbackShares(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCluster(t, 3)
	user := []ratelimit.Window{win(ratelimit.ScopeUser, 10, time.Minute)}

	// Node 0 takes 2 through Redis; then Redis goes away.
	for range 2 {
		if r, err := c.nodes[0].Reserve(ctx, alice, ep, user); err != nil || !r.OK {
			t.Fatalf("through redis: %+v, %v", r, err)
		}
	}
	c.down.Store(true)
	// Each node's share is floor(10/3) = 3; node 0 already sent 2 of it.
	for i, want := range []int{1, 3, 3} {
		n, r := c.take(t, i, alice, user)
		if n != want || r.Window != user[0] || !r.RetryAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("node %d, redis down: took %d, then %+v; want %d, then refused until +1m by %v", i, n, r, want, user[0])
		}
		if !c.nodes[i].Degraded() {
			t.Errorf("node %d is not degraded", i)
		}
	}
	// A window of 1 among 3 nodes: no node's share allows a request.
	one := []ratelimit.Window{win(ratelimit.ScopeApp, 1, time.Hour)}
	for i := range c.nodes {
		if n, r := c.take(t, i, bob, one); n != 0 || r.Window != one[0] || !r.RetryAt.After(t0) {
			t.Errorf("node %d, share 0: took %d, then %+v", i, n, r)
		}
	}
	if got := strings.Count(c.logs.String(), "redis failed"); got != 3 {
		t.Errorf("%d fallback logs; want one per node:\n%s", got, c.logs)
	}

	// Redis is back: not tried before Retry has passed, then used again.
	// Each node writes there, at its next call, what it took without it.
	c.down.Store(false)
	if _, r := c.take(t, 1, alice, user); !c.nodes[1].Degraded() || r.OK {
		t.Fatal("node 1 tried redis before its retry instant")
	}
	c.clk.Advance(time.Second)
	for i := range c.nodes {
		if _, err := c.nodes[i].Remaining(ctx, alice, ep, user); err != nil || c.nodes[i].Degraded() {
			t.Fatalf("node %d, redis back: %v, degraded %v", i, err, c.nodes[i].Degraded())
		}
	}
	// Redis holds 9: the 2 it saw and the 7 taken without it.
	st, err := c.plain.Remaining(ctx, alice, ep, user)
	if err != nil || len(st) != 1 || st[0].Remaining != 1 {
		t.Errorf("redis's window after the return: %+v, %v; want 1 remaining", st, err)
	}
	for i, want := range []int{1, 0, 0} {
		if n, r := c.take(t, i, alice, user); n != want || !r.RetryAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("node %d, redis back: took %d, then %+v; want %d", i, n, r, want)
		}
	}
	if got := strings.Count(c.logs.String(), "redis answers again"); got != 3 {
		t.Errorf("%d return logs; want one per node:\n%s", got, c.logs)
	}
}

// TestSharedFallbackHears checks that X's headers and 429s seen while Redis
// was up hold the fallback: remaining counts divided among the nodes.
func TestSharedFallbackHears(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCluster(t, 2)
	user := []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)}
	if err := c.nodes[0].Observe(ctx, alice, ep, ratelimit.Observation{Limit: new(100), Remaining: new(7), Reset: t0.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := c.nodes[1].Exhausted(ctx, bob, ep, ratelimit.ScopeUser, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	c.down.Store(true)
	if n, r := c.take(t, 0, alice, user); n != 3 || !r.RetryAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("node 0 after X said 7 left: took %d, then %+v; want 3 (7/2), then refused until +5m", n, r)
	}
	if n, r := c.take(t, 1, bob, user); n != 0 || !r.RetryAt.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("node 1 after a 429: took %d, then %+v; want refused until +10m", n, r)
	}
	st, err := c.nodes[1].Remaining(ctx, alice, ep, user)
	if err != nil || len(st) != 1 || st[0].Window != user[0] || st[0].Remaining != 50 {
		t.Errorf("node 1's Remaining while degraded: %+v, %v; want its share, 50 of 100", st, err)
	}
}

// syncWriter serializes writes of concurrent loggers.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (w *syncWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// TestSharedActiveFilter: a node reports as active only what it used
// within the windows: its own requests (user and app scope), X's headers
// and blocks; nothing of other subjects or endpoints, nor once the
// windows are over.
func TestSharedActiveFilter(t *testing.T) {
	c := newCluster(t, 2)
	ctx := context.Background()
	alice := ratelimit.Subject{Account: "alice", App: "app-1"}
	bob := ratelimit.Subject{Account: "bob", App: "app-1"}
	carol := ratelimit.Subject{Account: "carol", App: "app-2"}
	ws := []ratelimit.Window{{Endpoint: ep, Scope: ratelimit.ScopeUser, Limit: 5, Period: time.Minute},
		{Endpoint: ep, Scope: ratelimit.ScopeApp, Limit: 50, Period: time.Hour}}
	if c.nodes[0].ActiveFilter()(alice, ep) {
		t.Fatal("alice active before any request")
	}
	if _, err := c.nodes[0].Reserve(ctx, alice, ep, ws); err != nil {
		t.Fatal(err)
	}
	remaining := 7
	if err := c.nodes[0].Observe(ctx, carol, "other", ratelimit.Observation{Remaining: &remaining, Reset: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		node     int
		subj     ratelimit.Subject
		endpoint string
		want     bool
	}{
		{0, alice, ep, true},
		{0, bob, ep, true}, // the app window alice's request counts in
		{0, alice, "other", false},
		{0, carol, "other", true}, // X's headers
		{0, carol, ep, false},
		{1, alice, ep, false}, // another node's request: read from there
	} {
		if got := c.nodes[tc.node].ActiveFilter()(tc.subj, tc.endpoint); got != tc.want {
			t.Errorf("node %d: active(%s, %s) = %v, want %v", tc.node, tc.subj.Account, tc.endpoint, got, tc.want)
		}
	}
	c.clk.Advance(time.Hour)
	if f := c.nodes[0].ActiveFilter(); f(alice, ep) || f(bob, ep) || f(carol, "other") {
		t.Error("still active once every window is over")
	}
}

// tripCounter counts a client's round trips that run scripts (a new
// connection's handshake is not counted).
type tripCounter struct{ n atomic.Int64 }

func scripts(cmds ...redis.Cmder) bool {
	for _, c := range cmds {
		if strings.HasPrefix(c.Name(), "eval") {
			return true
		}
	}
	return false
}

func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if scripts(cmd) {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if scripts(cmds...) {
			c.n.Add(1)
		}
		return next(ctx, cmds)
	}
}

// TestSharedHeadersRideWithTheNextRequest: X's headers heard by a node
// cost no round trip of their own when the node asks Redis again soon:
// they go with its next Reserve, and hold for every node from then on;
// alone, they reach Redis within observeDelay.
func TestSharedHeadersRideWithTheNextRequest(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.Open(t)
	trips := &tripCounter{}
	client.AddHook(trips)
	clk := clock.NewFake(t0)
	nodes := make([]*ratelimit.Shared, 2)
	for i := range nodes {
		nodes[i] = ratelimit.NewShared(ratelimit.SharedOptions{Redis: ratelimit.NewRedis(client, prefix+"rl:", clk), Clock: clk,
			Share: func() int { return 2 }})
	}
	user := []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)}
	if r, err := nodes[0].Reserve(ctx, alice, ep, user); err != nil || !r.OK {
		t.Fatalf("first reserve: %+v, %v", r, err)
	}
	before := trips.n.Load()
	// X says the account has 1 request left (another app used it).
	if err := nodes[0].Observe(ctx, alice, ep, ratelimit.Observation{Limit: new(100), Remaining: new(1), Reset: t0.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if r, err := nodes[0].Reserve(ctx, alice, ep, user); err != nil || !r.OK {
		t.Fatalf("the last request X allows: %+v, %v", r, err)
	}
	if got := trips.n.Load() - before; got != 1 {
		t.Errorf("an answer's headers and the next reserve took %d round trips, want 1", got)
	}
	if r, err := nodes[1].Reserve(ctx, alice, ep, user); err != nil || r.OK || !r.RetryAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("the other node after X said 1 left and it was taken: %+v, %v; want refused until +5m", r, err)
	}
	// Alone, the headers reach Redis when observeDelay has passed.
	if err := nodes[0].Observe(ctx, bob, ep, ratelimit.Observation{Limit: new(100), Remaining: new(0), Reset: t0.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(20 * time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := nodes[1].Reserve(ctx, bob, ep, user)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other node never saw X's headers for bob")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSharedHeadersAfterRedisForgotTheScripts: a Redis restarted (its
// scripts gone) still records the headers and the request sent together.
func TestSharedHeadersAfterRedisForgotTheScripts(t *testing.T) {
	ctx := context.Background()
	client, prefix := redistest.Open(t)
	clk := clock.NewFake(t0)
	a := ratelimit.NewShared(ratelimit.SharedOptions{Redis: ratelimit.NewRedis(client, prefix+"rl:", clk), Clock: clk, Share: func() int { return 2 }})
	b := ratelimit.NewShared(ratelimit.SharedOptions{Redis: ratelimit.NewRedis(client, prefix+"rl:", clk), Clock: clk, Share: func() int { return 2 }})
	user := []ratelimit.Window{win(ratelimit.ScopeUser, 100, 15*time.Minute)}
	if err := a.Observe(ctx, alice, ep, ratelimit.Observation{Limit: new(100), Remaining: new(2), Reset: t0.Add(5 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := client.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if r, err := a.Reserve(ctx, alice, ep, user); err != nil || !r.OK {
		t.Fatalf("reserve after the scripts were flushed: %+v, %v", r, err)
	}
	if n, r := takeAll(t, b, alice, user); n != 1 || !r.RetryAt.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("the other node took %d, then %+v; want 1 (X said 2 left, one was taken), then refused until +5m", n, r)
	}
}

// takeAll reserves for subj on l until refused (at most 100).
func takeAll(t *testing.T, l ratelimit.Limiter, subj ratelimit.Subject, ws []ratelimit.Window) (int, ratelimit.Reservation) {
	t.Helper()
	for n := range 100 {
		r, err := l.Reserve(context.Background(), subj, ep, ws)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK {
			return n, r
		}
	}
	t.Fatal("took 100 without a refusal")
	return 0, ratelimit.Reservation{}
}
