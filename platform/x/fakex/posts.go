package fakex

import (
	"log/slog"
	"maps"
	"net/http"
	"strings"
	"time"

	"github.com/herald-social/herald/schedules"
)

// Post is a post the fake accepted, as Posts returns it.
type Post struct {
	ID       string `json:"id"`
	AuthorID string `json:"author_id"`
	// Username is the author's handle when the post was created.
	Username string `json:"username,omitempty"`
	// Text is the text as X stores and returns it: with media, the
	// authored text then a space and a t.co link to the media (the link
	// alone without authored text).
	Text string `json:"text"`
	// AuthoredText is the text the client sent, what duplicate content
	// is judged on.
	AuthoredText string        `json:"authored_text"`
	MediaIDs     []string      `json:"media_ids,omitempty"`
	ReplyTo      string        `json:"reply_to,omitempty"` // the post this one answers (threads)
	QuoteOf      string        `json:"quote_tweet_id,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	Deleted      bool          `json:"deleted,omitempty"`
	Metrics      PublicMetrics `json:"public_metrics"`
	// AltTexts are the alt texts of the media as they were when the post
	// was created (alt text set afterwards does not reach it here).
	AltTexts map[string]string `json:"alt_texts,omitempty"`
}

// PublicMetrics are the figures anyone may read (tweet.fields=public_metrics).
type PublicMetrics struct {
	RetweetCount    int `json:"retweet_count"`
	ReplyCount      int `json:"reply_count"`
	LikeCount       int `json:"like_count"`
	QuoteCount      int `json:"quote_count"`
	BookmarkCount   int `json:"bookmark_count"`
	ImpressionCount int `json:"impression_count"`
}

// NonPublicMetrics only the author may read, for 30 days.
type NonPublicMetrics struct {
	ImpressionCount   int `json:"impression_count"`
	URLLinkClicks     int `json:"url_link_clicks"`
	UserProfileClicks int `json:"user_profile_clicks"`
}

// OrganicMetrics only the author may read, for 30 days.
type OrganicMetrics struct {
	ImpressionCount   int `json:"impression_count"`
	LikeCount         int `json:"like_count"`
	ReplyCount        int `json:"reply_count"`
	RetweetCount      int `json:"retweet_count"`
	URLLinkClicks     int `json:"url_link_clicks"`
	UserProfileClicks int `json:"user_profile_clicks"`
}

// Metrics are every figure a lookup can return for a post.
type Metrics struct {
	Public    PublicMetrics    `json:"public_metrics"`
	NonPublic NonPublicMetrics `json:"non_public_metrics"`
	Organic   OrganicMetrics   `json:"organic_metrics"`
}

// privateMetricsAge is how long X serves non-public and organic metrics.
const privateMetricsAge = 30 * 24 * time.Hour

type post struct {
	Post
	metrics        Metrics
	conversationID string
	replyToUser    string
	replySettings  string
	link           *mediaLink // the t.co link of a post with media
}

func (p *post) snapshot() Post {
	out := p.Post
	out.MediaIDs = append([]string(nil), p.MediaIDs...)
	out.AltTexts = maps.Clone(p.AltTexts)
	out.Metrics = p.metrics.Public
	return out
}

// Posts returns every accepted post, deleted ones included, in creation
// order. They are copies.
func (s *Server) Posts() []Post {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Post, len(s.posts))
	for i, p := range s.posts {
		out[i] = p.snapshot()
	}
	return out
}

// SetMetrics sets the figures lookups return for a post. It panics on a
// post the fake never accepted, a mistake in the test itself.
func (s *Server) SetMetrics(postID string, m Metrics) {
	if !s.setMetrics(postID, m) {
		panic("fakex: SetMetrics of unknown post " + postID)
	}
}

func (s *Server) setMetrics(postID string, m Metrics) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.postByID[postID]
	if p == nil {
		return false
	}
	p.metrics = m
	return true
}

// createRequest is the part of TweetCreateRequest the fake acts on; the
// body was checked against the whole schema first.
type createRequest struct {
	Text  *string `json:"text"`
	Media *struct {
		MediaIDs []string `json:"media_ids"`
	} `json:"media"`
	Reply *struct {
		InReplyToTweetID string `json:"in_reply_to_tweet_id"`
	} `json:"reply"`
	QuoteTweetID  string    `json:"quote_tweet_id"`
	Poll          *struct{} `json:"poll"`
	CardURI       string    `json:"card_uri"`
	ReplySettings string    `json:"reply_settings"`
	EditOptions   *struct{} `json:"edit_options"`
}

// createPost is POST /2/tweets.
func (s *Server) createPost(w http.ResponseWriter, r *http.Request, c *call) {
	var req createRequest
	if p, ok := decodeBody(r.Body, tweetCreateSchema, &req); !ok {
		writeProblem(w, p)
		return
	}
	text := ""
	if req.Text != nil {
		text = *req.Text
	}
	var mediaIDs []string
	if req.Media != nil {
		mediaIDs = req.Media.MediaIDs
	}
	if p, ok := checkCreate(req, text, mediaIDs); !ok {
		writeProblem(w, p)
		return
	}

	s.mu.Lock()
	p, prob := s.storePost(c, req, text, mediaIDs)
	s.mu.Unlock()
	if p == nil {
		writeProblem(w, prob)
		return
	}
	s.logger.Info("fake x accepted a post", slog.String("post_id", p.ID), slog.String("author_id", p.AuthorID),
		slog.String("author", c.user.Username), slog.String("text", p.Text), slog.Int("media", len(p.MediaIDs)),
		slog.String("reply_to", p.ReplyTo))
	writeJSON(w, http.StatusCreated, map[string]any{"data": map[string]string{"id": p.ID, "text": p.Text}})
}

// checkCreate applies the rules of POST /2/tweets that need no state.
func checkCreate(req createRequest, text string, mediaIDs []string) (problem, bool) {
	exclusive := 0
	for _, set := range []bool{req.Media != nil, req.Poll != nil, req.QuoteTweetID != "", req.CardURI != ""} {
		if set {
			exclusive++
		}
	}
	switch {
	case exclusive > 1:
		return invalidRequest(requestError{Parameters: map[string][]string{"media.media_ids": mediaIDs, "quote_tweet_id": nonEmpty(req.QuoteTweetID), "card_uri": nonEmpty(req.CardURI)},
			Message: "Only one of media, poll, quote_tweet_id and card_uri may be given."}), false
	case req.EditOptions != nil:
		return invalidParam("edit_options", "", "Editing posts is not supported by the fake X server."), false
	case strings.TrimSpace(text) == "" && len(mediaIDs) == 0:
		return invalidParam("text", text, "Post text is empty and no media is attached."), false
	case schedules.WeightedLength(text) > schedules.XTextLimit:
		return invalidParam("text", text, detailTooLong), false
	}
	return problem{}, true
}

func nonEmpty(s string) []string {
	if s == "" {
		return []string{}
	}
	return []string{s}
}

// storePost applies the rules that need the fake's state and stores the
// post. s.mu is held.
func (s *Server) storePost(c *call, req createRequest, text string, mediaIDs []string) (*post, problem) {
	p := &post{Post: Post{AuthorID: c.user.ID, Username: c.user.Username, Text: text, AuthoredText: text, CreatedAt: c.now, QuoteOf: req.QuoteTweetID},
		replySettings: req.ReplySettings}
	if req.Reply != nil {
		parent := s.postByID[req.Reply.InReplyToTweetID]
		if parent == nil || parent.Deleted {
			return nil, blank(http.StatusForbidden, detailReplyMissing)
		}
		p.ReplyTo, p.replyToUser, p.conversationID = parent.ID, parent.AuthorID, parent.conversationID
	}
	if req.QuoteTweetID != "" {
		if q := s.postByID[req.QuoteTweetID]; q == nil || q.Deleted {
			return nil, invalidParam("quote_tweet_id", req.QuoteTweetID, "The quoted Tweet does not exist or is not visible to you.")
		}
	}
	if len(mediaIDs) > 0 {
		alts, prob, ok := s.attachable(c.user.ID, mediaIDs, c.now)
		if !ok {
			return nil, prob
		}
		p.MediaIDs, p.AltTexts = append([]string(nil), mediaIDs...), alts
	}
	if s.duplicate(p.AuthorID, text, c.now) {
		return nil, blank(http.StatusForbidden, detailDuplicate)
	}
	p.ID = s.ids.next(c.now)
	if p.conversationID == "" {
		p.conversationID = p.ID
	}
	if len(p.MediaIDs) > 0 {
		p.link = s.newMediaLink(p, text)
		p.Text = p.link.appendTo(text)
	}
	s.posts = append(s.posts, p)
	s.postByID[p.ID] = p
	return p, problem{}
}

// duplicate reports whether a post of the author that is not deleted,
// created within the duplicate window (ever, when there is none), has the
// same authored text. An empty text (a post of media only) is never a
// duplicate. s.mu is held.
func (s *Server) duplicate(authorID, text string, now time.Time) bool {
	if strings.TrimSpace(text) == "" {
		return false
	}
	for _, q := range s.posts {
		if q.AuthorID == authorID && !q.Deleted && q.AuthoredText == text &&
			(s.dupWindow <= 0 || now.Sub(q.CreatedAt) < s.dupWindow) {
			return true
		}
	}
	return false
}

// deletePost is DELETE /2/tweets/:id; only the author may delete.
func (s *Server) deletePost(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	if !idPattern.MatchString(id) {
		writeProblem(w, invalidParam("id", id, "The `id` query parameter value ["+id+"] does not match ^[0-9]{1,19}$"))
		return
	}
	s.mu.Lock()
	p := s.postByID[id]
	var prob *problem
	deleted := false
	switch {
	case p == nil || p.Deleted:
		// X does not document this answer; the fake says nothing was
		// deleted.
	case p.AuthorID != c.user.ID:
		b := blank(http.StatusForbidden, detailNotYourPost)
		prob = &b
	default:
		p.Deleted, deleted = true, true
	}
	s.mu.Unlock()
	if prob != nil {
		writeProblem(w, *prob)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]bool{"deleted": deleted}})
}

// me is GET /2/users/me. It answers id, name and username whatever
// user.fields asks.
func (s *Server) me(w http.ResponseWriter, r *http.Request, c *call) {
	if p, ok := checkQuery(r.URL.Query(), "user.fields", "expansions", "tweet.fields"); !ok {
		writeProblem(w, p)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]string{"id": c.user.ID, "name": c.user.Name, "username": c.user.Username}})
}
