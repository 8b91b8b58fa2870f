package actors

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/cluster"
	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/store"
)

// counts is an Observer of the fire path's counters, per node.
type counts struct {
	noObserver
	mu      sync.Mutex
	writes  int
	locks   map[FireLockResult]int
	trips   map[FireLockOp]int
	dropped map[string]int
}

func newCounts() *counts {
	return &counts{locks: map[FireLockResult]int{}, trips: map[FireLockOp]int{}, dropped: map[string]int{}}
}

func (c *counts) FireWrites(n int) { c.mu.Lock(); c.writes += n; c.mu.Unlock() }
func (c *counts) FireLocks(r FireLockResult, n int) {
	c.mu.Lock()
	c.locks[r] += n
	c.mu.Unlock()
}
func (c *counts) FireLockRoundTrip(op FireLockOp) { c.mu.Lock(); c.trips[op]++; c.mu.Unlock() }
func (c *counts) FireDropped(_, reason string)    { c.mu.Lock(); c.dropped[reason]++; c.mu.Unlock() }

func (c *counts) get(f func(*counts) int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return f(c)
}

// burstYAML is n schedules firing every minute: a burst of n fires.
func burstYAML(n int) string {
	var b strings.Builder
	b.WriteString("accounts:\n  brand: {platform: x}\nschedules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: s%02d, account: brand, cron: \"* * * * *\", post: {text: \"post %d {{ .Run }}\"}}\n", i, i)
	}
	return b.String()
}

