package fakex

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// tweetFields are the values of tweet.fields X accepts (TweetFieldsParameter
// of its OpenAPI document). The fake returns those marked in
// renderedFields and silently leaves out the others.
var tweetFields = []string{"article", "attachments", "author_id", "card_uri", "community_id", "context_annotations", "conversation_id",
	"created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id",
	"lang", "matched_media_notes", "media_metadata", "non_public_metrics", "note_request_suggestions", "note_tweet", "organic_metrics",
	"paid_partnership", "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets", "reply_settings", "scopes",
	"source", "suggested_source_links", "suggested_source_links_with_counts", "text", "withheld"}

// fieldParams are the expansions and *.fields parameters the lookups
// accept; only tweet.fields changes the answer.
var fieldParams = []string{"tweet.fields", "expansions", "media.fields", "poll.fields", "user.fields", "place.fields"}

// tweetJSON is a Tweet object of X's document, in the members the fake
// can fill. id, text and edit_history_tweet_ids are X's default fields.
type tweetJSON struct {
	ID               string            `json:"id"`
	Text             string            `json:"text"`
	EditHistory      []string          `json:"edit_history_tweet_ids"`
	AuthorID         string            `json:"author_id,omitempty"`
	CreatedAt        string            `json:"created_at,omitempty"`
	ConversationID   string            `json:"conversation_id,omitempty"`
	InReplyToUserID  string            `json:"in_reply_to_user_id,omitempty"`
	ReferencedTweets []referencedTweet `json:"referenced_tweets,omitempty"`
	Attachments      *attachments      `json:"attachments,omitempty"`
	ReplySettings    string            `json:"reply_settings,omitempty"`
	PublicMetrics    *PublicMetrics    `json:"public_metrics,omitempty"`
	NonPublicMetrics *NonPublicMetrics `json:"non_public_metrics,omitempty"`
	OrganicMetrics   *OrganicMetrics   `json:"organic_metrics,omitempty"`
	Entities         *entities         `json:"entities,omitempty"`
	DisplayTextRange []int             `json:"display_text_range,omitempty"`
}

type referencedTweet struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type attachments struct {
	MediaKeys []string `json:"media_keys"`
}

// checkQuery refuses query parameters the endpoint does not know, as X
// does.
func checkQuery(q url.Values, allowed ...string) (problem, bool) {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			return invalidParam(name, q.Get(name), "The query parameter ["+name+"] is not one of ["+strings.Join(allowed, ",")+"]"), false
		}
	}
	return problem{}, true
}

// parseTweetFields reads tweet.fields.
func parseTweetFields(q url.Values) (map[string]bool, problem, bool) {
	fields := map[string]bool{}
	raw := q.Get("tweet.fields")
	if raw == "" {
		return fields, problem{}, true
	}
	for _, f := range strings.Split(raw, ",") {
		if !slices.Contains(tweetFields, f) {
			return nil, invalidParam("tweet.fields", f, "The `tweet.fields` query parameter value ["+f+"] is not one of ["+strings.Join(tweetFields, ",")+"]"), false
		}
		fields[f] = true
	}
	return fields, problem{}, true
}

