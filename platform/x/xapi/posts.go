package xapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxLookupIDs is the most ids GET /2/tweets takes in one request.
const MaxLookupIDs = 100

// MaxPostMedia is the most media ids a post carries (4 images, or 1 GIF or
// video).
const MaxPostMedia = 4

// tweetFields are the post fields every read asks for: enough to find our
// own posts again (text, author, time, the post replied to, and what of
// the text the author wrote: display_text_range, and entities for the
// t.co link X appends to a post with media) and their public metrics. All
// are values of the spec's TweetFieldsParameter.
const tweetFields = "author_id,created_at,display_text_range,entities,public_metrics,referenced_tweets"

// NewPost is a post to create.
type NewPost struct {
	Text string
	// MediaIDs are ids returned by UploadMedia, at most MaxPostMedia.
	MediaIDs []string
	// ReplyTo is the id of the post this one answers (threads).
	ReplyTo string
}

// Post is a post as X returned it.
type Post struct {
	// Text is the text as X stores it: URLs shortened to t.co links, &, <
	// and > escaped as HTML, and for a post with media a t.co link to the
	// media appended. AuthoredText leaves the appended link out.
	ID, Text, AuthorID string
	CreatedAt          time.Time
	// ReplyTo is the id of the post this one replies to, if any.
	ReplyTo string
	// DisplayTextRange is X's display_text_range: the part of Text the
	// author wrote; nil when X did not send it. X sends it to reads only;
	// on the Post CreatePost returns for a post with media it is derived
	// from the t.co link that ends X's answer.
	DisplayTextRange *TextRange
	// URLs are X's entities.urls: the links in Text, the one X appends
	// for the post's media with its MediaKey; nil when X sent none.
	URLs   []URLEntity
	Public PublicMetrics
	// NonPublic and Organic are X's non_public_metrics and
	// organic_metrics as given (only for the author's own posts of the
	// last 30 days, and only when asked for); nil when absent.
	NonPublic, Organic map[string]int64
}

// TextRange is a span of a post's Text, in Unicode code points (not bytes,
// not UTF-16 units) as X counts them: Start inclusive, End exclusive.
type TextRange struct {
	Start, End int
}

// URLEntity is one link in a post's text (an entry of entities.urls).
type URLEntity struct {
	// TextRange is where the link is in Text.
	TextRange
	// URL is the t.co link as it appears in Text; ExpandedURL is where
	// it leads and DisplayURL how X shows it.
	URL, ExpandedURL, DisplayURL string
	// MediaKey is set on the link X appends to a post with media (one
	// entry per attached media, all with the same span).
	MediaKey string
}

// AuthoredText returns the part of Text the author wrote. It is Text cut
// by DisplayTextRange when that is present (and fits the text); otherwise
// Text without its trailing media links: the URLs entries with a MediaKey,
// found by their span in code points, that end the text (white space
// aside), with the white space before them. Like Text, it keeps X's HTML
// escapes and t.co links for the author's own URLs. For a reply to
// another account, X's range may also leave out the leading @mentions it
// counts as the reply's context.
func (p Post) AuthoredText() string {
	runes := []rune(p.Text)
	if r := p.DisplayTextRange; r != nil && r.Start >= 0 && r.Start <= r.End && r.End <= len(runes) {
		return string(runes[r.Start:r.End])
	}
	end, cut := len(runes), false
	for {
		last := trimmedEnd(runes[:end])
		i := slices.IndexFunc(p.URLs, func(u URLEntity) bool {
			return u.MediaKey != "" && u.End == last && u.Start >= 0 && u.Start < u.End &&
				(u.URL == "" || string(runes[u.Start:u.End]) == u.URL)
		})
		if i < 0 {
			break
		}
		end, cut = p.URLs[i].Start, true
	}
	if !cut {
		return p.Text
	}
	return string(runes[:trimmedEnd(runes[:end])])
}

// trimmedEnd is the length of runes without its trailing white space.
func trimmedEnd(runes []rune) int {
	n := len(runes)
	for n > 0 && unicode.IsSpace(runes[n-1]) {
		n--
	}
	return n
}

// trailingLink matches the t.co link X appends to the text of a post with
// media, with the white space before it.
var trailingLink = regexp.MustCompile(`(?:^|\s+)https://t\.co/[0-9A-Za-z]+\s*$`)

// mediaLinkRange is the DisplayTextRange of a post with media whose text
// X answered with: all of it but the t.co link that ends it; nil when it
// does not end with one.
func mediaLinkRange(text string) *TextRange {
	loc := trailingLink.FindStringIndex(text)
	if loc == nil {
		return nil
	}
	return &TextRange{0, utf8.RuneCountInString(text[:loc[0]])}
}

