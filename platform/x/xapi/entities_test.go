package xapi

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
)

// Texts of the cases below. Offsets are in code points: 朝ごはん🍣🍙 おいしい!
// is 12 code points, 14 UTF-16 units and 34 bytes.
const (
	breakfast     = "朝ごはん🍣🍙 おいしい!"
	breakfastLink = "https://t.co/Ab3dEf9Hq2"
	breakfastPost = breakfast + " " + breakfastLink // 36 code points, 58 bytes
)

// TestAuthoredText decodes posts as X sends them (GET /2/tweets,
// GET /2/users/:id/tweets with tweet.fields=display_text_range,entities)
// and checks what the author wrote.
func TestAuthoredText(t *testing.T) {
	tests := []struct {
		name string
		post string // one Tweet object of X's answer
		want string
	}{
		{"display_text_range cuts the media link (emoji, CJK)",
			`{"id":"1901","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2","display_text_range":[0,12],
			  "entities":{"urls":[{"start":13,"end":36,"url":"https://t.co/Ab3dEf9Hq2","expanded_url":"https://x.com/herald/status/1901/photo/1","display_url":"pic.x.com/Ab3dEf9Hq2","media_key":"3_1901"}]}}`,
			breakfast},
		{"no display_text_range: the media link found by its span in code points",
			`{"id":"1901","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2",
			  "entities":{"urls":[{"start":13,"end":36,"url":"https://t.co/Ab3dEf9Hq2","expanded_url":"https://x.com/herald/status/1901/photo/1","display_url":"pic.x.com/Ab3dEf9Hq2","media_key":"3_1901"}]}}`,
			breakfast},
		{"a span in bytes is not where the link is: nothing is cut",
			`{"id":"1901","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2",
			  "entities":{"urls":[{"start":35,"end":58,"url":"https://t.co/Ab3dEf9Hq2","media_key":"3_1901"}]}}`,
			breakfastPost},
		{"a span in UTF-16 units is not where the link is: nothing is cut",
			`{"id":"1901","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2",
			  "entities":{"urls":[{"start":15,"end":38,"url":"https://t.co/Ab3dEf9Hq2","media_key":"3_1901"}]}}`,
			breakfastPost},
		{"a display_text_range past the text (bytes) falls back to the entities",
			`{"id":"1901","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2","display_text_range":[0,58],
			  "entities":{"urls":[{"start":13,"end":36,"url":"https://t.co/Ab3dEf9Hq2","media_key":"3_1901"}]}}`,
			breakfast},
		{"HTML escapes count as X sends them, and stay",
			`{"id":"1902","text":"Tom &amp; Jerry 🐱🐭 — 東京 https://t.co/Tj0mJ3rry1","display_text_range":[0,23],
			  "entities":{"urls":[{"start":24,"end":47,"url":"https://t.co/Tj0mJ3rry1","media_key":"3_1902"}]}}`,
			"Tom &amp; Jerry 🐱🐭 — 東京"},
		{"the author's own link stays, the media link goes",
			`{"id":"1903","text":"read 📖 https://t.co/r3adM3xyz https://t.co/pH0t0s4567",
			  "entities":{"urls":[
			    {"start":7,"end":29,"url":"https://t.co/r3adM3xyz","expanded_url":"https://example.com/blog","display_url":"example.com/blog"},
			    {"start":30,"end":53,"url":"https://t.co/pH0t0s4567","expanded_url":"https://x.com/herald/status/1903/photo/1","display_url":"pic.x.com/pH0t0s4567","media_key":"3_1903"}]}}`,
			"read 📖 https://t.co/r3adM3xyz"},
		{"a post without media keeps its final link",
			`{"id":"1904","text":"read 📖 https://t.co/r3adM3xyz",
			  "entities":{"urls":[{"start":7,"end":29,"url":"https://t.co/r3adM3xyz","expanded_url":"https://example.com/blog","display_url":"example.com/blog"}]}}`,
			"read 📖 https://t.co/r3adM3xyz"},
		{"four photos share one link",
			`{"id":"1905","text":"四枚の写真 📷📷📷📷 https://t.co/F0urPh0tos",
			  "entities":{"urls":[
			    {"start":11,"end":34,"url":"https://t.co/F0urPh0tos","media_key":"3_1"},
			    {"start":11,"end":34,"url":"https://t.co/F0urPh0tos","media_key":"3_2"},
			    {"start":11,"end":34,"url":"https://t.co/F0urPh0tos","media_key":"3_3"},
			    {"start":11,"end":34,"url":"https://t.co/F0urPh0tos","media_key":"3_4"}]}}`,
			"四枚の写真 📷📷📷📷"},
		{"a reply's range leaves out the leading mention",
			`{"id":"1906","text":"@alice 返信です🙏 https://t.co/R3plyMed1a","display_text_range":[7,12],
			  "entities":{"mentions":[{"start":0,"end":6,"username":"alice","id":"7"}],
			    "urls":[{"start":13,"end":36,"url":"https://t.co/R3plyMed1a","media_key":"3_1906"}]}}`,
			"返信です🙏"},
		{"media only, with a range",
			`{"id":"1907","text":"https://t.co/Zz9Yy8Xx7w","display_text_range":[0,0],
			  "entities":{"urls":[{"start":0,"end":23,"url":"https://t.co/Zz9Yy8Xx7w","media_key":"3_1907"}]}}`,
			""},
		{"media only, without a range",
			`{"id":"1907","text":"https://t.co/Zz9Yy8Xx7w",
			  "entities":{"urls":[{"start":0,"end":23,"url":"https://t.co/Zz9Yy8Xx7w","media_key":"3_1907"}]}}`,
			""},
		{"a media link that does not end the text stays",
			`{"id":"1908","text":"https://t.co/Zz9Yy8Xx7w 🌸 then words",
			  "entities":{"urls":[{"start":0,"end":23,"url":"https://t.co/Zz9Yy8Xx7w","media_key":"3_1908"}]}}`,
			"https://t.co/Zz9Yy8Xx7w 🌸 then words"},
		{"no entities, no range: the text",
			`{"id":"1909","text":"ただのテキスト 🌸"}`,
			"ただのテキスト 🌸"},
		{"entities of an unexpected shape are skipped, not fatal",
			`{"id":"1910","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2","display_text_range":"0-12",
			  "entities":{"urls":[{"start":"13","end":36,"media_key":"3_1"},{"start":13,"end":36,"url":"https://t.co/Ab3dEf9Hq2","media_key":"3_1910"}]}}`,
			breakfast},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a apiPost
			if err := json.Unmarshal([]byte(tt.post), &a); err != nil {
				t.Fatal(err)
			}
			if got := a.post().AuthoredText(); got != tt.want {
				t.Errorf("AuthoredText() = %q, want %q", got, tt.want)
			}
		})
	}
}

