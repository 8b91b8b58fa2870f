package fakex

import (
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
)

// Options configures a fake X server. The zero value is usable.
type Options struct {
	// Clock drives token expiry, rate-limit windows, media processing and
	// expiry, post times and ids. Default clock.Real().
	Clock clock.Clock
	// Logger receives one line per accepted post and per request (debug).
	// Default: discard.
	Logger *slog.Logger
	// Limits overrides DefaultLimits per endpoint name ("POST /2/tweets");
	// endpoints not named keep X's published limits. Limit{} lifts every
	// limit of an endpoint.
	Limits map[string]Limit
	// MediaProcessing is how long GIF and video media stay in each
	// processing state (pending, then in_progress) after finalize.
	// Default 5s.
	MediaProcessing time.Duration
	// MediaTTL is how long a media id can be attached to a post after its
	// upload began (X's expires_after_secs). Default 24h.
	MediaTTL time.Duration
	// TimelineLag is how long a new post stays out of GET
	// /2/users/:id/tweets: it appears once the fake's clock is TimelineLag
	// past its creation, as on X, where "not in the timeline yet" right
	// after a send proves nothing. Lookups by id are not delayed. Default
	// 0, at once.
	TimelineLag time.Duration
	// DuplicateWindow is how far back a post's authored text makes a new
	// post of the same author with the same text a duplicate (X's 403).
	// 0, the default, means forever: any post of the author that is not
	// deleted, whatever its age. X does not publish its window.
	DuplicateWindow time.Duration
	// Chaos injects random faults for soak tests; the zero value injects
	// none. New panics on a Chaos that Validate refuses.
	Chaos Chaos
	// AccessTokenTTL is how long an OAuth 2.0 access token lives: those
	// POST /2/oauth2/token issues (its expires_in), and those of users
	// added with TokenTTL 0. Default 2 hours, as X's; a short one makes
	// clients refresh during a test.
	AccessTokenTTL time.Duration
}

// Server is a fake X API v2 server; it is an http.Handler. All its methods
// are safe for concurrent use.
type Server struct {
	clock      clock.Clock
	logger     *slog.Logger
	mux        *http.ServeMux
	processing time.Duration
	mediaTTL   time.Duration
	lag        time.Duration // Options.TimelineLag
	dupWindow  time.Duration // Options.DuplicateWindow
	tokenTTL   time.Duration // Options.AccessTokenTTL

	mu       sync.Mutex
	ids      idGen
	users    map[string]*user        // by user id
	access   map[string]*accessToken // by OAuth 2.0 access token
	refresh  map[string]*refreshToken
	oauth1   map[string]string // OAuth 1.0a token -> user id
	posts    []*post           // in creation order
	postByID map[string]*post
	media    map[string]*media
	limits   map[string]Limit
	windows  map[windowKey]*window
	faults   []*Fault
	chaos    chaosState
	requests []Request
}

// Request is one request the fake answered (or dropped), as tests assert
// on them: which endpoint, for whom, when, and the status sent.
type Request struct {
	Endpoint string    `json:"endpoint"` // e.g. "POST /2/tweets"
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	User     string    `json:"user,omitempty"` // user id; empty when authentication failed
	App      string    `json:"app,omitempty"`  // client id or consumer key
	At       time.Time `json:"at"`             // on the fake's clock
	Status   int       `json:"status"`         // 0 when no answer was sent
	Dropped  bool      `json:"dropped,omitempty"`
	Fault    bool      `json:"fault,omitempty"` // an injected or chaos fault answered
	// Chaos is the kind of the chaos fault that answered, if one did.
	Chaos ChaosKind `json:"chaos,omitempty"`
	// Outcome is the status the endpoint itself answered when a fault
	// sent another answer or none after letting the request act
	// (DropAfterStore, AfterStore): 201 on POST /2/tweets means the post
	// was stored, whatever the client saw.
	Outcome int `json:"outcome,omitempty"`
}

