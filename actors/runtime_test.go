package actors

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
)

// syncBuffer is a log sink shared by the actors' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(s.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

type harness struct {
	t     *testing.T
	store store.Store
	clock *clock.Fake
	logs  *syncBuffer
	dir   string
	// heapTimers arms schedule timers through the runtime's default
	// clock.Heap; otherwise directly on the fake clock, so that tests can
	// see each timer.
	heapTimers bool
	// platform replaces the dry run; tune adjusts the options.
	platform platform.Platform
	tune     func(*Options)
}

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &harness{t: t, store: s, clock: clock.NewFake(t0), logs: &syncBuffer{}, dir: t.TempDir()}
}

func (h *harness) load(yaml string) *schedules.Config {
	h.t.Helper()
	p := filepath.Join(h.dir, "s.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		h.t.Fatal(err)
	}
	cfg, err := schedules.Load(schedules.LoadOptions{}, p)
	if err != nil {
		h.t.Fatal(err)
	}
	return cfg
}

func (h *harness) runtime(node string) *Runtime {
	h.t.Helper()
	logger := slog.New(slog.NewJSONHandler(h.logs, nil)).With(slog.String("test_node", node))
	opts := Options{Store: h.store, Platform: dryrun.New(logger), Clock: h.clock, Timers: h.clock, Logger: logger, Node: node, Publishers: 4}
	if h.heapTimers {
		opts.Timers = nil
	}
	if h.platform != nil {
		opts.Platform = h.platform
	}
	if h.tune != nil {
		h.tune(&opts)
	}
	rt, err := New(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = rt.Stop(context.Background(), time.Second) })
	return rt
}