// lockedNodes starts one runtime per node on h's store, each with the fire
// locks newLocks gives it, applies a burst of n schedules and returns the
// nodes' counters.
func lockedNodes(t *testing.T, h *harness, n int, newLocks func(node string) FireLocks, nodes ...string) []*counts {
	t.Helper()
	cfg := h.load(burstYAML(n))
	var cs []*counts
	for _, node := range nodes {
		c := newCounts()
		cs = append(cs, c)
		h.tune = func(o *Options) { o.FireLocks, o.Observer = newLocks(node), c }
		if _, err := h.runtime(node).Apply(context.Background(), cfg, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return cs
}

func (h *harness) allJobs(n int) []store.Job {
	var all []store.Job
	for i := range n {
		all = append(all, h.jobs(fmt.Sprintf("s%02d", i))...)
	}
	return all
}

// Two nodes, one burst: each fire is written once in all (by the node that
// won its lock), and each node pays one round trip to take the burst's
// locks, and the winner one to mark them; the loser's check finds them
// written and writes nothing.
func TestFireLocksOneWritePerFire(t *testing.T) {
	const n = 20
	client, prefix := redistest.Open(t)
	h := newHarness(t)
	h.heapTimers = true // a burst reaches the recorder as one batch
	cs := lockedNodes(t, h, n, func(node string) FireLocks { return cluster.NewFireLocks(client, prefix, node, 0) }, "node-a", "node-b")
	fireAt := t0.Add(time.Minute)
	h.eventually("both nodes armed", func() bool { return h.clock.ArmedAt(fireAt) })
	h.clock.Set(fireAt)
	h.eventually("every fire decided on both nodes", func() bool {
		return cs[0].get(func(c *counts) int { return c.locks[FireLockWon] + c.locks[FireLockLost] })+
			cs[1].get(func(c *counts) int { return c.locks[FireLockWon] + c.locks[FireLockLost] }) == 2*n
	})
	h.eventually("the winners marked their fires written", func() bool {
		for _, c := range cs {
			if c.get(func(c *counts) int { return min(c.locks[FireLockWon], 1) - c.trips[OpFireDone] }) != 0 {
				return false
			}
		}
		return true
	})
	// The losers check after FireVerifyDelay.
	h.advanceTo(fireAt.Add(FireVerifyDelay))
	h.eventually("the losers checked", func() bool {
		verified := 0
		for _, c := range cs {
			if c.get(func(c *counts) int { return c.locks[FireLockLost] }) > 0 {
				verified += c.get(func(c *counts) int { return c.trips[OpFireVerify] })
			} else {
				verified++
			}
		}
		return verified == len(cs)
	})
	writes, won, lost := 0, 0, 0
	for i, c := range cs {
		c.mu.Lock()
		writes, won, lost = writes+c.writes, won+c.locks[FireLockWon], lost+c.locks[FireLockLost]
		if c.trips[OpFireLock] != 1 {
			t.Errorf("node %d: %d lock round trips for one burst, want 1", i, c.trips[OpFireLock])
		}
		if c.locks[FireLockWon] > 0 && c.trips[OpFireDone] != 1 {
			t.Errorf("node %d: %d mark round trips for one burst, want 1", i, c.trips[OpFireDone])
		}
		if c.locks[FireLockError] != 0 {
			t.Errorf("node %d: %d lock errors", i, c.locks[FireLockError])
		}
		c.mu.Unlock()
	}
	if writes != n || won != n || lost != n {
		t.Fatalf("writes %d, won %d, lost %d for %d fires on two nodes; want %d each", writes, won, lost, n, n)
	}
	if jobs := h.allJobs(n); len(jobs) != n {
		t.Fatalf("%d jobs for %d fires", len(jobs), n)
	}
	t.Logf("store writes per fire: %.2f; lock round trips per burst per node: 1", float64(writes)/n)
}

// A winner that took the locks and died before writing: the loser writes
// those fires after FireVerifyDelay, and only those (a fire its winner
// marked written is not written again).
func TestFireLocksWinnerDiesBeforeWriting(t *testing.T) {
	const n = 10
	client, prefix := redistest.Open(t)
	h := newHarness(t)
	h.heapTimers = true
	fireAt := t0.Add(time.Minute)
	ctx := context.Background()
	// The dead node won every fire and marked the first four written
	// (their rows are not needed: the mark is what the loser trusts).
	for i := range n {
		v := "node-dead"
		if i < 4 {
			v = "done"
		}
		if err := client.Set(ctx, prefix+"fire:"+FireName(fmt.Sprintf("s%02d", i), fireAt), v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cs := lockedNodes(t, h, n, func(node string) FireLocks { return cluster.NewFireLocks(client, prefix, node, 0) }, "node-b")
	c := cs[0]
	h.advanceTo(fireAt)
	h.eventually("the burst lost", func() bool { return c.get(func(c *counts) int { return c.locks[FireLockLost] }) == n })
	if jobs := h.allJobs(n); len(jobs) != 0 {
		t.Fatalf("%d jobs written before the check", len(jobs))
	}
	h.advanceTo(fireAt.Add(FireVerifyDelay))
	h.eventually("the unmarked fires written", func() bool { return len(h.allJobs(n)) == n-4 })
	for i := range 4 {
		if jobs := h.jobs(fmt.Sprintf("s%02d", i)); len(jobs) != 0 {
			t.Errorf("s%02d, marked written by its winner, was written again", i)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writes != n-4 || c.trips[OpFireVerify] != 1 || c.trips[OpFireLock] != 1 {
		t.Fatalf("writes %d, verify round trips %d, lock round trips %d; want %d, 1, 1", c.writes, c.trips[OpFireVerify], c.trips[OpFireLock], n-4)
	}
}

// Redis unreachable: every node writes every fire (the store's unique key
// dedupes), and nothing is lost.
func TestFireLocksRedisUnreachable(t *testing.T) {
	const n = 10
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { client.Close() })
	h := newHarness(t)
	h.heapTimers = true
	cs := lockedNodes(t, h, n, func(node string) FireLocks { return cluster.NewFireLocks(client, "x:", node, 0) }, "node-a", "node-b")
	fireAt := t0.Add(time.Minute)
	h.eventually("both nodes armed", func() bool { return h.clock.ArmedAt(fireAt) })
	h.clock.Set(fireAt)
	for i, c := range cs {
		h.eventually(fmt.Sprintf("node %d wrote the burst", i), func() bool { return c.get(func(c *counts) int { return c.writes }) == n })
		c.mu.Lock()
		if c.locks[FireLockError] != n || c.locks[FireLockWon]+c.locks[FireLockLost] != 0 {
			t.Errorf("node %d: locks %v, want %d errors", i, c.locks, n)
		}
		// However the burst was batched, the locks were asked once: after
		// a failure a node writes without them for fireLockPause.
		if c.trips[OpFireLock] != 1 {
			t.Errorf("node %d: %d lock round trips for the burst, want 1", i, c.trips[OpFireLock])
		}
		c.mu.Unlock()
	}
	jobs := h.allJobs(n)
	if len(jobs) != n {
		t.Fatalf("%d jobs for %d fires", len(jobs), n)
	}
	// The next minute's burst, past the pause, asks the locks again.
	h.eventually("both nodes armed again", func() bool { return h.clock.ArmedAt(fireAt.Add(time.Minute)) })
	h.clock.Set(fireAt.Add(time.Minute))
	for i, c := range cs {
		h.eventually(fmt.Sprintf("node %d wrote the second burst", i), func() bool { return c.get(func(c *counts) int { return c.writes }) == 2*n })
		if got := c.get(func(c *counts) int { return c.trips[OpFireLock] }); got != 2 {
			t.Errorf("node %d: %d lock round trips after the second burst, want 2", i, got)
		}
	}
	for _, j := range jobs {
		if j.Attempt > 1 {
			t.Errorf("job %d of %s claimed %d times", j.ID, j.ScheduleID, j.Attempt)
		}
	}
}

// failingLocks are fire locks that never answer, counting the calls.
type failingLocks struct{ acquires atomic.Int64 }

func (f *failingLocks) Acquire(context.Context, []string) ([]bool, error) {
	f.acquires.Add(1)
	return nil, errors.New("redis: i/o timeout")
}
func (f *failingLocks) MarkWritten(context.Context, []string) error {
	return errors.New("redis: i/o timeout")
}
func (f *failingLocks) Written(context.Context, []string) ([]bool, error) {
	return nil, errors.New("redis: i/o timeout")
}

// After the locks fail, a node writes without asking them for
// fireLockPause (a paused Redis would cost every batch its timeout), then
// asks again on its own.
func TestFireLocksPauseAfterFailure(t *testing.T) {
	locks := &failingLocks{}
	h := newHarness(t)
	h.tune = func(o *Options) { o.FireLocks = locks }
	rt := h.runtime("node-a")
	jobs := []store.NewJob{{ScheduleID: "s", PlannedAt: t0}}
	for _, step := range []struct {
		advance time.Duration
		asks    int64
	}{{0, 1}, {time.Second, 1}, {fireLockPause - time.Second - time.Nanosecond, 1}, {time.Nanosecond, 2}, {0, 2}} {
		h.clock.Advance(step.advance)
		_, fires := rt.recorder.lock(context.Background(), jobs)
		if len(fires) != 1 || fires[0].won {
			t.Fatalf("at %v: fires %+v, want the fire written without a lock", h.clock.Now(), fires)
		}
		if got := locks.acquires.Load(); got != step.asks {
			t.Fatalf("at %v: the locks were asked %d times, want %d", h.clock.Now().Sub(t0), got, step.asks)
		}
	}
}
