package actors

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/herald-social/herald/internal/backoff"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/store"
)

// rateLimitedErr is a platform error with a reset, as a 429 from X is.
type rateLimitedErr struct{ at time.Time }

func (r rateLimitedErr) Error() string        { return "429 Too Many Requests" }
func (r rateLimitedErr) RetryAt() time.Time   { return r.at }
func (r rateLimitedErr) Is(target error) bool { return target == platform.ErrDeferred }

// TestDecideOutcome runs every failure class against every combination of
// attempts left, deadline and lease state that changes the answer.
func TestDecideOutcome(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pol := func(deadline time.Time) jobPolicy {
		return jobPolicy{MaxAttempts: 3, Deadline: deadline, Backoff: backoff.Policy{Base: time.Second, Max: time.Minute},
			Account: "acme", Metrics: []time.Duration{time.Hour}, FirstCheck: 2 * time.Second}
	}
	top := func(n int64) int64 { return n - 1 } // the largest jittered wait
	sent := now.Add(-time.Second)
	classes := []struct {
		name string
		err  error
	}{
		{"success", nil},
		{"fenced", fmt.Errorf("guard: %w", platform.ErrFenced)},
		{"deferred-with-reset", &platform.DeferredError{Until: now.Add(4 * time.Second), Reason: "window"}},
		{"429-with-reset", rateLimitedErr{at: now.Add(4 * time.Second)}},
		{"429-without-reset", rateLimitedErr{}},
		{"reauth", fmt.Errorf("%w: 401", platform.ErrReauth)},
		{"duplicate", fmt.Errorf("x: %w", platform.ErrDuplicate)},
		{"media-changed", fmt.Errorf("x: %w", platform.ErrMediaChanged)},
		{"permanent", fmt.Errorf("%w: 400", platform.ErrPermanent)},
		{"ambiguous", fmt.Errorf("%w: 503 after the request was written", platform.ErrAmbiguous)},
		{"transient", fmt.Errorf("%w: connection refused", platform.ErrTransient)},
		{"unclassified", errors.New("boom")},
	}
	type want struct {
		to     store.Status
		reason string
		failed bool
		at     time.Duration // RetryAt - now, for retrying and unknown
	}
	// expected gives the answer for a class, the failures so far (2 means
	// this failure is the last allowed) and whether the deadline is 3 s
	// away (so any wait past it expires the job).
	expected := func(class string, failures int, nearDeadline bool) want {
		retry := func(d time.Duration, failed bool) want {
			if nearDeadline && d > 3*time.Second {
				return want{to: store.StatusDead, reason: reasonExpired}
			}
			return want{to: store.StatusRetrying, failed: failed, at: d}
		}
		switch class {
		case "success":
			return want{to: store.StatusSucceeded}
		case "fenced":
			return retry(0, false)
		case "deferred-with-reset", "429-with-reset":
			return retry(4*time.Second, false)
		case "429-without-reset":
			return retry(time.Second<<1, false) // attempt 2's backoff ceiling
		case "reauth":
			return want{to: store.StatusDead, reason: reasonReauth}
		case "duplicate":
			return want{to: store.StatusDead, reason: reasonDuplicate}
		case "media-changed":
			return want{to: store.StatusDead, reason: reasonMedia}
		case "permanent":
			return want{to: store.StatusDead, reason: reasonRejected}
		case "ambiguous":
			return want{to: store.StatusUnknown, failed: true, at: 2 * time.Second}
		}
		if failures+1 >= 3 {
			return want{to: store.StatusDead, reason: reasonExhausted}
		}
		return retry(time.Second<<failures, true)
	}
	for _, c := range classes {
		for _, failures := range []int{0, 2} {
			for _, near := range []bool{false, true} {
				name := fmt.Sprintf("%s/failures=%d/near-deadline=%v", c.name, failures, near)
				t.Run(name, func(t *testing.T) {
					deadline := time.Time{}
					if near {
						deadline = now.Add(3 * time.Second)
					}
					// Nothing of the job is out but what a success
					// publishes (a begun thread ignores the deadline:
					// TestAThreadBegunIsFinishedPastTheDeadline).
					job := store.Job{ID: 7, Attempt: 2, Failures: failures}
					a := attempt{Err: c.err, SentAt: sent}
					if c.err == nil {
						a.NewIDs, a.AllIDs = []string{"2"}, []string{"2"}
					}
					tp := decideOutcome(job, a, pol(deadline), now, top)
					w := expected(c.name, failures, near)
					if tp.To != w.to || tp.DeadReason != w.reason || tp.Failed != w.failed {
						t.Fatalf("got to=%s reason=%q failed=%v, want to=%s reason=%q failed=%v (detail %q)", tp.To, tp.DeadReason, tp.Failed, w.to, w.reason, w.failed, tp.Detail)
					}
					if (w.to == store.StatusRetrying || w.to == store.StatusUnknown) && tp.RetryAt.Sub(now) != w.at {
						t.Errorf("RetryAt = now%+v, want now%+v", tp.RetryAt.Sub(now), w.at)
					}
					if !tp.SentAt.Equal(sent) {
						t.Errorf("SentAt = %v, want the attempt's %v", tp.SentAt, sent)
					}
					if fmt.Sprint(tp.AppendPostIDs) != fmt.Sprint(a.NewIDs) {
						t.Errorf("AppendPostIDs = %v, want the attempt's new posts %v", tp.AppendPostIDs, a.NewIDs)
					}
					if w.to == store.StatusSucceeded && (len(tp.MetricsTasks) != 1 || tp.MetricsTasks[0].PostID != "2") {
						t.Errorf("MetricsTasks = %+v, want one on the main post", tp.MetricsTasks)
					}
					if w.to == store.StatusDead && (tp.LastError == "" || tp.Detail == "") {
						t.Errorf("a dead letter without its reason's detail: %+v", tp)
					}
				})
			}
		}
	}
}

