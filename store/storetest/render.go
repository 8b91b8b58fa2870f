package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// testRenderedPost: NewJob.Render freezes a post made from the run number
// the store assigns, in the write that creates the job (claimed or not);
// a fire already recorded keeps its post, and a Render that fails leaves
// the job without one.
func testRenderedPost(t *testing.T, h Harness) {
	f := newFixture(t, h)
	calls := 0
	render := func(run int64) (*store.FrozenPost, error) {
		calls++
		return &store.FrozenPost{Account: "brand", Texts: []string{fmt.Sprintf("Run %d", run), "reply"}}, nil
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	first := f.createJob(store.NewJob{ScheduleID: "rendered", PlannedAt: at(1), Render: render})
	res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Now: at(2), Node: nodeA, ClaimLeaseUntil: at(3), Jobs: []store.NewJob{
		{ScheduleID: "rendered", PlannedAt: at(2), Render: render},               // created and claimed
		{ScheduleID: "rendered", PlannedAt: at(1), Render: render},               // already recorded
		{ScheduleID: "rendered", PlannedAt: at(3), DueAt: at(9), Render: render}, // created, not due
		{ScheduleID: "broken", PlannedAt: at(2), Render: func(int64) (*store.FrozenPost, error) { return nil, errors.New("template") }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := func(what string, j store.Job, text string) {
		t.Helper()
		if j.Post == nil || len(j.Post.Texts) != 2 || j.Post.Texts[0] != text || j.Post.Account != "brand" {
			t.Errorf("%s: post %+v, want %q", what, j.Post, text)
		}
		if got := f.get(j.ID); got.Post == nil || got.Post.Texts[0] != text {
			t.Errorf("%s: stored post %+v, want %q", what, got.Post, text)
		}
	}
	want("first fire", first.Job, "Run 1")
	want("second fire", res[0].Job, fmt.Sprintf("Run %d", res[0].Job.Run))
	if res[0].Claim == nil {
		t.Fatal("the due fire was not claimed")
	}
	want("second fire, claimed", res[0].Claim.Job, fmt.Sprintf("Run %d", res[0].Job.Run))
	if res[1].Created {
		t.Error("a recorded fire was created again")
	}
	want("recorded fire", res[1].Job, "Run 1")
	want("fire not due", res[2].Job, fmt.Sprintf("Run %d", res[2].Job.Run))
	if j := res[3].Job; !res[3].Created || j.Post != nil || f.get(j.ID).Post != nil {
		t.Errorf("a failed render left post %+v (stored %+v), want none", j.Post, f.get(j.ID).Post)
	}
	if calls < 3 {
		t.Errorf("Render called %d times for 3 new jobs", calls)
	}
}
