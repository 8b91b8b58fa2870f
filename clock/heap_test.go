package clock

import (
	"sync"
	"testing"
	"time"
)

func TestHeapSharesOneUnderlyingTimer(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	h := NewHeap(f)
	var mu sync.Mutex
	var fired []int
	done := make(chan struct{}, 10)
	arm := func(d time.Duration, n int) Timer {
		return h.AfterFunc(d, func() {
			mu.Lock()
			fired = append(fired, n)
			mu.Unlock()
			done <- struct{}{}
		})
	}
	arm(3*time.Second, 3)
	arm(1*time.Second, 1)
	stopped := arm(2*time.Second, 99)
	arm(2*time.Second, 2)
	if f.Pending() != 1 {
		t.Fatalf("underlying timers = %d, want 1", f.Pending())
	}
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop should report true once, then false")
	}
	if d, _ := f.NextDeadline(); !d.Equal(start.Add(time.Second)) {
		t.Fatalf("underlying timer armed for %v, want the earliest entry", d)
	}
	f.Advance(2 * time.Second)
	for range 2 {
		<-done
	}
	waitFor(t, func() bool { d, ok := f.NextDeadline(); return ok && d.Equal(start.Add(3*time.Second)) })
	f.Advance(time.Second)
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(fired) != 3 || fired[0] != 1 || fired[1] != 2 || fired[2] != 3 {
		t.Fatalf("fired %v, want [1 2 3] in deadline order", fired)
	}
	waitFor(t, func() bool { return h.Len() == 0 && f.Pending() == 0 })
}

func TestHeapRealClock(t *testing.T) {
	h := NewHeap(Real())
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		h.AfterFunc(time.Duration(i%10)*time.Millisecond, wg.Done)
	}
	wg.Wait()
	if h.Len() != 0 {
		t.Fatalf("%d entries left", h.Len())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestHeapOnBurstCountsTimersDueTogether(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	h := NewHeap(f)
	bursts := make(chan int, 10)
	ran := make(chan int, 10)
	h.OnBurst(func(n int) { bursts <- n })
	for i, d := range []time.Duration{time.Second, time.Second, time.Second, 2 * time.Second} {
		h.AfterFunc(d, func() { ran <- i })
	}
	f.Advance(time.Second)
	if n := <-bursts; n != 3 {
		t.Fatalf("first burst of %d timers, want 3", n)
	}
	for range 3 {
		if i := <-ran; i == 3 {
			t.Fatal("the timer due later ran with the first burst")
		}
	}
	waitFor(t, func() bool { return f.Pending() == 1 })
	f.Advance(time.Second)
	if n := <-bursts; n != 1 {
		t.Fatalf("second burst of %d timers, want 1", n)
	}
	if i := <-ran; i != 3 {
		t.Fatalf("timer %d ran, want 3", i)
	}
}

func TestHeapAfterFuncAtKeepsTheExactDeadline(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := NewFake(start)
	h := NewHeap(f)
	bursts := make(chan int, 10)
	h.OnBurst(func(n int) { bursts <- n })
	at := start.Add(time.Second)
	h.AfterFuncAt(at, func() {})
	f.Advance(time.Millisecond) // a later arming for the same instant
	h.AfterFuncAt(at, func() {})
	if d, _ := f.NextDeadline(); !d.Equal(at) {
		t.Fatalf("underlying timer armed for %v, want %v", d, at)
	}
	f.Set(at)
	if n := <-bursts; n != 2 {
		t.Fatalf("burst of %d timers, want both", n)
	}
}
