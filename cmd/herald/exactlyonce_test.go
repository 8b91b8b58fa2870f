package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// TestExactlyOnce is the proof of Herald's promise: every fire ends as
// exactly one post at X, with the text frozen when the fire was recorded,
// or as a dead letter with a reason, whatever fails.
//
// It runs the real binary twice over: `herald fake-x` injecting seeded
// random faults into the publishing endpoints (connections dropped before
// or after X stored the post, 5xx after storing, hangs, plain 5xx, 429s
// with and without their headers, latency) and showing new posts in the
// timeline late, and `herald serve` on SQLite publishing to it, with
// schedules firing every few seconds (threads and media among them). While
// they fire, the test edits the post texts in the YAML and kills the node
// with SIGKILL at seeded moments, starting it again on the same database.
// Then it disables every schedule, waits until no job is left in flight,
// stops the node, and holds every job and every post at the fake to the
// promise (see checkExactlyOnce).
//
// HERALD_SOAK_SEED replays a plan (the default seed is fixed, so CI runs
// one plan); HERALD_SOAK_DURATION and the others scale it (make soak).
func TestExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs herald serve and herald fake-x for about a minute")
	}
	t.Parallel()
	cfg := soakConfigFromEnv(t)
	plan, err := newSoakPlan(cfg)
	if err != nil {
		t.Fatalf("%s: %v", cfg, err)
	}
	t.Logf("exactly-once soak, replay with: %s go test -race -count=1 -run 'TestExactlyOnce$' -v ./cmd/herald/\n%s", cfg, plan.describe())

	r := newSoakRun(t, cfg, plan)
	began := time.Now()
	r.fire()
	r.stopFiring()
	r.drain()
	if code := r.node().terminate(t); code != 0 {
		t.Errorf("serve #%d exited %d after SIGTERM, want 0; its log ends:\n%s", r.node().n, code, tailFile(r.node().logPath, 30))
	}
	posts, requests := r.saveFakeState()
	if code := r.fake.stop(t); code != exitOK {
		t.Errorf("fake-x exited %d after SIGTERM", code)
	}
	r.saveFakeLog()

	jobs := r.allJobs()
	checkExactlyOnce(t, r, jobs, posts)
	t.Logf("%s in %s: %d serve processes, %s", cfg, time.Since(began).Round(time.Second), len(r.nodes), soakStats(jobs, posts, requests))
}

// Timings of the node, short so that faults resolve within the run. The
// request timeout must stay under half the lease less 5s (engine.Config).
var soakServeFlags = []string{
	"--node-id", "soak", "--publishers", "4", "--poll-interval", "1s",
	"--lease", "16s", "--request-timeout", "2s", "--media-budget", "8s",
	"--timeline-lag", "2s",
}

// Faults of the fake X: --chaos-rate and --chaos-seed come from the
// config; every kind of fault; a hang outlives serve's request timeout; a
// 429 resets soon; new posts reach the timeline later than they are
// stored, but within serve's --timeline-lag; a text is a duplicate
// forever (the default), so a second post of a job's text is refused.
var soakFakeFlags = []string{"--chaos-faults", "all", "--chaos-hang", "4s", "--chaos-reset", "2s", "--timeline-lag", "1s"}

// soakRun is one run: the folder, the processes, and what the harness did
// and when, which the checks compare the store with.
type soakRun struct {
	t      *testing.T
	cfg    soakConfig
	plan   soakPlan
	dir    string // database, logs, the fake's log
	cfgDir string // the schedules folder given to --config
	db     string
	fake   *fakeXProcess
	nodes  []*soakNode // every serve started, the running one last

	versions []int       // each schedule's text version in the file now
	writes   []soakWrite // every write of the schedules file
	started  time.Time   // the first node's "herald started"
	stopped  soakWrite   // the write that disabled every schedule
}

// soakWrite is one write of the schedules file.
type soakWrite struct {
	At       time.Time // just before the write: no node saw it earlier
	Revision string    // as herald validate (and the node's reload log) names it
	Versions []int
	Enabled  bool
}

