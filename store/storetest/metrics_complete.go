package storetest

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

func (f *fixture) complete(node string, now time.Time, snaps ...store.MetricsSnapshot) []error {
	f.t.Helper()
	errs, err := f.s.CompleteMetricsTasks(f.ctx, store.CompleteMetricsTasksParams{Node: node, Now: now, Snapshots: snaps})
	if err != nil {
		f.t.Fatalf("CompleteMetricsTasks: %v", err)
	}
	if len(errs) != len(snaps) {
		f.t.Fatalf("CompleteMetricsTasks returned %d results for %d snapshots", len(errs), len(snaps))
	}
	return errs
}

func (f *fixture) deferTasks(p store.DeferMetricsTasksParams) []error {
	f.t.Helper()
	errs, err := f.s.DeferMetricsTasks(f.ctx, p)
	if err != nil {
		f.t.Fatalf("DeferMetricsTasks: %v", err)
	}
	if len(errs) != len(p.TaskIDs) {
		f.t.Fatalf("DeferMetricsTasks returned %d results for %d tasks", len(errs), len(p.TaskIDs))
	}
	return errs
}

func (f *fixture) postMetrics(jobID int64) []store.MetricsSnapshot {
	f.t.Helper()
	snaps, err := f.s.PostMetrics(f.ctx, jobID)
	if err != nil {
		f.t.Fatalf("PostMetrics(%d): %v", jobID, err)
	}
	return snaps
}

// checkTaskLease fails unless err is a task's *LeaseError matching want.
func checkTaskLease(t testing.TB, err error, taskID int64, want error, actualNode string) {
	t.Helper()
	var le *store.LeaseError
	if !errors.As(err, &le) || !errors.Is(err, want) || le.TaskID != taskID || le.ActualNode != actualNode {
		t.Errorf("error = %v, want a *LeaseError of task %d matching %v (actual node %q)", err, taskID, want, actualNode)
	}
}

