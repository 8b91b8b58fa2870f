package fakex

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// Fault is a misbehaviour injected into the next Count requests to an
// endpoint: what a client must survive from X and the network.
//
// A fault answers with one outcome: DropBeforeStore, else Status, else
// DropAfterStore; Latency, if set, comes first. A fault with only Latency
// (or only FailProcessing) delays (or marks) the request, which is then
// answered normally.
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
	// Reset is the x-rate-limit-reset of an injected 429 (default: in 15
	// minutes on the fake's clock).
	Reset time.Time `json:"reset,omitzero"`
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

// Inject adds a fault; faults match in the order injected. It panics on an
// endpoint name the fake does not serve, a mistake in the test itself.
func (s *Server) Inject(f Fault) {
	mustEndpoint(f.Endpoint)
	if f.Count == 0 {
		f.Count = 1
	}
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
		out = append(out, *f)
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
// (or dropped it); when it did not, the handler answers as usual.
func (s *Server) applyFault(w *statusWriter, r *http.Request, f Fault, c *call, h apiHandler, rec *Request) bool {
	if f.Latency > 0 {
		// net/http notices a client that hung up (and cancels the
		// request's context) only once the body has been read: read it
		// now, up to a bound, and hand it on to the handler.
		head, err := io.ReadAll(io.LimitReader(r.Body, latencyBodyBuffer))
		if err != nil {
			return true
		}
		r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up: nothing more to send.
			t.Stop()
			return true
		}
	}
	switch {
	case f.DropBeforeStore:
		rec.Dropped = true
		drop(w)
		return true
	case f.Status != 0:
		if f.Body == "" {
			p := defaultProblem(f.Status)
			p.Status = f.Status
			writeProblem(w, p)
			return true
		}
		ct := "text/plain; charset=utf-8"
		if json.Valid([]byte(f.Body)) {
			ct = "application/problem+json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	case f.DropAfterStore:
		h(&discardWriter{header: http.Header{}}, r, c)
		rec.Dropped = true
		drop(w)
		return true
	}
	c.failProcessing = f.FailProcessing
	return false
}

// latencyBodyBuffer bounds the body read before a latency fault waits: a
// larger body (a big media segment) is only partly read, and a client
// that hangs up during the wait is then noticed only when it ends.
const latencyBodyBuffer = 8 << 20

type readCloser struct {
	io.Reader
	io.Closer
}

// drop closes the client's connection without an answer. Over HTTP/1 it
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

// discardWriter takes the answer a dropped connection never delivers.
type discardWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { return d.body.Write(b) }
