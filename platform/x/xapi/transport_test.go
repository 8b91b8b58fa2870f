package xapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// calls runs one request of each kind against c.
var calls = []struct {
	name     string
	endpoint string
	run      func(ctx context.Context, c *Client) error
}{
	{"create", EndpointCreatePost, func(ctx context.Context, c *Client) error {
		_, err := c.CreatePost(ctx, NewPost{Text: "hello"})
		return err
	}},
	{"delete", EndpointDeletePost, func(ctx context.Context, c *Client) error { return c.DeletePost(ctx, "5") }},
	{"lookup", EndpointLookupPosts, func(ctx context.Context, c *Client) error {
		_, err := c.LookupPosts(ctx, []string{"5"}, false)
		return err
	}},
	{"timeline", EndpointUserPosts, func(ctx context.Context, c *Client) error {
		_, err := c.UserPosts(ctx, "5", TimelineQuery{})
		return err
	}},
	{"me", EndpointMe, func(ctx context.Context, c *Client) error { _, err := c.Me(ctx); return err }},
	{"media", EndpointMediaUpload, func(ctx context.Context, c *Client) error {
		_, err := c.UploadMedia(ctx, MediaFile{Name: "a.png", MediaType: "image/png", Size: 3, Open: openString("png")})
		return err
	}},
	{"alt", EndpointMediaMetadata, func(ctx context.Context, c *Client) error { return c.SetAltText(ctx, "5", "alt") }},
	{"token", EndpointToken, func(ctx context.Context, c *Client) error {
		_, err := c.RefreshToken(ctx, RefreshRequest{ClientID: "cid", RefreshToken: "r0"})
		return err
	}},
}

func openString(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}

// A refused connection: nothing reached X, whatever the call.
func TestConnectionRefusedIsTransient(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, "http://"+addr, nil)
			e := errorOf(t, tc.run(context.Background(), c))
			if e.Class != ClassTransient || e.Status != 0 || e.Endpoint != tc.endpoint {
				t.Errorf("class %v status %d endpoint %q (%v); want transient, 0, %q", e.Class, e.Status, e.Endpoint, e, tc.endpoint)
			}
			var op *net.OpError
			if !errors.As(e.Err, &op) {
				t.Errorf("the dial error is not wrapped: %v", e)
			}
		})
	}
}

// A server that reads the whole request and then drops the connection:
// the request was written, so a post may exist.
func TestDroppedAfterWrite(t *testing.T) {
	want := map[string]Class{
		EndpointCreatePost: ClassAmbiguous, EndpointDeletePost: ClassAmbiguous, EndpointToken: ClassAmbiguous,
		EndpointLookupPosts: ClassTransient, EndpointUserPosts: ClassTransient, EndpointMe: ClassTransient,
		EndpointMediaUpload: ClassTransient, EndpointMediaMetadata: ClassTransient,
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			got := make(chan struct{}, 4)
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				got <- struct{}{}
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Errorf("hijack: %v", err)
					return
				}
				conn.Close()
			}))
			defer s.Close()
			c, _ := newClient(t, s.URL, nil)
			e := errorOf(t, tc.run(context.Background(), c))
			if len(got) == 0 {
				t.Fatal("the server never read the request")
			}
			if e.Class != want[tc.endpoint] || e.Status != 0 {
				t.Errorf("class %v status %d (%v); want %v", e.Class, e.Status, e, want[tc.endpoint])
			}
			if e.Class == ClassAmbiguous && !strings.Contains(e.Error(), "may have reached X") {
				t.Errorf("Error() = %q", e.Error())
			}
		})
	}
}

// A 5xx answer: X may have stored the post and then failed the answer,
// so a request whose effect may have happened is ambiguous; anything else
// is transient.
func TestServerErrorAfterWrite(t *testing.T) {
	want := map[string]Class{
		EndpointCreatePost: ClassAmbiguous, EndpointDeletePost: ClassAmbiguous, EndpointToken: ClassAmbiguous,
		EndpointLookupPosts: ClassTransient, EndpointUserPosts: ClassTransient, EndpointMe: ClassTransient,
		EndpointMediaUpload: ClassTransient, EndpointMediaMetadata: ClassTransient,
	}
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		for _, tc := range calls {
			t.Run(fmt.Sprintf("%s/%d", tc.name, status), func(t *testing.T) {
				s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
					reply(w, status, `{"title":"`+http.StatusText(status)+`","type":"about:blank","status":`+strconv.Itoa(status)+`}`)
				})
				c, _ := newClient(t, s.URL, nil)
				e := errorOf(t, tc.run(context.Background(), c))
				if e.Class != want[tc.endpoint] || e.Status != status || e.Endpoint != tc.endpoint {
					t.Errorf("class %v status %d endpoint %q (%v); want %v %d %q", e.Class, e.Status, e.Endpoint, e, want[tc.endpoint], status, tc.endpoint)
				}
				if n := len(s.requests()); n != 1 {
					t.Errorf("%d requests, want 1 (no retries inside the client)", n)
				}
			})
		}
	}
}

