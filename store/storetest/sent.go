package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// checkInstant fails unless got is want (zero for zero), in UTC.
func checkInstant(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) || (!got.IsZero() && got.Location() != time.UTC) || got.IsZero() != want.IsZero() {
		t.Errorf("%s = %v, want %v in UTC", what, got, want)
	}
}

// testClaimLimit: CreateJobs claims at most ClaimLimit of the jobs it
// creates due, the first in input order, each with its send floor.
func testClaimLimit(t *testing.T, h Harness) {
	// The batch: claimable are 0, 2 and 5, in this order.
	batch := []store.NewJob{
		{ScheduleID: "a", PlannedAt: t0},
		{ScheduleID: "later", PlannedAt: t0, DueAt: t0.Add(time.Second)},
		{ScheduleID: "c", PlannedAt: t0, DueAt: t0.Add(-time.Second)},
		{ScheduleID: "recorded", PlannedAt: t0},
		{ScheduleID: "missed", PlannedAt: t0, Status: store.StatusMissed},
		{ScheduleID: "f", PlannedAt: t0},
		{ScheduleID: "a", PlannedAt: t0},
	}
	cases := []struct {
		limit   int
		claimed []int
	}{
		{0, []int{0, 2, 5}},
		{1, []int{0}},
		{2, []int{0, 2}},
		{3, []int{0, 2, 5}},
		{100, []int{0, 2, 5}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("limit %d", c.limit), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			f.createJob(store.NewJob{ScheduleID: "recorded", PlannedAt: t0})
			res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Jobs: batch, Node: nodeB, Now: t0,
				ClaimLeaseUntil: t0.Add(time.Minute), ClaimLimit: c.limit})
			if err != nil {
				t.Fatal(err)
			}
			want := make(map[int]bool)
			for _, i := range c.claimed {
				want[i] = true
			}
			var lastID, lastEvent int64
			for i, r := range res {
				if (r.Claim != nil) != want[i] {
					t.Errorf("result %d (%s): claimed %v, want %v", i, r.Job.ScheduleID, r.Claim != nil, want[i])
				}
				stored := f.get(r.Job.ID)
				if !r.Created {
					continue
				}
				// Created in input order: IDs and creation events.
				if r.Job.ID <= lastID || r.Event.ID <= lastEvent {
					t.Errorf("result %d: job %d, event %d after job %d, event %d", i, r.Job.ID, r.Event.ID, lastID, lastEvent)
				}
				lastID, lastEvent = r.Job.ID, r.Event.ID
				checkInstant(t, fmt.Sprintf("result %d: created SendFloor", i), r.Job.SendFloor, time.Time{})
				if r.Claim == nil {
					if stored.Status != r.Job.Status || !stored.SendFloor.IsZero() {
						t.Errorf("result %d: stored %s with floor %v, want %s and none", i, stored.Status, stored.SendFloor, r.Job.Status)
					}
					continue
				}
				checkInstant(t, fmt.Sprintf("result %d: claimed SendFloor", i), r.Claim.Job.SendFloor, t0)
				if err := sameJob(r.Claim.Job, stored); err != nil {
					t.Errorf("result %d: the claim differs from the stored job: %v", i, err)
				}
			}
			for _, r := range res {
				if r.Claim != nil && r.Claim.Event.ID <= lastEvent {
					t.Errorf("claim event %d before the last creation event %d", r.Claim.Event.ID, lastEvent)
				}
			}
			// What the limit left planned is claimed later, with that
			// claim's floor.
			later := t0.Add(10 * time.Second)
			ch, err := f.s.ClaimJobs(f.ctx, store.ClaimJobsParams{Limit: 10, Node: nodeA, Now: later, LeaseUntil: later.Add(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			// Left: the not-yet-due job (1), the job recorded before the
			// batch, and the claimable ones beyond the limit.
			if wantLeft := 2 + 3 - len(c.claimed); len(ch) != wantLeft {
				t.Errorf("ClaimJobs after the batch claimed %d jobs, want %d", len(ch), wantLeft)
			}
			for _, cl := range ch {
				checkInstant(t, "SendFloor of a later claim", cl.Job.SendFloor, later)
			}
		})
	}

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		_, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Jobs: batch[:1], Node: nodeA, Now: t0,
			ClaimLeaseUntil: t0.Add(time.Minute), ClaimLimit: -1})
		checkErr(t, err, store.ErrInvalid)
		if n := len(f.jobsOf("a")); n != 0 {
			t.Errorf("an invalid batch recorded %d jobs", n)
		}
	})
}

// sendStep is one step of a job's life and the FirstSentAt it leaves.
type sendStep struct {
	name string
	do   func(f *fixture, j store.Job) store.Job
	want time.Time
}