func testMetricsComplete(t *testing.T, h Harness) {
	t.Run("complete and defer need the lease", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.succeed([]string{"p", "q"}, stage{acctA, "p", time.Hour, time.Hour}, stage{acctA, "p", 24 * time.Hour, time.Hour},
			stage{acctA, "p", 7 * 24 * time.Hour, time.Hour}, stage{acctA, "q", time.Hour, time.Hour})
		tasks := f.claimTasks(acctA, nodeA, t0.Add(time.Hour), 10)
		if len(tasks) != 4 {
			t.Fatalf("claimed %d tasks, want 4", len(tasks))
		}
		now := t0.Add(2 * time.Hour)

		errs := f.complete(nodeB, now, store.MetricsSnapshot{TaskID: tasks[0].ID, Likes: 1})
		checkTaskLease(t, errs[0], tasks[0].ID, store.ErrConflict, nodeA)
		errs = f.complete(nodeA, now,
			store.MetricsSnapshot{TaskID: tasks[0].ID, Likes: 5},
			store.MetricsSnapshot{TaskID: tasks[0].ID, Likes: 6}, // done just before
			store.MetricsSnapshot{TaskID: 1 << 40},
			store.MetricsSnapshot{},
			store.MetricsSnapshot{TaskID: tasks[1].ID, JobID: j.ID + 1}, // not the task's job
			store.MetricsSnapshot{TaskID: tasks[1].ID, JobID: j.ID, PostID: "p", Stage: 24 * time.Hour, DueAt: tasks[1].DueAt, Likes: 7},
		)
		checkErr(t, errs[0], nil)
		checkTaskLease(t, errs[1], tasks[0].ID, store.ErrNotFound, "")
		checkTaskLease(t, errs[2], 1<<40, store.ErrNotFound, "")
		checkErr(t, errs[3], store.ErrInvalid)
		checkErr(t, errs[4], store.ErrInvalid)
		checkErr(t, errs[5], nil)
		snaps := f.postMetrics(j.ID)
		if len(snaps) != 2 || snaps[0].Likes != 5 || snaps[0].Stage != time.Hour || snaps[1].Likes != 7 || snaps[1].Stage != 24*time.Hour {
			t.Fatalf("snapshots = %+v, want p/1h with 5 likes and p/24h with 7", snaps)
		}

		// Defer: only by the owner, once per call, unknown tasks not found.
		deferred, other := tasks[2], tasks[3]
		errs = f.deferTasks(store.DeferMetricsTasksParams{Node: nodeB, TaskIDs: []int64{deferred.ID}, DueAt: now.Add(time.Hour), Error: "x", Now: now})
		checkTaskLease(t, errs[0], deferred.ID, store.ErrConflict, nodeA)
		errs = f.deferTasks(store.DeferMetricsTasksParams{Node: nodeA, TaskIDs: []int64{deferred.ID, deferred.ID, 1 << 40},
			DueAt: now.Add(time.Hour), Error: "429 too many requests", Now: now})
		checkErr(t, errs[0], nil)
		checkTaskLease(t, errs[1], deferred.ID, store.ErrConflict, "")
		checkTaskLease(t, errs[2], 1<<40, store.ErrNotFound, "")
		// A deferred task is no longer leased: completing it is refused.
		errs = f.complete(nodeA, now, store.MetricsSnapshot{TaskID: deferred.ID})
		checkTaskLease(t, errs[0], deferred.ID, store.ErrConflict, "")
		// other's lease ends at t0+1h1m; deferred is due at now+1h.
		if next, ok, err := f.s.NextMetricsDue(f.ctx, acctA); err != nil || !ok || !next.Equal(t0.Add(time.Hour+time.Minute)) {
			t.Errorf("NextMetricsDue = %v, %v, %v; want %v", next, ok, err, t0.Add(time.Hour+time.Minute))
		}
		if errs := f.complete(nodeA, now, store.MetricsSnapshot{TaskID: other.ID, Detail: "post not found"}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if next, ok, err := f.s.NextMetricsDue(f.ctx, acctA); err != nil || !ok || !next.Equal(now.Add(time.Hour)) {
			t.Errorf("NextMetricsDue = %v, %v, %v; want %v", next, ok, err, now.Add(time.Hour))
		}
		if got := f.claimTasks(acctA, nodeB, now.Add(time.Hour-time.Nanosecond), 10); len(got) != 0 {
			t.Errorf("claimed %+v before the deferred due time", got)
		}
		got := f.claimTasks(acctA, nodeB, now.Add(time.Hour), 10)
		if len(got) != 1 || got[0].ID != deferred.ID || got[0].Tries != 1 || got[0].LastError != "429 too many requests" ||
			!got[0].DueAt.Equal(now.Add(time.Hour)) || got[0].Node != nodeB {
			t.Fatalf("claimed after deferral = %+v", got)
		}
		// Deferring without an error keeps the last one; DueAt defaults to Now.
		later := now.Add(2 * time.Hour)
		if errs := f.deferTasks(store.DeferMetricsTasksParams{Node: nodeB, TaskIDs: []int64{deferred.ID}, Now: later}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		got = f.claimTasks(acctA, nodeB, later, 10)
		if len(got) != 1 || got[0].Tries != 2 || got[0].LastError != "429 too many requests" || !got[0].DueAt.Equal(later) {
			t.Fatalf("claimed after the second deferral = %+v", got)
		}
		if errs := f.complete(nodeB, later, store.MetricsSnapshot{TaskID: deferred.ID}); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if accounts := f.accounts(); len(accounts) != 0 {
			t.Errorf("accounts with tasks after completing all = %q", accounts)
		}
		if next, ok, err := f.s.NextMetricsDue(f.ctx, acctA); err != nil || ok {
			t.Errorf("NextMetricsDue after completing all = %v, %v, %v; want none", next, ok, err)
		}
	})

	t.Run("a second snapshot of a stage is ignored", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.succeed([]string{"d"}, stage{acctB, "d", time.Hour, time.Hour})
		// A snapshot of the stage already there (as a crashed older version
		// could leave): the completion keeps it and still ends the task.
		h.Exec(t, f.s, fmt.Sprintf(`INSERT INTO metrics_snapshots (job_id, post_id, stage, due_at, captured_at,
			likes, reposts, replies, quotes, bookmarks, impressions, detail) VALUES (%d, 'd', %d, %d, %d, 1, 0, 0, 0, 0, 0, 'first')`,
			j.ID, int64(time.Hour), t0.Add(time.Hour).UnixNano(), t0.Add(time.Hour).UnixNano()))
		tasks := f.claimTasks(acctB, nodeA, t0.Add(time.Hour), 10)
		if len(tasks) != 1 {
			t.Fatalf("claimed %d tasks, want 1", len(tasks))
		}
		errs := f.complete(nodeA, t0.Add(2*time.Hour), store.MetricsSnapshot{TaskID: tasks[0].ID, Likes: 99, Detail: "second"})
		checkErr(t, errs[0], nil)
		snaps := f.postMetrics(j.ID)
		if len(snaps) != 1 || snaps[0].Detail != "first" || snaps[0].Likes != 1 {
			t.Errorf("snapshots = %+v, want only the first", snaps)
		}
		if accounts := f.accounts(); len(accounts) != 0 {
			t.Errorf("the task was not deleted: accounts %q", accounts)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		// Posts z then a (a thread); m and b are posts the job does not list.
		j := f.succeed([]string{"z", "a"},
			stage{acctA, "a", 24 * time.Hour, 24 * time.Hour}, stage{acctA, "z", 24 * time.Hour, 24 * time.Hour},
			stage{acctA, "m", time.Hour, time.Hour}, stage{acctA, "a", time.Hour, time.Hour},
			stage{acctA, "z", time.Hour, time.Hour}, stage{acctA, "b", time.Hour, time.Hour})
		tasks := f.claimTasks(acctA, nodeA, t0.Add(24*time.Hour), 10)
		now := t0.Add(25 * time.Hour)
		captured := t0.Add(24*time.Hour + 123456789)
		fill := map[string]store.MetricsSnapshot{
			"z/1h0m0s": {Likes: 1, Reposts: 2, Replies: 3, Quotes: 4, Bookmarks: 5, Impressions: 6}, // maps nil, CapturedAt Now
			"z/24h0m0s": {Likes: 10, Impressions: 1 << 40, CapturedAt: captured,
				NonPublic: map[string]int64{}, Organic: map[string]int64{"impression_count": 10, "url_link_clicks": 0}},
			"a/1h0m0s":  {NonPublic: map[string]int64{"impression_count": 1 << 40, "user_profile_clicks": -1}, Organic: map[string]int64{}},
			"a/24h0m0s": {Detail: "post not found"},
			"m/1h0m0s":  {Likes: 7},
			"b/1h0m0s":  {Likes: 8},
		}
		var in []store.MetricsSnapshot
		want := map[string]store.MetricsSnapshot{}
		for _, task := range tasks {
			s := fill[taskKey(task)]
			s.TaskID = task.ID
			in = append(in, s)
			s.TaskID, s.JobID, s.PostID, s.Stage, s.DueAt = 0, j.ID, task.PostID, task.Stage, task.DueAt
			if s.CapturedAt.IsZero() {
				s.CapturedAt = now
			}
			want[taskKey(task)] = s
		}
		if len(in) != len(fill) {
			t.Fatalf("claimed %d tasks, want %d", len(in), len(fill))
		}
		for i, err := range f.complete(nodeA, now, in...) {
			if err != nil {
				t.Fatalf("snapshot %d: %v", i, err)
			}
		}
		got := f.postMetrics(j.ID)
		order := []string{"z/1h0m0s", "z/24h0m0s", "a/1h0m0s", "a/24h0m0s", "b/1h0m0s", "m/1h0m0s"}
		if len(got) != len(order) {
			t.Fatalf("%d snapshots, want %d", len(got), len(order))
		}
		for i, key := range order {
			if err := sameSnapshot(got[i], want[key]); err != nil {
				t.Errorf("snapshot %d (want %s): %v", i, key, err)
			}
		}
		if snaps := f.postMetrics(1 << 40); len(snaps) != 0 {
			t.Errorf("metrics of no job = %+v", snaps)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		snap := []store.MetricsSnapshot{{TaskID: 1}}
		if _, err := f.s.CompleteMetricsTasks(f.ctx, store.CompleteMetricsTasksParams{Now: t0, Snapshots: snap}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("complete without Node: %v, want ErrInvalid", err)
		}
		if _, err := f.s.CompleteMetricsTasks(f.ctx, store.CompleteMetricsTasksParams{Node: nodeA, Snapshots: snap}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("complete without Now: %v, want ErrInvalid", err)
		}
		if _, err := f.s.DeferMetricsTasks(f.ctx, store.DeferMetricsTasksParams{Now: t0, TaskIDs: []int64{1}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("defer without Node: %v, want ErrInvalid", err)
		}
		if _, err := f.s.DeferMetricsTasks(f.ctx, store.DeferMetricsTasksParams{Node: nodeA, TaskIDs: []int64{1}}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("defer without Now: %v, want ErrInvalid", err)
		}
	})
}

// sameSnapshot compares snapshots field by field, times by instant and UTC,
// and tells a nil metric group from an empty one.
func sameSnapshot(got, want store.MetricsSnapshot) error {
	sameCounts := func(a, b map[string]int64) bool { return (a == nil) == (b == nil) && maps.Equal(a, b) }
	if got.TaskID != want.TaskID || got.JobID != want.JobID || got.PostID != want.PostID || got.Stage != want.Stage ||
		!got.DueAt.Equal(want.DueAt) || !got.CapturedAt.Equal(want.CapturedAt) || got.CapturedAt.Location() != time.UTC ||
		got.Likes != want.Likes || got.Reposts != want.Reposts || got.Replies != want.Replies || got.Quotes != want.Quotes ||
		got.Bookmarks != want.Bookmarks || got.Impressions != want.Impressions || got.Detail != want.Detail ||
		!sameCounts(got.NonPublic, want.NonPublic) || !sameCounts(got.Organic, want.Organic) {
		return fmt.Errorf("got  %+v (non-public nil %v, organic nil %v)\nwant %+v (non-public nil %v, organic nil %v)",
			got, got.NonPublic == nil, got.Organic == nil, want, want.NonPublic == nil, want.Organic == nil)
	}
	return nil
}
