package x

import (
	"context"
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
)

// Publish publishes the posts of post not yet published: media first (close
// to publish time, since X's media ids expire), then the main post, then
// each reply of the thread in reply to the previous one.
func (p *Platform) Publish(ctx context.Context, post platform.Post, progress func(string) error) ([]string, error) {
	a, err := p.account(post.Account)
	if err != nil {
		return nil, err
	}
	if a.dryRun {
		return p.opts.DryRun.Publish(ctx, post, progress)
	}
	ids := append([]string(nil), post.Published...)
	var mediaIDs []string
	if len(ids) == 0 && len(post.Media) > 0 {
		if mediaIDs, err = p.uploadMedia(ctx, a, post.Media); err != nil {
			return ids, err
		}
	}
	for i := len(ids); i < len(post.Texts); i++ {
		np := xapi.NewPost{Text: post.Texts[i]}
		if i == 0 {
			np.MediaIDs = mediaIDs
		} else {
			np.ReplyTo = ids[i-1]
		}
		if err := p.reserve(ctx, a, xapi.EndpointCreatePost); err != nil {
			return ids, err
		}
		created, err := a.client.CreatePost(ctx, np)
		if err != nil {
			id, ok, ferr := p.afterCreateError(ctx, a, post, ids, i, err)
			if !ok {
				return ids, ferr
			}
			if id == "" {
				// Published by an earlier attempt, but X does not say
				// where, and a reply needs its parent's id.
				if i == len(post.Texts)-1 {
					return ids, nil
				}
				return ids, fmt.Errorf("post %d of the thread was already published (duplicate content) but could not be found in the account's recent posts, so the rest of the thread cannot reply to it: %w", i+1, platform.ErrPermanent)
			}
			created.ID = id
		}
		ids = append(ids, created.ID)
		if progress != nil {
			if err := progress(created.ID); err != nil {
				return ids, fmt.Errorf("recording post %s: %w: %w", created.ID, platform.ErrTransient, err)
			}
		}
	}
	return ids, nil
}

