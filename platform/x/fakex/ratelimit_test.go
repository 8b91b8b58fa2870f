package fakex_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

func TestRateLimitHeadersAnd429(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{Limits: map[string]fakex.Limit{
		fakex.EndpointCreatePost: {PerUser15m: 2, PerApp24h: 10},
	}})
	reset := strconv.FormatInt(start.Add(15*time.Minute).Unix(), 10)
	reset24 := strconv.FormatInt(start.Add(24*time.Hour).Unix(), 10)
	headers := func(r reply) string {
		return fmt.Sprintf("%s/%s/%s app24h %s/%s/%s", r.header.Get("x-rate-limit-limit"), r.header.Get("x-rate-limit-remaining"),
			r.header.Get("x-rate-limit-reset"), r.header.Get("x-app-limit-24hour-limit"), r.header.Get("x-app-limit-24hour-remaining"),
			r.header.Get("x-app-limit-24hour-reset"))
	}
	steps := []struct {
		name    string
		token   string
		text    string
		advance time.Duration
		status  int
		headers string
	}{
		{"first", aliceToken, "one", 0, 201, "2/1/" + reset + " app24h 10/9/" + reset24},
		{"an error counts too", aliceToken, "", 0, 400, "2/0/" + reset + " app24h 10/8/" + reset24},
		{"over the limit", aliceToken, "three", 0, 429, "2/0/" + reset + " app24h 10/8/" + reset24},
		{"still over, a minute before reset", aliceToken, "three", 14 * time.Minute, 429, "2/0/" + reset + " app24h 10/8/" + reset24},
		// bob has windows of his own, and an app of his own.
		{"another user", bobToken, "bob's", 0, 201, "2/1/" + strconv.FormatInt(start.Add(29*time.Minute).Unix(), 10) +
			" app24h 10/9/" + strconv.FormatInt(start.Add(24*time.Hour+14*time.Minute).Unix(), 10)},
		{"a new window", aliceToken, "three", time.Minute, 201, "2/1/" + strconv.FormatInt(start.Add(30*time.Minute).Unix(), 10) + " app24h 10/7/" + reset24},
	}
	for _, s := range steps {
		h.clk.Advance(s.advance)
		r := h.do("POST", "/2/tweets", s.token, text(s.text))
		if r.status != s.status {
			t.Fatalf("%s: status %d, want %d: %s", s.name, r.status, s.status, r.body)
		}
		if got := headers(r); got != s.headers {
			t.Errorf("%s: headers %s, want %s", s.name, got, s.headers)
		}
		if s.status == 429 {
			sameJSON(t, r, `{"type":"about:blank","title":"Too Many Requests","detail":"Too Many Requests","status":429}`)
		}
	}

	// Every request is recorded, the refused ones included: a test can
	// check that nothing went beyond the limit.
	var statuses []int
	for _, rq := range h.srv.Requests() {
		if rq.Endpoint != fakex.EndpointCreatePost {
			t.Errorf("endpoint %q", rq.Endpoint)
		}
		statuses = append(statuses, rq.Status)
	}
	if fmt.Sprint(statuses) != "[201 400 429 429 201 201]" {
		t.Errorf("recorded statuses %v", statuses)
	}
	if rq := h.srv.Requests()[4]; rq.User != bobID || rq.App != "fake-app" || !rq.At.Equal(start.Add(14*time.Minute)) || rq.Method != "POST" || rq.Path != "/2/tweets" {
		t.Errorf("recorded %+v", rq)
	}
}

func TestDefaultLimitsAndPerAppDayWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	r := h.do("POST", "/2/tweets", aliceToken, text("hi"))
	if got := r.header.Get("x-rate-limit-limit") + "/" + r.header.Get("x-rate-limit-remaining") + " " + r.header.Get("x-app-limit-24hour-limit"); got != "100/99 10000" {
		t.Errorf("POST /2/tweets headers %s, want X's published 100 per 15 min and 10,000 per day", got)
	}
	r = h.do("GET", "/2/users/"+aliceID+"/tweets", aliceToken, nil)
	if got := r.header.Get("x-rate-limit-limit"); got != "900" {
		t.Errorf("GET /2/users/:id/tweets limit %s, want 900", got)
	}
	// The lookup's per-app window is tighter than the user's: the headers
	// report it.
	r = h.do("GET", "/2/tweets?ids=1", aliceToken, nil)
	if got := r.header.Get("x-rate-limit-limit") + "/" + r.header.Get("x-rate-limit-remaining"); got != "3500/3499" {
		t.Errorf("GET /2/tweets headers %s", got)
	}

	// carol uses alice's app; their tokens outlive the day this test spans.
	h.srv.AddUser(fakex.User{ID: aliceID, Username: "alice", AccessToken: aliceToken, ClientID: aliceClient, TokenTTL: -1})
	h.srv.AddUser(fakex.User{ID: "1003", Username: "carol", AccessToken: "carol-access", ClientID: aliceClient, TokenTTL: -1})
	h.srv.SetLimit(fakex.EndpointMe, fakex.Limit{PerApp24h: 1})
	if r := h.do("GET", "/2/users/me", aliceToken, nil); r.status != 200 || r.header.Get("x-rate-limit-limit") != "1" || r.header.Get("x-app-limit-24hour-remaining") != "0" {
		t.Fatalf("status %d headers %v", r.status, r.header)
	}
	if r := h.do("GET", "/2/users/me", "carol-access", nil); r.status != 429 {
		t.Errorf("another user of the same app: status %d, want 429", r.status)
	}
	h.clk.Advance(24 * time.Hour)
	if r := h.do("GET", "/2/users/me", "carol-access", nil); r.status != 200 {
		t.Errorf("next day: status %d", r.status)
	}
	h.srv.SetLimit(fakex.EndpointMe, fakex.Limit{})
	if r := h.do("GET", "/2/users/me", "carol-access", nil); r.status != 200 || r.header.Get("x-rate-limit-limit") != "" {
		t.Errorf("unlimited: status %d, x-rate-limit-limit %q", r.status, r.header.Get("x-rate-limit-limit"))
	}
}
