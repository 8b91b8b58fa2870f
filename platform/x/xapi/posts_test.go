package xapi

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The request bodies below are exactly what X's TweetCreateRequest allows
// (additionalProperties: false): text, media.media_ids,
// reply.in_reply_to_tweet_id, and nothing we do not set.
func TestCreatePostSendsOnlySpecFields(t *testing.T) {
	tests := []struct {
		name string
		post NewPost
		want string
	}{
		{"text", NewPost{Text: "hello"}, `{"text":"hello"}`},
		{"media and reply", NewPost{Text: "part 2", MediaIDs: []string{"1146654567674912769", "2"}, ReplyTo: "1445880548472328192"},
			`{"text":"part 2","media":{"media_ids":["1146654567674912769","2"]},"reply":{"in_reply_to_tweet_id":"1445880548472328192"}}`},
		{"media only", NewPost{MediaIDs: []string{"7"}}, `{"media":{"media_ids":["7"]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				reply(w, http.StatusCreated, `{"data":{"id":"1445880548472328192","text":"as stored"}}`)
			})
			c, _ := newClient(t, s.URL, nil)
			got, err := c.CreatePost(context.Background(), tt.post)
			if err != nil {
				t.Fatal(err)
			}
			want := Post{ID: "1445880548472328192", Text: "as stored", ReplyTo: tt.post.ReplyTo}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("post %+v, want %+v", got, want)
			}
			reqs := s.requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/2/tweets" || r.RawQuery != "" {
				t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
			}
			checkCommon(t, r)
			checkJSON(t, r, tt.want)
		})
	}
}

func TestCreatePostKeepsPartialErrorsAsSuccess(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusCreated, `{"data":{"id":"11","text":"hi"},"errors":[{"title":"Field Authorization Error","type":"https://api.x.com/2/problems/not-authorized-for-field","detail":"x"}]}`)
	})
	c, _ := newClient(t, s.URL, nil)
	p, err := c.CreatePost(context.Background(), NewPost{Text: "hi"})
	if err != nil || p.ID != "11" {
		t.Fatalf("CreatePost = %+v, %v; want id 11 and no error", p, err)
	}
}

func TestCreatePostWithoutIDIsAmbiguous(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusCreated, `{"data":{}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	_, err := c.CreatePost(context.Background(), NewPost{Text: "hi"})
	if ClassOf(err) != ClassAmbiguous {
		t.Fatalf("class %v (%v), want ambiguous", ClassOf(err), err)
	}
}

func TestRequestsRefusedBeforeSending(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		t.Errorf("request sent: %s %s", r.Method, r.URL)
	})
	c, _ := newClient(t, s.URL, nil)
	ctx := context.Background()
	hundredOne := make([]string, 101)
	for i := range hundredOne {
		hundredOne[i] = "1"
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"five media", func() error {
			_, err := c.CreatePost(ctx, NewPost{Text: "x", MediaIDs: []string{"1", "2", "3", "4", "5"}})
			return err
		}},
		{"media id not numeric", func() error {
			_, err := c.CreatePost(ctx, NewPost{Text: "x", MediaIDs: []string{"abc"}})
			return err
		}},
		{"reply id not numeric", func() error {
			_, err := c.CreatePost(ctx, NewPost{Text: "x", ReplyTo: "1/../2"})
			return err
		}},
		{"delete path injection", func() error { return c.DeletePost(ctx, "../users/me") }},
		{"lookup none", func() error { _, err := c.LookupPosts(ctx, nil, false); return err }},
		{"lookup 101", func() error { _, err := c.LookupPosts(ctx, hundredOne, false); return err }},
		{"lookup bad id", func() error { _, err := c.LookupPosts(ctx, []string{"1", "x"}, false); return err }},
		{"timeline 4", func() error { _, err := c.UserPosts(ctx, "42", TimelineQuery{MaxResults: 4}); return err }},
		{"timeline 101", func() error { _, err := c.UserPosts(ctx, "42", TimelineQuery{MaxResults: 101}); return err }},
		{"timeline user", func() error { _, err := c.UserPosts(ctx, "me", TimelineQuery{}); return err }},
		{"alt text id", func() error { return c.SetAltText(ctx, "", "alt") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := errorOf(t, tt.call())
			if e.Class != ClassPermanent || e.Status != 0 {
				t.Errorf("error %v: class %v status %d, want permanent, no status", e, e.Class, e.Status)
			}
		})
	}
}

