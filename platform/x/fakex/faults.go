package fakex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Fault is a misbehaviour injected into the next Count requests to an
// endpoint: what a client must survive from X and the network.
//
// A fault answers with one outcome. Without AfterStore: Latency, if set,
// comes first; then DropBeforeStore, else Status, else DropAfterStore.
// With AfterStore the request takes effect first (the post is stored),
// then Latency passes, then Status, else DropAfterStore, else the
// endpoint's own answer. A fault with only Latency (or only
// FailProcessing) delays (or marks) the request, which is then answered
// normally.
type Fault struct {
	// Endpoint is the endpoint name, e.g. EndpointCreatePost.
	Endpoint string `json:"endpoint"`
	// User limits the fault to one user (id or username); empty for all.
	User string `json:"user,omitempty"`
	// Count is how many matching requests the fault hits: 0 means 1, a
	// negative count means every one until ClearFaults.
	Count int `json:"count,omitempty"`
	// Status answers with this status and Body (default: the problem X
	// sends with that status; 402 is the pay-per-use CreditsDepleted).
	Status int    `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
	// Latency holds the answer back, on a real timer (latency is for
	// testing client timeouts), until it elapses or the client gives up.
	Latency time.Duration `json:"-"`
	// AfterStore lets the request take effect before the fault acts: X
	// can store a post and then answer 5xx (with Status), or answer after
	// the client has given up (with Latency). Either way the client cannot
	// tell whether its post exists.
	AfterStore bool `json:"after_store,omitempty"`
	// Reset is the x-rate-limit-reset of an injected 429 (default: in 15
	// minutes on the fake's clock).
	Reset time.Time `json:"reset,omitzero"`
	// Remaining is the x-rate-limit-remaining of an injected 429 (default
	// 0). X has answered 429 while reporting requests left, when another
	// window than the one reported was exhausted.
	Remaining int `json:"remaining,omitempty"`
	// Exhausted24h makes an injected 429 report a 24-hour window as
	// exhausted: "user" (x-user-limit-24hour-*) or "app"
	// (x-app-limit-24hour-*), with remaining 0 and reset Reset24h, so that
	// a client can be tested on waiting for the latest exhausted window.
	// Its limit is the endpoint's limit for that window or, when the
	// endpoint has none, the x-rate-limit-limit sent.
	Exhausted24h string `json:"exhausted_24h,omitempty"`
	// Reset24h is the reset of the Exhausted24h window (default: the open
	// window's reset, else 24 hours on the fake's clock).
	Reset24h time.Time `json:"reset_24h,omitzero"`
	// OmitHeaders names the rate-limit headers the faulted answer leaves
	// out (RateLimitHeaders lists them; "x-rate-limit-*",
	// "x-user-limit-24hour-*" and "x-app-limit-24hour-*" name a family):
	// X's headers are not always all there, and the 24-hour ones are
	// undocumented.
	OmitHeaders []string `json:"omit_headers,omitempty"`
	// DropAfterStore does everything the request asks (the post is stored)
	// and then closes the connection without answering: the ambiguous
	// outcome a publisher must reconcile.
	DropAfterStore bool `json:"drop_after_store,omitempty"`
	// DropBeforeStore closes the connection before doing anything.
	DropBeforeStore bool `json:"drop_before_store,omitempty"`
	// FailProcessing, on a finalize, makes the media's processing end in
	// the failed state.
	FailProcessing bool `json:"fail_processing,omitempty"`
}

// RateLimitHeaders are the rate-limit headers X sends, as
// Fault.OmitHeaders names them.
func RateLimitHeaders() []string {
	var out []string
	for _, prefix := range []string{"x-rate-limit-", headerUser24h, headerApp24h} {
		for _, name := range []string{"limit", "remaining", "reset"} {
			out = append(out, prefix+name)
		}
	}
	return out
}

// errBadFault is wrapped by the errors of Fault.Validate.
var errBadFault = errors.New("fakex: invalid fault")

// Validate reports a fault the fake cannot carry out: Inject panics on it
// (a mistake in the test itself) and POST /_fake/faults answers 400.
func (f Fault) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{errBadFault}, args...)...)
	}
	if _, ok := DefaultLimits()[f.Endpoint]; !ok {
		return bad("unknown endpoint %q: want e.g. %q", f.Endpoint, EndpointCreatePost)
	}
	switch {
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return bad("status %d: want 100 to 599", f.Status)
	case f.Latency < 0:
		return bad("negative latency %s", f.Latency)
	case f.Remaining < 0:
		return bad("negative remaining %d", f.Remaining)
	case f.DropBeforeStore && (f.AfterStore || f.DropAfterStore):
		return bad("drop_before_store excludes after_store and drop_after_store")
	case f.Exhausted24h != "" && f.Exhausted24h != "user" && f.Exhausted24h != "app":
		return bad("exhausted_24h %q: want user or app", f.Exhausted24h)
	case f.Exhausted24h != "" && f.Status != http.StatusTooManyRequests:
		return bad("exhausted_24h needs status 429")
	}
	known := append(RateLimitHeaders(), "x-rate-limit-*", headerUser24h+"*", headerApp24h+"*")
	for _, h := range f.OmitHeaders {
		if !slices.Contains(known, strings.ToLower(h)) {
			return bad("omit_headers: unknown header %q: want one of %s", h, strings.Join(known, ", "))
		}
	}
	return nil
}

// Inject adds a fault; faults match in the order injected. It panics on a
// fault that Validate refuses, a mistake in the test itself.
func (s *Server) Inject(f Fault) {
	if err := f.Validate(); err != nil {
		panic(err.Error())
	}
	if f.Count == 0 {
		f.Count = 1
	}
	f.OmitHeaders = slices.Clone(f.OmitHeaders)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// Faults returns the faults not yet used up, Count being what is left.
func (s *Server) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, 0, len(s.faults))
	for _, f := range s.faults {
		c := *f
		c.OmitHeaders = slices.Clone(f.OmitHeaders)
		out = append(out, c)
	}
	return out
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first fault matching the request and
// returns a copy of it. s.mu is held.
func (s *Server) takeFault(endpoint string, u *user) *Fault {
	for i, f := range s.faults {
		if f.Endpoint != endpoint {
			continue
		}
		if f.User != "" && (u == nil || (f.User != u.ID && f.User != u.Username)) {
			continue
		}
		hit := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

// applyFault carries out f and reports whether it answered the request
// (or marked it rec.Dropped, for finish to drop once it is recorded); when
// it did not, the handler answers as usual.
func (s *Server) applyFault(w *statusWriter, r *http.Request, f Fault, c *call, h apiHandler, rec *Request) bool {
	c.failProcessing = f.FailProcessing
	if f.AfterStore {
		s.afterStore(w, r, f, c, h, rec)
		return true
	}
	if f.Latency > 0 && !holdBack(r, f.Latency) {
		return true
	}
	switch {
	case f.DropBeforeStore:
		rec.Dropped = true
		return true
	case f.Status != 0:
		writeFault(w, f)
		return true
	case f.DropAfterStore:
		cw := &captureWriter{header: http.Header{}}
		h(cw, r, c)
		rec.Outcome = cw.outcome()
		rec.Dropped = true
		return true
	}
	return false
}

// afterStore lets the request take effect, then holds the answer back for
// f.Latency and sends f's answer, or the endpoint's own one.
func (s *Server) afterStore(w *statusWriter, r *http.Request, f Fault, c *call, h apiHandler, rec *Request) {
	if f.Latency > 0 && bufferBody(r) != nil {
		return
	}
	cw := &captureWriter{header: http.Header{}}
	h(cw, r, c)
	rec.Outcome = cw.outcome()
	if f.Latency > 0 && !holdBack(r, f.Latency) {
		return
	}
	switch {
	case f.Status != 0:
		writeFault(w, f)
	case f.DropAfterStore:
		rec.Dropped = true
	default:
		cw.replay(w)
	}
}

// writeFault answers f.Status with f.Body, or with the problem X sends
// with that status.
func writeFault(w http.ResponseWriter, f Fault) {
	if f.Body == "" {
		p := defaultProblem(f.Status)
		p.Status = f.Status
		writeProblem(w, p)
		return
	}
	ct := "text/plain; charset=utf-8"
	if json.Valid([]byte(f.Body)) {
		ct = "application/problem+json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(f.Body))
}

// holdBack waits d on a real timer, or until the client gives up; it
// reports whether the client is still there. Latency is real time because
// what it tests, a client's timeout, is.
func holdBack(r *http.Request, d time.Duration) bool {
	if bufferBody(r) != nil {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// bufferBody reads the request body ahead, up to a bound, and hands it on
// to the handler: net/http notices a client that hung up (and cancels the
// request's context) only once the body has been read.
func bufferBody(r *http.Request) error {
	if _, ok := r.Body.(readCloser); ok {
		return nil
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, latencyBodyBuffer))
	if err != nil {
		return err
	}
	r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	return nil
}

// latencyBodyBuffer bounds the body read before a latency fault waits: a
// larger body (a big media segment) is only partly read, and a client
// that hangs up during the wait is then noticed only when it ends.
const latencyBodyBuffer = 8 << 20

type readCloser struct {
	io.Reader
	io.Closer
}

// drop closes the client's connection without an answer; w must not have
// been written to. Over HTTP/1 it
// hijacks the connection; where that is impossible (HTTP/2) it aborts the
// handler, which resets the stream.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// captureWriter takes the answer of a request that a fault answers
// differently, later, or not at all.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}

// outcome is the status the endpoint answered (200 when it wrote nothing,
// as net/http would send).
func (c *captureWriter) outcome() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}

// replay sends the captured answer.
func (c *captureWriter) replay(w http.ResponseWriter) {
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.outcome())
	_, _ = w.Write(c.body.Bytes())
}
