package xapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// refreshingAuth is an Auth whose Refresh swaps in newToken (or fails).
type refreshingAuth struct {
	mu       sync.Mutex
	token    string
	newToken string
	ok       bool
	err      error
	calls    int
}

func (a *refreshingAuth) Authorize(_ context.Context, req *http.Request) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	req.Header.Set("Authorization", "Bearer "+a.token)
	return nil
}

func (a *refreshingAuth) Refresh(context.Context) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.ok {
		a.token = a.newToken
	}
	return a.ok, a.err
}

func TestUnauthorizedRefreshesOnceAndRetriesOnce(t *testing.T) {
	spentErr := errors.New("token store unreachable")
	tests := []struct {
		name         string
		auth         *refreshingAuth
		acceptNew    bool // the server accepts the refreshed token
		wantRequests int
		wantClass    Class
		wantOK       bool
	}{
		{name: "refreshed token accepted", auth: &refreshingAuth{token: "old", newToken: "new", ok: true},
			acceptNew: true, wantRequests: 2, wantOK: true},
		{name: "second 401", auth: &refreshingAuth{token: "old", newToken: "new", ok: true},
			wantRequests: 2, wantClass: ClassReauth},
		{name: "cannot refresh", auth: &refreshingAuth{token: "old"},
			wantRequests: 1, wantClass: ClassReauth},
		{name: "refresh failed transiently", auth: &refreshingAuth{token: "old", err: spentErr},
			wantRequests: 1, wantClass: ClassTransient},
		{name: "refresh token spent", auth: &refreshingAuth{token: "old", err: &Error{Endpoint: EndpointToken, Status: 400, Class: ClassReauth}},
			wantRequests: 1, wantClass: ClassReauth},
		{name: "refresh answer lost", auth: &refreshingAuth{token: "old", err: &Error{Endpoint: EndpointToken, Class: ClassAmbiguous}},
			wantRequests: 1, wantClass: ClassTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				if tt.acceptNew && r.Header.Get("Authorization") == "Bearer new" {
					reply(w, http.StatusCreated, `{"data":{"id":"9","text":"hello"}}`)
					return
				}
				reply(w, http.StatusUnauthorized, `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`)
			})
			c, _ := newClient(t, s.URL, func(o *Options) { o.Auth = tt.auth })
			p, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
			if tt.wantOK {
				if err != nil || p.ID != "9" {
					t.Fatalf("CreatePost = %+v, %v", p, err)
				}
			} else {
				e := errorOf(t, err)
				if e.Class != tt.wantClass || e.Status != http.StatusUnauthorized {
					t.Errorf("class %v status %d (%v), want %v 401", e.Class, e.Status, e, tt.wantClass)
				}
				if tt.auth.err != nil && !errors.Is(err, tt.auth.err) {
					t.Errorf("%v does not wrap the refresh error", err)
				}
			}
			if tt.auth.calls != 1 {
				t.Errorf("Refresh called %d times, want 1", tt.auth.calls)
			}
			reqs := s.requests()
			if len(reqs) != tt.wantRequests {
				t.Fatalf("%d requests, want %d", len(reqs), tt.wantRequests)
			}
			if len(reqs) == 2 {
				if a := reqs[1].Header.Get("Authorization"); a != "Bearer new" {
					t.Errorf("retry authorized with %q", a)
				}
				if !bytes.Equal(reqs[0].Body, reqs[1].Body) || len(reqs[1].Body) == 0 {
					t.Errorf("retry body %q, first %q", reqs[1].Body, reqs[0].Body)
				}
			}
		})
	}
}

func TestBearerTokenHidesItself(t *testing.T) {
	a := BearerToken(testToken)
	if s := a.(interface{ String() string }).String(); strings.Contains(s, testToken) {
		t.Errorf("String() = %q", s)
	}
	if ok, err := a.Refresh(context.Background()); ok || err != nil {
		t.Errorf("Refresh = %v, %v", ok, err)
	}
}

