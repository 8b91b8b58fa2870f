package fakex_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/herald-social/herald/platform/x/fakex"
)

// The control plane does over HTTP what the Go API does, for tests that
// run the fake in another process.
func TestControlPlane(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	r := h.do("POST", "/_fake/users", "", map[string]any{"id": "2001", "username": "erin", "access_token": "erin-access", "token_ttl": "-1s"})
	if r.status != 201 {
		t.Fatalf("add user: %d %s", r.status, r.body)
	}
	sameJSON(t, h.do("GET", "/2/users/me", "erin-access", nil), `{"data":{"id":"2001","name":"erin","username":"erin"}}`)

	if r := h.do("POST", "/_fake/faults", "", map[string]any{"endpoint": "POST /2/tweets", "status": 503, "count": 2, "user": "erin"}); r.status != 204 {
		t.Fatalf("fault: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/_fake/faults", "", map[string]any{"endpoint": "POST /2/tweets", "latency": "1ms", "user": "nobody"}); r.status != 204 {
		t.Fatalf("latency fault: %d %s", r.status, r.body)
	}
	var faults []fakex.Fault
	if err := json.Unmarshal(h.do("GET", "/_fake/faults", "", nil).body, &faults); err != nil || len(faults) != 2 || faults[0].Count != 2 {
		t.Fatalf("faults %+v %v", faults, err)
	}
	for _, bad := range []map[string]any{
		{"endpoint": "POST /2/tweet", "status": 500},
		{"endpoint": "POST /2/tweets", "latency": "soon"},
		{"endpoint": "POST /2/tweets", "statuss": 500},
	} {
		if r := h.do("POST", "/_fake/faults", "", bad); r.status != 400 {
			t.Errorf("fault %v: %d", bad, r.status)
		}
	}
	for range 2 {
		if r := h.do("POST", "/2/tweets", "erin-access", text("hi")); r.status != 503 {
			t.Fatalf("status %d", r.status)
		}
	}
	id := h.post("erin-access", text("hi"))
	if r := h.do("DELETE", "/_fake/faults", "", nil); r.status != 204 || len(h.srv.Faults()) != 0 {
		t.Fatalf("clear: %d %v", r.status, h.srv.Faults())
	}

	if r := h.do("POST", "/_fake/metrics", "", map[string]any{"post_id": id, "public_metrics": map[string]any{"like_count": 3}}); r.status != 204 {
		t.Fatalf("metrics: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/_fake/metrics", "", map[string]any{"post_id": "9"}); r.status != 404 {
		t.Errorf("metrics of an unknown post: %d", r.status)
	}
	var posts []fakex.Post
	if err := json.Unmarshal(h.do("GET", "/_fake/posts", "", nil).body, &posts); err != nil {
		t.Fatal(err)
	}
	if len(posts) != 1 || posts[0].ID != id || posts[0].AuthorID != "2001" || posts[0].Metrics.LikeCount != 3 {
		t.Errorf("posts %+v", posts)
	}
	var reqs []fakex.Request
	if err := json.Unmarshal(h.do("GET", "/_fake/requests", "", nil).body, &reqs); err != nil {
		t.Fatal(err)
	}
	// The control plane itself is not recorded.
	if len(reqs) != 4 || reqs[1].Status != 503 || reqs[3].Status != 201 || reqs[3].User != "2001" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestPageListsPostsNewestFirstEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.post(aliceToken, text("first <b>post</b>"))
	h.post(bobToken, text("second & last"))
	r := h.do("GET", "/", "", nil)
	page := string(r.body)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	first, second := strings.Index(page, "first &lt;b&gt;post&lt;/b&gt;"), strings.Index(page, "second &amp; last")
	if first < 0 || second < 0 || second > first {
		t.Errorf("page does not list the escaped posts newest first:\n%s", page)
	}
	if !strings.Contains(page, "@alice") || !strings.Contains(page, `http-equiv="refresh"`) {
		t.Errorf("page:\n%s", page)
	}
	if r := h.do("GET", "/nothing", "", nil); r.status != 404 {
		t.Errorf("GET /nothing: %d", r.status)
	}
}