// An Auth whose refresh inside Authorize lost its answer: the request
// itself was never sent, so it is transient, not ambiguous.
func TestAuthorizeAmbiguousIsTransient(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		t.Errorf("request sent: %s %s", r.Method, r.URL)
	})
	lost := &Error{Endpoint: EndpointToken, Status: 503, Class: ClassAmbiguous}
	c, _ := newClient(t, s.URL, func(o *Options) { o.Auth = failingAuth{lost} })
	_, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
	if e := errorOf(t, err); e.Class != ClassTransient || e.Endpoint != EndpointCreatePost || !errors.Is(err, lost) {
		t.Errorf("class %v endpoint %q (%v); want transient create_post wrapping the refresh error", e.Class, e.Endpoint, err)
	}
}

// failingAuth fails every Authorize with err.
type failingAuth struct{ err error }

func (a failingAuth) Authorize(context.Context, *http.Request) error { return a.err }
func (failingAuth) Refresh(context.Context) (bool, error)            { return false, nil }

// The caller gives up after the request was written: ambiguous for a post,
// and the context's error is kept.
func TestCancelledAfterWrite(t *testing.T) {
	got := make(chan struct{})
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		close(got)
		<-r.Context().Done() // until the client goes away
	}))
	defer s.Close()
	c, _ := newClient(t, s.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-got; cancel() }()
	_, err := c.CreatePost(ctx, NewPost{Text: "hello"})
	if e := errorOf(t, err); e.Class != ClassAmbiguous {
		t.Errorf("class %v (%v), want ambiguous", e.Class, e)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not wrap context.Canceled", err)
	}
}

// Options.Timeout firing while X holds the answer: ambiguous for a post,
// transient for a read. Nothing here asserts on durations.
func TestTimeoutAfterWrite(t *testing.T) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer s.Close()
	c, _ := newClient(t, s.URL, func(o *Options) { o.Timeout = time.Second })
	_, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
	if e := errorOf(t, err); e.Class != ClassAmbiguous || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("post: class %v (%v), want ambiguous deadline exceeded", e.Class, e)
	}
	_, err = c.LookupPosts(context.Background(), []string{"1"}, false)
	if e := errorOf(t, err); e.Class != ClassTransient || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("lookup: class %v (%v), want transient deadline exceeded", e.Class, e)
	}
}

// A timeout before anything was written (here: a dial that never
// completes) is transient even for a post.
func TestTimeoutBeforeWrite(t *testing.T) {
	hang := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	}}
	c, _ := newClient(t, "http://x.invalid", func(o *Options) { o.HTTPClient = hang; o.Timeout = 50 * time.Millisecond })
	_, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
	if e := errorOf(t, err); e.Class != ClassTransient || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("class %v (%v), want transient deadline exceeded", e.Class, e)
	}
}

func TestNewOptions(t *testing.T) {
	for _, bad := range []string{"ftp://api.x.com", "api.x.com", "https://", "https://api.x.com/?a=b", "://"} {
		if _, err := New(Options{BaseURL: bad}); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://api.x.com" || c.userAgent != "herald/dev" || c.timeout != 30*time.Second || c.chunkSize != MaxChunkSize {
		t.Errorf("defaults: %q %q %v %d", c.base, c.userAgent, c.timeout, c.chunkSize)
	}
	// No Auth: every call but the token refresh is refused before sending.
	_, err = c.Me(context.Background())
	if e := errorOf(t, err); e.Class != ClassReauth || !errors.Is(err, ErrNoAuth) {
		t.Errorf("no auth: %v", err)
	}
	// A trailing slash on the base URL is ignored.
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, 200, `{"data":{"id":"1","name":"n","username":"u"}}`)
	})
	c2, _ := newClient(t, s.URL+"/", nil)
	if _, err := c2.Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := s.requests()[0].Path; p != "/2/users/me" {
		t.Errorf("path %q", p)
	}
}

// The default client must not follow redirects: a followed 302 would
// turn a POST into a GET somewhere else.
func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.URL.Path != "/2/tweets" {
			t.Errorf("redirect followed to %s %s", r.Method, r.URL.Path)
		}
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	})
	c, err := New(Options{BaseURL: s.URL, Auth: BearerToken(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreatePost(context.Background(), NewPost{Text: "x"})
	if e := errorOf(t, err); e.Status != http.StatusFound || e.Class != ClassPermanent {
		t.Errorf("status %d class %v", e.Status, e.Class)
	}
	if !bytes.Contains(s.requests()[0].Body, []byte("text")) {
		t.Error("body not sent")
	}
}
