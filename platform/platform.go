// Package platform defines what Herald needs of a social platform: publish a
// post (with its thread), and find out whether an ambiguous publish landed.
// Implementations live in subpackages (dryrun here; the X client in its own
// package). The package imports nothing else of Herald's.
package platform

import (
	"context"
	"errors"
	"time"
)

// Post is one rendered job to publish: the main post and its thread.
type Post struct {
	// JobID and CorrelationID identify the job, for logs.
	JobID         int64
	CorrelationID string
	ScheduleID    string
	Account       string
	PlannedAt     time.Time
	// Texts are the main post then each reply of the thread, rendered.
	Texts []string
	// Media are attached to the main post.
	Media []Media
	// Published are the platform ids of the posts of Texts already published
	// by earlier attempts, in order: publishing resumes after the last one,
	// replying to it.
	Published []string
	// Attempt is the job's claim count, 1 on the first attempt. On a later
	// attempt an earlier one may have landed whatever its recorded outcome
	// (a 5xx can follow a stored post), so a platform that rejects
	// duplicate content treats that answer as "already published".
	Attempt int
}

// Media is a file attached to a post.
type Media struct {
	Path string
	Alt  string
}

// Platform publishes posts. Implementations are safe for concurrent use.
type Platform interface {
	// Publish publishes the posts of p not yet in p.Published. It calls
	// progress with each post's id as soon as that post exists, so the
	// caller can record it before the next one (a crash then resumes after
	// it instead of posting twice). It returns the ids of every post of the
	// thread, in order. Errors are classified with the sentinels below.
	Publish(ctx context.Context, p Post, progress func(postID string) error) ([]string, error)
	// Find looks for an already published post of p whose outcome was
	// ambiguous (the request may have reached the platform). It returns
	// the ids found, in thread order, or none.
	Find(ctx context.Context, p Post) ([]string, error)
}

// Failure classes: a Platform's errors wrap exactly one of these, so the
// publisher knows whether to retry, give up, or reconcile first.
var (
	// ErrTransient: nothing was published and trying again later may work
	// (5xx, a timeout before the request was written, a rate limit).
	ErrTransient = errors.New("transient platform failure")
	// ErrPermanent: the platform refused the post; retrying cannot help.
	ErrPermanent = errors.New("permanent platform failure")
	// ErrAmbiguous: the request may have reached the platform; reconcile
	// with Find before any retry.
	ErrAmbiguous = errors.New("ambiguous platform outcome")
	// ErrReauth: the account's credentials were refused even after a
	// refresh; nothing will publish for it until an operator re-authorizes
	// it. The job is dead (reason "reauth").
	ErrReauth = errors.New("platform credentials refused")
	// ErrDeferred: nothing was sent because the account's known rate-limit
	// budget forbids it now. The job waits until the error's RetryAt and
	// the wait costs no attempt (a DeferredError carries the instant).
	ErrDeferred = errors.New("deferred by rate limit")
)

// DeferredError says that a request was not sent because a rate-limit
// window forbids it until Until. It matches ErrDeferred.
type DeferredError struct {
	Until  time.Time
	Reason string // which window, for the job's event
}

func (e *DeferredError) Error() string {
	return "deferred until " + e.Until.UTC().Format(time.RFC3339) + ": " + e.Reason
}

// Is makes errors.Is(err, ErrDeferred) true.
func (e *DeferredError) Is(target error) bool { return target == ErrDeferred }

// RetryAt returns the earliest instant a failed request may be retried,
// when the platform said (a 429's reset), else false. Transient failures
// without it back off exponentially.
func RetryAt(err error) (time.Time, bool) {
	var r interface{ RetryAt() time.Time }
	if errors.As(err, &r) {
		if t := r.RetryAt(); !t.IsZero() {
			return t, true
		}
	}
	var d *DeferredError
	if errors.As(err, &d) {
		return d.Until, true
	}
	return time.Time{}, false
}

// Metrics is one post's figures at one moment.
type Metrics struct {
	PostID                                                  string
	Likes, Reposts, Replies, Quotes, Bookmarks, Impressions int64
	// NonPublic and Organic are nil when the platform would not give them
	// (another author's token, a post older than the platform keeps them).
	NonPublic, Organic map[string]int64
	// Missing is set when the platform no longer has the post (deleted);
	// Detail says what it answered.
	Missing bool
	Detail  string
}

// MetricsReader reads posts' metrics. A Platform that can implements it;
// the metrics actors use it in batches of up to MaxMetricsBatch posts.
type MetricsReader interface {
	// PostMetrics returns the metrics of postIDs (all of one account), in
	// any order, one entry per post. Errors are classified like Publish's;
	// a DeferredError means the lookup's rate limit forbids it until then.
	PostMetrics(ctx context.Context, account string, postIDs []string) ([]Metrics, error)
}

// MaxMetricsBatch is the most post ids one metrics lookup may carry (X's
// limit for GET /2/tweets).
const MaxMetricsBatch = 100