// PublicMetrics are a post's public counts.
type PublicMetrics struct {
	Likes, Reposts, Replies, Quotes, Bookmarks, Impressions int64
}

// User is an X account.
type User struct {
	ID, Username, Name string
}

// Lookup is the answer of LookupPosts.
type Lookup struct {
	Posts []Post
	// Problems are X's partial errors: posts not found or not visible,
	// metrics the token may not read. They are warnings, not failures.
	Problems []Problem
}

// TimelineQuery selects one page of a user's posts.
type TimelineQuery struct {
	// SinceID returns only posts newer than this id (X prefers it to
	// StartTime when both are set).
	SinceID   string
	StartTime time.Time
	// MaxResults is the page size, 5 to 100; 0 means 100.
	MaxResults      int
	PaginationToken string
}

// TimelinePage is one page of a user's posts, newest first.
type TimelinePage struct {
	Posts []Post
	// NextToken fetches the next (older) page; empty on the last page.
	NextToken string
}

// CreatePost publishes p (POST /2/tweets) and returns the new post's id
// and text as X stored them.
func (c *Client) CreatePost(ctx context.Context, p NewPost) (Post, error) {
	if len(p.MediaIDs) > MaxPostMedia {
		return Post{}, invalid(EndpointCreatePost, "%d media ids, at most %d", len(p.MediaIDs), MaxPostMedia)
	}
	for _, id := range p.MediaIDs {
		if !isID(id) {
			return Post{}, invalid(EndpointCreatePost, "media id %q is not numeric", id)
		}
	}
	if p.ReplyTo != "" && !isID(p.ReplyTo) {
		return Post{}, invalid(EndpointCreatePost, "reply-to id %q is not numeric", p.ReplyTo)
	}
	// The body carries only the fields of TweetCreateRequest that we use:
	// X rejects unknown ones.
	type media struct {
		MediaIDs []string `json:"media_ids"`
	}
	type reply struct {
		InReplyToTweetID string `json:"in_reply_to_tweet_id"`
	}
	req := struct {
		Text  string `json:"text,omitempty"`
		Media *media `json:"media,omitempty"`
		Reply *reply `json:"reply,omitempty"`
	}{Text: p.Text}
	if len(p.MediaIDs) > 0 {
		req.Media = &media{MediaIDs: p.MediaIDs}
	}
	if p.ReplyTo != "" {
		req.Reply = &reply{InReplyToTweetID: p.ReplyTo}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Post{}, fmt.Errorf("xapi create_post: encoding: %w", err)
	}
	// TweetCreateResponse has only id and text. Should X add
	// display_text_range or entities, they are decoded too, leniently:
	// an answer we cannot decode makes the post ambiguous.
	var resp struct {
		Data *struct {
			ID               string          `json:"id"`
			Text             string          `json:"text"`
			DisplayTextRange json.RawMessage `json:"display_text_range"`
			Entities         json.RawMessage `json:"entities"`
		} `json:"data"`
		Errors []Problem `json:"errors"`
	}
	err = c.do(ctx, call{endpoint: EndpointCreatePost, method: http.MethodPost, path: "/2/tweets",
		body: body, contentType: "application/json"}, &resp)
	if err != nil {
		return Post{}, err
	}
	if resp.Data == nil || resp.Data.ID == "" {
		// X said yes without an id: the post may exist.
		return Post{}, &Error{Endpoint: EndpointCreatePost, Status: http.StatusCreated, Class: ClassAmbiguous,
			Problems: resp.Errors, Detail: "answer without a post id"}
	}
	c.logPartial(ctx, EndpointCreatePost, resp.Errors)
	d := resp.Data
	created := Post{ID: d.ID, Text: d.Text, ReplyTo: p.ReplyTo,
		DisplayTextRange: textRange(d.DisplayTextRange), URLs: urlEntities(d.Entities)}
	if len(p.MediaIDs) > 0 && created.DisplayTextRange == nil && !slices.ContainsFunc(created.URLs, func(u URLEntity) bool { return u.MediaKey != "" }) {
		created.DisplayTextRange = mediaLinkRange(created.Text)
	}
	return created, nil
}

