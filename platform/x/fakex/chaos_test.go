package fakex_test

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

// Each kind of chaos fault, alone at rate 1, does what it says.
func TestChaosKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind     fakex.ChaosKind
		statuses []int // what the client may see; nil: no answer
		stored   bool
	}{
		{fakex.ChaosDropBeforeStore, nil, false},
		{fakex.ChaosDropAfterStore, nil, true},
		{fakex.ChaosStoreThen5xx, []int{500, 502, 503, 504}, true},
		{fakex.ChaosStoreThenHang, []int{201}, true}, // a hang of 1ms, then the answer
		{fakex.Chaos5xx, []int{500, 502, 503, 504}, false},
		{fakex.Chaos429, []int{429}, false},
		{fakex.Chaos429MissingHeaders, []int{429}, false},
		{fakex.ChaosLatency, []int{201}, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakex.Options{Chaos: fakex.Chaos{Rate: 1, Seed: 1, Kinds: []fakex.ChaosKind{tt.kind}, Hang: time.Millisecond}})
			r, err := h.try(context.Background(), "POST", "/2/tweets", aliceToken, text("chaos"))
			switch {
			case tt.statuses == nil && err == nil:
				t.Fatalf("the client got an answer: %d %s", r.status, r.body)
			case tt.statuses != nil && err != nil:
				t.Fatal(err)
			case tt.statuses != nil && !slices.Contains(tt.statuses, r.status):
				t.Fatalf("status %d, want one of %v: %s", r.status, tt.statuses, r.body)
			}
			if r.status == 429 {
				missing := 0
				for _, name := range []string{"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} {
					if r.header.Get(name) == "" {
						missing++
					}
				}
				if reset := r.header.Get("x-rate-limit-reset"); reset != "" && reset != strconv.FormatInt(start.Add(3*time.Second).Unix(), 10) {
					t.Errorf("x-rate-limit-reset %s, want 3 seconds ahead", reset)
				}
				if (tt.kind == fakex.Chaos429) != (missing == 0) {
					t.Errorf("%d rate-limit headers missing: %v", missing, r.header)
				}
			}
			if n := len(h.srv.Posts()); (n == 1) != tt.stored {
				t.Errorf("%d posts stored", n)
			}
			h.ts.Close()
			rq := h.srv.Requests()
			if len(rq) != 1 || !rq[0].Fault || rq[0].Chaos != tt.kind {
				t.Errorf("requests %+v", rq)
			}
		})
	}
}

// The same seed and the same requests in the same order meet the same
// faults; only the chaos endpoints are hit; an injected fault comes
// first.
func TestChaosIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []fakex.ChaosKind {
		h := newHarness(t, fakex.Options{Chaos: fakex.Chaos{Rate: 0.5, Seed: seed,
			Kinds: []fakex.ChaosKind{fakex.Chaos5xx, fakex.Chaos429, fakex.Chaos429MissingHeaders, fakex.ChaosStoreThen5xx}}})
		h.srv.SetLimit(fakex.EndpointCreatePost, fakex.Limit{})
		h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, Status: 418})
		if r := h.do("POST", "/2/tweets", aliceToken, text("injected")); r.status != 418 {
			t.Fatalf("the injected fault: %d", r.status)
		}
		for i := range 40 {
			h.do("POST", "/2/tweets", aliceToken, text("post "+strconv.Itoa(i)))
			if r := h.do("GET", "/2/users/me", aliceToken, nil); r.status != 200 {
				t.Fatalf("chaos hit GET /2/users/me: %d", r.status)
			}
		}
		var kinds []fakex.ChaosKind
		for _, rq := range h.srv.Requests()[1:] {
			if rq.Endpoint == fakex.EndpointCreatePost {
				kinds = append(kinds, rq.Chaos)
			}
		}
		return kinds
	}
	a, b, c := run(42), run(42), run(43)
	if !slices.Equal(a, b) {
		t.Errorf("seed 42 twice:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 42 and 43 gave the same faults %v", a)
	}
	hit := 0
	for _, k := range a {
		if k != "" {
			hit++
		}
	}
	if hit < 10 || hit > 30 {
		t.Errorf("%d of 40 requests faulted at rate 0.5", hit)
	}
}

func TestChaosValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		chaos fakex.Chaos
		msg   string
	}{
		{"rate above 1", fakex.Chaos{Rate: 1.5}, "rate 1.5"},
		{"negative rate", fakex.Chaos{Rate: -0.1}, "rate -0.1"},
		{"unknown kind", fakex.Chaos{Rate: 1, Kinds: []fakex.ChaosKind{"meteor"}}, `unknown kind "meteor"`},
		{"unknown endpoint", fakex.Chaos{Rate: 1, Endpoints: []string{"GET /2/everything"}}, `unknown endpoint "GET /2/everything"`},
		{"negative hang", fakex.Chaos{Hang: -time.Second}, "negative hang"},
	}
	for _, tt := range tests {
		if err := tt.chaos.Validate(); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Validate = %v, want %q", tt.name, err, tt.msg)
		}
	}
	kinds, err := fakex.ParseChaosKinds("5xx, 429,5xx")
	if err != nil || !slices.Equal(kinds, []fakex.ChaosKind{fakex.Chaos5xx, fakex.Chaos429}) {
		t.Errorf("ParseChaosKinds = %v, %v", kinds, err)
	}
	if kinds, err := fakex.ParseChaosKinds("all"); err != nil || !slices.Equal(kinds, fakex.ChaosKinds()) {
		t.Errorf("ParseChaosKinds(all) = %v, %v", kinds, err)
	}
	if _, err := fakex.ParseChaosKinds("5xx,meteor"); err == nil {
		t.Error("ParseChaosKinds accepted an unknown kind")
	}
}

// Chaos can be set, read and stopped over the control plane.
func TestChaosControlPlane(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{})
	sameJSON(t, h.do("GET", "/_fake/chaos", "", nil), `{"rate":0,"seed":0,"hang":"30s","reset":"3s",
		"kinds":["drop_before_store","drop_after_store","store_then_5xx","store_then_hang","5xx","429","429_missing_headers","latency"],
		"endpoints":["POST /2/tweets","GET /2/users/:id/tweets","POST /2/media/upload","POST /2/media/upload/initialize",
		"POST /2/media/upload/:id/append","POST /2/media/upload/:id/finalize","GET /2/media/upload","POST /2/media/metadata"]}`)
	r := h.do("PUT", "/_fake/chaos", "", `{"rate":1,"seed":9,"kinds":["429"],"endpoints":["POST /2/tweets"],"reset":"5s"}`)
	sameJSON(t, r, `{"rate":1,"seed":9,"kinds":["429"],"endpoints":["POST /2/tweets"],"hang":"30s","reset":"5s"}`)
	if c := h.srv.Chaos(); c.Rate != 1 || c.Seed != 9 || c.Reset != 5*time.Second {
		t.Errorf("Chaos() = %+v", c)
	}
	r = h.do("POST", "/2/tweets", aliceToken, text("limited"))
	if r.status != 429 || r.header.Get("x-rate-limit-reset") != strconv.FormatInt(start.Add(5*time.Second).Unix(), 10) {
		t.Errorf("chaos 429: %d reset %s", r.status, r.header.Get("x-rate-limit-reset"))
	}
	for _, bad := range []string{`{"rate":2}`, `{"rate":1,"kinds":["meteor"]}`, `{"rate":1,"hang":"long"}`, `{"rat":1}`} {
		if r := h.do("PUT", "/_fake/chaos", "", bad); r.status != 400 {
			t.Errorf("PUT %s: %d %s", bad, r.status, r.body)
		}
	}
	if r := h.do("DELETE", "/_fake/chaos", "", nil); r.status != 204 {
		t.Fatalf("DELETE: %d", r.status)
	}
	h.post(aliceToken, text("calm again"))

	// Faults show their latency over the control plane.
	h.srv.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, AfterStore: true, Latency: 1500 * time.Millisecond, Status: 503})
	var faults []map[string]any
	if err := json.Unmarshal(h.do("GET", "/_fake/faults", "", nil).body, &faults); err != nil || len(faults) != 1 ||
		faults[0]["latency"] != "1.5s" || faults[0]["after_store"] != true || faults[0]["status"] != 503.0 {
		t.Errorf("faults %v %v", faults, err)
	}
}