func (h *harness) jobs(scheduleID string) []store.Job {
	h.t.Helper()
	page, err := h.store.ListJobs(context.Background(), store.ListJobsParams{ScheduleID: scheduleID, Limit: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return page.Jobs
}

// eventually polls cond until it holds, failing after a generous deadline:
// the actors run on their own goroutines even under a fake clock.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// advanceTo moves the fake clock to t once a timer is armed for exactly t.
func (h *harness) advanceTo(t time.Time) {
	h.t.Helper()
	h.eventually("a timer armed for "+t.String(), func() bool { return h.clock.ArmedAt(t) })
	h.clock.Set(t)
}

func (h *harness) statuses(scheduleID string) []store.Status {
	var out []store.Status
	for _, j := range h.jobs(scheduleID) {
		out = append(out, j.Status)
	}
	return out
}

const twoSchedules = `
accounts:
  brand: {platform: x}
schedules:
  - id: every-minute
    account: brand
    cron: "* * * * *"
    post: {text: "Run {{ .Run }} at {{ .Planned.Format \"15:04\" }}", thread: ["and a reply"]}
  - id: hourly
    account: brand
    cron: "0 * * * *"
    post: {text: "hourly {{ .Run }}"}
`

func TestSchedulesFireAndPublish(t *testing.T) {
	for _, heap := range []bool{false, true} {
		t.Run(fmt.Sprintf("heap timers %v", heap), func(t *testing.T) {
			h := newHarness(t)
			h.heapTimers = heap
			testSchedulesFireAndPublish(t, h)
		})
	}
}

func testSchedulesFireAndPublish(t *testing.T, h *harness) {
	rt := h.runtime("node-a")
	res, err := rt.Apply(context.Background(), h.load(twoSchedules), nil, "test")
	if err != nil || res.Added != 2 {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
	for i := 1; i <= 3; i++ {
		h.advanceTo(t0.Add(time.Duration(i) * time.Minute))
		h.eventually("fire succeeded", func() bool {
			jobs := h.jobs("every-minute")
			return len(jobs) == i && jobs[i-1].Status == store.StatusSucceeded
		})
	}
	jobs := h.jobs("every-minute")
	for i, j := range jobs {
		if !j.PlannedAt.Equal(t0.Add(time.Duration(i+1) * time.Minute)) {
			t.Errorf("job %d planned %v", i, j.PlannedAt)
		}
		if j.Run != int64(i+1) || len(j.PostIDs) != 2 {
			t.Errorf("job %d: run %d, posts %v", i, j.Run, j.PostIDs)
		}
		if cfg := rt.currentConfig(); j.Revision == "" || j.Revision != cfg.Revision || j.FiredBy != "node-a" {
			t.Errorf("job %d: fired by %q from revision %q, want node-a and %q", i, j.FiredBy, j.Revision, cfg.Revision)
		}
	}
	if got := h.jobs("hourly"); len(got) != 0 {
		t.Errorf("hourly fired early: %+v", got)
	}
	// The transition log contract.
	var sawClaim bool
	for _, l := range h.logs.lines() {
		if l["msg"] == "job transition" && l["to"] == "running" {
			sawClaim = true
			for _, k := range []string{"job_id", "schedule_id", "planned_at", "from", "to", "attempt", "node"} {
				if _, ok := l[k]; !ok {
					t.Errorf("job transition log lacks %q: %v", k, l)
				}
			}
			if l["planned_at"] != "2026-06-01T12:01:00Z" && l["planned_at"] != "2026-06-01T12:02:00Z" && l["planned_at"] != "2026-06-01T12:03:00Z" {
				t.Errorf("planned_at = %v", l["planned_at"])
			}
		}
	}
	if !sawClaim {
		t.Error("no job transition to running was logged")
	}
}

func TestTwoNodesRecordEachFireOnce(t *testing.T) {
	h := newHarness(t)
	cfg := h.load(twoSchedules)
	for _, node := range []string{"node-a", "node-b"} {
		if _, err := h.runtime(node).Apply(context.Background(), cfg, nil, "test"); err != nil {
			t.Fatal(err)
		}
	}
	// Both nodes arm a timer per schedule.
	h.eventually("four timers", func() bool { return h.clock.Pending() >= 4 })
	h.clock.Set(t0.Add(time.Minute))
	h.eventually("the fire published", func() bool {
		jobs := h.jobs("every-minute")
		return len(jobs) == 1 && jobs[0].Status == store.StatusSucceeded
	})
	time.Sleep(50 * time.Millisecond) // let the slower node's fire land too
	if jobs := h.jobs("every-minute"); len(jobs) != 1 || jobs[0].Attempt != 1 {
		t.Fatalf("jobs = %+v, want one fire claimed once", jobs)
	}
}

func TestReloadUpdatesOnlyChangedSchedules(t *testing.T) {
	h := newHarness(t)
	rt := h.runtime("node-a")
	if _, err := rt.Apply(context.Background(), h.load(twoSchedules), nil, "1"); err != nil {
		t.Fatal(err)
	}
	changed := `
accounts:
  brand: {platform: x}
schedules:
  - id: hourly
    account: brand
    cron: "*/30 * * * *"
    post: {text: "hourly {{ .Run }}"}
  - id: added
    account: brand
    at: 2026-06-01T12:00:30Z
    post: {text: "one shot"}
`
	res, err := rt.Apply(context.Background(), h.load(changed), nil, "2")
	if err != nil {
		t.Fatal(err)
	}
	if res != (ApplyResult{Added: 1, Removed: 1, Changed: 1}) {
		t.Fatalf("Apply = %+v, want 1 added, 1 removed, 1 changed", res)
	}
	h.advanceTo(t0.Add(30 * time.Minute))
	h.eventually("the changed schedule fired at :30", func() bool {
		jobs := h.jobs("hourly")
		return len(jobs) == 1 && jobs[0].PlannedAt.Equal(t0.Add(30*time.Minute))
	})
	if got := h.statuses("every-minute"); len(got) != 0 {
		t.Errorf("a removed schedule fired: %v", got)
	}
	h.eventually("the one-shot fired", func() bool { return len(h.jobs("added")) == 1 })
}

func TestCatchUpAfterDowntime(t *testing.T) {
	h := newHarness(t)
	rt := h.runtime("node-a")
	cfg := h.load(twoSchedules)
	// The hourly schedule last fired 5h10m ago (as far as the store is
	// concerned); the actor catches up the newest fire and records the
	// older ones as missed.
	h.clock.Set(t0.Add(5*time.Hour + 10*time.Minute))
	last := map[string]store.Fire{"hourly": {PlannedAt: t0}}
	if _, err := rt.Apply(context.Background(), cfg, last, "start"); err != nil {
		t.Fatal(err)
	}
	h.eventually("catch-up and missed recorded", func() bool {
		st := h.statuses("hourly")
		if len(st) != 5 {
			return false
		}
		for _, s := range st[:4] {
			if s != store.StatusMissed {
				return false
			}
		}
		return st[4] == store.StatusSucceeded
	})
	jobs := h.jobs("hourly")
	if jobs[4].Trigger != store.TriggerCatchup || !jobs[4].PlannedAt.Equal(t0.Add(5*time.Hour)) {
		t.Errorf("catch-up job = %+v", jobs[4])
	}
}

// A node restarted after kill -9 takes over the jobs it was running at once
// (reconciling them first), instead of waiting for their leases to run out.
func TestRestartTakesOverOwnRunningJobs(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg := h.load(twoSchedules)
	res, err := h.store.CreateJobs(ctx, store.CreateJobsParams{Now: t0, Node: "node-a",
		Jobs: []store.NewJob{{ScheduleID: "hourly", PlannedAt: t0}}})
	if err != nil {
		t.Fatal(err)
	}
	// The crashed process had claimed it with a long lease.
	if _, err := h.store.ClaimJobs(ctx, store.ClaimJobsParams{IDs: []int64{res[0].Job.ID}, Node: "node-a", Now: t0, LeaseUntil: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	h.clock.Set(t0.Add(time.Second))
	rt := h.runtime("node-a")
	if _, err := rt.Apply(ctx, cfg, map[string]store.Fire{"hourly": {PlannedAt: t0}}, "start"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5 && !h.done(res[0].Job.ID); i++ {
		h.eventually("the dispatcher asleep", func() bool { return h.clock.Pending() >= 3 })
		h.clock.Advance(time.Second)
		time.Sleep(20 * time.Millisecond)
	}
	h.eventually("the job published", func() bool { return h.done(res[0].Job.ID) })
	events, _ := h.store.JobEvents(ctx, res[0].Job.ID)
	var path []string
	for _, e := range events {
		path = append(path, string(e.To))
	}
	if got := strings.Join(path, ">"); got != "planned>running>unknown>retrying>running>succeeded" {
		t.Errorf("transitions %s, want planned>running>unknown>retrying>running>succeeded", got)
	}
}

func (h *harness) done(id int64) bool {
	j, err := h.store.GetJob(context.Background(), id)
	return err == nil && j.Status == store.StatusSucceeded
}
