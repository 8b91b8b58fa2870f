package storeutil

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// TestPostRoundTrip: what CheckPost returns is exactly what decoding its
// JSON gives, which is what a store returns whether it wrote or read it.
func TestPostRoundTrip(t *testing.T) {
	t.Parallel()
	zone := time.FixedZone("X", -7*3600)
	cases := []store.FrozenPost{
		{Texts: []string{""}},
		{Account: "a", Texts: []string{"<b>&amp;</b> \"q\" \\ \u2028 👋🏽", "ثانية"}, Media: []store.FrozenMedia{}},
		{Account: "a", Texts: []string{"t"}, Media: []store.FrozenMedia{
			{Path: "p.png"},
			{Path: "q.jpg", Alt: "alt", Digest: "sha256:00", Size: 3, MediaID: "9", ExpiresAt: time.Date(2031, 2, 3, 4, 5, 6, 7, zone)},
		}},
	}
	for i, p := range cases {
		norm, encoded, err := CheckPost(&p)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		decoded, err := DecodePost([]byte(encoded))
		if err != nil {
			t.Fatalf("case %d: decode %s: %v", i, encoded, err)
		}
		if !reflect.DeepEqual(norm, decoded) {
			t.Errorf("case %d: stored form %+v, decoded %+v (from %s)", i, norm, decoded, encoded)
		}
		if strings.Contains(encoded, `\u003c`) {
			t.Errorf("case %d: HTML escaped in %s", i, encoded)
		}
		for _, m := range decoded.Media {
			if !m.ExpiresAt.IsZero() && m.ExpiresAt.Location() != time.UTC {
				t.Errorf("case %d: ExpiresAt %v not in UTC", i, m.ExpiresAt)
			}
		}
	}
	if p, err := DecodePost(nil); p != nil || err != nil {
		t.Errorf("DecodePost(nil) = %v, %v", p, err)
	}
	if _, err := DecodePost([]byte("{")); err == nil {
		t.Error("DecodePost of broken JSON: no error")
	}
}

func TestWithMedia(t *testing.T) {
	t.Parallel()
	job := store.Job{ID: 1, Post: &store.FrozenPost{Texts: []string{"t"}, Media: []store.FrozenMedia{{Path: "a", Alt: "x"}, {Path: "b"}}}}
	cases := []struct {
		name  string
		job   store.Job
		media []store.FrozenMedia
		ok    bool
	}{
		{"same files", job, []store.FrozenMedia{{Path: "a", Alt: "x", MediaID: "1"}, {Path: "b", MediaID: "2"}}, true},
		{"no post", store.Job{ID: 2}, nil, false},
		{"fewer", job, []store.FrozenMedia{{Path: "a", Alt: "x"}}, false},
		{"other alt", job, []store.FrozenMedia{{Path: "a"}, {Path: "b"}}, false},
		{"swapped", job, []store.FrozenMedia{{Path: "b"}, {Path: "a", Alt: "x"}}, false},
	}
	for _, c := range cases {
		m, err := CheckRecordMedia(store.RecordMediaParams{Media: c.media, Now: time.Unix(1, 0)})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p, _, err := m.WithMedia(c.job)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, store.ErrInvalid)) {
			t.Errorf("%s: error = %v, want ok %v", c.name, err, c.ok)
		}
		if c.ok && (p.Media[0].MediaID != "1" || job.Post.Media[0].MediaID != "") {
			t.Errorf("%s: post %+v, job's %+v", c.name, p, job.Post)
		}
	}
}

func TestCheckTransitionSentAt(t *testing.T) {
	t.Parallel()
	now := time.Unix(100, 0)
	base := store.TransitionParams{JobID: 1, Node: "n", Attempt: 1, Now: now, RetryAt: now.Add(time.Second)}
	cases := []struct {
		from, to store.Status
		sentAt   time.Time
		wantSent int64
		wantDue  int64
		ok       bool
	}{
		{store.StatusRunning, store.StatusSucceeded, now, now.UnixNano(), 0, true},
		{store.StatusRunning, store.StatusUnknown, time.Time{}, 0, now.Add(time.Second).UnixNano(), true},
		{store.StatusUnknown, store.StatusSucceeded, now, 0, 0, false},
		{store.StatusDead, store.StatusPlanned, now, 0, 0, false},
	}
	for _, c := range cases {
		p := base
		p.From, p.To, p.SentAt = c.from, c.to, c.sentAt
		tr, err := CheckTransition(p)
		if c.ok != (err == nil) {
			t.Errorf("%s -> %s: error = %v, want ok %v", c.from, c.to, err, c.ok)
			continue
		}
		if c.ok && (tr.SentN != c.wantSent || tr.DueN != c.wantDue) {
			t.Errorf("%s -> %s: SentN, DueN = %d, %d; want %d, %d", c.from, c.to, tr.SentN, tr.DueN, c.wantSent, c.wantDue)
		}
	}
	p := base
	p.From, p.To, p.RetryAt = store.StatusRunning, store.StatusUnknown, time.Time{}
	if tr, err := CheckTransition(p); err != nil || tr.DueN != now.UnixNano() {
		t.Errorf("-> unknown without RetryAt: DueN = %d, %v; want Now", tr.DueN, err)
	}
}

func TestCreateClaimLimit(t *testing.T) {
	t.Parallel()
	now := time.Unix(100, 0)
	jobs := make([]store.NewJob, 5)
	for _, c := range []struct{ limit, want int }{{0, 5}, {2, 2}, {9, 5}} {
		cl, err := CreateClaim(store.CreateJobsParams{Jobs: jobs, Node: "n", Now: now, ClaimLeaseUntil: now.Add(time.Minute), ClaimLimit: c.limit})
		if err != nil || cl.Limit != c.want {
			t.Errorf("ClaimLimit %d: Limit %d, %v; want %d", c.limit, cl.Limit, err, c.want)
		}
	}
	if _, err := CreateClaim(store.CreateJobsParams{Jobs: jobs, Now: now, ClaimLimit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative ClaimLimit: %v", err)
	}
}
