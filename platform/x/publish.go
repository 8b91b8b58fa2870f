package x

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/schedules"
)

// Publish publishes the posts of post not yet published: media first (or
// the uploads an earlier attempt recorded, while X still holds them), then
// the main post, then each reply of the thread in reply to the previous
// one. Every request is fenced by post.Guard and counted against the
// account's windows.
func (p *Platform) Publish(ctx context.Context, post platform.Post, hooks platform.Hooks) (platform.Result, error) {
	a, err := p.account(post.Account)
	if err != nil {
		return platform.Result{IDs: post.Published}, err
	}
	if a.dryRun {
		return p.opts.DryRun.Publish(ctx, post, hooks)
	}
	if post.Guard != nil {
		ctx = xapi.WithGuard(ctx, post.Guard)
	}
	res := platform.Result{IDs: append([]string(nil), post.Published...)}
	var mediaIDs []string
	if len(res.IDs) == 0 && len(post.Media) > 0 {
		media, changed, err := p.prepareMedia(ctx, a, post.Media)
		if err != nil {
			return res, err
		}
		if changed && hooks.Media != nil {
			if err := hooks.Media(media); err != nil {
				return res, hookError("recording the uploaded media", err)
			}
		}
		for _, m := range media {
			mediaIDs = append(mediaIDs, m.MediaID)
		}
	}
	for i := len(res.IDs); i < len(post.Texts); i++ {
		np := xapi.NewPost{Text: post.Texts[i]}
		if i == 0 {
			np.MediaIDs = mediaIDs
		} else {
			np.ReplyTo = res.IDs[i-1]
		}
		if post.Guard != nil {
			// Asked here too, before SentAt is stamped: a create the guard
			// refuses was not sent.
			if err := post.Guard(xapi.EndpointCreatePost, p.opts.Timeout); err != nil {
				return res, err
			}
		}
		if res.SentAt.IsZero() {
			res.SentAt = p.opts.Clock.Now()
		}
		created, err := a.client.CreatePost(ctx, np)
		if err != nil {
			id, ferr := p.afterCreateError(ctx, a, post, res.IDs, i, err)
			if ferr != nil {
				return res, ferr
			}
			created.ID = id
		}
		res.IDs = append(res.IDs, created.ID)
		if hooks.Posted != nil {
			if err := hooks.Posted(created.ID, res.SentAt); err != nil {
				return res, hookError("recording post "+created.ID, err)
			}
		}
	}
	return res, nil
}

// hookError keeps a fencing refusal as it is and makes any other failure to
// record progress transient: nothing more is sent, and the attempt is
// retried after its outcome is recorded (or reconciled, if that fails too).
func hookError(what string, err error) error {
	if errors.Is(err, platform.ErrFenced) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, platform.ErrTransient, err)
}

// afterCreateError turns a failed create of post i into the platform's
// error classes, or into the id of post i when X refused it as a duplicate
// of this job's own earlier post.
//
// A duplicate-content refusal says only that SOME recent post of the
// account has this text. It is this job's only if an earlier attempt sent
// (post.FirstSentAt) and the account's timeline shows a post with this
// text (replying to the same parent) created since. When the timeline
// does not show one, that is proof only once the timeline has had time to
// show the earlier attempt's post (Options.TimelineLag after it was sent);
// before that the outcome is ambiguous and left to reconciliation.
func (p *Platform) afterCreateError(ctx context.Context, a *account, post platform.Post, ids []string, i int, err error) (string, error) {
	if xapi.IsDuplicate(err) {
		if post.FirstSentAt.IsZero() {
			return "", fmt.Errorf("post %d of the thread: %w: no earlier attempt sent it, so the post X has is not this job's: %w", i+1, platform.ErrDuplicate, err)
		}
		prev := ""
		if i > 0 {
			prev = ids[i-1]
		}
		recent, ferr := p.recent(ctx, a, post.FirstSentAt)
		if ferr != nil {
			return "", fmt.Errorf("post %d of the thread: X refused it as a duplicate, and reading the account's posts to see whether it is this job's failed: %w", i+1, ambiguous(ferr))
		}
		if id := match(recent, post.Texts[i], prev, i > 0, p.floor(post.FirstSentAt), nil); id != "" {
			return id, nil
		}
		if !p.Settled(post.Account, post.SentBefore, p.opts.Clock.Now()) {
			return "", fmt.Errorf("post %d of the thread: %w: X refused it as a duplicate and the earlier attempt's post is not in the timeline yet: %w", i+1, platform.ErrAmbiguous, err)
		}
		return "", fmt.Errorf("post %d of the thread: %w: the account's timeline has no post with this text since this job first sent it: %w", i+1, platform.ErrDuplicate, err)
	}
	if i > 0 && xapi.ClassOf(err) == xapi.ClassPermanent {
		return "", fmt.Errorf("X refused reply %d of the thread: %w", i, classify(err))
	}
	return "", classify(err)
}