// render builds the Tweet object of p for the viewer, and the field
// errors for the private metrics the viewer may not read. s.mu is held.
func (s *Server) render(p *post, fields map[string]bool, viewer string, now time.Time) (tweetJSON, []problem) {
	t := tweetJSON{ID: p.ID, Text: p.Text, EditHistory: []string{p.ID}}
	if fields["author_id"] {
		t.AuthorID = p.AuthorID
	}
	if fields["created_at"] {
		t.CreatedAt = p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	if fields["conversation_id"] {
		t.ConversationID = p.conversationID
	}
	if fields["in_reply_to_user_id"] {
		t.InReplyToUserID = p.replyToUser
	}
	if fields["referenced_tweets"] {
		if p.ReplyTo != "" {
			t.ReferencedTweets = append(t.ReferencedTweets, referencedTweet{"replied_to", p.ReplyTo})
		}
		if p.QuoteOf != "" {
			t.ReferencedTweets = append(t.ReferencedTweets, referencedTweet{"quoted", p.QuoteOf})
		}
	}
	if fields["attachments"] && len(p.MediaIDs) > 0 {
		a := &attachments{}
		for _, id := range p.MediaIDs {
			if m := s.media[id]; m != nil {
				a.MediaKeys = append(a.MediaKeys, m.key())
			}
		}
		t.Attachments = a
	}
	if fields["reply_settings"] {
		t.ReplySettings = p.replySettings
		if t.ReplySettings == "" {
			t.ReplySettings = "everyone"
		}
	}
	// Both are tweet.fields of X's document (2.166), so, like every field
	// but the defaults, they come only when asked. entities carries only
	// the media link: the fake recognises no URLs, mentions or hashtags in
	// the authored text, and leaves entities out when there is nothing to
	// say. display_text_range is the authored part, [0, 0] for media
	// alone, as X answers.
	if fields["entities"] && p.link != nil {
		t.Entities = p.link.entities()
	}
	if fields["display_text_range"] {
		t.DisplayTextRange = []int{0, utf8.RuneCountInString(p.AuthoredText)}
	}
	if fields["public_metrics"] {
		m := p.metrics.Public
		t.PublicMetrics = &m
	}
	private := p.AuthorID == viewer && now.Sub(p.CreatedAt) < privateMetricsAge
	var errs []problem
	for _, f := range []string{"non_public_metrics", "organic_metrics"} {
		if !fields[f] {
			continue
		}
		if !private {
			errs = append(errs, problem{Type: typeNotAuthorizedField, Title: "Field Authorization Error",
				Detail:     "Sorry, you are not authorized to access '" + f + "' on the Tweet with id: " + p.ID + ".",
				ResourceID: p.ID, ResourceType: "tweet", Field: f, Section: "data", Parameter: "tweet.fields", Value: f})
			continue
		}
		if f == "non_public_metrics" {
			m := p.metrics.NonPublic
			t.NonPublicMetrics = &m
		} else {
			m := p.metrics.Organic
			t.OrganicMetrics = &m
		}
	}
	return t, errs
}

// notFound is the partial error of a lookup for an id that is not there.
func notFound(kind, param, id string) problem {
	return problem{Type: typeResourceNotFound, Title: "Not Found Error", Detail: "Could not find " + kind + " with " + param + ": [" + id + "].",
		ResourceType: kind, ResourceID: id, Parameter: param, Value: id}
}

// lookupPosts is GET /2/tweets?ids=...: up to 100 posts; missing ones and
// unreadable fields come back as errors beside data, with status 200.
func (s *Server) lookupPosts(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	if p, ok := checkQuery(q, append([]string{"ids"}, fieldParams...)...); !ok {
		writeProblem(w, p)
		return
	}
	fields, p, ok := parseTweetFields(q)
	if !ok {
		writeProblem(w, p)
		return
	}
	raw := q.Get("ids")
	if raw == "" {
		writeProblem(w, invalidParam("ids", "", "The `ids` query parameter can not be empty"))
		return
	}
	ids := strings.Split(raw, ",")
	if len(ids) > 100 {
		writeProblem(w, invalidParam("ids", raw, "The number of values in the `ids` query parameter list ["+strconv.Itoa(len(ids))+"] is not between 1 and 100"))
		return
	}
	for _, id := range ids {
		if !idPattern.MatchString(id) {
			writeProblem(w, invalidParam("ids", id, "The `ids` query parameter value ["+id+"] does not match ^[0-9]{1,19}$"))
			return
		}
	}
	var data []tweetJSON
	var errs []problem
	s.mu.Lock()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		p := s.postByID[id]
		if p == nil || p.Deleted {
			errs = append(errs, notFound("tweet", "ids", id))
			continue
		}
		t, ferrs := s.render(p, fields, c.user.ID, c.now)
		data = append(data, t)
		errs = append(errs, ferrs...)
	}
	s.mu.Unlock()
	body := map[string]any{}
	if len(data) > 0 {
		body["data"] = data
	}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, http.StatusOK, body)
}

