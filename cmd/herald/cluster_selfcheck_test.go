package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// TestCheckClusterFiresFindsBreaks shows that the chaos test's checks can
// fail: each way of breaking the promise, on a run of two fires, is found.
func TestCheckClusterFiresFindsBreaks(t *testing.T) {
	t.Parallel()
	s := soakSchedule{ID: "s01", Account: "acct01", Every: 1, Replies: 1}
	plan := soakPlan{Schedules: []soakSchedule{s}}
	t0 := time.Date(2026, 5, 13, 12, 0, 0, 0, time.UTC)
	lo, hi := t0.Add(-500*time.Millisecond), t0.Add(time.Second)
	good := func() ([]store.Job, []fakePost) {
		var jobs []store.Job
		var posts []fakePost
		for i := range 2 {
			at := t0.Add(time.Duration(i) * time.Second)
			j := store.Job{ID: int64(i + 1), ScheduleID: "s01", Run: int64(i + 1), PlannedAt: at, Status: store.StatusSucceeded}
			for part := range 2 {
				id := fmt.Sprintf("%d%d", i, part)
				j.PostIDs = append(j.PostIDs, id)
				posts = append(posts, fakePost{ID: id, AuthoredText: s.Text(part, j.Run, at, 1), CreatedAt: at.Add(50 * time.Millisecond)})
			}
			jobs = append(jobs, j)
		}
		return jobs, posts
	}
	tests := []struct {
		name   string
		break_ func([]store.Job, []fakePost) ([]store.Job, []fakePost)
		want   string // in a finding; empty: none
	}{
		{"kept", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) { return j, p }, ""},
		{"no job", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) { return j[:1], p[:2] }, "no job"},
		{"dead", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) {
			j[1].Status, j[1].DeadReason = store.StatusDead, "deadline"
			return j, p
		}, "want succeeded"},
		{"posted twice", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) {
			dup := p[3]
			dup.ID = "x"
			return j, append(p, dup)
		}, "posted 2 times"},
		{"reply missing", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) { return j, p[:3] }, "0 times"},
		{"stranger", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) {
			return j, append(p, fakePost{ID: "y", AuthoredText: "hello"})
		}, "is no job's"},
		{"wrong post id", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) {
			j[0].PostIDs = []string{"00", "zz"}
			return j, p
		}, "do not name"},
		{"two jobs for a fire", func(j []store.Job, p []fakePost) ([]store.Job, []fakePost) {
			extra := j[1]
			extra.ID, extra.Run = 3, 3
			return append(j, extra), p
		}, "are both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			jobs, posts := tt.break_(good())
			res := checkClusterFires(plan, lo, hi, jobs, posts)
			got := strings.Join(res.findings, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("findings on a kept promise:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("findings %q, want one with %q", got, tt.want)
			}
			if res.fires != 2 {
				t.Errorf("%d fires in the window, want 2", res.fires)
			}
		})
	}
}
