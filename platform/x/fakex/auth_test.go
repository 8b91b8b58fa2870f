package fakex_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

// refresh exchanges a refresh token at POST /2/oauth2/token.
func (h *harness) refresh(token, clientID string, basic [2]string) reply {
	h.t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}
	if clientID != "" {
		form.Set("client_id", clientID)
	}
	req, err := http.NewRequest("POST", h.ts.URL+"/2/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic[0] != "" {
		req.SetBasicAuth(basic[0], basic[1])
	}
	r, err := send(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

type tokens struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

func TestRefreshRotatesAndSpends(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	r := h.refresh(aliceRefresh, aliceClient, [2]string{})
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); err != nil {
		t.Fatal(err)
	}
	if tk.TokenType != "bearer" || tk.ExpiresIn != 7200 || tk.AccessToken == "" || tk.RefreshToken == "" ||
		tk.RefreshToken == aliceRefresh || tk.AccessToken == aliceToken || !strings.Contains(tk.Scope, "offline.access") {
		t.Fatalf("tokens %+v", tk)
	}
	if got := h.srv.RefreshTokenOf(aliceID); got != tk.RefreshToken {
		t.Errorf("RefreshTokenOf = %q, want the new one", got)
	}
	if got := h.srv.AccessTokenOf(aliceID); got != tk.AccessToken {
		t.Errorf("AccessTokenOf = %q, want the new one", got)
	}

	// The old refresh token is spent.
	r = h.refresh(aliceRefresh, aliceClient, [2]string{})
	if r.status != 400 {
		t.Fatalf("spent token: %d %s", r.status, r.body)
	}
	sameJSON(t, r, `{"error":"invalid_request","error_description":"Value passed for the token was invalid."}`)
	if r := h.refresh("never-issued", aliceClient, [2]string{}); r.status != 400 {
		t.Errorf("unknown token: %d", r.status)
	}
	if r := h.refresh(tk.RefreshToken, "", [2]string{}); r.status != 400 || !strings.Contains(string(r.body), "client_id") {
		t.Errorf("no client_id: %d %s", r.status, r.body)
	}

	// The new access token works; after two hours it does not.
	sameJSON(t, h.do("GET", "/2/users/me", tk.AccessToken, nil), `{"data":{"id":"1001","name":"Alice","username":"alice"}}`)
	h.clk.Advance(2*time.Hour - time.Second)
	if r := h.do("GET", "/2/users/me", tk.AccessToken, nil); r.status != 200 {
		t.Fatalf("a second before expiry: %d", r.status)
	}
	h.clk.Advance(time.Second)
	for _, token := range []string{tk.AccessToken, aliceToken} {
		r := h.do("GET", "/2/users/me", token, nil)
		if r.status != 401 {
			t.Fatalf("expired token: %d %s", r.status, r.body)
		}
		sameJSON(t, r, `{"type":"about:blank","title":"Unauthorized","detail":"Unauthorized","status":401}`)
	}
	// The current refresh token still works after the access token expired.
	if r := h.refresh(tk.RefreshToken, aliceClient, [2]string{}); r.status != 200 {
		t.Fatalf("second refresh: %d %s", r.status, r.body)
	}
	if rq := h.srv.Requests(); rq[0].Endpoint != fakex.EndpointToken || rq[0].User != aliceID || rq[0].App != aliceClient {
		t.Errorf("recorded %+v", rq[0])
	}
}

// With Options.AccessTokenTTL, the users' first tokens and those a refresh
// issues live that long, and expires_in says so.
func TestShortLivedAccessTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{AccessTokenTTL: 10 * time.Second})
	h.clk.Advance(10*time.Second - time.Millisecond)
	if r := h.do("GET", "/2/users/me", aliceToken, nil); r.status != 200 {
		t.Fatalf("first token before its TTL: %d", r.status)
	}
	h.clk.Advance(time.Millisecond)
	if r := h.do("GET", "/2/users/me", aliceToken, nil); r.status != 401 {
		t.Fatalf("first token after its TTL: %d", r.status)
	}
	r := h.refresh(aliceRefresh, aliceClient, [2]string{})
	var tk tokens
	if err := json.Unmarshal(r.body, &tk); r.status != 200 || err != nil {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if tk.ExpiresIn != 10 {
		t.Errorf("expires_in = %d, want 10", tk.ExpiresIn)
	}
	h.clk.Advance(10*time.Second - time.Millisecond)
	if r := h.do("GET", "/2/users/me", tk.AccessToken, nil); r.status != 200 {
		t.Fatalf("refreshed token before its TTL: %d", r.status)
	}
	h.clk.Advance(time.Millisecond)
	if r := h.do("GET", "/2/users/me", tk.AccessToken, nil); r.status != 401 {
		t.Fatalf("refreshed token after its TTL: %d", r.status)
	}
	if r := h.refresh(aliceRefresh, aliceClient, [2]string{}); r.status != 400 {
		t.Errorf("the spent refresh token: %d, want 400", r.status)
	}
}