func claimAt(at time.Time) func(*fixture, store.Job) store.Job {
	return func(f *fixture, j store.Job) store.Job { return f.claim(j.ID, nodeA, at) }
}

func recordPosts(at, sentAt time.Time) func(*fixture, store.Job) store.Job {
	return func(f *fixture, j store.Job) store.Job {
		f.t.Helper()
		j, err := f.s.RecordPosts(f.ctx, store.RecordPostsParams{JobID: j.ID, Node: j.Node, Attempt: j.Attempt,
			PostIDs: []string{fmt.Sprint("post-", at.UnixNano())}, Now: at, SentAt: sentAt})
		if err != nil {
			f.t.Fatalf("RecordPosts: %v", err)
		}
		return j
	}
}

// move makes a transition at "at", due again at "at" when it needs a time.
func move(from, to store.Status, at, sentAt time.Time) func(*fixture, store.Job) store.Job {
	return func(f *fixture, j store.Job) store.Job {
		f.t.Helper()
		p := store.TransitionParams{JobID: j.ID, From: from, To: to, Node: nodeA, Now: at, RetryAt: at, SentAt: sentAt}
		if from == store.StatusRunning {
			p.Attempt = j.Attempt
		}
		return f.mustTransition(p)
	}
}

// expire lets the job's lease run out and checks that it is due at once.
func expire(f *fixture, j store.Job) store.Job {
	f.t.Helper()
	now := j.LeaseUntil.Add(time.Nanosecond)
	ch, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: now})
	if err != nil || len(ch) != 1 {
		f.t.Fatalf("ExpireLeases = %+v, %v; want one job", ch, err)
	}
	checkInstant(f.t, "DueAt after the expiry", ch[0].Job.DueAt, now)
	return ch[0].Job
}

