package actors

import (
	"log/slog"
	"sync"
	"time"

	"github.com/herald-social/herald/store"
)

// pool is the publisher pool: Options.Publishers workers taking claimed
// jobs from one queue, in the order claimed, so that no job waits behind a
// slow publish while another worker idles.
//
// It also decides how much this node may claim. A job is claimed only when
// a worker will be free to start it soon: at most Publishers jobs plus
// what the workers can start within claimHorizon at the pace they have
// kept (an average of recent publish durations). With a slow platform (12 s
// a post) that is one job per free worker; with a fast one (a dry run) a
// whole burst in the write that records it. Before the first publish the
// pace is unknown, and a burst is claimed whole: what of it then waits more
// than maxQueueWait is given back instead of started. Claimed jobs' leases
// are renewed while they wait (see leases), and a job queued on a node
// that stops is given back at once, not left for its lease to run out.
type pool struct {
	rt   *Runtime
	jobs chan queued

	mu sync.Mutex
	// outstanding counts the jobs claimed (or reserved for a claim) and not
	// finished: queued, or being published.
	outstanding int
	// avg is an exponentially weighted average of publish durations; zero
	// until the first publish ends.
	avg time.Duration
	// freed is signalled when a job finishes (capacity was returned).
	freed chan struct{}
	// closed is set by stop: a job pushed after it stays claimed until
	// the runtime releases this node's leases.
	closed bool

	wg sync.WaitGroup
}

// claimHorizon is how far ahead, at the pool's pace, a node claims: jobs
// it can start within it. Short, so that a job is claimed when a worker is
// about to be free, not when it fires; queueBatches bounds the queue in
// store batches whatever the pace.
const (
	claimHorizon = time.Second
	queueBatches = 8
)

// maxQueueWait is how long a claimed job may wait in the queue before a
// worker gives it back instead of starting it (to retrying, at once, no
// attempt used), so that any node with a free publisher takes it: the
// queue outgrew the pace (the first burst after a start, or a platform
// that just became slow).
const maxQueueWait = 10 * time.Second

func newPool(rt *Runtime) *pool {
	return &pool{rt: rt, jobs: make(chan queued, rt.opts.Publishers+queueBatches*rt.opts.BatchSize), freed: make(chan struct{}, 1)}
}

// queued is a claimed job and when it was queued.
type queued struct {
	job store.Job
	at  time.Time
}

// start runs the workers until the queue is closed: each publishes a job
// with publish, or gives it back with giveBack when it waited longer than
// maxQueueWait.
func (p *pool) start(publish func(store.Job) time.Duration, giveBack func(store.Job, time.Duration)) {
	for range p.rt.opts.Publishers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for q := range p.jobs {
				if waited := p.rt.opts.Clock.Now().Sub(q.at); waited > maxQueueWait {
					giveBack(q.job, waited)
					p.release(1)
					continue
				}
				p.done(publish(q.job))
			}
		}()
	}
}

// target is how many jobs this node may have claimed and unfinished.
func (p *pool) target() int {
	most := p.rt.opts.Publishers + queueBatches*p.rt.opts.BatchSize
	if p.avg == 0 {
		// No pace yet (the node just started): claim the burst whole
		// rather than pay a second write for it; what of it waits too
		// long in the queue is given back (see maxQueueWait).
		return most
	}
	n := p.rt.opts.Publishers + int(int64(claimHorizon)*int64(p.rt.opts.Publishers)/int64(p.avg))
	return min(n, most)
}

// reserve takes up to n slots for jobs about to be claimed and returns how
// many it took; the caller pushes one job per slot it used and releases the
// others.
func (p *pool) reserve(n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := max(0, min(n, p.target()-p.outstanding))
	p.outstanding += k
	return k
}

// release returns n reserved slots that no claim used.
func (p *pool) release(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	p.outstanding -= n
	p.mu.Unlock()
	p.signal()
}

// push queues a claimed job into a slot reserved for it. It never blocks:
// the queue holds every slot there can be.
func (p *pool) push(job store.Job) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	select {
	case p.jobs <- queued{job: job, at: p.rt.opts.Clock.Now()}:
	default:
		// Cannot happen while slots bound the queue; never block a
		// claimer on it.
		p.rt.logger.Error("publisher queue full; the job waits for its lease to run out", slog.Int64("job_id", job.ID))
	}
}

// done ends one job's slot and counts how long the platform took for it
// into the pace (the store's writes are not the platform's pace; zero: the
// job did not reach the platform).
func (p *pool) done(took time.Duration) {
	p.mu.Lock()
	p.outstanding--
	switch {
	case took <= 0:
	case p.avg == 0:
		p.avg = max(took, time.Microsecond)
	default:
		p.avg = max((p.avg*7+took)/8, time.Microsecond)
	}
	p.mu.Unlock()
	p.signal()
}

func (p *pool) signal() {
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

// stop closes the queue and waits for the workers: those still queued are
// handed to publish, which gives them back as the runtime is stopping.
func (p *pool) stop() {
	p.mu.Lock()
	p.closed = true
	close(p.jobs)
	p.mu.Unlock()
	p.wg.Wait()
}