func newSoakRun(t *testing.T, cfg soakConfig, plan soakPlan) *soakRun {
	dir := cfg.Dir
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &soakRun{t: t, cfg: cfg, plan: plan, dir: dir, cfgDir: filepath.Join(dir, "schedules"),
		db: "sqlite:" + filepath.Join(dir, "herald.db"), versions: make([]int, len(plan.Schedules))}
	for i := range r.versions {
		r.versions[i] = 1
	}
	if err := os.MkdirAll(r.cfgDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writePNG(t, filepath.Join(r.cfgDir, "dot.png"))
	// Registered first, so it runs last: the processes are stopped and
	// their logs complete when it reports.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FAILED with %s (folder %s)", cfg, dir)
			if len(r.nodes) > 0 {
				t.Logf("the last serve's log (%s) ends:\n%s", r.node().logPath, tailFile(r.node().logPath, 40))
			}
			if r.fake != nil {
				r.saveFakeLog()
				t.Logf("fake-x's log ends:\n%s", tailFile(filepath.Join(dir, "fake-x.log"), 15))
			}
		}
	})
	return r
}

func (r *soakRun) node() *soakNode { return r.nodes[len(r.nodes)-1] }

func (r *soakRun) logPaths() []string {
	var out []string
	for _, n := range r.nodes {
		out = append(out, n.logPath)
	}
	return out
}

// saveFakeState reads the posts and requests of the fake X, and keeps
// them in the run's folder for a post-mortem (posts.json, requests.json,
// and the writes of the schedules file, writes.json).
func (r *soakRun) saveFakeState() ([]fakePost, []fakeRequest) {
	var posts []fakePost
	var requests []fakeRequest
	r.fake.getJSON(r.t, "/_fake/posts", &posts)
	r.fake.getJSON(r.t, "/_fake/requests", &requests)
	for name, v := range map[string]any{"posts.json": posts, "requests.json": requests, "writes.json": r.writes} {
		if b, err := json.MarshalIndent(v, "", " "); err == nil {
			_ = os.WriteFile(filepath.Join(r.dir, name), b, 0o644)
		}
	}
	return posts, requests
}

func (r *soakRun) saveFakeLog() {
	_ = os.WriteFile(filepath.Join(r.dir, "fake-x.log"), []byte(r.fake.logs()), 0o644)
}

// fire starts the fake X and the node, and plays the plan's timeline of
// kills and edits over the firing window.
func (r *soakRun) fire() {
	t := r.t
	r.write(true)
	r.fake = startFakeX(t, append(append([]string{"--log-format", "json",
		"--chaos-rate", strconv.FormatFloat(r.cfg.ChaosRate, 'g', -1, 64),
		"--chaos-seed", strconv.FormatUint(r.cfg.Seed, 10)}, soakFakeFlags...), r.plan.fakeUsers()...)...)
	// Runs before the fake is stopped (cleanups run last in, first out).
	t.Cleanup(func() {
		if t.Failed() && r.fake.cmd.ProcessState == nil {
			r.saveFakeState()
		}
	})
	n := r.startNode()
	n.waitFor(t, `"herald started"`, time.Minute, func() bool { return !n.startedAt().IsZero() })
	r.started = n.startedAt()
	origin := time.Now()
	for _, a := range r.plan.Actions {
		time.Sleep(time.Until(origin.Add(a.At))) // the plan's instant, not a condition
		if a.Kill {
			r.node().kill()
			time.Sleep(a.Downtime)
			r.startNode()
			continue
		}
		for _, i := range a.Bump {
			r.versions[i]++
		}
		r.write(true)
	}
	time.Sleep(time.Until(origin.Add(r.cfg.Duration)))
}

func (r *soakRun) startNode() *soakNode {
	args := append([]string{"--config", r.cfgDir, "--db", r.db, "--x-api-url", r.fake.url}, soakServeFlags...)
	n := startSoakNode(r.t, r.dir, len(r.nodes)+1, r.plan.env(), args...)
	r.nodes = append(r.nodes, n)
	return n
}

