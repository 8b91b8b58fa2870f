package fakex_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/herald-social/herald/platform/x/fakex"
)

// image uploads a PNG as the token's user and returns its media id.
func (h *harness) image(token string) string {
	h.t.Helper()
	u := decodeUpload(h.t, h.multipart("/2/media/upload", token, pngBytes(h.t), map[string]string{"media_category": "tweet_image", "media_type": "image/png"}))
	return u.Data.ID
}

// created posts and returns the create answer's data.
func (h *harness) created(token string, body any) (id, text string) {
	h.t.Helper()
	r := h.do("POST", "/2/tweets", token, body)
	var out struct{ Data map[string]string }
	if err := json.Unmarshal(r.body, &out); err != nil || r.status != 201 || len(out.Data) != 2 {
		h.t.Fatalf("create: %d %s", r.status, r.body)
	}
	return out.Data["id"], out.Data["text"]
}

// X appends a t.co link to the text of a post with media, and describes it
// in entities.urls (with the media key) and display_text_range.
func TestMediaPostsCarryATcoLink(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{MediaProcessing: time.Second})
	h.longLived()
	img := []string{h.image(aliceToken), h.image(aliceToken)}
	video, _ := h.chunked(aliceToken, "video/mp4", "tweet_video", bytes.Repeat([]byte{1}, 100))
	h.clk.Advance(time.Minute)

	tests := []struct {
		name     string
		authored string
		media    []string
		keys     []string
		page     string // the expanded_url's last part
	}{
		{"one image, emoji counted as one code point", "Tip 🙂 of the day", img[:1], []string{"3_" + img[0]}, "photo/1"},
		{"two images: an entry each, same span and page", "Two charts", img, []string{"3_" + img[0], "3_" + img[1]}, "photo/1"},
		{"media alone", "", img[:1], []string{"3_" + img[0]}, "photo/1"},
		{"a video", "A clip", []string{video}, []string{"7_" + video}, "video/1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := map[string]any{"media": map[string]any{"media_ids": tt.media}}
			if tt.authored != "" {
				body["text"] = tt.authored
			}
			id, got := h.created(aliceToken, body)
			link := got // X stores the link alone when there is no text
			if tt.authored != "" {
				link = strings.TrimPrefix(got, tt.authored+" ")
			}
			if len(link) != 23 || !strings.HasPrefix(link, "https://t.co/") {
				t.Fatalf("create answer text %q: want the authored text, a space and a 23-character t.co link", got)
			}
			n := utf8.RuneCountInString(tt.authored)
			startAt := n + 1
			if tt.authored == "" {
				startAt = 0
			}
			var urls []string
			for _, key := range tt.keys {
				urls = append(urls, fmt.Sprintf(`{"start":%d,"end":%d,"url":%q,"expanded_url":"https://x.com/alice/status/%s/%s","display_url":"pic.x.com/%s","media_key":%q}`,
					startAt, startAt+23, link, id, tt.page, strings.TrimPrefix(link, "https://t.co/"), key))
			}
			tweet := fmt.Sprintf(`{"id":%q,"text":%q,"edit_history_tweet_ids":[%q],"entities":{"urls":[%s]},"display_text_range":[0,%d]}`,
				id, got, id, strings.Join(urls, ","), n)
			fields := "tweet.fields=entities,display_text_range"
			sameJSON(t, h.do("GET", "/2/tweets?ids="+id+"&"+fields, bobToken, nil), `{"data":[`+tweet+`]}`)
			r := h.do("GET", "/2/users/"+aliceID+"/tweets?max_results=5&"+fields, bobToken, nil)
			var page struct{ Data []json.RawMessage }
			if err := json.Unmarshal(r.body, &page); err != nil || len(page.Data) == 0 {
				t.Fatalf("timeline: %d %s", r.status, r.body)
			}
			sameJSON(t, reply{body: page.Data[0]}, tweet)
			// Without the fields, only the default ones, the text with its link.
			sameJSON(t, h.do("GET", "/2/tweets?ids="+id, bobToken, nil), fmt.Sprintf(`{"data":[{"id":%q,"text":%q,"edit_history_tweet_ids":[%q]}]}`, id, got, id))

			p := h.srv.Posts()[i]
			if p.ID != id || p.Text != got || p.AuthoredText != tt.authored || p.Username != "alice" {
				t.Errorf("stored %+v", p)
			}
		})
	}
}

// A post without media has no link: its display_text_range is its whole
// text and it has no entities to report.
func TestTextPostsDisplayTextRange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	id := h.post(aliceToken, text("Grüße 🙂"))
	sameJSON(t, h.do("GET", "/2/tweets?ids="+id+"&tweet.fields=entities,display_text_range", bobToken, nil),
		`{"data":[{"id":"`+id+`","text":"Grüße 🙂","edit_history_tweet_ids":["`+id+`"],"display_text_range":[0,7]}]}`)
	if p := h.srv.Posts()[0]; p.Text != "Grüße 🙂" || p.AuthoredText != p.Text {
		t.Errorf("stored %+v", p)
	}
}

// Duplicate content is judged on the authored text, not on the text with
// its link.
func TestDuplicateOfAMediaPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	_, stored := h.created(aliceToken, map[string]any{"text": "A chart", "media": map[string]any{"media_ids": []string{h.image(aliceToken)}}})
	tests := []struct {
		name   string
		body   map[string]any
		status int
	}{
		{"same text, new media", map[string]any{"text": "A chart", "media": map[string]any{"media_ids": []string{h.image(aliceToken)}}}, 403},
		{"same text, no media", text("A chart"), 403},
		{"the stored text with its link", text(stored), 201},
		{"media alone twice", map[string]any{"media": map[string]any{"media_ids": []string{h.image(aliceToken)}}}, 201},
		{"media alone again", map[string]any{"media": map[string]any{"media_ids": []string{h.image(aliceToken)}}}, 201},
	}
	for _, tt := range tests {
		if r := h.do("POST", "/2/tweets", aliceToken, tt.body); r.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, r.status, tt.status, r.body)
		}
	}
}

// GET /_fake/posts tells an out-of-process test everything it needs to
// check exactly-once: id, author, the text as stored and as authored,
// the post answered, the media and the creation time.
func TestFakePostsJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	first := h.post(aliceToken, text("Thread 1/2"))
	media := h.image(aliceToken)
	id, stored := h.created(aliceToken, map[string]any{"text": "Thread 2/2", "media": map[string]any{"media_ids": []string{media}},
		"reply": map[string]any{"in_reply_to_tweet_id": first}})
	r := h.do("GET", "/_fake/posts", "", nil)
	var posts []map[string]any
	if err := json.Unmarshal(r.body, &posts); err != nil || len(posts) != 2 {
		t.Fatalf("posts %s: %v", r.body, err)
	}
	want := fmt.Sprintf(`{"id":%q,"author_id":"1001","username":"alice","text":%q,"authored_text":"Thread 2/2","media_ids":[%q],
		"reply_to":%q,"created_at":"2026-03-01T12:00:00Z","public_metrics":{"retweet_count":0,"reply_count":0,"like_count":0,
		"quote_count":0,"bookmark_count":0,"impression_count":0}}`, id, stored, media, first)
	got, _ := json.Marshal(posts[1])
	sameJSON(t, reply{body: got}, want)
	if posts[0]["authored_text"] != "Thread 1/2" || posts[0]["text"] != "Thread 1/2" {
		t.Errorf("first post %v", posts[0])
	}
}
