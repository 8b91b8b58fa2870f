package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestClusterChaos is the proof that a cluster keeps Herald's promise:
// three `herald serve` processes share one Postgres schema and one Redis
// prefix, each reaching both through a fault proxy of its own, and publish
// to `herald fake-x` schedules that fire every second or few. While they
// fire, the test kill -9s a node every few seconds and starts it again,
// makes Redis unreachable from every node for a few seconds, and cuts one
// node from Postgres and Redis (reset or blackhole) for longer, checking
// /readyz all along: 503 on the cut node, 200 with Redis "degraded" during
// the Redis outage. Then it stops the nodes and holds every fire planned
// while a node was up to the promise: one job, succeeded, and its posts at
// X exactly once (see checkClusterFires).
//
// HERALD_CHAOS_SEED replays a plan; HERALD_CHAOS_DURATION,
// HERALD_CHAOS_SCHEDULES and HERALD_CHAOS_DIR scale and keep it (make
// chaos).
func TestClusterChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs three herald serve and a fake X for a minute and a half")
	}
	t.Parallel()
	cfg := chaosConfigFromEnv(t)
	plan, err := newChaosPlan(cfg)
	if err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	t.Logf("cluster chaos, replay with: %s go test -race -count=1 -run 'TestClusterChaos$' -v ./cmd/herald/\n%s", cfg, plan.describe())
	dir := cfg.Dir
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfgDir := filepath.Join(dir, "schedules")
	if err := os.MkdirAll(cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(cfgDir, "dot.png"))
	writeAtomically(t, filepath.Join(cfgDir, "plan.yaml"), plan.sched.yaml(plan.versions(), true))

	c := newTestCluster(t, dir, 3, plan.sched.env(), append([]string{"--config", cfgDir}, clusterServeFlags...)...)
	r := &chaosRun{t: t, cfg: cfg, plan: plan, c: c}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with %s (folder %s; set HERALD_CHAOS_DIR to keep it)\nwhat the harness did:\n%s", cfg, dir, r.journal())
		}
	})
	began := time.Now()
	c.startAll(plan.sched.fakeUsers()...)
	r.play()
	lo, hi := c.firstStarted().Add(2*time.Second), time.Now().Add(-2*time.Second)
	r.drain(hi)
	c.stopAll()
	var posts []fakePost
	c.fake.getJSON(t, "/_fake/posts", &posts)
	if code := c.fake.stop(t); code != exitOK {
		t.Errorf("fake-x exited %d after SIGTERM", code)
	}
	jobs := c.allJobs()
	res := checkClusterFires(plan.sched, lo, hi, jobs, posts)
	if len(res.findings) > 0 {
		t.Error(r.report(res, jobs, posts))
	}
	t.Logf("%s in %s: %s", cfg, time.Since(began).Round(time.Second), r.stats(res, jobs))
}

// clusterServeFlags are short timings, so that faults resolve within the
// run: a lease ends 16s after its node lost the store.
var clusterServeFlags = []string{
	"--publishers", "4", "--poll-interval", "1s", "--lease", "16s", "--request-timeout", "2s",
	"--media-budget", "8s", "--timeline-lag", "2s", "--grace", "5s",
}

// chaosConfig is what one run of TestClusterChaos does; every random
// choice of the plan comes from Seed.
type chaosConfig struct {
	Seed      uint64
	Duration  time.Duration // the firing window
	Schedules int
	Dir       string
}

const defaultChaosSeed = 1

func chaosConfigFromEnv(t *testing.T) chaosConfig {
	t.Helper()
	c := chaosConfig{Seed: defaultChaosSeed, Duration: 60 * time.Second, Schedules: 4, Dir: os.Getenv("HERALD_CHAOS_DIR")}
	if v := os.Getenv("HERALD_CHAOS_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("HERALD_CHAOS_SEED=%q: want an unsigned integer", v)
		}
		c.Seed = n
	}
	if v := os.Getenv("HERALD_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 40*time.Second {
			t.Fatalf("HERALD_CHAOS_DURATION=%q: want a Go duration of at least 40s", v)
		}
		c.Duration = d
	}
	if v := os.Getenv("HERALD_CHAOS_SCHEDULES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			t.Fatalf("HERALD_CHAOS_SCHEDULES=%q: want an integer from 1 to 200", v)
		}
		c.Schedules = n
	}
	return c
}

func (c chaosConfig) String() string {
	return fmt.Sprintf("HERALD_CHAOS_SEED=%d HERALD_CHAOS_DURATION=%s HERALD_CHAOS_SCHEDULES=%d", c.Seed, c.Duration, c.Schedules)
}

