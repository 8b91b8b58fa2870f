package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
)

func TestParseRetention(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"off", 0, false}, {"0", 0, false}, {"90d", 90 * day, false}, {" 1d ", day, false},
		{"2160h", 90 * day, false}, {"1h30m", 90 * time.Minute, false},
		{"", 0, true}, {"-1h", 0, true}, {"0d", 0, true}, {"1.5d", 0, true}, {"ninety", 0, true}, {"99999d", 0, true},
	} {
		got, err := ParseRetention(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v, error %v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestValidRetention(t *testing.T) {
	for _, c := range []struct {
		retain, dead time.Duration
		errs         int
	}{
		{DefaultRetain, DefaultRetainDead, 0}, {0, 0, 0}, {0, DefaultRetainDead, 0}, {MinRetain, MinRetain, 0},
		{time.Minute, 0, 1}, {DefaultRetain, time.Hour, 1}, {time.Second, time.Millisecond, 2},
	} {
		if errs := validRetention(c.retain, c.dead); len(errs) != c.errs {
			t.Errorf("validRetention(%v, %v) = %v, want %d errors", c.retain, c.dead, errs, c.errs)
		}
	}
}

// TestPrunerRuns: the pruner waits pruneFirst, prunes in batches until the
// old terminal jobs and old dead letters are gone (counting them in the
// metric), keeps jobs in flight, recent ones and dead letters younger than
// retainDead, and runs again every pruneEvery.
func TestPrunerRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	start := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	retain := 30 * 24 * time.Hour
	old, recent := start.Add(-retain-time.Hour), start.Add(-time.Hour)
	record := func(now time.Time, n int, status store.Status) []store.CreateResult {
		t.Helper()
		jobs := make([]store.NewJob, n)
		for i := range jobs {
			jobs[i] = store.NewJob{ScheduleID: fmt.Sprintf("s-%s-%d", status, now.Unix()), PlannedAt: now.Add(time.Duration(i)), Status: status}
		}
		res, err := s.CreateJobs(ctx, store.CreateJobsParams{Jobs: jobs, Node: "n", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	dead := func(at time.Time) store.Job {
		t.Helper()
		j := record(at, 1, store.StatusPlanned)[0].Job
		if _, err := s.ClaimJobs(ctx, store.ClaimJobsParams{IDs: []int64{j.ID}, Node: "n", Now: at, LeaseUntil: at.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		res, err := s.Transition(ctx, store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusDead,
			Node: "n", Attempt: 1, Now: at})
		if err != nil || res[0].Err != nil {
			t.Fatalf("Transition to dead: %v, %+v", err, res)
		}
		return res[0].Job
	}
	oldJobs := pruneBatch*2 + 7 // three batches with the old dead letter
	record(old, oldJobs-1, store.StatusMissed)
	dead(start.Add(-2*retain - time.Hour))
	keep := append(record(old, 3, store.StatusPlanned), record(recent, 2, store.StatusMissed)...)
	keep = append(keep, store.CreateResult{Job: dead(old.Add(-time.Minute))})

	clk := clock.NewFake(start)
	m := newEngineMetrics()
	p := &pruner{store: s, clock: clk, logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		retain: retain, retainDead: 2 * retain, pruned: m.Pruned}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(runCtx)
	}()
	pruned := func(table string) int { return int(testutil.ToFloat64(m.pruned.WithLabelValues(table))) }
	// advance fires each timer the pruner arms, in turn, until it armed
	// the wait for its next round at the instant want.
	advance := func(want time.Time) {
		t.Helper()
		for !clk.ArmedAt(want) {
			armed := clk.Armed()
			if next, ok := clk.NextDeadline(); ok && next.Before(want) {
				clk.Set(next)
				continue
			}
			<-armed
		}
	}
	advance(start.Add(pruneFirst))
	if n := pruned("jobs"); n != 0 {
		t.Fatalf("pruned %d jobs before pruneFirst", n)
	}
	// Three batches with two pauses, then the wait for the next round.
	next := start.Add(pruneFirst + 2*prunePause + pruneEvery)
	clk.Set(start.Add(pruneFirst))
	advance(next)
	// One creation event a job; the dead letter has its claim and death.
	if jobs, events := pruned("jobs"), pruned("events"); jobs != oldJobs || events != oldJobs+2 {
		t.Fatalf("pruned %d jobs and %d events, want %d and %d", jobs, events, oldJobs, oldJobs+2)
	}
	for _, r := range keep {
		if _, err := s.GetJob(ctx, r.Job.ID); err != nil {
			t.Fatalf("job %d (%s, updated %v) pruned: %v", r.Job.ID, r.Job.Status, r.Job.UpdatedAt, err)
		}
	}
	if st, err := s.JobStats(ctx); err != nil || st.Jobs != int64(len(keep)) {
		t.Fatalf("JobStats after pruning = %+v, %v; want %d jobs", st, err, len(keep))
	}

	// Nothing left to prune: the next round deletes nothing.
	clk.Set(next)
	advance(next.Add(pruneEvery))
	if jobs := pruned("jobs"); jobs != oldJobs {
		t.Fatalf("second round: %d jobs pruned in all, want still %d", jobs, oldJobs)
	}
	cancel()
	<-done
}
