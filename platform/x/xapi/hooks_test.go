package xapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"
)

// errRefused is what the hooks and guards below refuse with.
var errRefused = errors.New("test: refused")

// deferredError is a hook's own error type, to be found with errors.As
// through the *Error.
type deferredError struct{ until time.Time }

func (d *deferredError) Error() string { return "deferred until " + d.until.String() }

// hookLog records the calls of guards and BeforeRequest, in order.
type hookLog struct {
	mu    sync.Mutex
	calls []string
}

func (l *hookLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, s)
}

func (l *hookLog) get() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// Every request a call sends is shown to the guard, then to BeforeRequest,
// and refusing any of them sends nothing more.
func TestBeforeRequestAndGuardSeeEveryRequest(t *testing.T) {
	tests := []struct {
		name string
		call func(ctx context.Context, c *Client) error
		// endpoints are those of the requests X receives when nothing is
		// refused; each one is shown to the guard, then to the hook.
		endpoints []string
	}{
		{"create", func(ctx context.Context, c *Client) error {
			_, err := c.CreatePost(ctx, NewPost{Text: "hello"})
			return err
		}, []string{EndpointCreatePost}},
		{"create replayed after a 401", func(ctx context.Context, c *Client) error {
			_, err := c.CreatePost(ctx, NewPost{Text: "401 first"})
			return err
		}, []string{EndpointCreatePost, EndpointCreatePost}},
		{"token", func(ctx context.Context, c *Client) error {
			_, err := c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: "r0"})
			return err
		}, []string{EndpointToken}},
		{"chunked video with STATUS polls", func(ctx context.Context, c *Client) error {
			_, err := c.UploadMedia(ctx, MediaFile{Name: "clip.mp4", Size: 10, MediaType: "video/mp4", Open: openString("0123456789")})
			return err
		}, []string{EndpointMediaUpload, // initialize
			EndpointMediaUpload, EndpointMediaUpload, EndpointMediaUpload, // 3 appends
			EndpointMediaUpload,                        // finalize
			EndpointMediaUpload, EndpointMediaUpload}}, // 2 STATUS polls
	}
	for _, tt := range tests {
		for refuseAt := 0; refuseAt <= len(tt.endpoints); refuseAt++ {
			for _, by := range []string{"guard", "hook"} {
				if refuseAt == len(tt.endpoints) && by == "hook" {
					continue // nothing refused: one run is enough
				}
				name := fmt.Sprintf("%s/%s refuses request %d", tt.name, by, refuseAt+1)
				if refuseAt == len(tt.endpoints) {
					name = tt.name + "/nothing refused"
				}
				t.Run(name, func(t *testing.T) {
					testHooks(t, tt.call, tt.endpoints, refuseAt, by)
				})
			}
		}
	}
}

func testHooks(t *testing.T, call func(context.Context, *Client) error, endpoints []string, refuseAt int, by string) {
	var unauthorized, status sync.Once
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		switch r.URL.Path {
		case "/2/tweets":
			sent401 := false
			if string(body) == `{"text":"401 first"}` {
				unauthorized.Do(func() { sent401 = true })
			}
			if sent401 {
				reply(w, http.StatusUnauthorized, `{"title":"Unauthorized","type":"about:blank","status":401}`)
				return
			}
			reply(w, http.StatusCreated, `{"data":{"id":"9","text":"hello"}}`)
		case "/2/oauth2/token":
			reply(w, http.StatusOK, `{"token_type":"bearer","access_token":"a1","refresh_token":"r1","expires_in":7200}`)
		case "/2/media/upload/initialize":
			reply(w, 200, `{"data":{"id":"77","expires_after_secs":86400}}`)
		case "/2/media/upload/77/append":
			reply(w, 200, `{}`)
		case "/2/media/upload/77/finalize":
			reply(w, 200, `{"data":{"id":"77","processing_info":{"state":"pending","check_after_secs":1}}}`)
		case "/2/media/upload":
			first := false
			status.Do(func() { first = true })
			if first {
				reply(w, 200, `{"data":{"id":"77","processing_info":{"state":"in_progress","check_after_secs":2}}}`)
				return
			}
			reply(w, 200, `{"data":{"id":"77","processing_info":{"state":"succeeded"}}}`)
		default:
			t.Errorf("unexpected %s %s", r.Method, r.URL)
		}
	})
	log := &hookLog{}
	n := 0
	auth := &refreshingAuth{token: testToken, newToken: testToken, ok: true}
	c, clk := newClient(t, s.URL, func(o *Options) {
		o.Auth = auth
		o.ChunkSize = 4
		o.Timeout = 7 * time.Second
		o.BeforeRequest = func(ctx context.Context, endpoint string) error {
			log.add("hook " + endpoint)
			if by == "hook" && n == refuseAt {
				return fmt.Errorf("limiter: %w", errRefused)
			}
			n++
			return nil
		}
	})
	defer fireTimers(clk)()
	ctx := WithGuard(context.Background(), func(endpoint string, timeout time.Duration) error {
		log.add(fmt.Sprintf("guard %s %s", endpoint, timeout))
		if by == "guard" && n == refuseAt {
			return fmt.Errorf("lease: %w", errRefused)
		}
		return nil
	})
	err := call(ctx, c)

	var want []string
	for i, ep := range endpoints {
		if i > refuseAt {
			break
		}
		want = append(want, "guard "+ep+" 7s")
		if i == refuseAt && by == "guard" {
			break
		}
		want = append(want, "hook "+ep)
	}
	if got := log.get(); !reflect.DeepEqual(got, want) {
		t.Errorf("calls\n%q\nwant\n%q", got, want)
	}
	if sent := len(s.requests()); sent != min(refuseAt, len(endpoints)) {
		t.Errorf("%d requests sent, want %d", sent, min(refuseAt, len(endpoints)))
	}
	if refuseAt == len(endpoints) {
		if err != nil {
			t.Fatalf("nothing refused, yet: %v", err)
		}
		return
	}
	e := errorOf(t, err)
	if e.Class != ClassTransient || e.Status != 0 || e.Endpoint != endpoints[refuseAt] || !errors.Is(err, errRefused) {
		t.Errorf("error %v: class %v status %d endpoint %q; want transient, 0, %q, wrapping errRefused",
			err, e.Class, e.Status, e.Endpoint, endpoints[refuseAt])
	}
}

