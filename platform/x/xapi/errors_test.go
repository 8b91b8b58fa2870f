package xapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		endpoint   string
		status     int
		oauthError string
		typ        string
		want       Class
	}{
		{EndpointCreatePost, 429, "", "about:blank", ClassRateLimited},
		{EndpointCreatePost, 429, "", "https://api.x.com/2/problems/usage-capped", ClassRateLimited},
		{EndpointLookupPosts, 500, "", "", ClassTransient},
		{EndpointUserPosts, 503, "", "", ClassTransient},
		{EndpointMe, 502, "", "", ClassTransient},
		{EndpointMediaUpload, 500, "", "", ClassTransient},
		{EndpointMediaMetadata, 503, "", "", ClassTransient},
		// X can store a post and still answer 5xx.
		{EndpointCreatePost, 500, "", "", ClassAmbiguous},
		{EndpointCreatePost, 502, "", "", ClassAmbiguous},
		{EndpointCreatePost, 503, "", "", ClassAmbiguous},
		{EndpointCreatePost, 504, "", "", ClassAmbiguous},
		{EndpointDeletePost, 500, "", "", ClassAmbiguous},
		{EndpointCreatePost, 408, "", "", ClassTransient},
		{EndpointCreatePost, 401, "", "about:blank", ClassReauth},
		{EndpointCreatePost, 400, "", "https://api.twitter.com/2/problems/invalid-request", ClassPermanent},
		{EndpointCreatePost, 402, "", "https://api.x.com/2/problems/credits", ClassPermanent},
		{EndpointCreatePost, 403, "", "about:blank", ClassPermanent},
		{EndpointCreatePost, 403, "", "https://api.twitter.com/2/problems/client-forbidden", ClassPermanent},
		{EndpointCreatePost, 403, "", "https://api.x.com/2/problems/unsupported-authentication", ClassReauth},
		{EndpointCreatePost, 403, "", "https://example.com/2/problems/not-unsupported-authentication", ClassPermanent},
		{EndpointDeletePost, 404, "", "https://api.x.com/2/problems/resource-not-found", ClassPermanent},
		{EndpointMediaUpload, 409, "", "https://api.x.com/2/problems/conflict", ClassPermanent},
		{EndpointMediaUpload, 413, "", "", ClassPermanent},
		{EndpointCreatePost, 302, "", "", ClassPermanent},
		{EndpointToken, 400, "invalid_request", "", ClassReauth},
		{EndpointToken, 400, "invalid_grant", "", ClassReauth},
		{EndpointToken, 401, "invalid_client", "", ClassReauth},
		{EndpointToken, 401, "", "", ClassReauth},
		{EndpointToken, 400, "unsupported_grant_type", "", ClassPermanent},
		{EndpointToken, 503, "", "", ClassAmbiguous},
		{EndpointToken, 429, "", "", ClassRateLimited},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d/%s%s", tt.endpoint, tt.status, tt.oauthError, tt.typ)
		if got := classifyStatus(tt.endpoint, tt.status, tt.oauthError, tt.typ); got != tt.want {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

// Each row is an error answer as X sends it, through CreatePost.
func TestErrorAnswers(t *testing.T) {
	reset := time.Unix(1782907200, 0).UTC()
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	tests := []struct {
		name      string
		status    int
		headers   []string
		body      string
		class     Class
		title     string
		detail    string
		duplicate bool
		problems  []Problem
		reset     time.Time
		hasType   string
	}{
		{name: "400 invalid request", status: 400,
			body:  `{"errors":[{"parameters":{"text":["` + strings.Repeat("x", 10) + `"]},"message":"Text is too long"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`,
			class: ClassPermanent, title: "Invalid Request", detail: "One or more parameters to your request was invalid.",
			problems: []Problem{{Message: "Text is too long", Parameters: map[string][]string{"text": {"xxxxxxxxxx"}}}},
			hasType:  ProblemInvalidRequest},
		{name: "402 credits", status: 402,
			body:  `{"title":"CreditsDepleted","detail":"Your account does not have any credits.","type":"https://api.x.com/2/problems/credits","status":402}`,
			class: ClassPermanent, title: "CreditsDepleted", detail: "Your account does not have any credits.", hasType: ProblemCredits},
		{name: "403 duplicate", status: 403,
			body:  `{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}`,
			class: ClassPermanent, title: "Forbidden", detail: "You are not allowed to create a Tweet with duplicate content.", duplicate: true},
		{name: "403 client forbidden", status: 403,
			body:  `{"client_id":"1","detail":"When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project.","registration_url":"https://developer.x.com/","title":"Client Forbidden","required_enrollment":"Appropriate Level of API Access","reason":"client-not-enrolled","type":"https://api.twitter.com/2/problems/client-forbidden"}`,
			class: ClassPermanent, title: "Client Forbidden", hasType: ProblemClientForbidden,
			detail: "When authenticating requests to the Twitter API v2 endpoints, you must use keys and tokens from a Twitter developer App that is attached to a Project."},
		{name: "403 reply not allowed", status: 403,
			body:  `{"detail":"Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to.","type":"about:blank","title":"Forbidden","status":403}`,
			class: ClassPermanent, title: "Forbidden", detail: "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged by the author of the post you are replying to."},
		{name: "403 unsupported authentication", status: 403,
			body:  `{"title":"Unsupported Authentication","detail":"Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].","type":"https://api.twitter.com/2/problems/unsupported-authentication","status":403}`,
			class: ClassReauth, title: "Unsupported Authentication", hasType: ProblemUnsupportedAuthentication,
			detail: "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context]."},
		{name: "403 legacy errors", status: 403,
			body:  `{"errors":[{"code":187,"message":"Status is a duplicate."}]}`,
			class: ClassPermanent, title: "Forbidden", problems: []Problem{{Message: "Status is a duplicate."}}},
		{name: "404", status: 404,
			body:  `{"title":"Not Found Error","detail":"Could not find tweet with in_reply_to_tweet_id: [1].","type":"https://api.twitter.com/2/problems/resource-not-found"}`,
			class: ClassPermanent, title: "Not Found Error", detail: "Could not find tweet with in_reply_to_tweet_id: [1].", hasType: ProblemResourceNotFound},
		{name: "409", status: 409, body: `{"title":"Conflict","detail":"conflict","type":"https://api.x.com/2/problems/conflict"}`,
			class: ClassPermanent, title: "Conflict", detail: "conflict"},
		{name: "408", status: 408, body: ``, class: ClassTransient, title: "Request Timeout"},
		{name: "429 15-minute window", status: 429,
			headers: []string{"x-rate-limit-limit", "100", "x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(reset)},
			body:    `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`,
			class:   ClassRateLimited, title: "Too Many Requests", detail: "Too Many Requests", reset: reset},
		{name: "429 user 24h window exhausted", status: 429,
			headers: []string{"x-rate-limit-limit", "100", "x-rate-limit-remaining", "90", "x-rate-limit-reset", unix(reset),
				"x-user-limit-24hour-limit", "100", "x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", unix(reset.Add(5 * time.Hour))},
			body:  `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`,
			class: ClassRateLimited, title: "Too Many Requests", detail: "Too Many Requests", reset: reset.Add(5 * time.Hour)},
		{name: "429 app and 15-minute windows exhausted", status: 429,
			headers: []string{"x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(reset),
				"x-app-limit-24hour-limit", "10000", "x-app-limit-24hour-remaining", "0", "x-app-limit-24hour-reset", unix(reset.Add(9 * time.Hour)),
				"x-user-limit-24hour-remaining", "3", "x-user-limit-24hour-reset", unix(reset.Add(20 * time.Hour))},
			body:  `{"title":"Too Many Requests","type":"about:blank","status":429}`,
			class: ClassRateLimited, title: "Too Many Requests", reset: reset.Add(9 * time.Hour)},
		{name: "429 usage capped without headers", status: 429,
			body:  `{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}`,
			class: ClassRateLimited, title: "UsageCapExceeded", detail: "Usage cap exceeded: Monthly product cap", hasType: ProblemUsageCapped},
		{name: "500", status: 500, body: `{"title":"Internal Server Error","type":"about:blank","status":500}`, class: ClassAmbiguous, title: "Internal Server Error"},
		{name: "502 html", status: 502, headers: []string{"Content-Type", "text/html"}, body: `<html>bad gateway</html>`, class: ClassAmbiguous, title: "Bad Gateway"},
		{name: "503", status: 503, body: `{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}`,
			class: ClassAmbiguous, title: "Service Unavailable", detail: "Service Unavailable"},
		{name: "401 static token", status: 401, body: `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`,
			class: ClassReauth, title: "Unauthorized", detail: "Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				reply(w, tt.status, tt.body, tt.headers...)
			})
			c, _ := newClient(t, s.URL, nil)
			_, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
			e := errorOf(t, err)
			if e.Endpoint != EndpointCreatePost || e.Status != tt.status || e.Class != tt.class {
				t.Errorf("endpoint %q status %d class %v; want %q %d %v", e.Endpoint, e.Status, e.Class, EndpointCreatePost, tt.status, tt.class)
			}
			if ClassOf(fmt.Errorf("publishing: %w", err)) != tt.class {
				t.Errorf("ClassOf a wrapped error: %v", ClassOf(fmt.Errorf("publishing: %w", err)))
			}
			if e.Title != tt.title || e.Detail != tt.detail {
				t.Errorf("title %q detail %q; want %q %q", e.Title, e.Detail, tt.title, tt.detail)
			}
			if !reflect.DeepEqual(e.Problems, tt.problems) {
				t.Errorf("problems %+v, want %+v", e.Problems, tt.problems)
			}
			if !e.ResetAt.Equal(tt.reset) {
				t.Errorf("ResetAt %v, want %v", e.ResetAt, tt.reset)
			}
			if IsDuplicate(err) != tt.duplicate {
				t.Errorf("IsDuplicate = %v", !tt.duplicate)
			}
			if tt.hasType != "" && !e.HasType(tt.hasType) {
				t.Errorf("HasType(%q) false for type %q", tt.hasType, e.Type)
			}
			msg := err.Error()
			if !strings.Contains(msg, "create_post") || !strings.Contains(msg, strconv.Itoa(tt.status)) || !strings.Contains(msg, tt.detail) {
				t.Errorf("Error() = %q: want endpoint, status and detail", msg)
			}
			if strings.Contains(msg, testToken) {
				t.Errorf("Error() leaks the token: %q", msg)
			}
			if n := len(s.requests()); n != 1 {
				t.Errorf("%d requests, want 1 (no retries inside the client)", n)
			}
		})
	}
}

