package xapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// panicAuth fails the test if the token endpoint is ever authorized with
// the account's own credentials.
type panicAuth struct{ t *testing.T }

func (a panicAuth) Authorize(context.Context, *http.Request) error {
	a.t.Error("Auth.Authorize called for the token endpoint")
	return nil
}
func (a panicAuth) Refresh(context.Context) (bool, error) {
	a.t.Error("Auth.Refresh called for the token endpoint")
	return false, nil
}

// tokenServer rotates refresh tokens as X does: each one works once.
func tokenServer(t *testing.T, wantBasic string) *server {
	var mu sync.Mutex
	current, n := "r0", 0
	return newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/2/oauth2/token" || r.URL.RawQuery != "" {
			t.Errorf("request %s %s", r.Method, r.URL)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		if got := r.Header.Get("Authorization"); got != wantBasic {
			t.Errorf("Authorization %q, want %q", got, wantBasic)
		}
		if ua := r.Header.Get("User-Agent"); ua != "herald/test" {
			t.Errorf("User-Agent %q", ua)
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatalf("form %q: %v", body, err)
		}
		if got := keys(form); strings.Join(got, ",") != "client_id,grant_type,refresh_token" {
			t.Errorf("form fields %v", got)
		}
		if form.Get("grant_type") != "refresh_token" || form.Get("client_id") != "cid" {
			t.Errorf("form %v", form)
		}
		if form.Get("refresh_token") != current {
			reply(w, http.StatusBadRequest, `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`)
			return
		}
		n++
		current = "r" + string(rune('0'+n))
		reply(w, http.StatusOK, `{"token_type":"bearer","expires_in":7200,"access_token":"at`+string(rune('0'+n))+`","scope":"tweet.write users.read tweet.read offline.access media.write","refresh_token":"`+current+`"}`)
	})
}

func TestRefreshTokenRotates(t *testing.T) {
	s := tokenServer(t, "")
	c, clk := newClient(t, s.URL, func(o *Options) { o.Auth = panicAuth{t} })
	ctx := context.Background()
	tok, err := c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: "r0"})
	if err != nil {
		t.Fatal(err)
	}
	want := Token{AccessToken: "at1", RefreshToken: "r1", ExpiresAt: t0.Add(2 * time.Hour),
		Scope: "tweet.write users.read tweet.read offline.access media.write"}
	if tok != want {
		t.Errorf("token %+v, want %+v", tok, want)
	}
	if strings.Contains(tok.String(), "at1") || strings.Contains(tok.String(), "r1") {
		t.Errorf("Token.String() shows a token: %q", tok.String())
	}

	// The old refresh token is spent: an operator must authorize again.
	_, err = c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: "r0"})
	e := errorOf(t, err)
	if e.Class != ClassReauth || e.Status != 400 || e.Type != "invalid_request" || e.Detail != "Value passed for the token was invalid." {
		t.Errorf("spent token: %+v", e)
	}
	if strings.Contains(err.Error(), "r0") {
		t.Errorf("Error() shows the refresh token: %q", err.Error())
	}

	clk.Advance(time.Hour)
	tok, err = c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: tok.RefreshToken})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at2" || tok.RefreshToken != "r2" || !tok.ExpiresAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("second refresh %+v", tok)
	}
}

func TestRefreshTokenConfidentialClient(t *testing.T) {
	s := tokenServer(t, "Basic "+base64.StdEncoding.EncodeToString([]byte("cid:s3cret")))
	c, err := New(Options{BaseURL: s.URL, UserAgent: "herald/test"}) // no Auth needed
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RefreshToken(context.Background(), RefreshRequest{ClientID: "cid", ClientSecret: "s3cret", RefreshToken: "r0"}); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshTokenEdgeCases(t *testing.T) {
	body := `{"token_type":"bearer","access_token":"at"}`
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { reply(w, 200, body) })
	c, _ := newClient(t, s.URL, nil)
	ctx := context.Background()
	// No new refresh token in the answer: the old one stays valid.
	tok, err := c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: "old"})
	if err != nil || tok.RefreshToken != "old" || !tok.ExpiresAt.IsZero() {
		t.Errorf("token %+v, %v", tok, err)
	}
	body = `{}`
	if _, err := c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: "old"}); ClassOf(err) != ClassAmbiguous {
		t.Errorf("answer without token: %v", err)
	}
	if _, err := c.RefreshToken(ctx, RefreshRequest{ClientID: "cid"}); ClassOf(err) != ClassReauth {
		t.Errorf("no refresh token: %v", err)
	}
	if n := len(s.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
