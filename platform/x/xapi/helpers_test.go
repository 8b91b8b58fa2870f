package xapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
)

// t0 is the fake clock's start in every test.
var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

const testToken = "secret-bearer-token-AAAA"

// seen is one request as the fake server received it.
type seen struct {
	Method, Path, RawQuery string
	Query                  url.Values
	Header                 http.Header
	Body                   []byte
}

// server is an httptest server that records every request and answers
// with handle.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, body []byte)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("server reading body: %v", err)
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
			Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		handle(w, r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// newClient returns a Client of base with a bearer token, a fake clock and
// the user agent "herald/test"; mod may change the options.
func newClient(t *testing.T, base string, mod func(*Options)) (*Client, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(t0)
	o := Options{BaseURL: base, Auth: BearerToken(testToken), Clock: clk, UserAgent: "herald/test"}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

// reply writes a JSON answer with status and extra headers.
func reply(w http.ResponseWriter, status int, body string, headers ...string) {
	for i := 0; i+1 < len(headers); i += 2 {
		w.Header().Set(headers[i], headers[i+1])
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// checkCommon asserts the headers every request carries.
func checkCommon(t *testing.T, r seen) {
	t.Helper()
	if got := r.Header.Get("User-Agent"); got != "herald/test" {
		t.Errorf("%s %s: User-Agent %q", r.Method, r.Path, got)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("%s %s: Accept %q", r.Method, r.Path, got)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("%s %s: Authorization %q", r.Method, r.Path, got)
	}
}

// checkJSON asserts a JSON request: content type and body, compared as
// decoded values so that key order does not matter but every key does.
func checkJSON(t *testing.T, r seen, want string) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", r.Method, r.Path, ct)
	}
	var got, exp any
	if err := json.Unmarshal(r.Body, &got); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", r.Method, r.Path, r.Body, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s %s: body %s, want %s", r.Method, r.Path, r.Body, want)
	}
}

// checkNoBody asserts a request without body or content type.
func checkNoBody(t *testing.T, r seen) {
	t.Helper()
	if len(r.Body) != 0 || r.Header.Get("Content-Type") != "" {
		t.Errorf("%s %s: body %q, Content-Type %q; want none", r.Method, r.Path, r.Body, r.Header.Get("Content-Type"))
	}
}

// checkQuery asserts the exact query parameters.
func checkQuery(t *testing.T, r seen, want url.Values) {
	t.Helper()
	if !reflect.DeepEqual(r.Query, want) && !(len(r.Query) == 0 && len(want) == 0) {
		t.Errorf("%s %s: query %v, want %v", r.Method, r.Path, r.Query, want)
	}
}

// part is one multipart part.
type part struct {
	FileName, ContentType string
	Data                  string
}

// parseMultipart decodes a multipart/form-data request into its parts by
// name, failing on a repeated name.
func parseMultipart(t *testing.T, r seen) map[string]part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		t.Fatalf("%s %s: Content-Type %q, want multipart/form-data", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(bytes.NewReader(r.Body), params["boundary"])
	parts := map[string]part{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		data, _ := io.ReadAll(p)
		if _, dup := parts[p.FormName()]; dup {
			t.Errorf("part %q twice", p.FormName())
		}
		parts[p.FormName()] = part{FileName: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: string(data)}
	}
	return parts
}

func keys[V any](m map[string]V) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// errorOf asserts that err is (or wraps) an *Error and returns it.
func errorOf(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	return e
}

// fireTimers fires each timer armed on clk, moving the clock to its
// deadline, until the returned stop is called: calls that wait on the
// Client's clock (media STATUS polls) then run without real sleeps.
func fireTimers(clk *clock.Fake) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			armed := clk.Armed()
			if d, ok := clk.NextDeadline(); ok {
				clk.Advance(d.Sub(clk.Now()))
				continue
			}
			select {
			case <-armed:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}