func TestDeletePost(t *testing.T) {
	deleted := "true"
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, `{"data":{"deleted":`+deleted+`}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	if err := c.DeletePost(context.Background(), "1346889436626259968"); err != nil {
		t.Fatal(err)
	}
	r := s.requests()[0]
	if r.Method != http.MethodDelete || r.Path != "/2/tweets/1346889436626259968" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	checkCommon(t, r)
	checkNoBody(t, r)

	deleted = "false"
	if e := errorOf(t, c.DeletePost(context.Background(), "1")); e.Class != ClassPermanent {
		t.Errorf("deleted=false: class %v, want permanent", e.Class)
	}
}

func TestLookupPosts(t *testing.T) {
	const answer = `{
	  "data": [
	    {"id":"20","text":"first","author_id":"42","created_at":"2026-06-30T10:00:00.000Z",
	     "public_metrics":{"retweet_count":1,"reply_count":2,"like_count":3,"quote_count":4,"bookmark_count":5,"impression_count":600},
	     "non_public_metrics":{"impression_count":610,"url_link_clicks":7,"user_profile_clicks":8},
	     "organic_metrics":{"impression_count":600,"like_count":3,"reply_count":2,"retweet_count":1}},
	    {"id":"21","text":"second","author_id":"42","created_at":"2026-06-30T10:00:05.000Z",
	     "referenced_tweets":[{"type":"replied_to","id":"20"}],
	     "public_metrics":{"repost_count":9,"reply_count":0,"like_count":1,"bookmark_count":0,"impression_count":50}}
	  ],
	  "errors": [
	    {"value":"22","detail":"Could not find tweet with ids: [22].","title":"Not Found Error","resource_type":"tweet","parameter":"ids","resource_id":"22","type":"https://api.twitter.com/2/problems/resource-not-found"},
	    {"resource_type":"tweet","field":"non_public_metrics","section":"data","title":"Field Authorization Error","detail":"Sorry, you are not authorized to access 'non_public_metrics' on the Tweet with ids 21.","value":21,"type":"https://api.x.com/2/problems/not-authorized-for-field","resource_id":"21"}
	  ]
	}`
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, answer)
	})
	c, _ := newClient(t, s.URL, nil)
	got, err := c.LookupPosts(context.Background(), []string{"20", "21", "22"}, true)
	if err != nil {
		t.Fatal(err)
	}
	want := Lookup{
		Posts: []Post{
			{ID: "20", Text: "first", AuthorID: "42", CreatedAt: time.Date(2026, 6, 30, 10, 0, 0, 0, time.UTC),
				Public:    PublicMetrics{Likes: 3, Reposts: 1, Replies: 2, Quotes: 4, Bookmarks: 5, Impressions: 600},
				NonPublic: map[string]int64{"impression_count": 610, "url_link_clicks": 7, "user_profile_clicks": 8},
				Organic:   map[string]int64{"impression_count": 600, "like_count": 3, "reply_count": 2, "retweet_count": 1}},
			{ID: "21", Text: "second", AuthorID: "42", CreatedAt: time.Date(2026, 6, 30, 10, 0, 5, 0, time.UTC), ReplyTo: "20",
				Public: PublicMetrics{Likes: 1, Reposts: 9, Impressions: 50}},
		},
		Problems: []Problem{
			{Type: "https://api.twitter.com/2/problems/resource-not-found", Title: "Not Found Error",
				Detail: "Could not find tweet with ids: [22].", Parameter: "ids", Value: "22", ResourceID: "22", ResourceType: "tweet"},
			{Type: "https://api.x.com/2/problems/not-authorized-for-field", Title: "Field Authorization Error",
				Detail: "Sorry, you are not authorized to access 'non_public_metrics' on the Tweet with ids 21.",
				Value:  "21", ResourceID: "21", ResourceType: "tweet", Section: "data", Field: "non_public_metrics"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("lookup\n got %+v\nwant %+v", got, want)
	}
	if !got.Problems[0].HasType(ProblemResourceNotFound) || !got.Problems[1].HasType(ProblemNotAuthorizedForField) {
		t.Error("problem types do not match by suffix")
	}

	_, err = c.LookupPosts(context.Background(), []string{"20"}, false)
	if err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	for i, wantFields := range []string{
		"author_id,created_at,display_text_range,entities,public_metrics,referenced_tweets,non_public_metrics,organic_metrics",
		"author_id,created_at,display_text_range,entities,public_metrics,referenced_tweets",
	} {
		r := reqs[i]
		if r.Method != http.MethodGet || r.Path != "/2/tweets" {
			t.Errorf("request %s %s", r.Method, r.Path)
		}
		checkCommon(t, r)
		checkNoBody(t, r)
		wantIDs := []string{"20,21,22", "20"}[i]
		checkQuery(t, r, url.Values{"ids": {wantIDs}, "tweet.fields": {wantFields}})
		for _, f := range strings.Split(r.Query.Get("tweet.fields"), ",") {
			if !specTweetFields[f] {
				t.Errorf("tweet.fields %q is not in the spec's enum", f)
			}
		}
	}
}

// specTweetFields is the part of the spec's TweetFieldsParameter enum the
// client may use (openapi 2.166: display_text_range and entities are in
// it).
var specTweetFields = map[string]bool{
	"author_id": true, "created_at": true, "public_metrics": true, "referenced_tweets": true,
	"non_public_metrics": true, "organic_metrics": true, "text": true, "id": true,
	"display_text_range": true, "entities": true,
}

func TestUserPosts(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, `{"data":[{"id":"31","text":"newest","author_id":"42","created_at":"2026-07-01T11:59:00.000Z"},
			{"id":"30","text":"older","author_id":"42","created_at":"2026-07-01T11:00:00.000Z"}],
			"meta":{"result_count":2,"newest_id":"31","oldest_id":"30","next_token":"7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	cest := time.FixedZone("CEST", 2*3600)
	page, err := c.UserPosts(context.Background(), "42", TimelineQuery{
		SinceID: "29", StartTime: time.Date(2026, 7, 1, 13, 0, 0, 0, cest), PaginationToken: "tok1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != 2 || page.Posts[0].ID != "31" || page.Posts[1].Text != "older" ||
		page.NextToken != "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i" {
		t.Errorf("page %+v", page)
	}
	if _, err := c.UserPosts(context.Background(), "42", TimelineQuery{MaxResults: 5}); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	r := reqs[0]
	if r.Method != http.MethodGet || r.Path != "/2/users/42/tweets" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	checkCommon(t, r)
	checkNoBody(t, r)
	checkQuery(t, r, url.Values{
		"max_results": {"100"}, "since_id": {"29"}, "start_time": {"2026-07-01T11:00:00Z"},
		"pagination_token": {"tok1"}, "tweet.fields": {"author_id,created_at,display_text_range,entities,public_metrics,referenced_tweets"},
	})
	checkQuery(t, reqs[1], url.Values{"max_results": {"5"}, "tweet.fields": {"author_id,created_at,display_text_range,entities,public_metrics,referenced_tweets"}})
	for _, f := range strings.Split(r.Query.Get("tweet.fields"), ",") {
		if !specTweetFields[f] {
			t.Errorf("tweet.fields %q is not in the spec's enum", f)
		}
	}
}

func TestMe(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, `{"data":{"id":"2244994945","name":"X Dev","username":"XDevelopers"}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	u, err := c.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u != (User{ID: "2244994945", Username: "XDevelopers", Name: "X Dev"}) {
		t.Errorf("user %+v", u)
	}
	r := s.requests()[0]
	if r.Method != http.MethodGet || r.Path != "/2/users/me" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	checkCommon(t, r)
	checkNoBody(t, r)
}