// DeletePost deletes one of the account's posts (DELETE /2/tweets/:id).
func (c *Client) DeletePost(ctx context.Context, id string) error {
	if !isID(id) {
		return invalid(EndpointDeletePost, "post id %q is not numeric", id)
	}
	var resp struct {
		Data *struct {
			Deleted bool `json:"deleted"`
		} `json:"data"`
		Errors []Problem `json:"errors"`
	}
	if err := c.do(ctx, call{endpoint: EndpointDeletePost, method: http.MethodDelete, path: "/2/tweets/" + id}, &resp); err != nil {
		return err
	}
	if resp.Data == nil || !resp.Data.Deleted {
		return &Error{Endpoint: EndpointDeletePost, Status: http.StatusOK, Class: ClassPermanent,
			Problems: resp.Errors, Detail: "X did not delete the post"}
	}
	return nil
}

// LookupPosts looks up at most MaxLookupIDs posts in one request, with
// their public metrics and, when nonPublic is true, their
// non_public_metrics and organic_metrics. Posts X reports as not found or
// not authorized come back in Lookup.Problems: a 200 with errors[] is a
// success with warnings.
func (c *Client) LookupPosts(ctx context.Context, ids []string, nonPublic bool) (Lookup, error) {
	if len(ids) == 0 || len(ids) > MaxLookupIDs {
		return Lookup{}, invalid(EndpointLookupPosts, "%d ids, want 1 to %d", len(ids), MaxLookupIDs)
	}
	for _, id := range ids {
		if !isID(id) {
			return Lookup{}, invalid(EndpointLookupPosts, "post id %q is not numeric", id)
		}
	}
	fields := tweetFields
	if nonPublic {
		fields += ",non_public_metrics,organic_metrics"
	}
	q := url.Values{"ids": {strings.Join(ids, ",")}, "tweet.fields": {fields}}
	var resp struct {
		Data   []apiPost `json:"data"`
		Errors []Problem `json:"errors"`
	}
	if err := c.do(ctx, call{endpoint: EndpointLookupPosts, method: http.MethodGet, path: "/2/tweets", query: q}, &resp); err != nil {
		return Lookup{}, err
	}
	l := Lookup{Problems: resp.Errors}
	for _, p := range resp.Data {
		l.Posts = append(l.Posts, p.post())
	}
	return l, nil
}

// Me returns the account the credentials belong to (GET /2/users/me).
func (c *Client) Me(ctx context.Context) (User, error) {
	var resp struct {
		Data *struct {
			ID       string `json:"id"`
			Username string `json:"username"`
			Name     string `json:"name"`
		} `json:"data"`
		Errors []Problem `json:"errors"`
	}
	if err := c.do(ctx, call{endpoint: EndpointMe, method: http.MethodGet, path: "/2/users/me"}, &resp); err != nil {
		return User{}, err
	}
	if resp.Data == nil || resp.Data.ID == "" {
		return User{}, &Error{Endpoint: EndpointMe, Status: http.StatusOK, Class: ClassTransient,
			Problems: resp.Errors, Detail: "answer without a user"}
	}
	return User{ID: resp.Data.ID, Username: resp.Data.Username, Name: resp.Data.Name}, nil
}

// UserPosts lists one page of a user's recent posts, newest first
// (GET /2/users/:id/tweets). Reconciliation reads it to find a post whose
// publish was ambiguous.
func (c *Client) UserPosts(ctx context.Context, userID string, q TimelineQuery) (TimelinePage, error) {
	if !isID(userID) {
		return TimelinePage{}, invalid(EndpointUserPosts, "user id %q is not numeric", userID)
	}
	if q.SinceID != "" && !isID(q.SinceID) {
		return TimelinePage{}, invalid(EndpointUserPosts, "since id %q is not numeric", q.SinceID)
	}
	size := q.MaxResults
	if size == 0 {
		size = 100
	}
	if size < 5 || size > 100 {
		return TimelinePage{}, invalid(EndpointUserPosts, "max results %d, want 5 to 100", q.MaxResults)
	}
	v := url.Values{"max_results": {strconv.Itoa(size)}, "tweet.fields": {tweetFields}}
	if q.SinceID != "" {
		v.Set("since_id", q.SinceID)
	}
	if !q.StartTime.IsZero() {
		v.Set("start_time", q.StartTime.UTC().Format(time.RFC3339))
	}
	if q.PaginationToken != "" {
		v.Set("pagination_token", q.PaginationToken)
	}
	var resp struct {
		Data []apiPost `json:"data"`
		Meta struct {
			NextToken string `json:"next_token"`
		} `json:"meta"`
		Errors []Problem `json:"errors"`
	}
	if err := c.do(ctx, call{endpoint: EndpointUserPosts, method: http.MethodGet,
		path: "/2/users/" + userID + "/tweets", query: v}, &resp); err != nil {
		return TimelinePage{}, err
	}
	c.logPartial(ctx, EndpointUserPosts, resp.Errors)
	page := TimelinePage{NextToken: resp.Meta.NextToken}
	for _, p := range resp.Data {
		page.Posts = append(page.Posts, p.post())
	}
	return page, nil
}

