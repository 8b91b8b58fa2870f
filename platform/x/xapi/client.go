package xapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/herald-social/herald/clock"
)

// Endpoint names, shared with the rate limiter and the YAML `limits`
// windows.
const (
	EndpointCreatePost    = "create_post"    // POST /2/tweets
	EndpointDeletePost    = "delete_post"    // DELETE /2/tweets/:id
	EndpointLookupPosts   = "lookup_posts"   // GET /2/tweets?ids=
	EndpointUserPosts     = "user_posts"     // GET /2/users/:id/tweets
	EndpointMe            = "me"             // GET /2/users/me
	EndpointMediaUpload   = "media_upload"   // every /2/media/upload* call
	EndpointMediaMetadata = "media_metadata" // POST /2/media/metadata
	EndpointToken         = "token"          // POST /2/oauth2/token
)

const (
	defaultBaseURL   = "https://api.x.com"
	defaultUserAgent = "herald/dev"
	// maxResponseBytes bounds what is read of an answer, so that a hostile
	// or broken server cannot exhaust memory. X's largest answer here, a
	// lookup of 100 posts with metrics, is far below it.
	maxResponseBytes = 4 << 20
)

// DefaultTimeout bounds each request when Options.Timeout is not set.
const DefaultTimeout = 30 * time.Second

// ErrNoAuth is returned (inside an *Error of ClassReauth) by calls that
// need credentials on a Client built without Options.Auth.
var ErrNoAuth = errors.New("xapi: no Auth configured")

// Options configures a Client. Only Auth is needed for calls other than
// RefreshToken; everything else has a default.
type Options struct {
	// BaseURL is where the API lives, default "https://api.x.com" (a
	// trailing slash is ignored). Tests and the fake X server set it.
	BaseURL string
	// HTTPClient sends the requests; default: a client with dial, TLS and
	// idle timeouts that does not follow redirects (X does not redirect
	// API calls, and a followed redirect would turn a POST into a GET).
	HTTPClient *http.Client
	// UserAgent is sent with every request, default "herald/dev".
	UserAgent string
	// Timeout bounds each HTTP round trip, reading the answer included
	// (a 401 retry, each media chunk and each STATUS poll gets its own),
	// default 30s. A call of several requests (UploadMedia) has no bound
	// of its own beyond the caller's context.
	Timeout time.Duration
	// Auth authorizes every request but RefreshToken.
	Auth Auth
	// Clock times media STATUS polls and stamps RateLimit.At; default
	// clock.Real().
	Clock clock.Clock
	// OnRateLimit, when set, is called after every answer that carries
	// rate-limit headers (429s included), in the goroutine of the call.
	OnRateLimit func(RateLimit)
	// BeforeRequest, when set, is called right before each HTTP request
	// the Client sends, with the request's Endpoint* name: every media
	// chunk and STATUS poll, and the replay after a 401, each count (the
	// rate limiter reserves each one). It runs in the goroutine of the
	// call, after the context's guard (WithGuard). An error means nothing
	// is sent: the call fails with an *Error whose Err wraps it, of
	// ClassTransient, or of the class (and ResetAt) of the *Error the
	// hook returned.
	BeforeRequest func(ctx context.Context, endpoint string) error
	// Logger receives debug records (401 refreshes, partial errors);
	// default: discard.
	Logger *slog.Logger
	// ChunkSize is the size of each media append, default and maximum
	// MaxChunkSize; tests make it small.
	ChunkSize int
}

// Client calls the X API v2. It is safe for concurrent use.
type Client struct {
	base      string
	http      *http.Client
	userAgent string
	timeout   time.Duration
	auth      Auth
	clock     clock.Clock
	onRate    func(RateLimit)
	before    func(context.Context, string) error
	logger    *slog.Logger
	chunkSize int
}