// ambiguous keeps a rate-limit wait or a fencing refusal as it is and makes
// anything else ambiguous: the job's post may exist, and reconciliation
// decides.
func ambiguous(err error) error {
	if errors.Is(err, platform.ErrFenced) || errors.Is(err, platform.ErrDeferred) || errors.Is(err, platform.ErrReauth) {
		return err
	}
	return fmt.Errorf("%w: %w", platform.ErrAmbiguous, err)
}

// floor is the earliest creation time X may show for a post sent at t:
// X's created_at has a precision of a second, and its clock may disagree
// with ours by up to Options.ClockSkew.
func (p *Platform) floor(t time.Time) time.Time {
	return t.Truncate(time.Second).Add(-p.opts.ClockSkew)
}

// classify maps the client's error classes onto the platform's.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var xe *xapi.Error
	if !errors.As(err, &xe) {
		if errors.Is(err, platform.ErrDeferred) || errors.Is(err, platform.ErrTransient) || errors.Is(err, platform.ErrPermanent) {
			return err
		}
		return fmt.Errorf("%w: %w", platform.ErrTransient, err)
	}
	switch xe.Class {
	case xapi.ClassPermanent:
		return fmt.Errorf("%w: %w", platform.ErrPermanent, err)
	case xapi.ClassReauth:
		return fmt.Errorf("%w: %w", platform.ErrReauth, err)
	case xapi.ClassAmbiguous:
		return fmt.Errorf("%w: %w", platform.ErrAmbiguous, err)
	case xapi.ClassRateLimited:
		return &rateLimited{err: err, at: xe.ResetAt}
	}
	return fmt.Errorf("%w: %w", platform.ErrTransient, err)
}

// rateLimited is a 429: X refused the request before doing anything, so it
// is deferred like a request our own windows hold back: retried at X's
// reset (the latest exhausted window X reported; a backoff when X gave
// none), and no failed attempt.
type rateLimited struct {
	err error
	at  time.Time
}

func (r *rateLimited) Error() string      { return r.err.Error() }
func (r *rateLimited) Unwrap() []error    { return []error{platform.ErrTransient, r.err} }
func (r *rateLimited) RetryAt() time.Time { return r.at }
func (r *rateLimited) Is(target error) bool {
	return target == platform.ErrTransient || target == platform.ErrDeferred
}

// prepareMedia makes a post's media ready to attach: an upload recorded by
// an earlier attempt is reused while X still holds it (with a request
// timeout to spare); any other file is uploaded, within
// Options.MediaBudget for all of them, and its bytes must be those first
// uploaded for the job (ErrMediaChanged otherwise). changed reports
// whether anything was uploaded, i.e. whether the media must be recorded.
func (p *Platform) prepareMedia(ctx context.Context, a *account, frozen []platform.Media) (media []platform.Media, changed bool, err error) {
	media = append([]platform.Media(nil), frozen...)
	ctx, cancel := context.WithTimeout(ctx, p.opts.MediaBudget)
	defer cancel()
	for i := range media {
		m := &media[i]
		if m.MediaID != "" && !m.ExpiresAt.IsZero() && m.ExpiresAt.After(p.opts.Clock.Now().Add(2*p.opts.Timeout)) {
			continue
		}
		if err := p.upload(ctx, a, m); err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
				err = fmt.Errorf("the media budget of %s ran out: %w", p.opts.MediaBudget, err)
			}
			return nil, false, err
		}
		changed = true
	}
	return media, changed, nil
}

