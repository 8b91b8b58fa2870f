package fakex_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

func TestCreatePostAnswersLikeX(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	parent := h.post(aliceToken, text("the first post of a thread"))

	tests := []struct {
		name   string
		token  string
		body   any
		status int
		want   string // the whole body, or "" to check only the status and message
		msg    string // the first errors[].message, when want is ""
	}{
		{name: "plain text", token: aliceToken, body: text("hello"), status: 201},
		{name: "reply in a thread", token: aliceToken, body: map[string]any{"text": "second", "reply": map[string]any{"in_reply_to_tweet_id": parent}}, status: 201},
		{name: "no token", body: text("x"), status: 401,
			want: `{"type":"about:blank","title":"Unauthorized","detail":"Unauthorized","status":401}`},
		{name: "unknown token", token: "nope", body: text("x"), status: 401,
			want: `{"type":"about:blank","title":"Unauthorized","detail":"Unauthorized","status":401}`},
		{name: "unknown member", token: aliceToken, body: map[string]any{"text": "x", "colour": 1}, status: 400,
			want: `{"type":"https://api.twitter.com/2/problems/invalid-request","title":"Invalid Request",
				"detail":"One or more parameters to your request was invalid.","status":400,
				"errors":[{"parameters":{"$.colour":["1"]},"message":"$.colour: is not defined in the schema and the schema does not allow additional properties"}]}`},
		{name: "unknown nested member", token: aliceToken, body: map[string]any{"text": "x", "reply": map[string]any{"in_reply_to_tweet_id": parent, "x": true}}, status: 400,
			msg: "$.reply.x: is not defined in the schema and the schema does not allow additional properties"},
		{name: "media_ids as a string", token: aliceToken, body: map[string]any{"media": map[string]any{"media_ids": "123"}}, status: 400,
			want: `{"type":"https://api.twitter.com/2/problems/invalid-request","title":"Invalid Request",
				"detail":"One or more parameters to your request was invalid.","status":400,
				"errors":[{"parameters":{"$.media.media_ids":["123"]},"message":"$.media.media_ids: string found, array expected"}]}`},
		{name: "no media ids", token: aliceToken, body: map[string]any{"media": map[string]any{"media_ids": []string{}}}, status: 400,
			msg: "$.media.media_ids: there must be a minimum of 1 items in the array"},
		{name: "five media ids", token: aliceToken, body: map[string]any{"media": map[string]any{"media_ids": []string{"1", "2", "3", "4", "5"}}}, status: 400,
			msg: "$.media.media_ids: there must be a maximum of 4 items in the array"},
		{name: "media id not numeric", token: aliceToken, body: map[string]any{"media": map[string]any{"media_ids": []string{"abc"}}}, status: 400,
			msg: "$.media.media_ids[0]: does not match the regex pattern ^[0-9]{1,19}$"},
		{name: "media without ids", token: aliceToken, body: map[string]any{"text": "x", "media": map[string]any{}}, status: 400,
			msg: "$.media.media_ids: is missing but it is required"},
		{name: "unknown media id", token: aliceToken, body: map[string]any{"media": map[string]any{"media_ids": []string{"123"}}}, status: 400,
			want: `{"type":"https://api.twitter.com/2/problems/invalid-request","title":"Invalid Request",
				"detail":"One or more parameters to your request was invalid.","status":400,
				"errors":[{"parameters":{"media.media_ids":["123"]},"message":"Your media IDs are invalid."}]}`},
		{name: "media with a poll", token: aliceToken, body: map[string]any{"text": "x", "media": map[string]any{"media_ids": []string{"1"}},
			"poll": map[string]any{"options": []string{"a", "b"}, "duration_minutes": 60}}, status: 400,
			msg: "Only one of media, poll, quote_tweet_id and card_uri may be given."},
		{name: "media with a quote", token: aliceToken, body: map[string]any{"text": "x", "media": map[string]any{"media_ids": []string{"1"}}, "quote_tweet_id": parent}, status: 400,
			msg: "Only one of media, poll, quote_tweet_id and card_uri may be given."},
		{name: "poll too short", token: aliceToken, body: map[string]any{"text": "x", "poll": map[string]any{"options": []string{"a"}, "duration_minutes": 60}}, status: 400,
			msg: "$.poll.options: there must be a minimum of 2 items in the array"},
		{name: "poll duration", token: aliceToken, body: map[string]any{"text": "x", "poll": map[string]any{"options": []string{"a", "b"}, "duration_minutes": 1}}, status: 400,
			msg: "$.poll.duration_minutes: must have a minimum value of 5"},
		{name: "bad reply settings", token: aliceToken, body: map[string]any{"text": "x", "reply_settings": "everyone"}, status: 400,
			msg: "$.reply_settings: does not have a value in the enumeration [following, mentionedUsers, subscribers, verified]"},
		{name: "text of the wrong type", token: aliceToken, body: map[string]any{"text": 5}, status: 400,
			msg: "$.text: integer found, string expected"},
		{name: "empty text", token: aliceToken, body: text(""), status: 400,
			want: `{"type":"https://api.twitter.com/2/problems/invalid-request","title":"Invalid Request",
				"detail":"One or more parameters to your request was invalid.","status":400,
				"errors":[{"parameters":{"text":[""]},"message":"Post text is empty and no media is attached."}]}`},
		{name: "no text at all", token: aliceToken, body: map[string]any{}, status: 400, msg: "Post text is empty and no media is attached."},
		{name: "not JSON", token: aliceToken, body: "{text:", status: 400, msg: "The request body is not valid JSON."},
		{name: "reply to a post that does not exist", token: aliceToken, body: map[string]any{"text": "x", "reply": map[string]any{"in_reply_to_tweet_id": "42"}}, status: 403,
			want: `{"type":"about:blank","title":"Forbidden","status":403,
				"detail":"You attempted to reply to a Tweet that is deleted or not visible to you."}`},
		{name: "quote of a post that does not exist", token: aliceToken, body: map[string]any{"text": "x", "quote_tweet_id": "42"}, status: 400,
			msg: "The quoted Tweet does not exist or is not visible to you."},
		{name: "editing", token: aliceToken, body: map[string]any{"text": "x", "edit_options": map[string]any{"previous_post_id": parent}}, status: 400,
			msg: "Editing posts is not supported by the fake X server."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", "/2/tweets", tt.token, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status >= 400 && tt.status != 401 && r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
			switch {
			case tt.want != "":
				sameJSON(t, r, tt.want)
			case tt.msg != "":
				if got := firstError(t, r); got != tt.msg {
					t.Errorf("message %q, want %q", got, tt.msg)
				}
			}
		})
	}
}

func TestCreatePostAnswerAndStoredPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	r := h.do("POST", "/2/tweets", aliceToken, text("Tip of the day: read the docs"))
	var out struct{ Data map[string]any }
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	id, _ := out.Data["id"].(string)
	if len(out.Data) != 2 || out.Data["text"] != "Tip of the day: read the docs" || id == "" {
		t.Fatalf("data = %v, want id and text only", out.Data)
	}
	reply := h.post(aliceToken, map[string]any{"text": "and more", "reply": map[string]any{"in_reply_to_tweet_id": id}})
	posts := h.srv.Posts()
	if len(posts) != 2 {
		t.Fatalf("%d posts", len(posts))
	}
	if p := posts[0]; p.ID != id || p.AuthorID != aliceID || !p.CreatedAt.Equal(start) || p.ReplyTo != "" {
		t.Errorf("first post %+v", p)
	}
	if p := posts[1]; p.ID != reply || p.ReplyTo != id {
		t.Errorf("reply %+v", p)
	}
	posts[0].Text = "changed"
	if h.srv.Posts()[0].Text == "changed" {
		t.Error("Posts returns the fake's own records, not copies")
	}
}

// The 280-character limit is X's weighted count: URLs 23, CJK and emoji 2.
func TestWeightedLengthAtTheLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	url := "https://example.com/" + strings.Repeat("long/", 40)
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"280 ascii", strings.Repeat("a", 280), true},
		{"281 ascii", strings.Repeat("b", 281), false},
		{"a long URL counts 23", url + " " + strings.Repeat("c", 256), true},
		{"a long URL and one more", url + " " + strings.Repeat("d", 257), false},
		{"140 emoji", strings.Repeat("🙂", 140), true},
		{"140 emoji and a letter", strings.Repeat("🙂", 140) + "e", false},
		{"140 CJK", strings.Repeat("語", 140), true},
		{"141 CJK", strings.Repeat("本", 141), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do("POST", "/2/tweets", aliceToken, text(tt.text))
			if tt.ok {
				if r.status != 201 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				return
			}
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			if got := firstError(t, r); !strings.HasPrefix(got, "Your Tweet text is too long.") {
				t.Errorf("message %q", got)
			}
		})
	}
}