// New checks o and returns a Client.
func New(o Options) (*Client, error) {
	base := strings.TrimRight(o.BaseURL, "/")
	if base == "" {
		base = defaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("xapi: base URL %q: want http(s)://host[/path]", o.BaseURL)
	}
	c := &Client{
		base:      base,
		http:      o.HTTPClient,
		userAgent: o.UserAgent,
		timeout:   o.Timeout,
		auth:      o.Auth,
		clock:     o.Clock,
		onRate:    o.OnRateLimit,
		before:    o.BeforeRequest,
		logger:    o.Logger,
		chunkSize: o.ChunkSize,
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.clock == nil {
		c.clock = clock.Real()
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.chunkSize <= 0 || c.chunkSize > MaxChunkSize {
		c.chunkSize = MaxChunkSize
	}
	return c, nil
}

func defaultHTTPClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			MaxIdleConns:          64,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
			// No ResponseHeaderTimeout: Options.Timeout bounds each
			// round trip, and a bound of the transport's own would cut
			// a longer Options.Timeout short.
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// call describes one API request; it is replayed as is after a refresh.
type call struct {
	endpoint    string
	method      string
	path        string // starts with "/2/"
	query       url.Values
	body        []byte
	contentType string
	// basicUser, basicPass: HTTP Basic credentials instead of Auth
	// (the token endpoint with a confidential client).
	basicUser, basicPass string
	noAuth               bool
}

// answer is a response that arrived, with its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends cl, handling the one refresh-and-retry after a 401, and decodes
// a 2xx JSON body into out (when out is not nil). Any failure is an *Error.
func (c *Client) do(ctx context.Context, cl call, out any) error {
	if !cl.noAuth && c.auth == nil {
		return &Error{Endpoint: cl.endpoint, Class: ClassReauth, Err: ErrNoAuth}
	}
	refreshed := false
	for {
		a, err := c.roundTrip(ctx, cl)
		if err != nil {
			return err
		}
		if a.status == http.StatusUnauthorized && !cl.noAuth && !refreshed {
			refreshed = true
			ok, rerr := c.auth.Refresh(ctx)
			if rerr != nil {
				// The request itself was refused, so it had no effect:
				// an ambiguous refresh is only transient here.
				class := ClassOf(rerr)
				if class == ClassAmbiguous {
					class = ClassTransient
				}
				e := c.errorFrom(cl, a)
				e.Class, e.Err = class, fmt.Errorf("refreshing credentials: %w", rerr)
				return e
			}
			if ok {
				c.logger.LogAttrs(ctx, slog.LevelInfo, "x api: credentials refreshed after 401, retrying once",
					slog.String("endpoint", cl.endpoint))
				continue
			}
		}
		if a.status < 200 || a.status > 299 {
			return c.errorFrom(cl, a)
		}
		if out == nil || len(bytes.TrimSpace(a.body)) == 0 {
			return nil
		}
		if err := json.Unmarshal(a.body, out); err != nil {
			class := ClassTransient
			if ambiguousAfterWrite(cl.endpoint) {
				// X said yes but we cannot read what it made.
				class = ClassAmbiguous
			}
			return &Error{Endpoint: cl.endpoint, Status: a.status, Class: class,
				Err: fmt.Errorf("decoding answer: %w", err)}
		}
		return nil
	}
}

// roundTrip sends cl once under Options.Timeout and reads the answer. The
// context's guard and Options.BeforeRequest are asked first, right before
// sending.
func (c *Client) roundTrip(ctx context.Context, cl call) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// wrote tells a failure before the request left (nothing happened at
	// X) from one after (it may have taken effect). GotConn resets it
	// because the transport may replay a request that was not written on
	// a fresh connection.
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { wrote.Store(false) },
		WroteRequest: func(i httptrace.WroteRequestInfo) { wrote.Store(i.Err == nil) },
	}
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), cl.method, u, body)
	if err != nil {
		return answer{}, &Error{Endpoint: cl.endpoint, Class: ClassPermanent, Err: err}
	}
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	switch {
	case cl.basicUser != "":
		req.SetBasicAuth(url.QueryEscape(cl.basicUser), url.QueryEscape(cl.basicPass))
	case !cl.noAuth:
		if err := c.auth.Authorize(ctx, req); err != nil {
			// The request was not sent, so it had no effect: an
			// ambiguous refresh inside Authorize is only transient here.
			class := ClassOf(err)
			if class == ClassAmbiguous {
				class = ClassTransient
			}
			return answer{}, &Error{Endpoint: cl.endpoint, Class: class,
				Err: fmt.Errorf("authorizing request: %w", err)}
		}
	}
	if err := c.beforeSend(ctx, cl.endpoint); err != nil {
		return answer{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		class := ClassTransient
		if wrote.Load() && ambiguousAfterWrite(cl.endpoint) {
			class = ClassAmbiguous
		}
		return answer{}, &Error{Endpoint: cl.endpoint, Class: class, Err: err}
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, header: resp.Header}
	c.reportRateLimit(cl.endpoint, resp)
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if len(a.body) > maxResponseBytes {
		a.body = a.body[:maxResponseBytes]
		if err == nil {
			err = fmt.Errorf("answer larger than %d bytes", maxResponseBytes)
		}
	}
	if err != nil && a.status >= 200 && a.status <= 299 {
		// A success we cannot read: for a post, it exists but we do not
		// know its id.
		class := ClassTransient
		if ambiguousAfterWrite(cl.endpoint) {
			class = ClassAmbiguous
		}
		return answer{}, &Error{Endpoint: cl.endpoint, Status: a.status, Class: class,
			Err: fmt.Errorf("reading answer: %w", err)}
	}
	// An error answer cut short is still classified by its status.
	return a, nil
}

