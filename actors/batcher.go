package actors

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
)

// batcher groups requests arriving from many goroutines into one call of
// run, so that a burst of fires or transitions costs a few statements
// instead of one each. It adds no delay: a batch is whatever queued while
// the previous one ran (up to max), so a lone request goes out at once and
// a herd is grouped naturally.
type batcher[Req, Res any] struct {
	in   chan batchItem[Req, Res]
	max  int
	run  func(ctx context.Context, reqs []Req) ([]Res, error)
	done chan struct{}

	mu     sync.RWMutex // submit holds it shared; stop exclusively, to close in
	closed bool

	// linger, when set, holds a batch back while more requests are known
	// to be on their way (up to max and linger.max).
	linger *linger
}

// linger tells a batcher that requests are on their way: more reports
// whether any are, settled is signalled when more may have turned false
// without a request arriving, and max bounds the wait on clock.
type linger struct {
	more    func() bool
	settled <-chan struct{}
	clock   clock.Clock
	max     time.Duration
}

type batchItem[Req, Res any] struct {
	req   Req
	reply func(Res, error)
}

func newBatcher[Req, Res any](max int, run func(context.Context, []Req) ([]Res, error)) *batcher[Req, Res] {
	return &batcher[Req, Res]{in: make(chan batchItem[Req, Res], max*4), max: max, run: run, done: make(chan struct{})}
}

// start runs the batching loop until stop; ctx is passed to run.
func (b *batcher[Req, Res]) start(ctx context.Context) {
	go func() {
		defer close(b.done)
		items := make([]batchItem[Req, Res], 0, b.max)
		reqs := make([]Req, 0, b.max)
		for first := range b.in {
			items = b.wait(b.drain(append(items[:0], first)))
			reqs = reqs[:0]
			for _, it := range items {
				reqs = append(reqs, it.req)
			}
			res, err := b.run(ctx, reqs)
			for i, it := range items {
				var r Res
				if err == nil && i < len(res) {
					r = res[i]
				}
				if it.reply != nil {
					it.reply(r, err)
				}
			}
		}
	}()
}

// wait adds to items what arrives while the linger says more is on its
// way, until the batch is full or linger.max has passed.
func (b *batcher[Req, Res]) wait(items []batchItem[Req, Res]) []batchItem[Req, Res] {
	l := b.linger
	if l == nil || len(items) >= b.max || !l.more() {
		return items
	}
	timeout := make(chan struct{})
	t := l.clock.AfterFunc(l.max, func() { close(timeout) })
	defer t.Stop()
	for len(items) < b.max && l.more() {
		select {
		case it, ok := <-b.in:
			if !ok {
				return items
			}
			items = append(items, it)
		case <-l.settled:
		case <-timeout:
			return b.drain(items)
		}
	}
	// What was settled had been queued first: take it too.
	return b.drain(items)
}

// drain adds to items what is queued, without waiting, up to max.
func (b *batcher[Req, Res]) drain(items []batchItem[Req, Res]) []batchItem[Req, Res] {
	for len(items) < b.max {
		select {
		case it, ok := <-b.in:
			if !ok {
				return items
			}
			items = append(items, it)
		default:
			return items
		}
	}
	return items
}

// errBatcherStopped answers requests submitted after stop.
var errBatcherStopped = errors.New("actors: shutting down")

// submit queues req; reply (which may be nil) is called from the batching
// goroutine with the request's result and must not block. It reports false,
// without calling reply, once stop has begun.
func (b *batcher[Req, Res]) submit(req Req, reply func(Res, error)) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return false
	}
	b.in <- batchItem[Req, Res]{req: req, reply: reply}
	return true
}

// do submits req and waits for its result.
func (b *batcher[Req, Res]) do(ctx context.Context, req Req) (Res, error) {
	type result struct {
		res Res
		err error
	}
	ch := make(chan result, 1)
	if !b.submit(req, func(r Res, err error) { ch <- result{r, err} }) {
		var zero Res
		return zero, errBatcherStopped
	}
	select {
	case r := <-ch:
		return r.res, r.err
	case <-ctx.Done():
		var zero Res
		return zero, ctx.Err()
	}
}

// stop closes the queue and waits until every queued request has run;
// later submits are refused. Safe to call twice.
func (b *batcher[Req, Res]) stop() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.in)
	}
	b.mu.Unlock()
	<-b.done
}
