package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
)

// TestServeRetention: herald serve --retain 1h deletes the terminal jobs
// last changed over an hour ago, with their events, counts them in
// herald_pruned_rows_total and logs them, and keeps a recent job and a
// dead letter (kept a year by default). The first round runs a minute
// after the start, so the test takes about that.
func TestServeRetention(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: waits for the first pruning, a minute after the start")
	}
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "herald.db")
	ctx := context.Background()
	st, err := open.Open(ctx, db, open.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	old, recent := now.Add(-2*time.Hour), now.Add(-30*time.Minute)
	const oldJobs = 1500 // two batches
	record := func(at time.Time, n int, status store.Status) []store.CreateResult {
		t.Helper()
		jobs := make([]store.NewJob, n)
		for i := range jobs {
			jobs[i] = store.NewJob{ScheduleID: "gone", PlannedAt: at.Add(time.Duration(i)), Status: status}
		}
		res, err := st.CreateJobs(ctx, store.CreateJobsParams{Jobs: jobs, Node: "seed", Now: at})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	record(old, oldJobs, store.StatusMissed)
	kept := record(recent, 1, store.StatusMissed)[0].Job
	deadJob := record(old.Add(-time.Hour), 1, store.StatusPlanned)[0].Job
	if _, err := st.ClaimJobs(ctx, store.ClaimJobsParams{IDs: []int64{deadJob.ID}, Node: "seed", Now: old, LeaseUntil: old.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Transition(ctx, store.TransitionParams{JobID: deadJob.ID, From: store.StatusRunning, To: store.StatusDead,
		Node: "seed", Attempt: 1, Now: old}); err != nil || res[0].Err != nil {
		t.Fatalf("seeding a dead letter: %v, %+v", err, res)
	}
	st.Close()

	plan := filepath.Join(dir, "schedules.yaml")
	if err := os.WriteFile(plan, []byte("accounts:\n  brand: {platform: x}\nschedules:\n  - id: yearly\n    account: brand\n    cron: \"0 0 1 1 *\"\n    post: {text: hi}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "--config", plan, "--db", db, "--dry-run", "--retain", "1h", "--cache-dir", "off")
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	n.waitLog("the first pruning", 3*time.Minute, msgIs("pruned old jobs", "jobs", fmt.Sprint(oldJobs), "events", fmt.Sprint(oldJobs)))
	waitMetrics(t, "http://"+started["listen"].(string)+"/metrics", "the pruned rows counted", func(s scrape) bool {
		return s.sum("herald_pruned_rows_total", "table", "jobs") == oldJobs && s.sum("herald_pruned_rows_total", "table", "events") == oldJobs
	})
	if code := n.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("herald serve exited %d", code)
	}

	st, err = open.Open(ctx, db, open.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, id := range []int64{kept.ID, deadJob.ID} {
		if _, err := st.GetJob(ctx, id); err != nil {
			t.Errorf("job %d pruned: %v", id, err)
		}
	}
	if s, err := st.JobStats(ctx); err != nil || s.Jobs != 2 {
		t.Fatalf("JobStats after pruning = %+v, %v; want the 2 kept jobs", s, err)
	}
}
