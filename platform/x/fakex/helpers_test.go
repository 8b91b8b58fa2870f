package fakex_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x/fakex"
)

// start is the fake clock's reading when a test begins.
var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// Two registered accounts every test gets.
const (
	aliceID, aliceToken, aliceRefresh, aliceClient = "1001", "alice-access", "alice-refresh", "client-alice"
	bobID, bobToken                                = "1002", "bob-access"
)

type harness struct {
	t   *testing.T
	clk *clock.Fake
	srv *fakex.Server
	ts  *httptest.Server
}

// newHarness serves a fake X with alice and bob on a fake clock.
func newHarness(t *testing.T, o fakex.Options) *harness {
	t.Helper()
	clk := clock.NewFake(start)
	o.Clock = clk
	srv := fakex.New(o)
	srv.AddUser(fakex.User{ID: aliceID, Username: "alice", Name: "Alice", AccessToken: aliceToken, RefreshToken: aliceRefresh, ClientID: aliceClient})
	srv.AddUser(fakex.User{ID: bobID, Username: "bob", AccessToken: bobToken})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &harness{t: t, clk: clk, srv: srv, ts: ts}
}

// longLived re-registers alice and bob with tokens that never expire, for
// tests that move the clock by days.
func (h *harness) longLived() {
	h.srv.AddUser(fakex.User{ID: aliceID, Username: "alice", Name: "Alice", AccessToken: aliceToken, RefreshToken: aliceRefresh, ClientID: aliceClient, TokenTTL: -1})
	h.srv.AddUser(fakex.User{ID: bobID, Username: "bob", AccessToken: bobToken, TokenTTL: -1})
}

// reply is an answer read whole.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value, for exact comparisons.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return v
}

// do sends a request with a bearer token (none when empty) and a body:
// a string is sent as is, anything else as JSON.
func (h *harness) do(method, path, token string, body any) reply {
	h.t.Helper()
	r, err := h.try(context.Background(), method, path, token, body)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

func (h *harness) try(ctx context.Context, method, path, token string, body any) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.ts.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return send(req)
}

func send(req *http.Request) (reply, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}, err
}

// post creates a post as the token's user and returns its id.
func (h *harness) post(token string, body any) string {
	h.t.Helper()
	r := h.do("POST", "/2/tweets", token, body)
	if r.status != http.StatusCreated {
		h.t.Fatalf("creating %v: %d %s", body, r.status, r.body)
	}
	var out struct {
		Data struct{ ID, Text string }
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.Data.ID == "" {
		h.t.Fatalf("create answer %s: %v", r.body, err)
	}
	return out.Data.ID
}

// text is a request body with only text.
func text(s string) map[string]any { return map[string]any{"text": s} }

// mustJSON parses a JSON literal of a test table.
func mustJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}

// sameJSON fails unless got equals the JSON literal want.
func sameJSON(t *testing.T, got reply, want string) {
	t.Helper()
	if g, w := got.json(t), mustJSON(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("body\n got %s\nwant %s", got.body, want)
	}
}

// firstError is the message of the first entry of an invalid-request
// problem.
func firstError(t *testing.T, r reply) string {
	t.Helper()
	var p struct {
		Type   string
		Errors []struct {
			Message    string
			Parameters map[string][]string
		}
	}
	if err := json.Unmarshal(r.body, &p); err != nil || len(p.Errors) == 0 {
		t.Fatalf("not a problem with errors: %s", r.body)
	}
	return p.Errors[0].Message
}