// beforeSend asks the context's guard, then Options.BeforeRequest,
// whether a request of endpoint may be sent now. It runs after Authorize,
// which may take a while (a token refresh), so that nothing lies between
// the answer and the sending.
func (c *Client) beforeSend(ctx context.Context, endpoint string) error {
	if g := guardFrom(ctx); g != nil {
		if err := g(endpoint, c.timeout); err != nil {
			return &Error{Endpoint: endpoint, Class: ClassTransient,
				Err: fmt.Errorf("not sent, refused by the guard: %w", err)}
		}
	}
	if c.before != nil {
		if err := c.before(ctx, endpoint); err != nil {
			e := &Error{Endpoint: endpoint, Class: ClassTransient, Err: fmt.Errorf("not sent: %w", err)}
			var he *Error
			if errors.As(err, &he) {
				e.Class, e.ResetAt = he.Class, he.ResetAt
			}
			return e
		}
	}
	return nil
}

func (c *Client) reportRateLimit(endpoint string, resp *http.Response) {
	if c.onRate == nil {
		return
	}
	rl, ok := parseRateLimit(resp.Header)
	if !ok {
		return
	}
	rl.Endpoint, rl.At, rl.Status = endpoint, c.clock.Now(), resp.StatusCode
	c.onRate(rl)
}

// errorBody is every shape of error body X sends: problem JSON (RFC 7807
// with an optional errors array), the older {"errors":[{code,message}]},
// {"code","message"} of the spec's Error schema, and OAuth's
// {"error","error_description"} from the token endpoint.
type errorBody struct {
	Type             string    `json:"type"`
	Title            string    `json:"title"`
	Detail           string    `json:"detail"`
	Message          string    `json:"message"`
	Errors           []Problem `json:"errors"`
	Error            string    `json:"error"`
	ErrorDescription string    `json:"error_description"`
}

// errorFrom builds the *Error for an answer that is not a success.
func (c *Client) errorFrom(cl call, a answer) *Error {
	e := &Error{Endpoint: cl.endpoint, Status: a.status}
	var b errorBody
	if json.Unmarshal(a.body, &b) == nil {
		e.Type, e.Title, e.Detail, e.Problems = b.Type, b.Title, b.Detail, b.Errors
		if e.Detail == "" {
			e.Detail = b.Message
		}
		if b.Error != "" {
			e.Type, e.Detail = b.Error, b.ErrorDescription
		}
	}
	if e.Title == "" {
		e.Title = http.StatusText(a.status)
	}
	e.Class = classifyStatus(cl.endpoint, a.status, b.Error, e.Type)
	if e.Class == ClassRateLimited {
		rl, _ := parseRateLimit(a.header)
		e.ResetAt = rl.resetAt()
	}
	return e
}

// sleep waits d on the Client's clock, or until ctx is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	done := make(chan struct{})
	t := c.clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}
