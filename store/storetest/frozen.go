package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// postString renders a post for comparison: times by instant, no media and
// empty media alike.
func postString(p *store.FrozenPost) string {
	if p == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "account=%q texts=%q", p.Account, p.Texts)
	for _, m := range p.Media {
		fmt.Fprintf(&b, " media{%q %q %q %d %q %d}", m.Path, m.Alt, m.Digest, m.Size, m.MediaID, unixOrZero(m.ExpiresAt))
	}
	return b.String()
}

// checkPost fails unless got is want, its times in UTC.
func checkPost(t testing.TB, what string, got, want *store.FrozenPost) {
	t.Helper()
	if postString(got) != postString(want) {
		t.Errorf("%s: post = %s\n   want %s", what, postString(got), postString(want))
		return
	}
	if got == nil {
		return
	}
	for i, m := range got.Media {
		if !m.ExpiresAt.IsZero() && m.ExpiresAt.Location() != time.UTC {
			t.Errorf("%s: media %d ExpiresAt %v is not in UTC", what, i, m.ExpiresAt)
		}
	}
}

// nanoZone is a zone east of UTC: a time written in it must come back as
// the same instant in UTC.
var nanoZone = time.FixedZone("UTC+05:45", 5*3600+45*60)

// postsToFreeze are posts that must read back exactly as frozen.
var postsToFreeze = []struct {
	name string
	post store.FrozenPost
}{
	{"one text", store.FrozenPost{Account: "acct", Texts: []string{"Hello"}}},
	{"unicode thread", store.FrozenPost{Account: "compte-é", Texts: []string{
		"Grüße 👋🏽 from 東京 — «quotes» \"double\" 'single' \\back\\slash",
		"مرحبا بالعالم (right to left) and e\u0301 combining, 👩\u200d💻 joined",
		"",
		"<b>not html</b> & more\nsecond line\ttab \u2028 line separator 𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
	}}},
	{"media", store.FrozenPost{Account: "acct", Texts: []string{"with pictures", "and a reply"}, Media: []store.FrozenMedia{
		{Path: "media/chart.png", Alt: "A chart going up ↗"},
		{Path: "media/ünïcode photo.jpg", Alt: "", Digest: "sha256:" + strings.Repeat("ab", 32), Size: 1 << 40,
			MediaID: "1780000000000000001", ExpiresAt: time.Date(2030, 1, 3, 9, 0, 0, 987654321, nanoZone)},
		{Path: "media/clip.mp4", MediaID: "17", ExpiresAt: t0.Add(time.Nanosecond)},
	}}},
}