func TestOnRateLimit(t *testing.T) {
	reset := time.Unix(1782907200, 0).UTC()
	status := http.StatusCreated
	headers := []string{"x-rate-limit-limit", "100", "x-rate-limit-remaining", "99", "x-rate-limit-reset", "1782907200"}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, status, `{"data":{"id":"1","text":"t"}}`, headers...)
	})
	var got []RateLimit
	c, clk := newClient(t, s.URL, func(o *Options) { o.OnRateLimit = func(rl RateLimit) { got = append(got, rl) } })
	ctx := context.Background()
	if _, err := c.CreatePost(ctx, NewPost{Text: "t"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	status = http.StatusTooManyRequests
	headers = append(headers[:2:2], "x-rate-limit-remaining", "0", "x-rate-limit-reset", "1782907200",
		"x-user-limit-24hour-limit", "100", "x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", "1782990000",
		"x-app-limit-24hour-limit", "10000", "x-app-limit-24hour-remaining", "4000", "x-app-limit-24hour-reset", "1782950000")
	_, err := c.CreatePost(ctx, NewPost{Text: "t"})
	if e := errorOf(t, err); e.Class != ClassRateLimited || !e.ResetAt.Equal(time.Unix(1782990000, 0)) {
		t.Errorf("429: class %v reset %v", e.Class, e.ResetAt)
	}
	headers = nil
	status = http.StatusCreated
	if _, err := c.CreatePost(ctx, NewPost{Text: "t"}); err != nil {
		t.Fatal(err)
	}
	want := []RateLimit{
		{Endpoint: EndpointCreatePost, At: t0, Limit: 100, Remaining: 99, Reset: reset, Status: 201},
		{Endpoint: EndpointCreatePost, At: t0.Add(time.Minute), Limit: 100, Remaining: 0, Reset: reset, Status: 429,
			User24h: &WindowHeader{Limit: 100, Remaining: 0, Reset: time.Unix(1782990000, 0).UTC()},
			App24h:  &WindowHeader{Limit: 10000, Remaining: 4000, Reset: time.Unix(1782950000, 0).UTC()}},
	}
	if len(got) != len(want) {
		t.Fatalf("OnRateLimit called %d times, want %d (not for an answer without headers)", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Endpoint != w.Endpoint || !g.At.Equal(w.At) || g.Limit != w.Limit || g.Remaining != w.Remaining ||
			!g.Reset.Equal(w.Reset) || g.Status != w.Status || !sameWindow(g.User24h, w.User24h) || !sameWindow(g.App24h, w.App24h) {
			t.Errorf("%d: %+v (user %+v app %+v)\nwant %+v (user %+v app %+v)", i, g, g.User24h, g.App24h, w, w.User24h, w.App24h)
		}
	}
}

func sameWindow(a, b *WindowHeader) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Limit == b.Limit && a.Remaining == b.Remaining && a.Reset.Equal(b.Reset)
}

func TestResetAt(t *testing.T) {
	r15 := time.Unix(1000, 0)
	tests := []struct {
		name string
		rl   RateLimit
		want time.Time
	}{
		{"none", RateLimit{}, time.Time{}},
		{"15-minute", RateLimit{Remaining: 0, Reset: r15}, r15},
		{"15-minute left but 429 anyway", RateLimit{Remaining: 5, Reset: r15}, r15},
		{"user 24h", RateLimit{Remaining: 5, Reset: r15, User24h: &WindowHeader{Remaining: 0, Reset: r15.Add(time.Hour)}}, r15.Add(time.Hour)},
		{"user 24h open", RateLimit{Remaining: 0, Reset: r15, User24h: &WindowHeader{Remaining: 3, Reset: r15.Add(time.Hour)}}, r15},
		{"both 24h: the later", RateLimit{Remaining: 5, Reset: r15,
			User24h: &WindowHeader{Remaining: 0, Reset: r15.Add(time.Hour)}, App24h: &WindowHeader{Remaining: 0, Reset: r15.Add(2 * time.Hour)}}, r15.Add(2 * time.Hour)},
		{"app 24h without 15-minute headers", RateLimit{App24h: &WindowHeader{Remaining: 0, Reset: r15}}, r15},
	}
	for _, tt := range tests {
		if got := tt.rl.resetAt(); !got.Equal(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