// upload uploads one file, hashing its bytes on the way, sets its alt
// text, and fills in m's Digest, Size, MediaID and ExpiresAt.
func (p *Platform) upload(ctx context.Context, a *account, m *platform.Media) error {
	name := filepath.Base(m.Path)
	path, err := confined(*m)
	if err != nil {
		return fmt.Errorf("media %s: %w: %w", m.Path, platform.ErrPermanent, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("media %s: %w: %w", m.Path, platform.ErrPermanent, err)
	}
	h := sha256.New()
	up, err := a.client.UploadMedia(ctx, xapi.MediaFile{
		Name: name, Size: fi.Size(), MediaType: mediaType(m.Path),
		Open: func() (io.ReadCloser, error) {
			h.Reset()
			path, err := confined(*m) // again: each open may come later
			if err != nil {
				return nil, err
			}
			f, err := os.Open(path)
			if err != nil {
				return nil, err
			}
			return hashingReader{Reader: io.TeeReader(f, h), Closer: f}, nil
		},
	})
	if err != nil {
		if xe := (*xapi.Error)(nil); errors.As(err, &xe) && xe.Class == xapi.ClassAmbiguous {
			// An upload that may have landed is harmless: it is not a
			// post, and an unused media id expires.
			return fmt.Errorf("media %s: %w: %w", name, platform.ErrTransient, err)
		}
		return fmt.Errorf("media %s: %w", name, classify(err))
	}
	digest := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if m.Digest != "" && m.Digest != digest {
		return fmt.Errorf("media %s: %w: its content is %s, the post was frozen with %s", name, platform.ErrMediaChanged, digest, m.Digest)
	}
	if m.Alt != "" {
		if err := a.client.SetAltText(ctx, up.ID, m.Alt); err != nil {
			return fmt.Errorf("alt text of %s: %w", name, classify(err))
		}
	}
	m.Digest, m.Size, m.MediaID, m.ExpiresAt = digest, fi.Size(), up.ID, up.ExpiresAt
	return nil
}

// confined is the real path of m's file, refused when it leads out of the
// plan's folder (schedules.ResolveWithin): validation checked it, but a
// symbolic link may be swapped since. Media frozen without a Root (before
// the check existed) are opened as they are.
func confined(m platform.Media) (string, error) {
	if m.Root == "" {
		return m.Path, nil
	}
	return schedules.ResolveWithin(m.Root, m.Path)
}

type hashingReader struct {
	io.Reader
	io.Closer
}

func mediaType(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".mp4":
		return "video/mp4"
	case ".mov":
		return "video/quicktime"
	}
	return mime.TypeByExtension(ext)
}

// Find looks in the account's recent posts, with one timeline read for
// all of posts, for the posts of each job not yet recorded, in thread
// order: the main post by its text, created no earlier than the job first
// sent (allowing for X's precision and clock skew), then each reply by its
// text and its parent. A post of X is given to one job at most. It returns,
// for each job, the ids found after its Published (none when the next one
// is not there).
func (p *Platform) Find(ctx context.Context, account string, posts []platform.Post) ([][]string, error) {
	a, err := p.account(account)
	if err != nil {
		return nil, err
	}
	if a.dryRun {
		return p.opts.DryRun.Find(ctx, account, posts)
	}
	since := time.Time{}
	for _, post := range posts {
		if b := p.searchFrom(post); since.IsZero() || b.Before(since) {
			since = b
		}
	}
	recent, err := p.recent(ctx, a, since)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(posts))
	used := map[string]bool{}
	for k, post := range posts {
		prev := ""
		if n := len(post.Published); n > 0 {
			prev = post.Published[n-1]
		}
		floor := p.searchFrom(post)
		for i := len(post.Published); i < len(post.Texts); i++ {
			id := match(recent, post.Texts[i], prev, i > 0, floor, used)
			if id == "" {
				break
			}
			used[id] = true
			out[k] = append(out[k], id)
			prev = id
		}
	}
	return out, nil
}

// searchFrom is the earliest creation time a post of the job can have.
func (p *Platform) searchFrom(post platform.Post) time.Time {
	if !post.FirstSentAt.IsZero() {
		return p.floor(post.FirstSentAt)
	}
	// A job recorded before send times were kept: from shortly before it
	// was planned.
	return post.PlannedAt.Add(-5 * time.Minute)
}

// recentPages bounds how far back reconciliation reads: 5 pages of 100
// posts since the earliest job first sent.
const recentPages = 5