func testFrozenPost(t *testing.T, h Harness) {
	for _, c := range postsToFreeze {
		t.Run("round trip/"+c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			in := c.post.Clone()
			res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeA, Now: t0, ClaimLeaseUntil: t0.Add(time.Minute),
				Jobs: []store.NewJob{
					{ScheduleID: "claimed", PlannedAt: t0, Post: in},
					{ScheduleID: "later", PlannedAt: t0.Add(time.Hour), Post: in},
					{ScheduleID: "bare", PlannedAt: t0},
				}})
			if err != nil {
				t.Fatal(err)
			}
			want := &c.post
			in.Texts[0], in.Account = "changed by the caller", "changed" // the store keeps its own copy
			checkPost(t, "created", res[0].Job.Post, want)
			if res[0].Claim == nil {
				t.Fatal("the due job was not claimed")
			}
			checkPost(t, "claimed at creation", res[0].Claim.Job.Post, want)
			checkPost(t, "created, not due", res[1].Job.Post, want)
			checkPost(t, "created without a post", res[2].Job.Post, nil)
			for _, r := range res {
				stored := r.Job
				if r.Claim != nil {
					stored = r.Claim.Job
				}
				if err := sameJob(stored, f.get(r.Job.ID)); err != nil {
					t.Errorf("stored job differs from the one returned: %v", err)
				}
			}
			page, err := f.s.ListJobs(f.ctx, store.ListJobsParams{ScheduleID: "later"})
			if err != nil || len(page.Jobs) != 1 {
				t.Fatalf("ListJobs = %+v, %v", page, err)
			}
			checkPost(t, "ListJobs", page.Jobs[0].Post, want)
			// Claims, transitions and lease operations return it too.
			later := res[1].Job
			now := later.DueAt
			j := f.claim(later.ID, nodeB, now)
			checkPost(t, "ClaimJobs", j.Post, want)
			j, err = f.s.RecordPosts(f.ctx, store.RecordPostsParams{JobID: j.ID, Node: nodeB, Attempt: j.Attempt, PostIDs: []string{"p"}, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			checkPost(t, "RecordPosts", j.Post, want)
			released, err := f.s.ReleaseLeases(f.ctx, store.ReleaseLeasesParams{Node: nodeB, Now: now})
			if err != nil || len(released) != 1 {
				t.Fatalf("ReleaseLeases = %+v, %v", released, err)
			}
			checkPost(t, "ReleaseLeases", released[0].Post, want)
			expired, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeA, Now: now.Add(time.Nanosecond)})
			if err != nil || len(expired) != 3 {
				t.Fatalf("ExpireLeases = %d jobs, %v; want the 3 claimed", len(expired), err)
			}
			for _, ch := range expired {
				checkPost(t, "ExpireLeases", ch.Job.Post, f.get(ch.Job.ID).Post)
				if ch.Job.ID == j.ID {
					checkPost(t, "ExpireLeases", ch.Job.Post, want)
				}
			}
			r := f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusUnknown, To: store.StatusSucceeded,
				Node: nodeA, Now: now.Add(time.Second)})
			checkPost(t, "Transition", r.Post, want)
		})
	}

	t.Run("a recorded fire keeps its post", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		first := f.createJob(store.NewJob{ScheduleID: "s", PlannedAt: t0, Post: &store.FrozenPost{Texts: []string{"first"}}})
		res, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeB, Now: t0.Add(time.Minute), Jobs: []store.NewJob{
			{ScheduleID: "s", PlannedAt: t0, Post: &store.FrozenPost{Texts: []string{"edited"}}},
			{ScheduleID: "t", PlannedAt: t0, Post: &store.FrozenPost{Texts: []string{"new"}}},
			{ScheduleID: "t", PlannedAt: t0, Post: &store.FrozenPost{Texts: []string{"new, edited"}}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Created || res[0].Job.ID != first.Job.ID {
			t.Fatalf("the fire was recorded twice: %+v", res[0])
		}
		checkPost(t, "recorded fire", res[0].Job.Post, first.Job.Post)
		checkPost(t, "recorded fire, stored", f.get(first.Job.ID).Post, &store.FrozenPost{Texts: []string{"first"}})
		checkPost(t, "copy in the batch", res[2].Job.Post, &store.FrozenPost{Texts: []string{"new"}})
		checkPost(t, "copy in the batch, stored", f.get(res[1].Job.ID).Post, &store.FrozenPost{Texts: []string{"new"}})
	})

	t.Run("invalid", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		running := f.inState(store.StatusRunning)
		cases := []struct {
			name string
			post store.FrozenPost
		}{
			{"no text", store.FrozenPost{Account: "a"}},
			{"invalid UTF-8", store.FrozenPost{Texts: []string{"ok", "bad \xff byte"}}},
			{"NUL", store.FrozenPost{Texts: []string{"nul \x00 char"}}},
			{"NUL in the account", store.FrozenPost{Account: "a\x00", Texts: []string{"t"}}},
			{"media without a path", store.FrozenPost{Texts: []string{"t"}, Media: []store.FrozenMedia{{Alt: "alt"}}}},
			{"invalid alt", store.FrozenPost{Texts: []string{"t"}, Media: []store.FrozenMedia{{Path: "p", Alt: "\xc3"}}}},
			{"negative size", store.FrozenPost{Texts: []string{"t"}, Media: []store.FrozenMedia{{Path: "p", Size: -1}}}},
			{"expiry out of range", store.FrozenPost{Texts: []string{"t"}, Media: []store.FrozenMedia{{Path: "p",
				ExpiresAt: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}}}},
		}
		for _, c := range cases {
			_, err := f.s.CreateJobs(f.ctx, store.CreateJobsParams{Node: nodeA, Now: t0, Jobs: []store.NewJob{
				{ScheduleID: "good", PlannedAt: t0}, {ScheduleID: "bad", PlannedAt: t0, Post: &c.post}}})
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: CreateJobs error = %v, want ErrInvalid", c.name, err)
			}
			_, err = f.s.FreezePost(f.ctx, store.FreezePostParams{JobID: running.ID, Node: nodeA, Attempt: running.Attempt,
				Post: c.post, Now: t0})
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%s: FreezePost error = %v, want ErrInvalid", c.name, err)
			}
		}
		if n := len(f.jobsOf("good")) + len(f.jobsOf("bad")); n != 0 {
			t.Errorf("invalid batches recorded %d jobs", n)
		}
		if err := sameJob(running, f.get(running.ID)); err != nil {
			t.Errorf("an invalid freeze changed the job: %v", err)
		}
	})
}

