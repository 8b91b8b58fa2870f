package fakex_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

// storedSignal is a slog handler that reports each post the fake accepts:
// the point at which a store-then-hang request has taken effect, which a
// test waits for instead of sleeping.
type storedSignal chan string

func (s storedSignal) Enabled(context.Context, slog.Level) bool { return true }
func (s storedSignal) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s storedSignal) WithGroup(string) slog.Handler            { return s }
func (s storedSignal) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "fake x accepted a post" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "post_id" {
				s <- a.Value.String()
			}
			return true
		})
	}
	return nil
}

// X can store a post and still answer 5xx: the client sees an error, the
// post exists, a retry is a duplicate.
func TestStoreThenAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   fakex.Fault
		status  int // 0: the client gets no answer
		want    string
		dropped bool
	}{
		{name: "503", fault: fakex.Fault{AfterStore: true, Status: 503}, status: 503,
			want: `{"type":"about:blank","title":"Service Unavailable","detail":"Service Unavailable","status":503}`},
		{name: "500 with a body", fault: fakex.Fault{AfterStore: true, Status: 500, Body: "upstream timeout"}, status: 500},
		{name: "504 after a short wait", fault: fakex.Fault{AfterStore: true, Status: 504, Latency: time.Millisecond}, status: 504},
		{name: "answered as usual after a short wait", fault: fakex.Fault{AfterStore: true, Latency: time.Millisecond}, status: 201},
		{name: "dropped after a short wait", fault: fakex.Fault{AfterStore: true, DropAfterStore: true, Latency: time.Millisecond}, dropped: true},
		{name: "dropped, without after_store", fault: fakex.Fault{DropAfterStore: true}, dropped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakex.Options{})
			tt.fault.Endpoint = fakex.EndpointCreatePost
			h.srv.Inject(tt.fault)
			r, err := h.try(context.Background(), "POST", "/2/tweets", aliceToken, text("did it land?"))
			switch {
			case tt.dropped && err == nil:
				t.Fatalf("the client got an answer: %d %s", r.status, r.body)
			case !tt.dropped && err != nil:
				t.Fatal(err)
			case !tt.dropped && r.status != tt.status:
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.want != "" {
				sameJSON(t, r, tt.want)
			}
			if tt.status >= 500 && r.header.Get("x-rate-limit-remaining") != "99" {
				t.Errorf("x-rate-limit-remaining %q on the fault", r.header.Get("x-rate-limit-remaining"))
			}
			posts := h.srv.Posts()
			if len(posts) != 1 || posts[0].Text != "did it land?" {
				t.Fatalf("posts %+v, want the post stored", posts)
			}
			if r := h.do("POST", "/2/tweets", aliceToken, text("did it land?")); r.status != 403 {
				t.Errorf("retry: status %d, want the duplicate 403", r.status)
			}
			h.ts.Close() // every handler has returned: the records are complete
			var faulted []fakex.Request
			for _, rq := range h.srv.Requests() {
				if rq.Fault {
					faulted = append(faulted, rq)
				}
			}
			if len(faulted) != 1 {
				t.Fatalf("requests %+v, want one faulted", h.srv.Requests())
			}
			if rq := faulted[0]; rq.Outcome != 201 || rq.Status != tt.status || rq.Dropped != tt.dropped {
				t.Errorf("request %+v", rq)
			}
		})
	}
}

// The post is stored, then the answer is held back past the client's
// timeout: the client gives up without knowing.
func TestStoreThenHang(t *testing.T) {
	t.Parallel()
	stored := make(storedSignal, 1)
	h := newHarness(t, fakex.Options{Logger: slog.New(stored)})
	// An hour: only the client can end this request.
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, AfterStore: true, Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.try(ctx, "POST", "/2/tweets", aliceToken, text("stored, then silence"))
		done <- err
	}()
	id := <-stored // the post exists while the client still waits
	select {
	case err := <-done:
		t.Fatalf("the client got an answer before giving up: %v", err)
	default:
	}
	cancel() // the client's timeout
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the client's cancellation", err)
	}
	h.ts.Close() // returns once the held request has let go
	if posts := h.srv.Posts(); len(posts) != 1 || posts[0].ID != id {
		t.Fatalf("posts %+v", posts)
	}
	rq := h.srv.Requests()
	if len(rq) != 1 || !rq[0].Fault || rq[0].Status != 0 || rq[0].Outcome != 201 {
		t.Errorf("requests %+v", rq)
	}
}