// write saves the schedules file at the current versions, as an editor
// does (a temporary file renamed over it), and notes its revision.
func (r *soakRun) write(enabled bool) soakWrite {
	t := r.t
	w := soakWrite{At: time.Now(), Versions: slices.Clone(r.versions), Enabled: enabled}
	writeAtomically(t, filepath.Join(r.cfgDir, "plan.yaml"), r.plan.yaml(w.Versions, enabled))
	res := herald(t, "", "validate", "--format", "json", r.cfgDir)
	var v struct {
		Valid    bool   `json:"valid"`
		Revision string `json:"revision"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil || !v.Valid || res.code != exitOK {
		t.Fatalf("the plan's YAML does not validate (exit %d): %v\n%s%s", res.code, err, res.stdout, res.stderr)
	}
	w.Revision = v.Revision
	r.writes = append(r.writes, w)
	return w
}

// applied is when a node first logged running write w (a reload or a
// start with its revision); zero if none did.
func (r *soakRun) applied(w soakWrite) time.Time {
	var first time.Time
	for _, n := range r.nodes {
		for _, l := range n.reloadsSeen() {
			if l.Result == "ok" && l.Revision == w.Revision && !l.At.Before(w.At) && (first.IsZero() || l.At.Before(first)) {
				first = l.At
			}
		}
	}
	return first
}

// stopFiring disables every schedule on a running node that has caught
// up since its last start, and waits until it runs that configuration.
func (r *soakRun) stopFiring() {
	t := r.t
	n := r.node()
	n.waitFor(t, `"herald started"`, time.Minute, func() bool { return !n.startedAt().IsZero() })
	time.Sleep(time.Until(n.startedAt().Add(3 * time.Second))) // a few fires after the restart
	r.stopped = r.write(false)
	n.waitFor(t, "the reload that disables every schedule", 30*time.Second, func() bool { return !r.applied(r.stopped).IsZero() })
}

// inFlight are the statuses a drained node leaves no job in.
var inFlight = []store.Status{store.StatusPlanned, store.StatusRunning, store.StatusUnknown, store.StatusRetrying}

// drainTimeout bounds the drain: the longest deadline (40s), a lease
// (16s), the timeline lag and retries' backoff, with room for a loaded
// machine, and more for a long run's backlog.
func (r *soakRun) drainTimeout() time.Duration { return 90*time.Second + r.cfg.Duration/10 }

// drain waits until no job is planned, running, unknown or retrying. If
// some still are when drainTimeout has passed, it reports them and
// returns: the checks then run anyway, so that one run shows every way
// the promise broke.
func (r *soakRun) drain() {
	t := r.t
	s := openDB(t, r.db)
	defer s.Close()
	ctx := context.Background()
	deadline := time.Now().Add(r.drainTimeout())
	for {
		page, err := s.ListJobs(ctx, store.ListJobsParams{Statuses: inFlight, Limit: 1000})
		if err != nil {
			t.Fatalf("listing the jobs in flight: %v", err)
		}
		if len(page.Jobs) == 0 {
			return
		}
		if r.node().exited() {
			t.Fatalf("serve #%d exited during the drain; its log ends:\n%s", r.node().n, tailFile(r.node().logPath, 30))
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("%d job(s) still in flight %s after every schedule was disabled:\n", len(page.Jobs), r.drainTimeout())
			for i, j := range page.Jobs {
				if i == 20 {
					msg += fmt.Sprintf("  ... and %d more\n", len(page.Jobs)-i)
					break
				}
				msg += fmt.Sprintf("  job %d %s planned %s: %s, attempt %d, failures %d, due %s, last error %q\n",
					j.ID, j.ScheduleID, j.PlannedAt.Format("15:04:05"), j.Status, j.Attempt, j.Failures,
					j.DueAt.Format("15:04:05.000"), j.LastError)
				if i >= 4 {
					continue // the events and log lines of the first few
				}
				events, _ := s.JobEvents(ctx, j.ID)
				for _, e := range events {
					msg += fmt.Sprintf("      event %s %s->%s attempt %d %q\n", e.At.Format("15:04:05.000"), e.From, e.To, e.Attempt, e.Detail)
				}
				for _, l := range grepFiles(r.logPaths(), 8, fmt.Sprintf(`"job_id":%d,`, j.ID), `"msg":"job transition"`) {
					msg += "      " + l + "\n"
				}
			}
			t.Error(msg)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// allJobs reads every job from the store once the node has stopped.
func (r *soakRun) allJobs() []store.Job { return listAllJobs(r.t, r.db) }

// listAllJobs reads every job of the store at db, page after page.
func listAllJobs(t *testing.T, db string) []store.Job {
	s := openDB(t, db)
	defer s.Close()
	var jobs []store.Job
	for token := ""; ; {
		page, err := s.ListJobs(context.Background(), store.ListJobsParams{Limit: 1000, PageToken: token})
		if err != nil {
			t.Fatalf("listing the jobs: %v", err)
		}
		jobs = append(jobs, page.Jobs...)
		if token = page.NextPageToken; token == "" {
			return jobs
		}
	}
}