// The reads decode display_text_range and entities.urls.
func TestUserPostsDecodesEntities(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, `{"data":[{"id":"1903","text":"read 📖 https://t.co/r3adM3xyz https://t.co/pH0t0s4567",
			"author_id":"42","created_at":"2026-07-01T11:59:00.000Z","edit_history_tweet_ids":["1903"],
			"display_text_range":[0,29],
			"entities":{"urls":[
			  {"start":7,"end":29,"url":"https://t.co/r3adM3xyz","expanded_url":"https://example.com/blog","display_url":"example.com/blog","status":200,"unwound_url":"https://example.com/blog"},
			  {"start":30,"end":53,"url":"https://t.co/pH0t0s4567","expanded_url":"https://x.com/herald/status/1903/photo/1","display_url":"pic.x.com/pH0t0s4567","media_key":"3_1903"}],
			  "annotations":[{"start":0,"end":3,"probability":0.5,"type":"Other","normalized_text":"read"}]}}],
			"meta":{"result_count":1,"newest_id":"1903","oldest_id":"1903"}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	page, err := c.UserPosts(context.Background(), "42", TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Posts) != 1 {
		t.Fatalf("%d posts", len(page.Posts))
	}
	p := page.Posts[0]
	wantURLs := []URLEntity{
		{TextRange: TextRange{7, 29}, URL: "https://t.co/r3adM3xyz", ExpandedURL: "https://example.com/blog", DisplayURL: "example.com/blog"},
		{TextRange: TextRange{30, 53}, URL: "https://t.co/pH0t0s4567", ExpandedURL: "https://x.com/herald/status/1903/photo/1",
			DisplayURL: "pic.x.com/pH0t0s4567", MediaKey: "3_1903"},
	}
	if !reflect.DeepEqual(p.URLs, wantURLs) || !reflect.DeepEqual(p.DisplayTextRange, &TextRange{0, 29}) {
		t.Errorf("urls %+v range %+v\nwant %+v %+v", p.URLs, p.DisplayTextRange, wantURLs, TextRange{0, 29})
	}
	if got := p.AuthoredText(); got != "read 📖 https://t.co/r3adM3xyz" {
		t.Errorf("AuthoredText() = %q", got)
	}
}

// CreatePost's answer has only id and text (TweetCreateResponse): for a
// post with media, the t.co link that ends it is X's, not the author's.
func TestCreatePostAuthoredText(t *testing.T) {
	tests := []struct {
		name      string
		post      NewPost
		answer    string
		want      string
		wantRange *TextRange
	}{
		{"media: the link X appended is cut (emoji, CJK)", NewPost{Text: breakfast, MediaIDs: []string{"1901"}},
			`{"data":{"id":"1911","text":"朝ごはん🍣🍙 おいしい! https://t.co/Ab3dEf9Hq2","edit_history_tweet_ids":["1911"]}}`,
			breakfast, &TextRange{0, 12}},
		{"media and the author's own link: only the last link is cut", NewPost{Text: "read 📖 https://example.com/blog", MediaIDs: []string{"1903"}},
			`{"data":{"id":"1912","text":"read 📖 https://t.co/r3adM3xyz https://t.co/pH0t0s4567"}}`,
			"read 📖 https://t.co/r3adM3xyz", &TextRange{0, 29}},
		{"media only", NewPost{MediaIDs: []string{"1907"}},
			`{"data":{"id":"1913","text":"https://t.co/Zz9Yy8Xx7w"}}`,
			"", &TextRange{0, 0}},
		{"media, but X appended no link", NewPost{Text: breakfast, MediaIDs: []string{"1901"}},
			`{"data":{"id":"1914","text":"朝ごはん🍣🍙 おいしい!"}}`,
			breakfast, nil},
		{"no media: the author's final link stays", NewPost{Text: "read 📖 https://example.com/blog"},
			`{"data":{"id":"1915","text":"read 📖 https://t.co/r3adM3xyz"}}`,
			"read 📖 https://t.co/r3adM3xyz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				reply(w, http.StatusCreated, tt.answer)
			})
			c, _ := newClient(t, s.URL, nil)
			p, err := c.CreatePost(context.Background(), tt.post)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.AuthoredText(); got != tt.want || !reflect.DeepEqual(p.DisplayTextRange, tt.wantRange) {
				t.Errorf("AuthoredText() = %q, range %+v; want %q, %+v", got, p.DisplayTextRange, tt.want, tt.wantRange)
			}
		})
	}
}
