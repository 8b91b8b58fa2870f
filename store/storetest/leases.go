package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

func testLeases(t *testing.T, h Harness) {
	t.Run("renew", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		a := f.inState(store.StatusRunning)
		b := f.inState(store.StatusRunning)
		done := f.inState(store.StatusSucceeded)
		now := t0.Add(30 * time.Second)
		until := now.Add(time.Minute)
		errs, err := f.s.RenewLeases(f.ctx, store.RenewLeasesParams{Node: nodeA, Now: now, LeaseUntil: until, Leases: []store.LeaseRef{
			{JobID: a.ID, Attempt: a.Attempt},
			{JobID: b.ID, Attempt: b.Attempt + 1}, // stale attempt
			{JobID: done.ID, Attempt: done.Attempt},
			{JobID: 1 << 40, Attempt: 1},
		}})
		if err != nil {
			t.Fatal(err)
		}
		want := []error{nil, store.ErrConflict, store.ErrConflict, store.ErrNotFound}
		for i, w := range want {
			checkErr(t, errs[i], w)
			var le *store.LeaseError
			if w != nil && !errors.As(errs[i], &le) {
				t.Errorf("lease %d: %T is not a *LeaseError", i, errs[i])
			}
		}
		if got := f.get(a.ID); !got.LeaseUntil.Equal(until) || !got.UpdatedAt.Equal(now) {
			t.Errorf("renewed lease = %v, updated %v", got.LeaseUntil, got.UpdatedAt)
		}
		if err := sameJob(b, f.get(b.ID)); err != nil {
			t.Errorf("stale renew changed the job: %v", err)
		}
		errs, err = f.s.RenewLeases(f.ctx, store.RenewLeasesParams{Node: nodeB, Now: now, LeaseUntil: until,
			Leases: []store.LeaseRef{{JobID: a.ID, Attempt: a.Attempt}}})
		if err != nil || !errors.Is(errs[0], store.ErrConflict) {
			t.Errorf("renew by another node = %v, %v; want ErrConflict", errs, err)
		}
	})

	t.Run("expire", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		a := f.inState(store.StatusRunning) // leases until t0+1m
		b := f.inState(store.StatusRunning)
		other := f.inState(store.StatusRetrying)
		until := t0.Add(5 * time.Minute)
		if errs, err := f.s.RenewLeases(f.ctx, store.RenewLeasesParams{Node: nodeA, Now: t0, LeaseUntil: until,
			Leases: []store.LeaseRef{{JobID: b.ID, Attempt: b.Attempt}}}); err != nil || errs[0] != nil {
			t.Fatalf("renew: %v %v", errs, err)
		}
		// Exactly at the lease's end it still holds.
		ch, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: a.LeaseUntil})
		if err != nil || len(ch) != 0 {
			t.Fatalf("ExpireLeases at the lease end = %d, %v; want none", len(ch), err)
		}
		now := a.LeaseUntil.Add(time.Nanosecond)
		ch, err = f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, a.ID)
		j := ch[0].Job
		if j.Status != store.StatusUnknown || !j.LeaseUntil.IsZero() || j.Node != nodeA || j.Attempt != a.Attempt {
			t.Errorf("expired job = %+v", j)
		}
		e := ch[0].Event
		if e.From != store.StatusRunning || e.To != store.StatusUnknown || e.Node != nodeB || e.Attempt != a.Attempt ||
			!e.At.Equal(now) || e.Detail == "" {
			t.Errorf("expiry event = %+v", e)
		}
		if got := f.get(b.ID); got.Status != store.StatusRunning {
			t.Errorf("renewed job expired: %+v", got)
		}
		if got := f.get(other.ID); got.Status != store.StatusRetrying {
			t.Errorf("non-running job touched: %+v", got)
		}
		// Limit.
		c := f.inState(store.StatusRunning)
		ch, err = f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: until.Add(time.Second), Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, c.ID) // c's lease (t0+1m) ran out before b's (t0+5m)
	})

	t.Run("release", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		a := f.inState(store.StatusRunning)
		b := f.inState(store.StatusRunning)
		theirs := f.create("theirs")
		theirs = f.claim(theirs.ID, nodeB, t0)
		now := t0.Add(10 * time.Second)
		jobs, err := f.s.ReleaseLeases(f.ctx, store.ReleaseLeasesParams{Node: nodeA, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 2 || jobs[0].ID != a.ID || jobs[1].ID != b.ID {
			t.Fatalf("released %+v, want jobs %d and %d", jobs, a.ID, b.ID)
		}
		for _, j := range jobs {
			if j.Status != store.StatusRunning || !j.LeaseUntil.Equal(now) {
				t.Errorf("released job = %+v", j)
			}
		}
		// Releasing never extends a lease.
		jobs, err = f.s.ReleaseLeases(f.ctx, store.ReleaseLeasesParams{Node: nodeA, Now: now.Add(time.Hour)})
		if err != nil || len(jobs) != 2 || !jobs[0].LeaseUntil.Equal(now) {
			t.Errorf("second release = %+v, %v; want the leases kept at %v", jobs, err, now)
		}
		ch, err := f.s.ExpireLeases(f.ctx, store.ExpireLeasesParams{Node: nodeB, Now: now.Add(time.Nanosecond)})
		if err != nil {
			t.Fatal(err)
		}
		checkIDs(t, ch, a.ID, b.ID)
		if got := f.get(theirs.ID); got.Status != store.StatusRunning || !got.LeaseUntil.Equal(theirs.LeaseUntil) {
			t.Errorf("another node's job touched: %+v", got)
		}
	})

	t.Run("record posts", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, h)
		j := f.inState(store.StatusRunning)
		for i, id := range []string{"p1", "p2"} {
			got, err := f.s.RecordPosts(f.ctx, store.RecordPostsParams{JobID: j.ID, Node: nodeA, Attempt: j.Attempt,
				PostIDs: []string{id}, Now: t0.Add(time.Duration(i+1) * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.PostIDs) != i+1 || got.PostIDs[i] != id {
				t.Errorf("PostIDs = %q", got.PostIDs)
			}
		}
		_, err := f.s.RecordPosts(f.ctx, store.RecordPostsParams{JobID: j.ID, Node: nodeB, Attempt: j.Attempt, PostIDs: []string{"x"}, Now: t0})
		var le *store.LeaseError
		if !errors.As(err, &le) || !errors.Is(err, store.ErrConflict) || le.ActualNode != nodeA {
			t.Errorf("RecordPosts by another node: %v, want a *LeaseError matching ErrConflict", err)
		}
		_, err = f.s.RecordPosts(f.ctx, store.RecordPostsParams{JobID: 1 << 40, Node: nodeA, Attempt: 1, Now: t0})
		checkErr(t, err, store.ErrNotFound)
		done := f.mustTransition(store.TransitionParams{JobID: j.ID, From: store.StatusRunning, To: store.StatusSucceeded,
			Node: nodeA, Attempt: j.Attempt, Now: t0.Add(time.Minute), AppendPostIDs: []string{"p3"}})
		if want := []string{"p1", "p2", "p3"}; !slices.Equal(done.PostIDs, want) || !slices.Equal(f.get(j.ID).PostIDs, want) {
			t.Errorf("PostIDs = %q, want %q", done.PostIDs, want)
		}
		if n := len(f.events(j.ID)); n != 3 {
			t.Errorf("%d events, want 3 (recording posts is not a transition)", n)
		}
	})
}