// Injected 429s can leave headers out, report requests left, and report
// an exhausted 24-hour window, as X's answers have been seen to.
func TestFault429Headers(t *testing.T) {
	t.Parallel()
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	reset, reset24 := start.Add(7*time.Minute), start.Add(20*time.Hour)
	tests := []struct {
		name  string
		fault fakex.Fault
		want  map[string]string // "" means absent
	}{
		{"reset missing", fakex.Fault{Status: 429, Reset: reset, OmitHeaders: []string{"x-rate-limit-reset"}},
			map[string]string{"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": ""}},
		{"all of x-rate-limit-*", fakex.Fault{Status: 429, OmitHeaders: []string{"x-rate-limit-*"}},
			map[string]string{"x-rate-limit-limit": "", "x-rate-limit-remaining": "", "x-rate-limit-reset": "", "x-app-limit-24hour-limit": "10000"}},
		{"limit and remaining missing, case ignored", fakex.Fault{Status: 429, Reset: reset, OmitHeaders: []string{"X-Rate-Limit-Limit", "x-rate-limit-remaining"}},
			map[string]string{"x-rate-limit-limit": "", "x-rate-limit-remaining": "", "x-rate-limit-reset": unix(reset)}},
		{"the app's day headers missing", fakex.Fault{Status: 429, OmitHeaders: []string{"x-app-limit-24hour-*"}},
			map[string]string{"x-rate-limit-reset": unix(start.Add(15 * time.Minute)), "x-app-limit-24hour-limit": "", "x-app-limit-24hour-remaining": "", "x-app-limit-24hour-reset": ""}},
		{"requests left", fakex.Fault{Status: 429, Remaining: 3, Reset: reset},
			map[string]string{"x-rate-limit-remaining": "3", "x-rate-limit-reset": unix(reset)}},
		{"the user's day exhausted", fakex.Fault{Status: 429, Reset: reset, Exhausted24h: "user", Reset24h: reset24},
			map[string]string{"x-rate-limit-remaining": "0", "x-rate-limit-reset": unix(reset),
				"x-user-limit-24hour-limit": "100", "x-user-limit-24hour-remaining": "0", "x-user-limit-24hour-reset": unix(reset24),
				"x-app-limit-24hour-remaining": "9999"}},
		{"the app's day exhausted, at its own reset", fakex.Fault{Status: 429, Exhausted24h: "app"},
			map[string]string{"x-app-limit-24hour-limit": "10000", "x-app-limit-24hour-remaining": "0",
				"x-app-limit-24hour-reset": unix(start.Add(24 * time.Hour)), "x-user-limit-24hour-limit": ""}},
		{"a 503 without headers", fakex.Fault{Status: 503, OmitHeaders: []string{"x-rate-limit-*", "x-app-limit-24hour-*"}},
			map[string]string{"x-rate-limit-limit": "", "x-app-limit-24hour-limit": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakex.Options{})
			tt.fault.Endpoint = fakex.EndpointCreatePost
			h.srv.Inject(tt.fault)
			r := h.do("POST", "/2/tweets", aliceToken, text("limited"))
			if r.status != tt.fault.Status {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			for name, want := range tt.want {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
				if _, present := r.header[http.CanonicalHeaderKey(name)]; want == "" && present {
					t.Errorf("%s present", name)
				}
			}
			// The next answer carries every header again.
			if r := h.do("POST", "/2/tweets", aliceToken, text("limited")); r.status != 201 || r.header.Get("x-rate-limit-reset") == "" {
				t.Errorf("after the fault: %d %v", r.status, r.header)
			}
		})
	}
}

func TestFaultValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault fakex.Fault
		json  string // the same fault over the control plane or --fault
		msg   string
	}{
		{"unknown endpoint", fakex.Fault{Endpoint: "POST /2/tweet"}, `{"endpoint":"POST /2/tweet"}`, `unknown endpoint "POST /2/tweet"`},
		{"status out of range", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 99}, `{"endpoint":"POST /2/tweets","status":99}`, "status 99"},
		{"dropped both before and after", fakex.Fault{Endpoint: fakex.EndpointCreatePost, DropBeforeStore: true, AfterStore: true},
			`{"endpoint":"POST /2/tweets","drop_before_store":true,"after_store":true}`, "drop_before_store excludes"},
		{"unknown header", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 429, OmitHeaders: []string{"retry-after"}},
			`{"endpoint":"POST /2/tweets","status":429,"omit_headers":["retry-after"]}`, `unknown header "retry-after"`},
		{"exhausted window of nobody", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 429, Exhausted24h: "team"},
			`{"endpoint":"POST /2/tweets","status":429,"exhausted_24h":"team"}`, `exhausted_24h "team"`},
		{"exhausted window without a 429", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Exhausted24h: "user"},
			`{"endpoint":"POST /2/tweets","exhausted_24h":"user"}`, "needs status 429"},
		{"negative remaining", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 429, Remaining: -1},
			`{"endpoint":"POST /2/tweets","status":429,"remaining":-1}`, "negative remaining"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := tt.fault.Validate(); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("Validate = %v, want %q", err, tt.msg)
			}
			if _, err := fakex.ParseFault([]byte(tt.json)); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ParseFault = %v, want %q", err, tt.msg)
			}
			h := newHarness(t, fakex.Options{})
			if r := h.do("POST", "/_fake/faults", "", tt.json); r.status != 400 || !strings.Contains(r.json(t)["error"].(string), tt.msg) {
				t.Errorf("POST /_fake/faults: %d %s", r.status, r.body)
			}
			defer func() {
				if recover() == nil {
					t.Error("Inject accepted the fault")
				}
			}()
			h.srv.Inject(tt.fault)
		})
	}

	f, err := fakex.ParseFault([]byte(`{"endpoint":"POST /2/tweets","after_store":true,"latency":"2s","status":503,"count":-1,
		"omit_headers":["x-rate-limit-reset"],"remaining":2,"reset":"2026-03-01T12:05:00Z"}`))
	want := fakex.Fault{Endpoint: fakex.EndpointCreatePost, AfterStore: true, Latency: 2 * time.Second, Status: 503, Count: -1,
		OmitHeaders: []string{"x-rate-limit-reset"}, Remaining: 2, Reset: start.Add(5 * time.Minute)}
	if err != nil || f.Latency != want.Latency || !f.Reset.Equal(want.Reset) || f.Status != 503 || !f.AfterStore || f.Count != -1 ||
		len(f.OmitHeaders) != 1 || f.Remaining != 2 {
		t.Errorf("ParseFault = %+v, %v; want %+v", f, err, want)
	}
	for _, bad := range []string{`{"endpoint":"POST /2/tweets","latency":"soon"}`, `{"endpoint":"POST /2/tweets","afterstore":true}`, `{`} {
		if _, err := fakex.ParseFault([]byte(bad)); err == nil {
			t.Errorf("ParseFault(%s) accepted it", bad)
		}
	}
}