func TestDuplicateContentPerAuthor(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	id := h.post(aliceToken, text("Same words"))
	r := h.do("POST", "/2/tweets", aliceToken, text("Same words"))
	if r.status != 403 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	sameJSON(t, r, `{"type":"about:blank","title":"Forbidden","status":403,
		"detail":"You are not allowed to create a Tweet with duplicate content."}`)
	h.post(bobToken, text("Same words")) // another author may
	h.post(aliceToken, text("Same words, varied"))
	if r := h.do("DELETE", "/2/tweets/"+id, aliceToken, nil); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	h.post(aliceToken, text("Same words")) // the original is gone
	if n := len(h.srv.Posts()); n != 4 {
		t.Errorf("%d posts stored, want 4", n)
	}
}

func TestDeletePost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	id := h.post(aliceToken, text("to delete"))
	tests := []struct {
		name, token, id string
		status          int
		want            string
	}{
		{"not the author", bobToken, id, 403, `{"type":"about:blank","title":"Forbidden","status":403,"detail":"You are not allowed to delete this Tweet."}`},
		{"bad id", aliceToken, "abc", 400, ""},
		{"the author", aliceToken, id, 200, `{"data":{"deleted":true}}`},
		{"again", aliceToken, id, 200, `{"data":{"deleted":false}}`},
	}
	for _, tt := range tests {
		r := h.do("DELETE", "/2/tweets/"+tt.id, tt.token, nil)
		if r.status != tt.status {
			t.Fatalf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
		}
		if tt.want != "" {
			sameJSON(t, r, tt.want)
		}
	}
	if p := h.srv.Posts()[0]; !p.Deleted {
		t.Error("post not marked deleted")
	}
	r := h.do("GET", "/2/tweets?ids="+id, aliceToken, nil)
	if got := r.json(t); got["data"] != nil {
		t.Errorf("a deleted post is still looked up: %s", r.body)
	}
}