// New returns a fake X server with no users.
func New(o Options) *Server {
	s := &Server{
		clock:      o.Clock,
		logger:     o.Logger,
		processing: o.MediaProcessing,
		mediaTTL:   o.MediaTTL,
		lag:        max(o.TimelineLag, 0),
		dupWindow:  max(o.DuplicateWindow, 0),
		tokenTTL:   o.AccessTokenTTL,
		chaos:      newChaos(o.Chaos),
		users:      map[string]*user{},
		access:     map[string]*accessToken{},
		refresh:    map[string]*refreshToken{},
		oauth1:     map[string]string{},
		postByID:   map[string]*post{},
		media:      map[string]*media{},
		limits:     DefaultLimits(),
		windows:    map[windowKey]*window{},
	}
	if s.clock == nil {
		s.clock = clock.Real()
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.processing <= 0 {
		s.processing = 5 * time.Second
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = accessTokenTTL
	}
	if s.mediaTTL <= 0 {
		s.mediaTTL = 24 * time.Hour
	}
	for ep, l := range o.Limits {
		mustEndpoint(ep)
		s.limits[ep] = l
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := http.NewServeMux()
	m.Handle("POST /2/tweets", s.api(EndpointCreatePost, s.createPost))
	m.Handle("GET /2/tweets", s.api(EndpointLookupPosts, s.lookupPosts))
	m.Handle("DELETE /2/tweets/{id}", s.api(EndpointDeletePost, s.deletePost))
	m.Handle("GET /2/users/me", s.api(EndpointMe, s.me))
	m.Handle("GET /2/users/{id}/tweets", s.api(EndpointUserPosts, s.userPosts))
	m.Handle("POST /2/media/upload", s.api(EndpointMediaUpload, s.uploadOneShot))
	m.Handle("GET /2/media/upload", s.api(EndpointMediaStatus, s.mediaStatus))
	m.Handle("POST /2/media/upload/initialize", s.api(EndpointMediaInit, s.mediaInit))
	m.Handle("POST /2/media/upload/{id}/append", s.api(EndpointMediaAppend, s.mediaAppend))
	m.Handle("POST /2/media/upload/{id}/finalize", s.api(EndpointMediaFinalize, s.mediaFinalize))
	m.Handle("POST /2/media/metadata", s.api(EndpointMediaMetadata, s.mediaMetadata))
	m.Handle("POST /2/oauth2/token", s.oauth(EndpointToken, s.token))
	m.Handle("POST /2/oauth2/revoke", s.oauth(EndpointRevoke, s.revoke))
	m.HandleFunc("/2/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"errors": []map[string]any{{"message": "Sorry, that page does not exist", "code": 34}}})
	})
	s.controlRoutes(m)
	s.mux = m
}

// ServeHTTP answers as X's API does, plus the /_fake/ control plane and
// the page at /.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// call is what the pipeline learnt of a request before its handler runs.
type call struct {
	user           *user // nil only on the OAuth endpoints, for an unknown token
	app            string
	now            time.Time
	failProcessing bool // an injected fault asks finalize to fail processing
}

type apiHandler func(w http.ResponseWriter, r *http.Request, c *call)

// api wraps an endpoint that needs a user's token: authenticate, count
// against the rate limits, apply an injected fault, then answer.
func (s *Server) api(endpoint string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.clock.Now()
		sw := &statusWriter{ResponseWriter: w}
		rec := Request{Endpoint: endpoint, Method: r.Method, Path: r.URL.Path, At: now}
		if u, app, ok := s.authenticate(r, now); ok {
			rec.User, rec.App = u.ID, app
			s.serve(sw, r, &call{user: u, app: app, now: now}, endpoint, h, &rec)
		} else {
			writeProblem(sw, blank(http.StatusUnauthorized, "Unauthorized"))
		}
		s.finish(&rec, sw)
	})
}

// oauth wraps the token endpoints: they authenticate the client in the
// handler, but faults and (configured) limits apply as elsewhere, keyed by
// the user whose token the form names.
func (s *Server) oauth(endpoint string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := s.clock.Now()
		sw := &statusWriter{ResponseWriter: w}
		rec := Request{Endpoint: endpoint, Method: r.Method, Path: r.URL.Path, At: now}
		c := &call{now: now, app: r.PostFormValue("client_id")}
		if u := s.tokenOwner(r.PostFormValue("refresh_token"), r.PostFormValue("token")); u != nil {
			c.user, rec.User = u, u.ID
		}
		if id, _, ok := r.BasicAuth(); ok {
			c.app = id
		}
		rec.App = c.app
		s.serve(sw, r, c, endpoint, h, &rec)
		s.finish(&rec, sw)
	})
}

func (s *Server) serve(w *statusWriter, r *http.Request, c *call, endpoint string, h apiHandler, rec *Request) {
	userID := ""
	if c.user != nil {
		userID = c.user.ID
	}
	s.mu.Lock()
	rc := s.admit(endpoint, userID, c.app, c.now)
	var f *Fault
	if rc.allowed {
		f = s.takeFault(endpoint, c.user)
		if f == nil {
			f, rec.Chaos = s.chaos.draw(endpoint, c.now)
		}
	}
	s.mu.Unlock()
	if !rc.allowed {
		rc.setHeaders(w.Header())
		writeProblem(w, blank(http.StatusTooManyRequests, "Too Many Requests"))
		return
	}
	if f == nil {
		rc.setHeaders(w.Header())
		h(w, r, c)
		return
	}
	rec.Fault = true
	rc.fault(f, c.now)
	rc.setHeaders(w.Header())
	omitHeaders(w.Header(), f.OmitHeaders)
	if !s.applyFault(w, r, *f, c, h, rec) {
		h(w, r, c)
	}
}

// finish records the request, then drops the connection if a fault asked
// for it: a test that sees the drop finds the request recorded.
func (s *Server) finish(rec *Request, sw *statusWriter) {
	s.record(rec, sw)
	if rec.Dropped {
		drop(sw)
	}
}

// record keeps a request for Requests.
func (s *Server) record(rec *Request, sw *statusWriter) {
	rec.Status = sw.status
	s.mu.Lock()
	s.requests = append(s.requests, *rec)
	s.mu.Unlock()
	s.logger.Debug("fake x request", slog.String("endpoint", rec.Endpoint), slog.String("user", rec.User),
		slog.Int("status", rec.Status), slog.Bool("dropped", rec.Dropped), slog.Bool("fault", rec.Fault),
		slog.String("chaos", string(rec.Chaos)), slog.Int("outcome", rec.Outcome))
}

// Requests returns every request answered so far, in the order their
// handling ended (a request held back by latency comes after those
// answered meanwhile).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// statusWriter remembers the status sent, for Requests.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (to drop it).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
