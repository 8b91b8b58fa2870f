package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// testRecordMedia: the media of a frozen post are recorded under the
// caller's lease, for the same files only, and move the send floor.
func testRecordMedia(t *testing.T, h Harness) {
	files := []store.FrozenMedia{{Path: "a.png", Alt: "first"}, {Path: "b.jpg"}}
	uploaded := []store.FrozenMedia{
		{Path: "a.png", Alt: "first", Digest: "sha256:01", Size: 10, MediaID: "m1",
			ExpiresAt: time.Date(2030, 1, 3, 4, 5, 6, 1, nanoZone)},
		{Path: "b.jpg", Digest: "sha256:02", Size: 20, MediaID: "m2"},
	}
	reuploaded := []store.FrozenMedia{uploaded[0], {Path: "b.jpg", Digest: "sha256:02", Size: 20, MediaID: "m3",
		ExpiresAt: t0.Add(24*time.Hour + 999)}}
	claimedAt := t0.Add(time.Second)
	now := t0.Add(10 * time.Second)
	// job creates a job with a post of files (none when nil), claimed by
	// nodeA at claimedAt.
	job := func(f *fixture, media []store.FrozenMedia, frozen bool) store.Job {
		f.t.Helper()
		nj := store.NewJob{ScheduleID: "s", PlannedAt: t0}
		if frozen {
			nj.Post = &store.FrozenPost{Account: "acct", Texts: []string{"text", "reply"}, Media: media}
		}
		return f.claim(f.createJob(nj).Job.ID, nodeA, claimedAt)
	}
	cases := []struct {
		name string
		// setup returns the job and the media record to try.
		setup func(f *fixture) (store.Job, store.RecordMediaParams)
		want  error
		// wantMedia are the post's media after a success.
		wantMedia []store.FrozenMedia
	}{
		{"under the lease", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded, Now: now}
		}, nil, uploaded},
		{"again, a new upload", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			j, err := f.s.RecordMedia(f.ctx, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded, Now: claimedAt})
			if err != nil {
				f.t.Fatal(err)
			}
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: reuploaded, Now: now}
		}, nil, reuploaded},
		{"a post without media", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, nil, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: now}
		}, nil, nil},
		{"another node's lease", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeB, Attempt: j.Attempt, Media: uploaded, Now: now}
		}, store.ErrConflict, nil},
		{"another attempt", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt + 1, Media: uploaded, Now: now}
		}, store.ErrConflict, nil},
		{"a job no longer running", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			j = f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusRetrying,
				Node: nodeA, Attempt: j.Attempt, Now: claimedAt, RetryAt: now})
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded, Now: now}
		}, store.ErrConflict, nil},
		{"no such job", func(f *fixture) (store.Job, store.RecordMediaParams) {
			return store.Job{}, store.RecordMediaParams{JobID: 1 << 40, Node: nodeA, Attempt: 1, Media: uploaded, Now: now}
		}, store.ErrNotFound, nil},
		{"no frozen post", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, nil, false)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded, Now: now}
		}, store.ErrInvalid, nil},
		{"fewer files", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded[:1], Now: now}
		}, store.ErrInvalid, nil},
		{"more files", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: now,
				Media: append(append([]store.FrozenMedia(nil), uploaded...), store.FrozenMedia{Path: "c.gif"})}
		}, store.ErrInvalid, nil},
		{"another path", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: now,
				Media: []store.FrozenMedia{uploaded[0], {Path: "B.jpg", MediaID: "m2"}}}
		}, store.ErrInvalid, nil},
		{"another alt", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: now,
				Media: []store.FrozenMedia{{Path: "a.png", Alt: "edited", MediaID: "m1"}, uploaded[1]}}
		}, store.ErrInvalid, nil},
		{"another order", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: now,
				Media: []store.FrozenMedia{uploaded[1], uploaded[0]}}
		}, store.ErrInvalid, nil},
		{"media on a post without", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, nil, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded, Now: now}
		}, store.ErrInvalid, nil},
		{"an invalid record", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Now: now,
				Media: []store.FrozenMedia{uploaded[0], {Path: "b.jpg", MediaID: "bad \xff"}}}
		}, store.ErrInvalid, nil},
		{"no now", func(f *fixture) (store.Job, store.RecordMediaParams) {
			j := job(f, files, true)
			return j, store.RecordMediaParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt, Media: uploaded}
		}, store.ErrInvalid, nil},
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
			got, err := f.s.RecordMedia(f.ctx, p)
			checkErr(t, err, c.want)
			if c.want != nil {
				var le *store.LeaseError
				if isLease := errors.As(err, &le); isLease == errors.Is(c.want, store.ErrInvalid) {
					t.Errorf("error %v: a *LeaseError is for a lease lost, and only for it", err)
				}
				if before.ID != 0 {
					if err := sameJob(before, f.get(before.ID)); err != nil {
						t.Errorf("a failed record changed the job: %v", err)
					}
				}
				return
			}
			want := before.Post.Clone()
			want.Media = c.wantMedia
			checkPost(t, "returned", got.Post, want)
			if err := sameJob(got, f.get(before.ID)); err != nil {
				t.Errorf("returned job differs from the stored one: %v", err)
			}
			if !got.SendFloor.Equal(now) || got.SendFloor.Location() != time.UTC || !got.UpdatedAt.Equal(now) {
				t.Errorf("SendFloor, UpdatedAt = %v, %v; want %v (the claim's floor was %v)", got.SendFloor, got.UpdatedAt, now, before.SendFloor)
			}
			if got.Status != store.StatusRunning || got.Attempt != before.Attempt || !got.LeaseUntil.Equal(before.LeaseUntil) {
				t.Errorf("job = %+v, want the lease as it was", got)
			}
			if n := len(f.events(before.ID)); n != events {
				t.Errorf("%d events, want %d (recording media is not a transition)", n, events)
			}
		})
	}
}