func TestLookupMetricsAuthorization(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.longLived()
	id := h.post(aliceToken, text("measured"))
	h.srv.SetMetrics(id, fakex.Metrics{
		Public:    fakex.PublicMetrics{LikeCount: 7, ImpressionCount: 100},
		NonPublic: fakex.NonPublicMetrics{ImpressionCount: 100, URLLinkClicks: 3},
		Organic:   fakex.OrganicMetrics{ImpressionCount: 90, LikeCount: 7},
	})
	all := "/2/tweets?ids=" + id + "&tweet.fields=public_metrics,non_public_metrics,organic_metrics"
	public := `"public_metrics":{"retweet_count":0,"reply_count":0,"like_count":7,"quote_count":0,"bookmark_count":0,"impression_count":100}`
	fieldErr := func(field string) string {
		return `{"type":"https://api.twitter.com/2/problems/not-authorized-for-field","title":"Field Authorization Error",
			"detail":"Sorry, you are not authorized to access '` + field + `' on the Tweet with id: ` + id + `.",
			"resource_id":"` + id + `","resource_type":"tweet","field":"` + field + `","section":"data","parameter":"tweet.fields","value":"` + field + `"}`
	}
	denied := `{"data":[{"id":"` + id + `","text":"measured","edit_history_tweet_ids":["` + id + `"],` + public + `}],
		"errors":[` + fieldErr("non_public_metrics") + `,` + fieldErr("organic_metrics") + `]}`

	tests := []struct {
		name    string
		token   string
		advance time.Duration
		want    string
	}{
		{"author, new post", aliceToken, 0, `{"data":[{"id":"` + id + `","text":"measured","edit_history_tweet_ids":["` + id + `"],` + public + `,
			"non_public_metrics":{"impression_count":100,"url_link_clicks":3,"user_profile_clicks":0},
			"organic_metrics":{"impression_count":90,"like_count":7,"reply_count":0,"retweet_count":0,"url_link_clicks":0,"user_profile_clicks":0}}]}`},
		{"someone else", bobToken, 0, denied},
		{"author, 29 days on", aliceToken, 29 * 24 * time.Hour, ""},
		{"author, past 30 days", aliceToken, 25 * time.Hour, denied},
	}
	for _, tt := range tests {
		h.clk.Advance(tt.advance)
		r := h.do("GET", all, tt.token, nil)
		if r.status != 200 {
			t.Fatalf("%s: status %d: %s", tt.name, r.status, r.body)
		}
		if tt.want != "" {
			sameJSON(t, r, tt.want)
		} else if got := r.json(t); got["errors"] != nil {
			t.Errorf("%s: errors %s", tt.name, r.body)
		}
	}
}

func TestLookupErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	id := h.post(aliceToken, text("here"))
	many := strings.TrimSuffix(strings.Repeat("1,", 101), ",")
	tests := []struct {
		name, query string
		status      int
		want, msg   string
	}{
		{"one missing", "ids=" + id + ",77", 200, `{"data":[{"id":"` + id + `","text":"here","edit_history_tweet_ids":["` + id + `"]}],
			"errors":[{"value":"77","detail":"Could not find tweet with ids: [77].","title":"Not Found Error","resource_type":"tweet",
			"parameter":"ids","resource_id":"77","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`, ""},
		{"all missing", "ids=77", 200, `{"errors":[{"value":"77","detail":"Could not find tweet with ids: [77].","title":"Not Found Error",
			"resource_type":"tweet","parameter":"ids","resource_id":"77","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`, ""},
		{"fields", "ids=" + id + "&tweet.fields=author_id,created_at,conversation_id", 200, `{"data":[{"id":"` + id + `","text":"here",
			"edit_history_tweet_ids":["` + id + `"],"author_id":"1001","created_at":"2026-03-01T12:00:00.000Z","conversation_id":"` + id + `"}]}`, ""},
		{"no ids", "", 400, "", "The `ids` query parameter can not be empty"},
		{"101 ids", "ids=" + many, 400, "", "The number of values in the `ids` query parameter list [101] is not between 1 and 100"},
		{"bad id", "ids=1,x", 400, "", "The `ids` query parameter value [x] does not match ^[0-9]{1,19}$"},
		{"unknown field", "ids=1&tweet.fields=colour", 400, "", "The `tweet.fields` query parameter value [colour] is not one of ["},
		{"unknown parameter", "ids=1&colour=red", 400, "", "The query parameter [colour] is not one of [ids,tweet.fields,"},
	}
	for _, tt := range tests {
		r := h.do("GET", "/2/tweets?"+tt.query, bobToken, nil)
		if r.status != tt.status {
			t.Fatalf("%s: status %d: %s", tt.name, r.status, r.body)
		}
		if tt.want != "" {
			sameJSON(t, r, tt.want)
		}
		if tt.msg != "" && !strings.HasPrefix(firstError(t, r), tt.msg) {
			t.Errorf("%s: message %q, want prefix %q", tt.name, firstError(t, r), tt.msg)
		}
	}
}

