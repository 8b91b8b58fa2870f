// Package platform defines what Herald needs of a social platform: publish a
// post (with its thread), and find out whether an ambiguous publish landed.
// Implementations live in subpackages (dryrun here; the X client in its own
// package). The package imports nothing else of Herald's.
package platform

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Post is one job's frozen post, to publish or to find again: the main post
// and its thread, exactly as frozen on the job, whatever the configuration
// says now.
type Post struct {
	// JobID and CorrelationID identify the job, for logs.
	JobID         int64
	CorrelationID string
	ScheduleID    string
	Account       string
	PlannedAt     time.Time
	// Texts are the main post then each reply of the thread, as frozen.
	Texts []string
	// Media are attached to the main post.
	Media []Media
	// Published are the platform ids of the posts of Texts already published
	// by earlier attempts, in order: publishing resumes after the last one,
	// replying to it.
	Published []string
	// FirstSentAt is when an earlier attempt first sent (or may have sent)
	// a post of this job; zero when none did. A post of the account created
	// before it cannot be this job's, which is how a duplicate-content
	// refusal is told apart from our own earlier success.
	FirstSentAt time.Time
	// SentBefore bounds the sends of earlier attempts: every request they
	// sent left before it (the current attempt's claim for Publish; the
	// moment the job became ambiguous for Find). A post sent before it
	// shows in the account's timeline once the platform's timeline lag
	// has passed since; until then "not there" proves nothing.
	SentBefore time.Time
	// Guard, when set, is asked right before every request sent for this
	// post, with the request's endpoint and timeout; an error (wrapping
	// ErrFenced) stops the publish without sending. The publisher uses it
	// to send nothing for a job whose lease might not outlive the request.
	Guard func(endpoint string, timeout time.Duration) error
}

// Media is a file attached to a post: frozen with the post (Path, Alt)
// and, once uploaded, what the upload gave (Digest, Size, MediaID,
// ExpiresAt), so that a retry reuses an upload the platform still holds.
type Media struct {
	Path string
	Alt  string
	// Root, when set, is the plan's folder Path must stay under once its
	// symbolic links are resolved (schedules.ResolveWithin): checked again
	// when the file is opened, since a link may be swapped after
	// validation.
	Root string
	// Digest is "sha256:<hex>" of the bytes first uploaded; empty before.
	// A later upload of a file whose digest differs is refused
	// (ErrMediaChanged): the post would not be the one frozen.
	Digest string
	Size   int64
	// MediaID and ExpiresAt: the platform's id of the upload and when it
	// forgets it (zero: unknown).
	MediaID   string
	ExpiresAt time.Time
}

// Hooks let the caller make progress durable while a publish runs.
type Hooks struct {
	// Media is called after the post's media are uploaded and before the
	// post that uses them is sent, with every media of the post; an error
	// stops the publish before it sends anything.
	Media func(media []Media) error
	// Posted is called with each post's id as soon as that post exists,
	// and when this attempt first sent a post, so that the caller can
	// record it before the next one (a crash then resumes after it instead
	// of posting twice). An error stops the publish.
	Posted func(postID string, sentAt time.Time) error
}

// Result is what a publish did, whatever its error.
type Result struct {
	// IDs are the ids of every post of the thread published so far, in
	// order (Post.Published included).
	IDs []string
	// SentAt is when this call first sent a request that creates a post;
	// zero when it sent none. A call that sent may have published even
	// when it failed.
	SentAt time.Time
}

// Platform publishes posts. Implementations are safe for concurrent use.
type Platform interface {
	// Publish publishes the posts of p not yet in p.Published (see Hooks
	// and Result). Errors are classified with the sentinels below.
	Publish(ctx context.Context, p Post, hooks Hooks) (Result, error)
	// Find looks, with one read of the account's recent posts, for the
	// posts of several jobs of one account whose outcome was ambiguous
	// (the request may have reached the platform). For each post, in
	// order, it returns the ids found after Published, in thread order, or
	// none. A platform post is given to at most one job, and only to a job
	// whose FirstSentAt is not after its creation (allowing for clock
	// skew).
	Find(ctx context.Context, account string, posts []Post) ([][]string, error)
	// Settled reports whether a Find made at now that did not find a post
	// of account sent before sentBefore proves the post is not there: the
	// platform's timeline may show a new post some time after it was
	// created.
	Settled(account string, sentBefore, now time.Time) bool
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
	// ErrFenced: nothing was sent because the job's lease might not outlive
	// the request (Post.Guard refused it). The attempt is given up, not
	// failed: the job is retried by whichever node holds it next.
	ErrFenced = errors.New("not sent: the job's lease might not outlive the request")
)

// Permanent failures with a reason of their own, for the dead letter.
// Each also matches ErrPermanent.
var (
	// ErrDuplicate: the platform refused the post as a duplicate of a post
	// that is not this job's (none created after the job first sent).
	ErrDuplicate = fmt.Errorf("duplicate content: %w", ErrPermanent)
	// ErrMediaChanged: a media file's content differs from the bytes
	// uploaded for this job before, and the upload cannot be reused.
	ErrMediaChanged = fmt.Errorf("media file changed since the post was frozen: %w", ErrPermanent)
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
