package fakex_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

func TestFaultsAnswerThenRunOut(t *testing.T) {
	t.Parallel()
	reset := start.Add(7 * time.Minute)
	tests := []struct {
		name   string
		fault  fakex.Fault
		status int
		want   string // the whole body
	}{
		{"503", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 503, Count: 2}, 503,
			`{"type":"about:blank","title":"Service Unavailable","detail":"Service Unavailable","status":503}`},
		{"500", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 500}, 500,
			`{"type":"about:blank","title":"Internal Server Error","detail":"Internal Server Error","status":500}`},
		{"402 credits", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 402}, 402,
			`{"type":"https://api.twitter.com/2/problems/credits","title":"CreditsDepleted","status":402,
			"detail":"Your enrolled account does not have any credits to fulfill this request."}`},
		{"403 with a body", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 403,
			Body: `{"type":"https://api.twitter.com/2/problems/client-forbidden","title":"Client Forbidden","reason":"client-not-enrolled"}`}, 403,
			`{"type":"https://api.twitter.com/2/problems/client-forbidden","title":"Client Forbidden","reason":"client-not-enrolled"}`},
		{"400", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 400}, 400,
			`{"type":"https://api.twitter.com/2/problems/invalid-request","title":"Invalid Request","status":400,
			"detail":"One or more parameters to your request was invalid.","errors":[{"parameters":{},"message":"Injected fault: the request was refused."}]}`},
		{"429 with a reset", fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 429, Reset: reset}, 429,
			`{"type":"about:blank","title":"Too Many Requests","detail":"Too Many Requests","status":429}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakex.Options{})
			h.srv.Inject(tt.fault)
			n := max(tt.fault.Count, 1)
			for i := range n {
				r := h.do("POST", "/2/tweets", aliceToken, text("attempt "+strconv.Itoa(i)))
				if r.status != tt.status {
					t.Fatalf("attempt %d: status %d, want %d: %s", i, r.status, tt.status, r.body)
				}
				sameJSON(t, r, tt.want)
				if r.header.Get("x-rate-limit-limit") == "" {
					t.Error("no rate-limit headers on a fault")
				}
				if tt.status == 429 && (r.header.Get("x-rate-limit-remaining") != "0" || r.header.Get("x-rate-limit-reset") != strconv.FormatInt(reset.Unix(), 10)) {
					t.Errorf("429 headers remaining %s reset %s", r.header.Get("x-rate-limit-remaining"), r.header.Get("x-rate-limit-reset"))
				}
			}
			if len(h.srv.Faults()) != 0 {
				t.Errorf("faults left: %+v", h.srv.Faults())
			}
			if len(h.srv.Posts()) != 0 {
				t.Error("a faulted request stored a post")
			}
			h.post(aliceToken, text("after the fault"))
			if rq := h.srv.Requests(); !rq[0].Fault || rq[len(rq)-1].Fault {
				t.Errorf("requests %+v: the fault is not marked", rq)
			}
		})
	}
}

func TestFaultForOneUserAndUntilCleared(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, User: "bob", Status: 503, Count: -1})
	h.post(aliceToken, text("alice is fine"))
	for i := range 3 {
		if r := h.do("POST", "/2/tweets", bobToken, text("bob "+strconv.Itoa(i))); r.status != 503 {
			t.Fatalf("bob attempt %d: %d", i, r.status)
		}
	}
	if f := h.srv.Faults(); len(f) != 1 || f[0].Count != -1 {
		t.Fatalf("faults %+v", f)
	}
	h.srv.ClearFaults()
	h.post(bobToken, text("bob recovers"))

	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, User: bobID, Status: 500})
	if r := h.do("POST", "/2/tweets", bobToken, text("by id")); r.status != 500 {
		t.Errorf("a fault for a user id: status %d", r.status)
	}
}

func TestInjectRefusesUnknownEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	defer func() {
		if recover() == nil {
			t.Error("Inject accepted an endpoint the fake does not serve")
		}
	}()
	h.srv.Inject(fakex.Fault{Endpoint: "POST /2/tweet", Status: 500})
}

// The worst case: X stores the post and the connection drops before the
// answer. The client sees a transport error; the post exists.
func TestDropAfterStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, DropAfterStore: true})
	_, err := h.try(context.Background(), "POST", "/2/tweets", aliceToken, text("did it land?"))
	if err == nil {
		t.Fatal("the client got an answer")
	}
	posts := h.srv.Posts()
	if len(posts) != 1 || posts[0].Text != "did it land?" {
		t.Fatalf("posts %+v, want the post stored", posts)
	}
	rq := h.srv.Requests()
	if len(rq) != 1 || !rq[0].Dropped || rq[0].Status != 0 {
		t.Errorf("requests %+v", rq)
	}
	// A retry is a duplicate, as on X: the first attempt landed.
	if r := h.do("POST", "/2/tweets", aliceToken, text("did it land?")); r.status != 403 {
		t.Errorf("retry: status %d", r.status)
	}
}

func TestDropBeforeStore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, DropBeforeStore: true})
	if _, err := h.try(context.Background(), "POST", "/2/tweets", aliceToken, text("lost")); err == nil {
		t.Fatal("the client got an answer")
	}
	if n := len(h.srv.Posts()); n != 0 {
		t.Fatalf("%d posts stored", n)
	}
	h.post(aliceToken, text("lost"))
}

func TestLatencyEndsWithTheClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	// An hour: only the client's deadline can end this request, and the
	// server must let go of it too (ts.Close waits for its handlers).
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := h.try(ctx, "POST", "/2/tweets", aliceToken, text("slow"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	if n := len(h.srv.Posts()); n != 0 {
		t.Fatalf("%d posts stored by an abandoned request", n)
	}

	// A short latency, then the answer as usual.
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, Latency: time.Millisecond})
	h.post(aliceToken, text("eventually"))
}
