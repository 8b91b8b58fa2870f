package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const ep = EndpointCreatePost

var alice = Subject{Account: "alice", App: "app1"}

// The Limiter contract is tested for Memory and Redis alike by package
// limitertest (conformance_test.go); this file tests what only Memory has.

func win(scope Scope, limit int, period time.Duration) Window {
	return Window{Endpoint: ep, Scope: scope, Limit: limit, Period: period}
}

func TestMemoryPrunes(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(t0)
	m := NewMemory(clk)
	windows := []Window{win(ScopeUser, 10, 15*time.Minute), win(ScopeApp, 1000, 24*time.Hour)}
	for i := range 100 {
		subj := Subject{Account: "acct" + itoa(i), App: "app" + itoa(i%3)}
		for range 5 {
			if _, err := m.Reserve(ctx, subj, ep, windows); err != nil {
				t.Fatal(err)
			}
		}
		_ = m.Observe(ctx, subj, ep, Observation{Limit: new(10), Remaining: new(5), Reset: t0.Add(10 * time.Minute)})
		_ = m.Exhausted(ctx, subj, ep, ScopeUser, t0.Add(20*time.Minute))
	}
	if logs, reqs, reports, blocks := m.size(); logs != 103 || reqs != 1000 || reports != 100 || blocks != 100 {
		t.Fatalf("size = %d logs, %d requests, %d reports, %d blocks; want 103, 1000, 100, 100", logs, reqs, reports, blocks)
	}

	// After 20 minutes the user windows, reports and blocks are over; the
	// app windows still count every request for a day.
	clk.Set(t0.Add(20 * time.Minute))
	_, _ = m.Remaining(ctx, alice, ep, nil)
	if logs, reqs, reports, blocks := m.size(); logs != 3 || reqs != 500 || reports != 0 || blocks != 0 {
		t.Fatalf("after 20m: %d logs, %d requests, %d reports, %d blocks; want 3, 500, 0, 0", logs, reqs, reports, blocks)
	}
	clk.Set(t0.Add(24 * time.Hour))
	_, _ = m.Reserve(ctx, alice, ep, windows)
	if logs, reqs, _, _ := m.size(); logs != 2 || reqs != 2 {
		t.Fatalf("after a day: %d logs, %d requests; want only alice's 2", logs, reqs)
	}
}

// TestSlidingLogCompacts checks that a long-lived window does not keep every
// request it ever counted.
func TestSlidingLogCompacts(t *testing.T) {
	var l slidingLog
	now := t0
	for range 100_000 {
		l.trim(now, time.Minute)
		l.add(now)
		now = now.Add(time.Second)
	}
	if n := l.len(); n != 60 {
		t.Errorf("len = %d; want 60", n)
	}
	if len(l.at) > 200 {
		t.Errorf("backing slice holds %d entries for 60 counted", len(l.at))
	}
	l.trim(now.Add(30*time.Second), time.Minute)
	l.shrink()
	if cap(l.at) > 4*l.len()+64 {
		t.Errorf("cap %d after shrink for %d entries", cap(l.at), l.len())
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
