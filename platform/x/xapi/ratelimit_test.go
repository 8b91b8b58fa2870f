package xapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// unix formats t as X's reset headers do.
func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// headers builds an http.Header from name, value pairs.
func headers(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestParseRateLimit(t *testing.T) {
	reset := t0.Add(4 * time.Second)
	tests := []struct {
		name string
		h    http.Header
		want RateLimit
		ok   bool
	}{
		{name: "none", h: headers(), ok: false},
		{name: "all three", h: headers("x-rate-limit-limit", "100", "x-rate-limit-remaining", "99", "x-rate-limit-reset", unix(reset)),
			want: RateLimit{Limit: new(100), Remaining: new(99), Reset: reset}, ok: true},
		{name: "no limit: unknown, not zero", h: headers("x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(reset)),
			want: RateLimit{Remaining: new(0), Reset: reset}, ok: true},
		{name: "no remaining: unknown, not zero", h: headers("x-rate-limit-limit", "100", "x-rate-limit-reset", unix(reset)),
			want: RateLimit{Limit: new(100), Reset: reset}, ok: true},
		{name: "no reset", h: headers("x-rate-limit-limit", "100", "x-rate-limit-remaining", "0"),
			want: RateLimit{Limit: new(100), Remaining: new(0)}, ok: true},
		{name: "unreadable values are unknown", h: headers("x-rate-limit-limit", "many", "x-rate-limit-remaining", "", "x-rate-limit-reset", "0"),
			ok: false},
		{name: "a negative reset is unknown", h: headers("x-rate-limit-remaining", "3", "x-rate-limit-reset", "-5"),
			want: RateLimit{Remaining: new(3)}, ok: true},
		{name: "24-hour windows, each value on its own",
			h: headers("x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", unix(reset.Add(time.Hour)),
				"x-app-limit-24hour-limit", "10000"),
			want: RateLimit{User24h: &WindowHeader{Remaining: new(0), Reset: reset.Add(time.Hour)},
				App24h: &WindowHeader{Limit: new(10000)}}, ok: true},
		{name: "a 24-hour window with nothing readable is nil", h: headers("x-app-limit-24hour-limit", "lots", "x-rate-limit-remaining", "1"),
			want: RateLimit{Remaining: new(1)}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRateLimit(tt.h)
			if ok != tt.ok || !sameRateLimit(got, tt.want) {
				t.Errorf("got %s, %v\nwant %s, %v", fmtRL(got), ok, fmtRL(tt.want), tt.ok)
			}
		})
	}
}

// TestResetAt: a 429's ResetAt is the latest reset among the windows X
// reports exhausted; else the 15-minute reset; else zero.
func TestResetAt(t *testing.T) {
	r15 := t0.Add(4 * time.Second)
	tests := []struct {
		name string
		h    http.Header
		want time.Time
	}{
		{"no headers: the caller backs off", headers(), time.Time{}},
		// The answer that parked a job for 15 minutes.
		{"remaining 0 and a reset 4 s ahead, no limit",
			headers("x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(r15)), r15},
		{"15-minute window exhausted",
			headers("x-rate-limit-limit", "100", "x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(r15)), r15},
		{"15-minute window open but 429 anyway: its reset",
			headers("x-rate-limit-limit", "100", "x-rate-limit-remaining", "5", "x-rate-limit-reset", unix(r15)), r15},
		{"15-minute remaining unknown: its reset",
			headers("x-rate-limit-reset", unix(r15)), r15},
		{"user 24h exhausted, 15-minute open: the 24h reset",
			headers("x-rate-limit-remaining", "5", "x-rate-limit-reset", unix(r15),
				"x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", unix(r15.Add(time.Hour))), r15.Add(time.Hour)},
		{"user 24h open: the 15-minute reset",
			headers("x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(r15),
				"x-user-limit-24hour-remaining", "3", "x-user-limit-24hour-reset", unix(r15.Add(time.Hour))), r15},
		{"all three exhausted: the latest",
			headers("x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(r15),
				"x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", unix(r15.Add(2*time.Hour)),
				"x-app-limit-24hour-remaining", "0", "x-app-limit-24hour-reset", unix(r15.Add(time.Hour))), r15.Add(2 * time.Hour)},
		{"an exhausted window that resets first does not win",
			headers("x-rate-limit-remaining", "0", "x-rate-limit-reset", unix(r15.Add(10*time.Minute)),
				"x-app-limit-24hour-remaining", "0", "x-app-limit-24hour-reset", unix(r15)), r15.Add(10 * time.Minute)},
		{"app 24h exhausted without 15-minute headers",
			headers("x-app-limit-24hour-remaining", "0", "x-app-limit-24hour-reset", unix(r15)), r15},
		{"24h remaining unknown: not exhausted, the 15-minute reset",
			headers("x-rate-limit-reset", unix(r15), "x-user-limit-24hour-reset", unix(r15.Add(time.Hour))), r15},
		{"a 24h reset alone, not said exhausted: back off",
			headers("x-user-limit-24hour-remaining", "4", "x-user-limit-24hour-reset", unix(r15.Add(time.Hour))), time.Time{}},
		{"exhausted without a reset: the 15-minute reset",
			headers("x-rate-limit-remaining", "2", "x-rate-limit-reset", unix(r15), "x-user-limit-24hour-remaining", "0"), r15},
		{"exhausted without any reset: back off",
			headers("x-rate-limit-limit", "100", "x-rate-limit-remaining", "0"), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl, _ := parseRateLimit(tt.h)
			if got := rl.resetAt(); !got.Equal(tt.want) {
				t.Errorf("resetAt %v, want %v", got, tt.want)
			}
			// The same through a real 429.
			s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				for k, v := range tt.h {
					w.Header()[k] = v
				}
				reply(w, http.StatusTooManyRequests, `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`)
			})
			c, _ := newClient(t, s.URL, nil)
			_, err := c.CreatePost(context.Background(), NewPost{Text: "hello"})
			if e := errorOf(t, err); e.Class != ClassRateLimited || !e.ResetAt.Equal(tt.want) {
				t.Errorf("429: class %v ResetAt %v, want rate_limited %v", e.Class, e.ResetAt, tt.want)
			}
		})
	}
}

func TestOnRateLimit(t *testing.T) {
	reset := time.Unix(1782907200, 0).UTC()
	status := http.StatusCreated
	hdrs := []string{"x-rate-limit-limit", "100", "x-rate-limit-remaining", "99", "x-rate-limit-reset", "1782907200"}
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		reply(w, status, `{"data":{"id":"1","text":"t"}}`, hdrs...)
	})
	var got []RateLimit
	c, clk := newClient(t, s.URL, func(o *Options) { o.OnRateLimit = func(rl RateLimit) { got = append(got, rl) } })
	ctx := context.Background()
	if _, err := c.CreatePost(ctx, NewPost{Text: "t"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	status = http.StatusTooManyRequests
	hdrs = []string{"x-rate-limit-remaining", "0", "x-rate-limit-reset", "1782907200",
		"x-user-limit-24hour-limit", "100", "x-user-limit-24hour-remaining", "0", "x-user-limit-24hour-reset", "1782990000",
		"x-app-limit-24hour-limit", "10000", "x-app-limit-24hour-remaining", "4000", "x-app-limit-24hour-reset", "1782950000"}
	_, err := c.CreatePost(ctx, NewPost{Text: "t"})
	if e := errorOf(t, err); e.Class != ClassRateLimited || !e.ResetAt.Equal(time.Unix(1782990000, 0)) {
		t.Errorf("429: class %v reset %v", e.Class, e.ResetAt)
	}
	hdrs = nil
	status = http.StatusCreated
	if _, err := c.CreatePost(ctx, NewPost{Text: "t"}); err != nil {
		t.Fatal(err)
	}
	want := []RateLimit{
		{Endpoint: EndpointCreatePost, At: t0, Limit: new(100), Remaining: new(99), Reset: reset, Status: 201},
		{Endpoint: EndpointCreatePost, At: t0.Add(time.Minute), Remaining: new(0), Reset: reset, Status: 429,
			User24h: &WindowHeader{Limit: new(100), Remaining: new(0), Reset: time.Unix(1782990000, 0).UTC()},
			App24h:  &WindowHeader{Limit: new(10000), Remaining: new(4000), Reset: time.Unix(1782950000, 0).UTC()}},
	}
	if len(got) != len(want) {
		t.Fatalf("OnRateLimit called %d times, want %d (not for an answer without headers)", len(got), len(want))
	}
	for i := range want {
		if !sameRateLimit(got[i], want[i]) {
			t.Errorf("%d: %s\nwant %s", i, fmtRL(got[i]), fmtRL(want[i]))
		}
	}
}

func sameRateLimit(a, b RateLimit) bool {
	return a.Endpoint == b.Endpoint && a.At.Equal(b.At) && a.Status == b.Status &&
		sameInt(a.Limit, b.Limit) && sameInt(a.Remaining, b.Remaining) && a.Reset.Equal(b.Reset) &&
		sameWindow(a.User24h, b.User24h) && sameWindow(a.App24h, b.App24h)
}

func sameWindow(a, b *WindowHeader) bool {
	if a == nil || b == nil {
		return a == b
	}
	return sameInt(a.Limit, b.Limit) && sameInt(a.Remaining, b.Remaining) && a.Reset.Equal(b.Reset)
}

func sameInt(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func fmtInt(p *int) string {
	if p == nil {
		return "?"
	}
	return strconv.Itoa(*p)
}

func fmtWindow(w *WindowHeader) string {
	if w == nil {
		return "nil"
	}
	return fmt.Sprintf("{%s %s %v}", fmtInt(w.Limit), fmtInt(w.Remaining), w.Reset)
}

// fmtRL shows a RateLimit with its unknown values as "?".
func fmtRL(rl RateLimit) string {
	return fmt.Sprintf("{%s at %v status %d limit %s remaining %s reset %v user24h %s app24h %s}", rl.Endpoint, rl.At, rl.Status,
		fmtInt(rl.Limit), fmtInt(rl.Remaining), rl.Reset, fmtWindow(rl.User24h), fmtWindow(rl.App24h))
}
