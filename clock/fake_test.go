package clock

import (
	"sync"
	"testing"
	"time"
)

func TestFakeFiresInDeadlineOrder(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var fired []time.Duration
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second, 10 * time.Second} {
		wg.Add(1)
		d := d
		f.AfterFunc(d, func() {
			defer wg.Done()
			mu.Lock()
			fired = append(fired, d)
			mu.Unlock()
		})
	}
	stopped := f.AfterFunc(time.Second, func() { t.Error("a stopped timer fired") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	if got := f.Pending(); got != 4 {
		t.Fatalf("Pending = %d, want 4", got)
	}
	f.Advance(3 * time.Second)
	if got := f.Pending(); got != 1 {
		t.Fatalf("after 3s Pending = %d, want 1", got)
	}
	if !f.Now().Equal(start.Add(3 * time.Second)) {
		t.Fatalf("Now = %v", f.Now())
	}
	if d, ok := f.NextDeadline(); !ok || !d.Equal(start.Add(10*time.Second)) {
		t.Fatalf("NextDeadline = %v %v", d, ok)
	}
	f.Set(start.Add(time.Minute))
	wg.Wait()
	if len(fired) != 4 {
		t.Fatalf("fired %v", fired)
	}
}

func TestFakeArmedSignals(t *testing.T) {
	f := NewFake(time.Unix(0, 0))
	ch := f.Armed()
	select {
	case <-ch:
		t.Fatal("armed before any timer")
	default:
	}
	f.AfterFunc(time.Second, func() {})
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Armed channel not closed after AfterFunc")
	}
}

func TestFakeNeverGoesBack(t *testing.T) {
	start := time.Unix(100, 0)
	f := NewFake(start)
	f.Set(start.Add(-time.Hour))
	if !f.Now().Equal(start) {
		t.Fatalf("Now = %v, want %v", f.Now(), start)
	}
}