type chaosKind int

const (
	chaosKill       chaosKind = iota // kill -9 Node, start it again For later
	chaosRedisPause                  // blackhole every node's Redis for For
	chaosCut                         // cut Node from Postgres and Redis for For
)

// chaosAction is one step of the timeline, At after the nodes started.
type chaosAction struct {
	At        time.Duration
	Kind      chaosKind
	Node      int // index into the cluster's nodes
	For       time.Duration
	Blackhole bool // a cut that hangs the node's connections instead of resetting them
}

func (a chaosAction) String() string {
	switch a.Kind {
	case chaosKill:
		return fmt.Sprintf("at %6.2fs: kill -9 node%d, down %.2fs", a.At.Seconds(), a.Node+1, a.For.Seconds())
	case chaosRedisPause:
		return fmt.Sprintf("at %6.2fs: Redis unreachable from every node for %.2fs", a.At.Seconds(), a.For.Seconds())
	}
	how := "reset"
	if a.Blackhole {
		how = "blackholed"
	}
	return fmt.Sprintf("at %6.2fs: node%d cut from Postgres and Redis (%s) for %.2fs", a.At.Seconds(), a.Node+1, how, a.For.Seconds())
}

// chaosPlan is the schedules and the timeline of one run.
type chaosPlan struct {
	sched   soakPlan // the schedules, rendered as the exactly-once soak does, at version 1
	actions []chaosAction
}

func (p chaosPlan) versions() []int {
	v := make([]int, len(p.sched.Schedules))
	for i := range v {
		v[i] = 1
	}
	return v
}

// newChaosPlan draws the plan. The window is cut into rounds of a minute
// or more; in each, the Redis outage falls at 15-25% of the round, a cut
// that resets one node's connections at 40-50%, and one that blackholes
// another node's at 65-75%. Kills come every 4 to 8 seconds between 8%
// and 85% of the window, never during a Redis outage (whose /readyz check
// wants every node up) nor of a node being cut, and never two nodes down
// at once.
func newChaosPlan(c chaosConfig) (chaosPlan, error) {
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0xc4a05))
	d := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo))) }
	var p chaosPlan
	var pauses, cuts []chaosAction
	rounds := max(1, int(c.Duration/time.Minute))
	round := c.Duration / time.Duration(rounds)
	for i := range rounds {
		start := round * time.Duration(i)
		pct := func(lo, hi int64) time.Duration {
			return start + d(round*time.Duration(lo)/100, round*time.Duration(hi)/100)
		}
		pause := chaosAction{At: pct(15, 25), Kind: chaosRedisPause, For: d(3*time.Second, 5*time.Second)}
		cut := chaosAction{At: pct(40, 50), Kind: chaosCut, Node: rng.IntN(3), For: d(6*time.Second, 9*time.Second)}
		hole := chaosAction{At: pct(65, 75), Kind: chaosCut, Node: (cut.Node + 1 + rng.IntN(2)) % 3,
			For: d(6*time.Second, 9*time.Second), Blackhole: true}
		pauses, cuts = append(pauses, pause), append(cuts, cut, hole)
	}
	p.actions = append(append(p.actions, pauses...), cuts...)
	faults := len(p.actions)
	for at := c.Duration * 8 / 100; ; {
		down := d(300*time.Millisecond, 3*time.Second)
		if at+down > c.Duration*85/100 {
			break
		}
		overlaps := func(a chaosAction) bool {
			const margin = 3 * time.Second
			return at+down+margin > a.At && at < a.At+a.For+margin
		}
		if i := slices.IndexFunc(pauses, overlaps); i >= 0 {
			at = pauses[i].At + pauses[i].For + 3*time.Second
			continue
		}
		var nodes []int
		for n := range 3 {
			if !slices.ContainsFunc(cuts, func(a chaosAction) bool { return a.Node == n && overlaps(a) }) {
				nodes = append(nodes, n)
			}
		}
		p.actions = append(p.actions, chaosAction{At: at, Kind: chaosKill, Node: nodes[rng.IntN(len(nodes))], For: down})
		at += down + d(4*time.Second, 8*time.Second)
	}
	slices.SortStableFunc(p.actions, func(a, b chaosAction) int { return int(a.At - b.At) })
	kills := len(p.actions) - faults
	for i := range c.Schedules {
		s := soakSchedule{
			ID:      fmt.Sprintf("s%02d", i+1),
			Account: fmt.Sprintf("acct%02d", i+1),
			Token:   fmt.Sprintf("chaos-token-%02d", i+1),
			Replies: []int{0, 1, 0, 2}[i%4],
			Media:   i%4 == 2,
		}
		// The fastest cadence within X's 100 posts per account per 15
		// minutes (every second for a short run), kills' re-sends included.
		s.Every = fastestWithin(min(c.Duration, 15*time.Minute), s.Posts(), soakConfig{Kills: kills})
		if s.Every == 0 {
			return p, fmt.Errorf("schedule %s fits no cadence in X's limits", s.ID)
		}
		p.sched.Schedules = append(p.sched.Schedules, s)
	}
	return p, nil
}