// apiPost is X's Tweet object, the fields we ask for.
type apiPost struct {
	ID               string `json:"id"`
	Text             string `json:"text"`
	AuthorID         string `json:"author_id"`
	CreatedAt        string `json:"created_at"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
	PublicMetrics    map[string]json.RawMessage `json:"public_metrics"`
	NonPublicMetrics map[string]json.RawMessage `json:"non_public_metrics"`
	OrganicMetrics   map[string]json.RawMessage `json:"organic_metrics"`
	// DisplayTextRange and Entities are decoded leniently (see
	// textRange, urlEntities): a shape we do not expect there must not
	// make the whole answer unreadable.
	DisplayTextRange json.RawMessage `json:"display_text_range"`
	Entities         json.RawMessage `json:"entities"`
}

// apiURL is an entry of X's entities.urls (UrlEntity).
type apiURL struct {
	Start       int    `json:"start"`
	End         int    `json:"end"`
	URL         string `json:"url"`
	ExpandedURL string `json:"expanded_url"`
	DisplayURL  string `json:"display_url"`
	MediaKey    string `json:"media_key"`
}

// textRange decodes display_text_range ([start, end]), nil when absent or
// not two integers in order.
func textRange(raw json.RawMessage) *TextRange {
	var r []int
	if len(raw) == 0 || json.Unmarshal(raw, &r) != nil || len(r) != 2 || r[0] < 0 || r[0] > r[1] {
		return nil
	}
	return &TextRange{r[0], r[1]}
}

// urlEntities decodes entities.urls, skipping entries that cannot be read.
func urlEntities(raw json.RawMessage) []URLEntity {
	var e struct {
		URLs []json.RawMessage `json:"urls"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &e) != nil {
		return nil
	}
	var out []URLEntity
	for _, r := range e.URLs {
		var u apiURL
		if json.Unmarshal(r, &u) != nil || u.Start < 0 || u.Start > u.End {
			continue
		}
		out = append(out, URLEntity{TextRange: TextRange{u.Start, u.End}, URL: u.URL,
			ExpandedURL: u.ExpandedURL, DisplayURL: u.DisplayURL, MediaKey: u.MediaKey})
	}
	return out
}

func (a apiPost) post() Post {
	p := Post{ID: a.ID, Text: a.Text, AuthorID: a.AuthorID,
		DisplayTextRange: textRange(a.DisplayTextRange), URLs: urlEntities(a.Entities)}
	if t, err := time.Parse(time.RFC3339, a.CreatedAt); err == nil {
		p.CreatedAt = t.UTC()
	}
	for _, r := range a.ReferencedTweets {
		if r.Type == "replied_to" {
			p.ReplyTo = r.ID
		}
	}
	pm := counts(a.PublicMetrics)
	p.Public = PublicMetrics{
		Likes: pm["like_count"], Replies: pm["reply_count"], Quotes: pm["quote_count"],
		Bookmarks: pm["bookmark_count"], Impressions: pm["impression_count"],
		Reposts: pm["retweet_count"],
	}
	// Newer versions of the API call retweets reposts.
	if n, ok := pm["repost_count"]; ok {
		p.Public.Reposts = n
	}
	p.NonPublic = counts(a.NonPublicMetrics)
	p.Organic = counts(a.OrganicMetrics)
	return p
}

// counts keeps the integer members of a metrics object; anything else
// (a nested object X may add one day) is skipped rather than failing the
// whole answer.
func counts(m map[string]json.RawMessage) map[string]int64 {
	if m == nil {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

func (c *Client) logPartial(ctx context.Context, endpoint string, problems []Problem) {
	for _, p := range problems {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "x api: partial error",
			slog.String("endpoint", endpoint), slog.String("type", p.Type), slog.String("detail", p.Text()))
	}
}

// isID reports whether s is one of X's numeric ids (1 to 19 digits). Ids
// go into URL paths, so anything else is refused before sending.
func isID(s string) bool {
	if len(s) == 0 || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// invalid is a request refused before sending: X would refuse it too.
func invalid(endpoint, format string, args ...any) *Error {
	return &Error{Endpoint: endpoint, Class: ClassPermanent, Detail: "invalid request: " + fmt.Sprintf(format, args...)}
}