func TestUserTimeline(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	var ids []string
	for i := range 12 {
		ids = append(ids, h.post(aliceToken, text(fmt.Sprintf("post %d", i))))
		h.clk.Advance(time.Minute)
	}
	h.post(bobToken, text("not alice's"))

	type page struct {
		Data []struct{ ID string }
		Meta struct {
			ResultCount int    `json:"result_count"`
			NewestID    string `json:"newest_id"`
			OldestID    string `json:"oldest_id"`
			NextToken   string `json:"next_token"`
		}
	}
	get := func(query string) page {
		t.Helper()
		r := h.do("GET", "/2/users/"+aliceID+"/tweets?"+query, bobToken, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Three pages of 5, 5 and 2, newest first.
	var seen []string
	token := ""
	for n := 0; ; n++ {
		q := "max_results=5"
		if token != "" {
			q += "&pagination_token=" + token
		}
		p := get(q)
		if p.Meta.ResultCount != len(p.Data) || p.Meta.NewestID != p.Data[0].ID || p.Meta.OldestID != p.Data[len(p.Data)-1].ID {
			t.Fatalf("page %d meta %+v", n, p.Meta)
		}
		for _, d := range p.Data {
			seen = append(seen, d.ID)
		}
		token = p.Meta.NextToken
		if token == "" {
			break
		}
	}
	if len(seen) != 12 || seen[0] != ids[11] || seen[11] != ids[0] {
		t.Fatalf("pages %v, want the 12 ids newest first", seen)
	}
	if p := get("since_id=" + ids[9]); len(p.Data) != 2 || p.Data[0].ID != ids[11] {
		t.Errorf("since_id: %+v", p.Data)
	}
	if p := get("start_time=" + start.Add(10*time.Minute).Format(time.RFC3339)); len(p.Data) != 2 {
		t.Errorf("start_time: %+v", p.Data)
	}
	if p := get("since_id=" + ids[11]); p.Meta.ResultCount != 0 || p.Data != nil {
		t.Errorf("nothing newer: %+v", p)
	}

	for _, q := range []string{"max_results=4", "max_results=101", "since_id=x", "start_time=yesterday", "pagination_token=%21", "colour=red"} {
		if r := h.do("GET", "/2/users/"+aliceID+"/tweets?"+q, bobToken, nil); r.status != 400 {
			t.Errorf("%s: status %d, want 400", q, r.status)
		}
	}
	r := h.do("GET", "/2/users/999/tweets", bobToken, nil)
	sameJSON(t, r, `{"errors":[{"value":"999","detail":"Could not find user with id: [999].","title":"Not Found Error",
		"resource_type":"user","parameter":"id","resource_id":"999","type":"https://api.twitter.com/2/problems/resource-not-found"}]}`)
}

func TestMeAndUnknownPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	sameJSON(t, h.do("GET", "/2/users/me", aliceToken, nil), `{"data":{"id":"1001","name":"Alice","username":"alice"}}`)
	sameJSON(t, h.do("GET", "/2/users/me", bobToken, nil), `{"data":{"id":"1002","name":"bob","username":"bob"}}`)
	if r := h.do("GET", "/2/users/me?colour=red", aliceToken, nil); r.status != 400 {
		t.Errorf("unknown parameter: %d", r.status)
	}
	r := h.do("GET", "/2/nothing", aliceToken, nil)
	if r.status != http.StatusNotFound {
		t.Fatalf("status %d", r.status)
	}
	sameJSON(t, r, `{"errors":[{"message":"Sorry, that page does not exist","code":34}]}`)
}