// recent lists the account's posts created since since, newest first.
func (p *Platform) recent(ctx context.Context, a *account, since time.Time) ([]xapi.Post, error) {
	uid, err := p.userID(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []xapi.Post
	q := xapi.TimelineQuery{MaxResults: 100, StartTime: since}
	for page := 0; page < recentPages; page++ {
		tp, err := a.client.UserPosts(ctx, uid, q)
		if err != nil {
			return nil, fmt.Errorf("reading the account's recent posts: %w", classify(err))
		}
		out = append(out, tp.Posts...)
		if tp.NextToken == "" {
			break
		}
		q.PaginationToken = tp.NextToken
	}
	return out, nil
}

// userID is the authenticated user's id, looked up once per account.
func (p *Platform) userID(ctx context.Context, a *account) (string, error) {
	a.userMu.Lock()
	defer a.userMu.Unlock()
	if a.userID != "" {
		return a.userID, nil
	}
	u, err := a.client.Me(ctx)
	if err != nil {
		return "", fmt.Errorf("looking up the account's user: %w", classify(err))
	}
	a.userID = u.ID
	return u.ID, nil
}

// match returns the id of the oldest post not in used, created no earlier
// than floor, whose text is text (as the author wrote it: X's media link
// stripped) and, when reply is set, that replies to parent.
func match(posts []xapi.Post, text, parent string, reply bool, floor time.Time, used map[string]bool) string {
	want := normalize(text)
	found := ""
	// posts are newest first: the last match is the oldest.
	for _, p := range posts {
		if used[p.ID] || (reply && p.ReplyTo != parent) {
			continue
		}
		if !p.CreatedAt.IsZero() && p.CreatedAt.Before(floor) {
			continue
		}
		if normalize(p.AuthoredText()) == want {
			found = p.ID
		}
	}
	return found
}

var urlPattern = regexp.MustCompile(`https?://\S+`)

// normalize makes a text comparable with X's copy of it: X shortens every
// URL to a t.co link, escapes &, < and >, and trims surrounding space.
func normalize(s string) string {
	s = html.UnescapeString(s)
	s = urlPattern.ReplaceAllString(s, "<url>")
	return strings.Join(strings.Fields(s), " ")
}

// PostMetrics looks up one batch of an account's posts with their public
// figures and, for the account's own recent posts, the non-public and
// organic ones.
func (p *Platform) PostMetrics(ctx context.Context, account string, postIDs []string) ([]platform.Metrics, error) {
	a, err := p.account(account)
	if err != nil {
		return nil, err
	}
	if a.dryRun {
		if r, ok := p.opts.DryRun.(platform.MetricsReader); ok {
			return r.PostMetrics(ctx, account, postIDs)
		}
		return nil, fmt.Errorf("dry-run platform reads no metrics: %w", platform.ErrPermanent)
	}
	if len(postIDs) > platform.MaxMetricsBatch {
		return nil, fmt.Errorf("%d posts in one lookup, over %d: %w", len(postIDs), platform.MaxMetricsBatch, platform.ErrPermanent)
	}
	res, err := a.client.LookupPosts(ctx, postIDs, true)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]platform.Metrics, 0, len(postIDs))
	seen := map[string]bool{}
	for _, x := range res.Posts {
		seen[x.ID] = true
		out = append(out, platform.Metrics{
			PostID: x.ID, Likes: x.Public.Likes, Reposts: x.Public.Reposts, Replies: x.Public.Replies,
			Quotes: x.Public.Quotes, Bookmarks: x.Public.Bookmarks, Impressions: x.Public.Impressions,
			NonPublic: x.NonPublic, Organic: x.Organic,
		})
	}
	for _, id := range postIDs {
		if !seen[id] {
			seen[id] = true
			out = append(out, platform.Metrics{PostID: id, Missing: true, Detail: problemFor(res.Problems, id)})
		}
	}
	return out, nil
}

// problemFor is X's word on a post missing from a lookup.
func problemFor(problems []xapi.Problem, id string) string {
	for _, pr := range problems {
		if pr.ResourceID == id || pr.Value == id {
			if pr.Detail != "" {
				return pr.Detail
			}
			return pr.Title
		}
	}
	return "post not found"
}
