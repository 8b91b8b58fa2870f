package xapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
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