func testFreezePost(t *testing.T, h Harness) {
	post := store.FrozenPost{Account: "acct", Texts: []string{"frozen at the claim", "reply"},
		Media: []store.FrozenMedia{{Path: "a.png", Alt: "a"}}}
	other := store.FrozenPost{Account: "acct", Texts: []string{"another"}}
	now := t0.Add(5 * time.Second)
	cases := []struct {
		name string
		// setup returns the job and the freeze to try.
		setup    func(f *fixture) (store.Job, store.FreezePostParams)
		want     error // nil: the freeze applies
		wantPost *store.FrozenPost
		changed  bool // UpdatedAt moves to now
	}{
		{"a job without a post", func(f *fixture) (store.Job, store.FreezePostParams) {
			j := f.inState(store.StatusRunning)
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Post: post, Now: now}
		}, nil, &post, true},
		{"a job frozen at the fire keeps its post", func(f *fixture) (store.Job, store.FreezePostParams) {
			r := f.createJob(store.NewJob{ScheduleID: "s", PlannedAt: t0, Post: &other})
			j := f.claim(r.Job.ID, nodeA, t0)
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Post: post, Now: now}
		}, nil, &other, false},
		{"a second freeze keeps the first", func(f *fixture) (store.Job, store.FreezePostParams) {
			j := f.inState(store.StatusRunning)
			j, err := f.s.FreezePost(f.ctx, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Post: other, Now: t0})
			if err != nil {
				f.t.Fatal(err)
			}
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Post: post, Now: now}
		}, nil, &other, false},
		{"another node's lease", func(f *fixture) (store.Job, store.FreezePostParams) {
			j := f.inState(store.StatusRunning)
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeB, Attempt: j.Attempt, Post: post, Now: now}
		}, store.ErrConflict, nil, false},
		{"a stale attempt", func(f *fixture) (store.Job, store.FreezePostParams) {
			j := f.inState(store.StatusRetrying)
			j = f.claim(j.ID, nodeA, j.DueAt)
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt - 1, Post: post, Now: now}
		}, store.ErrConflict, nil, false},
		{"a job not running", func(f *fixture) (store.Job, store.FreezePostParams) {
			j := f.inState(store.StatusPlanned)
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: 1, Post: post, Now: now}
		}, store.ErrConflict, nil, false},
		{"no such job", func(f *fixture) (store.Job, store.FreezePostParams) {
			return store.Job{}, store.FreezePostParams{JobID: 1 << 40, Node: nodeA, Attempt: 1, Post: post, Now: now}
		}, store.ErrNotFound, nil, false},
		{"no now", func(f *fixture) (store.Job, store.FreezePostParams) {
			j := f.inState(store.StatusRunning)
			return j, store.FreezePostParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Post: post}
		}, store.ErrInvalid, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, h)
			before, p := c.setup(f)
			var events int
			if before.ID != 0 {
				events = len(f.events(before.ID))
			}
			got, err := f.s.FreezePost(f.ctx, p)
			checkErr(t, err, c.want)
			if c.want != nil {
				if le := (*store.LeaseError)(nil); !errors.Is(c.want, store.ErrInvalid) && !errors.As(err, &le) {
					t.Errorf("error %v is not a *LeaseError", err)
				}
				if before.ID != 0 {
					if err := sameJob(before, f.get(before.ID)); err != nil {
						t.Errorf("a failed freeze changed the job: %v", err)
					}
				}
				return
			}
			checkPost(t, "returned", got.Post, c.wantPost)
			if err := sameJob(got, f.get(before.ID)); err != nil {
				t.Errorf("returned job differs from the stored one: %v", err)
			}
			wantUpdated := before.UpdatedAt
			if c.changed {
				wantUpdated = now
			}
			if !got.UpdatedAt.Equal(wantUpdated) || got.Status != store.StatusRunning || got.Attempt != before.Attempt {
				t.Errorf("UpdatedAt, Status, Attempt = %v, %s, %d; want %v, running, %d", got.UpdatedAt, got.Status, got.Attempt,
					wantUpdated, before.Attempt)
			}
			if n := len(f.events(before.ID)); n != events {
				t.Errorf("%d events, want %d (freezing is not a transition)", n, events)
			}
		})
	}
}