// A hook's error keeps its identity through the *Error, and a hook that
// returns an *Error gives the call its class and reset.
func TestBeforeRequestErrors(t *testing.T) {
	until := t0.Add(3 * time.Minute)
	tests := []struct {
		name    string
		err     error
		class   Class
		resetAt time.Time
		check   func(error) bool
	}{
		{"a plain error is transient", errRefused, ClassTransient, time.Time{},
			func(err error) bool { return errors.Is(err, errRefused) }},
		{"a typed error is found with errors.As", fmt.Errorf("reserving: %w", &deferredError{until}), ClassTransient, time.Time{},
			func(err error) bool {
				var d *deferredError
				return errors.As(err, &d) && d.until.Equal(until)
			}},
		{"an *Error gives its class and reset", &Error{Endpoint: EndpointCreatePost, Class: ClassRateLimited, ResetAt: until, Err: errRefused},
			ClassRateLimited, until, func(err error) bool { return errors.Is(err, errRefused) }},
		{"a context error", context.Canceled, ClassTransient, time.Time{},
			func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				t.Errorf("request sent: %s %s", r.Method, r.URL)
			})
			c, _ := newClient(t, s.URL, func(o *Options) {
				o.BeforeRequest = func(context.Context, string) error { return tt.err }
			})
			_, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
			e := errorOf(t, err)
			if e.Class != tt.class || !e.ResetAt.Equal(tt.resetAt) || e.Endpoint != EndpointCreatePost || e.Status != 0 {
				t.Errorf("error %v: class %v reset %v endpoint %q status %d; want %v %v", err, e.Class, e.ResetAt, e.Endpoint, e.Status, tt.class, tt.resetAt)
			}
			if !tt.check(err) {
				t.Errorf("error %v does not wrap the hook's error", err)
			}
			if ClassOf(fmt.Errorf("publishing: %w", err)) != tt.class {
				t.Errorf("ClassOf a wrapped error: %v", ClassOf(fmt.Errorf("publishing: %w", err)))
			}
		})
	}
}

// Guards nest: the one already in the context is asked first, and either
// refuses for both. A nil guard changes nothing.
func TestWithGuardNests(t *testing.T) {
	var log hookLog
	outerErr, innerErr := errors.New("outer"), errors.New("inner")
	var refuse error
	base := context.Background()
	if WithGuard(base, nil) != base {
		t.Error("WithGuard(ctx, nil) is not ctx")
	}
	outer := WithGuard(base, func(ep string, _ time.Duration) error {
		log.add("outer " + ep)
		if refuse == outerErr {
			return outerErr
		}
		return nil
	})
	ctx := WithGuard(outer, func(ep string, _ time.Duration) error {
		log.add("inner " + ep)
		if refuse == innerErr {
			return innerErr
		}
		return nil
	})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, http.StatusOK, `{"data":{"id":"1","name":"n","username":"u"}}`)
	})
	c, _ := newClient(t, s.URL, nil)
	for _, tt := range []struct {
		refuse error
		want   []string
	}{
		{nil, []string{"outer me", "inner me"}},
		{outerErr, []string{"outer me"}},
		{innerErr, []string{"outer me", "inner me"}},
	} {
		log = hookLog{}
		refuse = tt.refuse
		_, err := c.Me(ctx)
		if tt.refuse == nil && err != nil || tt.refuse != nil && (!errors.Is(err, tt.refuse) || ClassOf(err) != ClassTransient) {
			t.Errorf("refuse %v: error %v (class %v)", tt.refuse, err, ClassOf(err))
		}
		if got := log.get(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("refuse %v: calls %q, want %q", tt.refuse, got, tt.want)
		}
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests sent, want 1", n)
	}
}