// afterCreateError turns a failed create into the platform's error
// classes. On a retry (Attempt > 1) a duplicate-content answer means an
// earlier attempt landed: it reports ok with the id found in the
// account's recent posts ("" when not found).
func (p *Platform) afterCreateError(ctx context.Context, a *account, post platform.Post, ids []string, i int, err error) (string, bool, error) {
	if xapi.IsDuplicate(err) && post.Attempt > 1 {
		prev := ""
		if i > 0 {
			prev = ids[i-1]
		}
		found, ferr := p.findOne(ctx, a, post, post.Texts[i], prev)
		if ferr != nil {
			return "", false, fmt.Errorf("duplicate content on a retry, and looking for the earlier post failed: %w", ferr)
		}
		return found, true, nil
	}
	if i > 0 && xapi.ClassOf(err) == xapi.ClassPermanent {
		return "", false, fmt.Errorf("X refused reply %d of the thread (X lets apps reply only where summoned; a thread of the account's own replies is believed allowed): %w", i, classify(err))
	}
	return "", false, classify(err)
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

// rateLimited is a 429: transient, retried at X's reset rather than after
// a backoff.
type rateLimited struct {
	err error
	at  time.Time
}

func (r *rateLimited) Error() string        { return r.err.Error() }
func (r *rateLimited) Unwrap() []error      { return []error{platform.ErrTransient, r.err} }
func (r *rateLimited) RetryAt() time.Time   { return r.at }
func (r *rateLimited) Is(target error) bool { return target == platform.ErrTransient }

// uploadMedia uploads a post's media and sets their alt texts.
func (p *Platform) uploadMedia(ctx context.Context, a *account, media []platform.Media) ([]string, error) {
	ids := make([]string, 0, len(media))
	for _, m := range media {
		fi, err := os.Stat(m.Path)
		if err != nil {
			return nil, fmt.Errorf("media %s: %w: %w", m.Path, platform.ErrPermanent, err)
		}
		if err := p.reserve(ctx, a, xapi.EndpointMediaUpload); err != nil {
			return nil, err
		}
		path := m.Path
		up, err := a.client.UploadMedia(ctx, xapi.MediaFile{
			Name: filepath.Base(path), Size: fi.Size(), MediaType: mediaType(path),
			Open: func() (io.ReadCloser, error) { return os.Open(path) },
		})
		if err != nil {
			if xe := (*xapi.Error)(nil); errors.As(err, &xe) && xe.Class == xapi.ClassAmbiguous {
				// An upload that may have landed is harmless: it is not a
				// post, and an unused media id expires.
				return nil, fmt.Errorf("media %s: %w: %w", filepath.Base(path), platform.ErrTransient, err)
			}
			return nil, fmt.Errorf("media %s: %w", filepath.Base(path), classify(err))
		}
		if m.Alt != "" {
			if err := p.reserve(ctx, a, xapi.EndpointMediaMetadata); err != nil {
				return nil, err
			}
			if err := a.client.SetAltText(ctx, up.ID, m.Alt); err != nil {
				return nil, fmt.Errorf("alt text of %s: %w", filepath.Base(path), classify(err))
			}
		}
		ids = append(ids, up.ID)
	}
	return ids, nil
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

// Find looks in the account's recent posts for the posts of post not yet
// recorded, in thread order: the main post by its text (posted after the
// job was planned), then each reply by its text and its parent. It returns
// the ids found after post.Published (none when the next one is not there).
func (p *Platform) Find(ctx context.Context, post platform.Post) ([]string, error) {
	a, err := p.account(post.Account)
	if err != nil {
		return nil, err
	}
	if a.dryRun {
		return p.opts.DryRun.Find(ctx, post)
	}
	recent, err := p.recent(ctx, a, post)
	if err != nil {
		return nil, err
	}
	var found []string
	prev := ""
	if n := len(post.Published); n > 0 {
		prev = post.Published[n-1]
	}
	for i := len(post.Published); i < len(post.Texts); i++ {
		id := match(recent, post.Texts[i], prev, i > 0)
		if id == "" {
			break
		}
		found = append(found, id)
		prev = id
	}
	return found, nil
}

// findOne looks for one text (a reply to parent when parent is set).
func (p *Platform) findOne(ctx context.Context, a *account, post platform.Post, text, parent string) (string, error) {
	recent, err := p.recent(ctx, a, post)
	if err != nil {
		return "", err
	}
	return match(recent, text, parent, parent != ""), nil
}

// recentPages bounds how far back reconciliation reads: 5 pages of 100
// posts since the job was planned.
const recentPages = 5

// recent lists the account's posts since shortly before the job was
// planned, newest first.
func (p *Platform) recent(ctx context.Context, a *account, post platform.Post) ([]xapi.Post, error) {
	uid, err := p.userID(ctx, a)
	if err != nil {
		return nil, err
	}
	var out []xapi.Post
	q := xapi.TimelineQuery{MaxResults: 100}
	if !post.PlannedAt.IsZero() {
		// Allow for clocks that disagree a little with X's.
		q.StartTime = post.PlannedAt.Add(-5 * time.Minute)
	}
	for page := 0; page < recentPages; page++ {
		if err := p.reserve(ctx, a, xapi.EndpointUserPosts); err != nil {
			return nil, err
		}
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
	if err := p.reserve(ctx, a, xapi.EndpointMe); err != nil {
		return "", err
	}
	u, err := a.client.Me(ctx)
	if err != nil {
		return "", fmt.Errorf("looking up the account's user: %w", classify(err))
	}
	a.userID = u.ID
	return u.ID, nil
}

// match returns the id of the newest post whose text is text (as X
// stores it) and, when reply is set, that replies to parent.
func match(posts []xapi.Post, text, parent string, reply bool) string {
	want := normalize(text)
	for _, p := range posts {
		if reply && p.ReplyTo != parent {
			continue
		}
		if normalize(p.Text) == want {
			return p.ID
		}
	}
	return ""
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
	if err := p.reserve(ctx, a, xapi.EndpointLookupPosts); err != nil {
		return nil, err
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