// userPosts is GET /2/users/:id/tweets: the user's posts, newest first,
// paginated; a post joins it only TimelineLag after its creation.
func (s *Server) userPosts(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	allowed := append([]string{"since_id", "until_id", "max_results", "pagination_token", "exclude", "start_time", "end_time"}, fieldParams...)
	if p, ok := checkQuery(q, allowed...); !ok {
		writeProblem(w, p)
		return
	}
	id := r.PathValue("id")
	if !idPattern.MatchString(id) {
		writeProblem(w, invalidParam("id", id, "The `id` query parameter value ["+id+"] does not match ^[0-9]{1,19}$"))
		return
	}
	fields, p, ok := parseTweetFields(q)
	if !ok {
		writeProblem(w, p)
		return
	}
	f, p, ok := parseTimelineFilter(q)
	if !ok {
		writeProblem(w, p)
		return
	}

	s.mu.Lock()
	if s.users[id] == nil {
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{"errors": []problem{notFound("user", "id", id)}})
		return
	}
	var match []*post
	for _, p := range s.posts {
		if p.AuthorID == id && !p.Deleted && f.keep(p) && !c.now.Before(p.CreatedAt.Add(s.lag)) {
			match = append(match, p)
		}
	}
	slices.Reverse(match) // newest first: ids grow with time
	meta := map[string]any{}
	if len(match) > f.max {
		meta["next_token"] = strconv.FormatUint(idNum(match[f.max-1].ID), 36)
		match = match[:f.max]
	}
	data := make([]tweetJSON, 0, len(match))
	var errs []problem
	for _, p := range match {
		t, ferrs := s.render(p, fields, c.user.ID, c.now)
		data = append(data, t)
		errs = append(errs, ferrs...)
	}
	s.mu.Unlock()

	meta["result_count"] = len(data)
	body := map[string]any{"meta": meta}
	if len(data) > 0 {
		meta["newest_id"], meta["oldest_id"] = data[0].ID, data[len(data)-1].ID
		body["data"] = data
	}
	if len(errs) > 0 {
		body["errors"] = errs
	}
	writeJSON(w, http.StatusOK, body)
}

// timelineFilter is what the query of GET /2/users/:id/tweets selects.
type timelineFilter struct {
	since, until, before uint64 // ids; 0 = unset
	start, end           time.Time
	max                  int
	noReplies            bool
}

func (f timelineFilter) keep(p *post) bool {
	n := idNum(p.ID)
	switch {
	case f.since != 0 && n <= f.since,
		f.until != 0 && n >= f.until,
		f.before != 0 && n >= f.before,
		f.since == 0 && !f.start.IsZero() && p.CreatedAt.Before(f.start),
		f.until == 0 && !f.end.IsZero() && !p.CreatedAt.Before(f.end),
		f.noReplies && p.ReplyTo != "":
		return false
	}
	return true
}

func parseTimelineFilter(q url.Values) (timelineFilter, problem, bool) {
	f := timelineFilter{max: 10}
	for _, name := range []string{"since_id", "until_id"} {
		if v := q.Get(name); v != "" {
			if !idPattern.MatchString(v) {
				return f, invalidParam(name, v, "The `"+name+"` query parameter value ["+v+"] does not match ^[0-9]{1,19}$"), false
			}
			if name == "since_id" {
				f.since = idNum(v)
			} else {
				f.until = idNum(v)
			}
		}
	}
	if v := q.Get("max_results"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 5 || n > 100 {
			return f, invalidParam("max_results", v, "The `max_results` query parameter value ["+v+"] is not between 5 and 100"), false
		}
		f.max = n
	}
	for _, name := range []string{"start_time", "end_time"} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, invalidParam(name, v, "Invalid '"+name+"':'"+v+"'. '"+name+"' must be a valid RFC 3339 date-time (YYYY-MM-DDTHH:mm:ssZ)."), false
			}
			if name == "start_time" {
				f.start = t
			} else {
				f.end = t
			}
		}
	}
	if v := q.Get("pagination_token"); v != "" {
		n, err := strconv.ParseUint(v, 36, 64)
		if err != nil || n == 0 {
			return f, invalidParam("pagination_token", v, "The `pagination_token` query parameter value ["+v+"] is not valid"), false
		}
		f.before = n
	}
	if v := q.Get("exclude"); v != "" {
		for _, e := range strings.Split(v, ",") {
			switch e {
			case "replies":
				f.noReplies = true
			case "retweets": // the fake has no reposts
			default:
				return f, invalidParam("exclude", e, "The `exclude` query parameter value ["+e+"] is not one of [replies,retweets]"), false
			}
		}
	}
	return f, problem{}, true
}