func TestConfidentialClientAndRevocation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.srv.AddUser(fakex.User{ID: "1003", Username: "carol", AccessToken: "carol-access", RefreshToken: "carol-refresh",
		ClientID: "conf", ClientSecret: "s3cret"})
	r := h.refresh("carol-refresh", "conf", [2]string{})
	if r.status != 401 {
		t.Fatalf("without Basic: %d %s", r.status, r.body)
	}
	sameJSON(t, r, `{"error":"unauthorized_client","error_description":"Missing valid authorization header"}`)
	if r := h.refresh("carol-refresh", "", [2]string{"conf", "wrong"}); r.status != 401 {
		t.Fatalf("wrong secret: %d", r.status)
	}
	if got := h.srv.RefreshTokenOf("1003"); got != "carol-refresh" {
		t.Fatalf("a refused refresh rotated the token to %q", got)
	}
	if r := h.refresh("carol-refresh", "", [2]string{"conf", "s3cret"}); r.status != 200 {
		t.Fatalf("with Basic: %d %s", r.status, r.body)
	}

	h.srv.RevokeTokens(bobID)
	if r := h.do("GET", "/2/users/me", bobToken, nil); r.status != 401 {
		t.Errorf("revoked token: %d", r.status)
	}
	form := url.Values{"token": {aliceToken}, "client_id": {aliceClient}}
	req, _ := http.NewRequest("POST", h.ts.URL+"/2/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r, err := send(req); err != nil || r.status != 200 {
		t.Fatalf("revoke: %v %d", err, r.status)
	}
	if r := h.do("GET", "/2/users/me", aliceToken, nil); r.status != 401 {
		t.Errorf("token revoked over HTTP: %d", r.status)
	}
}

// A fault on the token endpoint that drops the answer after the refresh
// spent the old token: the client never learns the new one.
func TestRefreshAnswerLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointToken, DropAfterStore: true})
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {aliceRefresh}, "client_id": {aliceClient}}
	req, _ := http.NewRequest("POST", h.ts.URL+"/2/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := send(req); err == nil {
		t.Fatal("the client got an answer")
	}
	if got := h.srv.RefreshTokenOf(aliceID); got == aliceRefresh || got == "" {
		t.Errorf("refresh token %q: the lost refresh did not rotate it", got)
	}
	if r := h.refresh(aliceRefresh, aliceClient, [2]string{}); r.status != 400 {
		t.Errorf("the old token: %d", r.status)
	}
}

// oauth1Sign signs a request as an OAuth 1.0a client does (RFC 5849),
// written here apart from the fake's verifier.
func oauth1Sign(req *http.Request, consumerKey, consumerSecret, token, tokenSecret string) {
	enc := func(s string) string {
		return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	}
	oauth := map[string]string{
		"oauth_consumer_key": consumerKey, "oauth_nonce": "n0nce", "oauth_signature_method": "HMAC-SHA1",
		"oauth_timestamp": "1772366400", "oauth_token": token, "oauth_version": "1.0",
	}
	var pairs []string
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			pairs = append(pairs, enc(k)+"="+enc(v))
		}
	}
	for k, v := range oauth {
		pairs = append(pairs, enc(k)+"="+enc(v))
	}
	sort.Strings(pairs)
	baseURL := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	base := req.Method + "&" + enc(baseURL) + "&" + enc(strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(enc(consumerSecret)+"&"+enc(tokenSecret)))
	mac.Write([]byte(base))
	oauth["oauth_signature"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	var parts []string
	for k, v := range oauth {
		parts = append(parts, fmt.Sprintf(`%s="%s"`, k, enc(v)))
	}
	sort.Strings(parts)
	req.Header.Set("Authorization", "OAuth "+strings.Join(parts, ", "))
}

func TestOAuth1Signatures(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.srv.AddUser(fakex.User{ID: "1004", Username: "dora", AccessToken: "1004-tok", ConsumerKey: "ck", ConsumerSecret: "cs", TokenSecret: "ts"})
	id := h.post(aliceToken, text("read me"))
	tests := []struct {
		name                  string
		consumerSecret, token string
		tokenSecret           string
		tamper                bool
		status                int
	}{
		{"good signature", "cs", "1004-tok", "ts", false, 200},
		{"wrong consumer secret", "nope", "1004-tok", "ts", false, 401},
		{"wrong token secret", "cs", "1004-tok", "nope", false, 401},
		{"unknown token", "cs", "other", "ts", false, 401},
		{"query changed after signing", "cs", "1004-tok", "ts", true, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", h.ts.URL+"/2/tweets?ids="+id+"&tweet.fields=author_id", nil)
			oauth1Sign(req, "ck", tt.consumerSecret, tt.token, tt.tokenSecret)
			if tt.tamper {
				req.URL.RawQuery = "ids=" + id
			}
			r, err := send(req)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
		})
	}
	// A signed post is dora's, and OAuth 1.0a tokens do not expire.
	h.clk.Advance(48 * time.Hour)
	req, _ := http.NewRequest("POST", h.ts.URL+"/2/tweets", strings.NewReader(`{"text":"signed"}`))
	req.Header.Set("Content-Type", "application/json")
	oauth1Sign(req, "ck", "cs", "1004-tok", "ts")
	if r, err := send(req); err != nil || r.status != 201 {
		t.Fatalf("signed post: %v %d %s", err, r.status, r.body)
	}
	if p := h.srv.Posts()[1]; p.AuthorID != "1004" {
		t.Errorf("author %s", p.AuthorID)
	}
	if rq := h.srv.Requests(); rq[len(rq)-1].App != "ck" {
		t.Errorf("app %q, want the consumer key", rq[len(rq)-1].App)
	}
}
