package actors

import (
	"sync"
)

// mailboxPool runs the schedule actors' mailboxes on a few long-lived
// goroutines instead of protoactor's default, which starts a goroutine for
// every turn of every mailbox. Why: a schedule actor's turn is a few
// microseconds (arm a timer, hand a fire to the recorder), and at a million
// actors the default's goroutine creation, first stack growth and exit were
// a large share of the start-up's CPU (a profile of the 1M start-up: newproc
// 2.8 s and stack growth 1.6 s of 26 CPU-seconds in Apply). The same holds
// for every burst of fires.
//
// Schedule never blocks: when the queue is full (a burst larger than it, or
// workers held up by a full recorder queue) the turn runs on a goroutine of
// its own, as protoactor's default would. Turns are independent mailboxes,
// so their order does not matter; a mailbox is scheduled at most once at a
// time by protoactor.
type mailboxPool struct {
	turns      chan func()
	throughput int
	done       chan struct{}
	wg         sync.WaitGroup

	mu      sync.RWMutex // Schedule holds it shared; stop exclusively, to set stopped
	stopped bool         // turns now run on goroutines of their own
}

// newMailboxPool starts workers goroutines; queue bounds the turns waiting
// for one, throughput is the messages a mailbox handles before it yields.
func newMailboxPool(workers, queue, throughput int) *mailboxPool {
	p := &mailboxPool{turns: make(chan func(), queue), throughput: throughput, done: make(chan struct{})}
	p.wg.Add(workers)
	for range workers {
		go p.work()
	}
	return p
}

func (p *mailboxPool) work() {
	defer p.wg.Done()
	for {
		select {
		case fn := <-p.turns:
			fn()
		case <-p.done:
			// Run what is still queued: a mailbox scheduled and never run
			// would stay "running" and take no message again.
			for {
				select {
				case fn := <-p.turns:
					fn()
				default:
					return
				}
			}
		}
	}
}

// Schedule implements actor.Dispatcher.
func (p *mailboxPool) Schedule(fn func()) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if !p.stopped {
		select {
		case p.turns <- fn:
			return
		default:
		}
	}
	go fn()
}

// Throughput implements actor.Dispatcher.
func (p *mailboxPool) Throughput() int { return p.throughput }

// stop ends the workers once they have run every queued turn; turns
// scheduled later run on goroutines of their own, so none is lost. The
// runtime stops the pool after the actors on it have stopped. Safe to call
// twice.
func (p *mailboxPool) stop() {
	p.mu.Lock()
	already := p.stopped
	p.stopped = true
	p.mu.Unlock()
	if !already {
		close(p.done)
	}
	p.wg.Wait()
}