// testSendTimes: claims and RecordMedia set SendFloor; the first of
// RecordPosts, a transition out of running and ExpireLeases that says the
// job may have sent sets FirstSentAt, and nothing moves it afterwards.
func testSendTimes(t *testing.T, h Harness) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	withMedia := &store.FrozenPost{Texts: []string{"t"}, Media: []store.FrozenMedia{{Path: "a.png"}}}
	cases := []struct {
		name  string
		post  *store.FrozenPost
		steps []sendStep
	}{
		{"RecordPosts first", nil, []sendStep{
			{"claim", claimAt(at(5)), time.Time{}},
			{"posts without SentAt", recordPosts(at(6), time.Time{}), time.Time{}},
			{"posts sent", recordPosts(at(11), at(10)), at(10)},
			{"posts sent again", recordPosts(at(21), at(20)), at(10)},
			{"retrying with SentAt", move(store.StatusRunning, store.StatusRetrying, at(31), at(30)), at(10)},
			{"claim", claimAt(at(40)), at(10)},
			{"expiry", expire, at(10)},
		}},
		{"a transition first", nil, []sendStep{
			{"claim", claimAt(at(5)), time.Time{}},
			{"unknown with SentAt", move(store.StatusRunning, store.StatusUnknown, at(21), at(20)), at(20)},
			{"reconciled: retry", move(store.StatusUnknown, store.StatusRetrying, at(22), time.Time{}), at(20)},
			{"claim", claimAt(at(30)), at(20)},
			{"posts sent", recordPosts(at(31), at(31)), at(20)},
			{"succeeded with SentAt", move(store.StatusRunning, store.StatusSucceeded, at(32), at(31)), at(20)},
		}},
		{"an expiry first: from the send floor", nil, []sendStep{
			{"claim", claimAt(at(5)), time.Time{}},
			{"expiry", expire, at(5)},
			{"reconciled: retry", move(store.StatusUnknown, store.StatusRetrying, at(70), time.Time{}), at(5)},
			{"claim", claimAt(at(80)), at(5)},
			{"posts sent", recordPosts(at(81), at(81)), at(5)},
			{"dead with SentAt", move(store.StatusRunning, store.StatusDead, at(82), at(81)), at(5)},
		}},
		{"an expiry after media: from their record", withMedia, []sendStep{
			{"claim", claimAt(at(5)), time.Time{}},
			{"media", func(f *fixture, j store.Job) store.Job {
				f.t.Helper()
				j, err := f.s.RecordMedia(f.ctx, store.RecordMediaParams{JobID: j.ID, Node: j.Node, Attempt: j.Attempt, Now: at(9),
					Media: []store.FrozenMedia{{Path: "a.png", MediaID: "m"}}})
				if err != nil {
					f.t.Fatalf("RecordMedia: %v", err)
				}
				return j
			}, time.Time{}},
			{"expiry", expire, at(9)},
		}},
		{"transitions without SentAt", nil, []sendStep{
			{"claim", claimAt(at(5)), time.Time{}},
			{"retrying", move(store.StatusRunning, store.StatusRetrying, at(6), time.Time{}), time.Time{}},
			{"claim", claimAt(at(7)), time.Time{}},
			{"unknown", move(store.StatusRunning, store.StatusUnknown, at(8), time.Time{}), time.Time{}},
			{"dead", move(store.StatusUnknown, store.StatusDead, at(9), time.Time{}), time.Time{}},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			j := f.createJob(store.NewJob{ScheduleID: "s", PlannedAt: t0, Post: c.post}).Job
			for _, s := range c.steps {
				j = s.do(f, j)
				checkInstant(t, s.name+": FirstSentAt", j.FirstSentAt, s.want)
				if err := sameJob(j, f.get(j.ID)); err != nil {
					t.Fatalf("%s: returned job differs from the stored one: %v", s.name, err)
				}
			}
		})
	}

	t.Run("claims set the send floor", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.create("s")
		checkInstant(t, "SendFloor before any claim", j.SendFloor, time.Time{})
		j = f.claim(j.ID, nodeA, at(5))
		checkInstant(t, "SendFloor of the first claim", j.SendFloor, at(5))
		j = move(store.StatusRunning, store.StatusRetrying, at(6), time.Time{})(f, j)
		checkInstant(t, "SendFloor after the attempt", j.SendFloor, at(5))
		j = f.claim(j.ID, nodeB, at(7))
		checkInstant(t, "SendFloor of the second claim", j.SendFloor, at(7))
		checkInstant(t, "SendFloor stored", f.get(j.ID).SendFloor, at(7))
	})

	t.Run("SentAt only out of running", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		for _, e := range []struct{ from, to store.Status }{
			{store.StatusPlanned, store.StatusCancelled}, {store.StatusUnknown, store.StatusSucceeded},
			{store.StatusUnknown, store.StatusRetrying}, {store.StatusDead, store.StatusPlanned},
			{store.StatusRetrying, store.StatusCancelled},
		} {
			j := f.inState(e.from)
			r := f.transition(store.TransitionParams{JobID: j.ID, From: e.from, To: e.to, Node: nodeA, Now: at(60),
				RetryAt: at(60), SentAt: at(59)})
			checkErr(t, r.Err, store.ErrInvalid)
			if err := sameJob(j, f.get(j.ID)); err != nil {
				t.Errorf("%s -> %s: the job changed: %v", e.from, e.to, err)
			}
		}
		j := f.inState(store.StatusRunning)
		r := f.transition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded, Node: nodeA,
			Attempt: j.Attempt, Now: at(60), SentAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)})
		checkErr(t, r.Err, store.ErrInvalid)
		_, err := f.s.RecordPosts(f.ctx, store.RecordPostsParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: at(60),
			SentAt: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)})
		checkErr(t, err, store.ErrInvalid)
	})

	t.Run("unknown is due for reconciliation", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusRunning)
		j = move(store.StatusRunning, store.StatusUnknown, at(30), time.Time{})(f, j)
		checkInstant(t, "DueAt without RetryAt", j.DueAt, at(30))
		k := f.inState(store.StatusRunning)
		k = f.mustTransition(store.TransitionParams{JobID: k.ID, From: store.StatusRunning, To: store.StatusUnknown, Node: nodeA,
			Attempt: k.Attempt, Now: at(30), RetryAt: at(90)})
		checkInstant(t, "DueAt with RetryAt", k.DueAt, at(90))
		checkInstant(t, "DueAt stored", f.get(k.ID).DueAt, at(90))
	})

	t.Run("an operator's retry keeps the post and the first send", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		post := &store.FrozenPost{Account: "acct", Texts: []string{"the post"}}
		j := f.createJob(store.NewJob{ScheduleID: "s", PlannedAt: t0, Post: post}).Job
		j = f.claim(j.ID, nodeA, at(5))
		j = recordPosts(at(6), at(6))(f, j)
		j = move(store.StatusRunning, store.StatusDead, at(7), time.Time{})(f, j)
		j = move(store.StatusDead, store.StatusPlanned, at(100), time.Time{})(f, j)
		if j.Status != store.StatusPlanned || j.Failures != 0 || j.DeadReason != "" {
			t.Fatalf("retried job = %+v", j)
		}
		checkPost(t, "after the retry", j.Post, post)
		checkInstant(t, "FirstSentAt after the retry", j.FirstSentAt, at(6))
		j = f.claim(j.ID, nodeB, at(100))
		checkPost(t, "claimed after the retry", j.Post, post)
		checkInstant(t, "FirstSentAt claimed after the retry", j.FirstSentAt, at(6))
		checkInstant(t, "SendFloor claimed after the retry", j.SendFloor, at(100))
		if err := sameJob(j, f.get(j.ID)); err != nil {
			t.Error(err)
		}
	})
}