// TestDecideOutcomeAmbiguousKeepsASendBound: an ambiguous answer always
// leaves a bound on when the job may have sent, even when the platform
// reported none.
func TestDecideOutcomeAmbiguousKeepsASendBound(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	tp := decideOutcome(store.Job{Attempt: 1}, attempt{Err: platform.ErrAmbiguous}, jobPolicy{MaxAttempts: 5}, now, nil)
	if !tp.SentAt.Equal(now) {
		t.Fatalf("SentAt = %v, want now", tp.SentAt)
	}
}

func TestDecideReconcile(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pol := jobPolicy{Account: "acme", Metrics: []time.Duration{time.Hour}}
	past := jobPolicy{Account: "acme", Deadline: now.Add(-time.Second)}
	job := store.Job{ID: 1, Attempt: 1, Post: &store.FrozenPost{Texts: []string{"a", "b"}}}
	for _, tc := range []struct {
		name   string
		r      reconciliation
		pol    jobPolicy
		ok     bool
		to     store.Status
		reason string
	}{
		{"found whole", reconciliation{Found: []string{"10", "11"}, Complete: true}, pol, true, store.StatusSucceeded, ""},
		{"found whole before settling", reconciliation{Found: []string{"10", "11"}, Complete: true, Settled: false}, pol, true, store.StatusSucceeded, ""},
		{"found in part, not settled", reconciliation{Found: []string{"10"}}, pol, false, "", ""},
		{"found in part, settled", reconciliation{Found: []string{"10"}, Settled: true}, pol, true, store.StatusRetrying, ""},
		{"not found, not settled", reconciliation{}, pol, false, "", ""},
		{"not found, settled", reconciliation{Settled: true}, pol, true, store.StatusRetrying, ""},
		{"not found, settled, past deadline", reconciliation{Settled: true}, past, true, store.StatusDead, reasonExpired},
		{"read failed for now", reconciliation{Err: fmt.Errorf("%w: 503", platform.ErrTransient), Settled: true}, pol, false, "", ""},
		{"read rate limited", reconciliation{Err: &platform.DeferredError{Until: now}, Settled: true}, pol, false, "", ""},
		{"read refused", reconciliation{Err: fmt.Errorf("%w: 403", platform.ErrPermanent)}, pol, true, store.StatusDead, reasonUnreconciled},
		{"credentials refused", reconciliation{Err: fmt.Errorf("%w: 401", platform.ErrReauth)}, pol, true, store.StatusDead, reasonUnreconciled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tp, ok := decideReconcile(job, tc.r, tc.pol, now)
			if ok != tc.ok || tp.To != tc.to || tp.DeadReason != tc.reason {
				t.Fatalf("got ok=%v to=%q reason=%q, want ok=%v to=%q reason=%q", ok, tp.To, tp.DeadReason, tc.ok, tc.to, tc.reason)
			}
			if tp.To == store.StatusSucceeded && len(tp.MetricsTasks) != 1 {
				t.Errorf("MetricsTasks = %+v, want one", tp.MetricsTasks)
			}
			if tp.To == store.StatusRetrying && !tp.RetryAt.Equal(now) {
				t.Errorf("RetryAt = %v, want now", tp.RetryAt)
			}
		})
	}
}

// TestAThreadBegunIsFinishedPastTheDeadline: once a post of the thread is
// out, neither a retry nor a reconciliation lets the deadline cut it.
func TestAThreadBegunIsFinishedPastTheDeadline(t *testing.T) {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pol := jobPolicy{MaxAttempts: 5, Deadline: now.Add(-time.Minute), Backoff: backoff.Policy{Base: time.Second, Max: time.Minute}}
	transient := fmt.Errorf("%w: 503 on a read", platform.ErrTransient)
	for _, tc := range []struct {
		name string
		job  store.Job
		a    attempt
	}{
		{"a post recorded before", store.Job{Attempt: 2, PostIDs: []string{"1"}}, attempt{Err: transient}},
		{"a post published by this attempt", store.Job{Attempt: 1}, attempt{Err: transient, NewIDs: []string{"1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tp := decideOutcome(tc.job, tc.a, pol, now, func(int64) int64 { return 0 }); tp.To != store.StatusRetrying {
				t.Errorf("to %s (%s), want retrying", tp.To, tp.Detail)
			}
		})
	}
	job := store.Job{Attempt: 2, PostIDs: []string{"1"}, Post: &store.FrozenPost{Texts: []string{"a", "b"}}}
	if tp, ok := decideReconcile(job, reconciliation{Settled: true}, pol, now); !ok || tp.To != store.StatusRetrying {
		t.Errorf("reconciled a begun thread past its deadline: to %s, ok %v; want retrying", tp.To, ok)
	}
	if tp := decideOutcome(store.Job{Attempt: 1}, attempt{Err: transient}, pol, now, func(int64) int64 { return 0 }); tp.DeadReason != reasonExpired {
		t.Errorf("a job with nothing out past its deadline: %s %q, want dead expired", tp.To, tp.DeadReason)
	}
}
