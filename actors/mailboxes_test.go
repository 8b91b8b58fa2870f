package actors

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestMailboxPoolRunsEveryTurn(t *testing.T) {
	p := newMailboxPool(2, 64, 10)
	defer p.stop()
	var wg sync.WaitGroup
	var ran atomic.Int64
	wg.Add(50)
	for range 50 {
		p.Schedule(func() { ran.Add(1); wg.Done() })
	}
	wg.Wait()
	if got := ran.Load(); got != 50 {
		t.Fatalf("%d turns ran, want 50", got)
	}
}

// A full queue must not block the sender (a timer, a supervisor): the turns
// past it run on goroutines of their own while the worker is held.
func TestMailboxPoolFullQueueFallsBack(t *testing.T) {
	p := newMailboxPool(1, 2, 10)
	release := make(chan struct{})
	started := make(chan struct{})
	p.Schedule(func() { close(started); <-release })
	<-started // the worker is held; the queue is empty
	done := make(chan struct{}, 50)
	for range 50 {
		p.Schedule(func() { done <- struct{}{} })
	}
	for range 48 { // all but the 2 queued ran without the worker
		<-done
	}
	close(release)
	<-done
	<-done
	p.stop()
}

func TestMailboxPoolStop(t *testing.T) {
	p := newMailboxPool(1, 16, 10)
	hold := make(chan struct{})
	var ran atomic.Int64
	p.Schedule(func() { <-hold; ran.Add(1) })
	for range 5 {
		p.Schedule(func() { ran.Add(1) })
	}
	stopped := make(chan struct{})
	go func() { p.stop(); close(stopped) }()
	close(hold)
	<-stopped
	if got := ran.Load(); got != 6 {
		t.Fatalf("after stop %d of 6 queued turns ran", got)
	}
	// After stop a turn still runs, on a goroutine of its own.
	done := make(chan struct{})
	p.Schedule(func() { close(done) })
	<-done
	p.stop() // twice is safe
	if p.Throughput() != 10 {
		t.Errorf("Throughput = %d", p.Throughput())
	}
}

func TestShardOfSpreadsAndIsStable(t *testing.T) {
	const n = 4
	counts := make([]int, n)
	for i := range 4000 {
		id := "schedule-" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
		k := shardOf(id, n)
		if k != shardOf(id, n) || k < 0 || k >= n {
			t.Fatalf("shardOf(%q) = %d, unstable or out of range", id, k)
		}
		counts[k]++
	}
	for k, c := range counts {
		if c < 700 || c > 1300 {
			t.Errorf("shard %d holds %d of 4000 ids: %v", k, c, counts)
		}
	}
	if shardOf("x", 1) != 0 {
		t.Error("one shard must be shard 0")
	}
}