func (p chaosPlan) describe() string {
	var b strings.Builder
	for _, s := range p.sched.Schedules {
		fmt.Fprintf(&b, "  %s every %ds, %d post(s)", s.ID, s.Every, s.Posts())
		if s.Media {
			b.WriteString(", media")
		}
		b.WriteString("\n")
	}
	for _, a := range p.actions {
		b.WriteString("  " + a.String() + "\n")
	}
	return b.String()
}

// chaosRun plays a plan on a cluster and notes what happened.
type chaosRun struct {
	t    *testing.T
	cfg  chaosConfig
	plan chaosPlan
	c    *testCluster

	mu      sync.Mutex
	origin  time.Time
	entries []string // the journal: what the harness did and saw, when
}

// note adds a line to the journal.
func (r *chaosRun) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, fmt.Sprintf("  %s (+%6.2fs) ", time.Now().Format("15:04:05.000"), time.Since(r.origin).Seconds())+fmt.Sprintf(format, args...))
}

func (r *chaosRun) journal() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.entries, "\n")
}

// play runs the timeline: each action at its instant, in a goroutine of
// its own, while a watcher restarts (and reports) a node that exits by
// itself. It returns at the end of the firing window, with every node up.
func (r *chaosRun) play() {
	r.origin = time.Now()
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		r.watch(stop)
	}()
	var wg sync.WaitGroup
	for _, a := range r.plan.actions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(r.origin.Add(a.At))) // the plan's instant, not a condition
			r.act(a)
		}()
	}
	wg.Wait()
	time.Sleep(time.Until(r.origin.Add(r.cfg.Duration)))
	close(stop)
	<-watched
	for _, n := range r.c.nodes {
		p := n.proc()
		p.waitFor(r.t, `"herald started"`, time.Minute, func() bool { return !p.startedAt().IsZero() })
	}
}

// watch restarts a node whose process exited without the harness killing
// it, which it reports as an error: a node must survive its store and
// Redis going away.
func (r *chaosRun) watch(stop <-chan struct{}) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, n := range r.c.nodes {
			if p := n.proc(); !n.isDown() && p.exited() {
				r.note("%s (serve #%d) exited by itself; starting it again", n.id, p.n)
				r.t.Errorf("%s (serve #%d) exited by itself during the run; its log ends:\n%s", n.id, p.n, tailFile(p.logPath, 30))
				r.c.start(n)
			}
		}
	}
}

func (r *chaosRun) act(a chaosAction) {
	r.note("%s", a)
	switch a.Kind {
	case chaosKill:
		n := r.c.nodes[a.Node]
		n.kill()
		time.Sleep(a.For)
		p := r.c.start(n)
		r.note("%s restarted (serve #%d)", n.id, p.n)
	case chaosRedisPause:
		for _, n := range r.c.nodes {
			n.redis.Blackhole()
		}
		r.checkRedisDegraded(r.origin.Add(a.At + a.For - 500*time.Millisecond))
		time.Sleep(time.Until(r.origin.Add(a.At + a.For)))
		for _, n := range r.c.nodes {
			n.redis.Restore()
		}
		r.note("Redis reachable again")
		r.waitReady(r.c.nodes, "redis ok again after the outage", func(code int, body map[string]any) bool {
			return code == 200 && body["redis"] == "ok"
		})
	case chaosCut:
		n := r.c.nodes[a.Node]
		if a.Blackhole {
			n.pg.Blackhole()
			n.redis.Blackhole()
		} else {
			n.pg.Cut()
			n.redis.Cut()
		}
		r.checkUnready(n, r.origin.Add(a.At+a.For))
		n.pg.Restore()
		n.redis.Restore()
		r.note("%s reconnected", n.id)
		r.waitReady([]*clusterNode{n}, "ready again after the cut", func(code int, body map[string]any) bool {
			return code == 200 && body["store"] == "ok"
		})
	}
}
