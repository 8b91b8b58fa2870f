package actors

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
)

// lingerHarness is a batcher of ints whose linger reports pending requests
// and tells the test each time it is asked.
type lingerHarness struct {
	b       *batcher[int, int]
	clk     *clock.Fake
	pending atomic.Int64
	asked   chan struct{}
	settled chan struct{}
	batches chan []int
}

func newLingerHarness(t *testing.T, pending int64) *lingerHarness {
	t.Helper()
	h := &lingerHarness{clk: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)),
		asked: make(chan struct{}, 100), settled: make(chan struct{}, 1), batches: make(chan []int, 10)}
	h.pending.Store(pending)
	h.b = newBatcher(10, func(_ context.Context, reqs []int) ([]int, error) {
		h.batches <- slices.Clone(reqs)
		return reqs, nil
	})
	h.b.linger = &linger{
		more: func() bool {
			select {
			case h.asked <- struct{}{}:
			default:
			}
			return h.pending.Load() > 0
		},
		settled: h.settled, clock: h.clk, max: time.Second,
	}
	h.b.start(context.Background())
	t.Cleanup(h.b.stop)
	return h
}

func TestBatcherLingersForPendingRequests(t *testing.T) {
	h := newLingerHarness(t, 1)
	h.b.submit(1, nil)
	<-h.asked // the batch of 1 waits for the pending request
	h.b.submit(2, nil)
	h.pending.Store(0)
	h.settled <- struct{}{}
	if got := <-h.batches; !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("first batch %v, want [1 2]: it left before the pending request", got)
	}
}

func TestBatcherLingersAtMostMax(t *testing.T) {
	h := newLingerHarness(t, 1) // never settles
	armed := h.clk.Armed()
	h.b.submit(1, nil)
	<-armed
	h.clk.Advance(time.Second)
	if got := <-h.batches; !slices.Equal(got, []int{1}) {
		t.Fatalf("batch %v, want [1]", got)
	}
}

func TestBatcherWithoutPendingLeavesAtOnce(t *testing.T) {
	h := newLingerHarness(t, 0)
	h.b.submit(1, nil)
	if got := <-h.batches; !slices.Equal(got, []int{1}) {
		t.Fatalf("batch %v, want [1]", got)
	}
	if h.clk.Pending() != 0 {
		t.Fatalf("%d timers armed, want none: nothing was pending", h.clk.Pending())
	}
}