func TestClassOf(t *testing.T) {
	if got := ClassOf(errors.New("disk on fire")); got != ClassTransient {
		t.Errorf("plain error: %v", got)
	}
	if got := ClassOf(nil); got != ClassTransient {
		t.Errorf("nil: %v", got)
	}
	e := &Error{Endpoint: EndpointMe, Class: ClassReauth}
	if got := ClassOf(fmt.Errorf("a: %w", fmt.Errorf("b: %w", e))); got != ClassReauth {
		t.Errorf("wrapped twice: %v", got)
	}
	for c, want := range map[Class]string{ClassTransient: "transient", ClassPermanent: "permanent",
		ClassReauth: "reauth", ClassAmbiguous: "ambiguous", ClassRateLimited: "rate_limited", Class(42): "class(42)"} {
		if c.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(c), c.String(), want)
		}
	}
}

func TestIsDuplicate(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&Error{Status: 403, Detail: "You are not allowed to create a Tweet with DUPLICATE content."}, true},
		{fmt.Errorf("wrapped: %w", &Error{Status: 403, Detail: "You are not allowed to create a Tweet with duplicate content."}), true},
		{&Error{Status: 403, Problems: []Problem{{Message: "duplicate content"}}}, true},
		{&Error{Status: 400, Detail: "duplicate content"}, false},
		{&Error{Status: 403, Detail: "Forbidden"}, false},
		{errors.New("duplicate content"), false},
	}
	for i, tt := range tests {
		if got := IsDuplicate(tt.err); got != tt.want {
			t.Errorf("%d: IsDuplicate(%v) = %v", i, tt.err, got)
		}
	}
}

// An oversized error answer is classified by its status; an oversized
// success cannot be trusted and, for a post, may hide a created post.
func TestAnswerSizeIsBounded(t *testing.T) {
	huge := `{"detail":"` + strings.Repeat("a", maxResponseBytes) + `"}`
	for _, tt := range []struct {
		status int
		want   Class
	}{{http.StatusCreated, ClassAmbiguous}, {http.StatusServiceUnavailable, ClassAmbiguous}, {http.StatusBadRequest, ClassPermanent}} {
		s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) { reply(w, tt.status, huge) })
		c, _ := newClient(t, s.URL, nil)
		_, err := c.CreatePost(context.Background(), NewPost{Text: "x"})
		e := errorOf(t, err)
		if e.Class != tt.want || e.Status != tt.status {
			t.Errorf("%d: class %v status %d, want %v", tt.status, e.Class, e.Status, tt.want)
		}
		if len(e.Error()) > maxResponseBytes+200 {
			t.Errorf("%d: error text of %d bytes", tt.status, len(e.Error()))
		}
	}
}
