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
// whole burst in one claim. Claimed jobs' leases are renewed while they
// wait (see leases), and a job queued on a node that stops is given back
// at once, not left for its lease to run out.
type pool struct {
	rt   *Runtime
	jobs chan store.Job

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
// about to be free, not when it fires.
const claimHorizon = 500 * time.Millisecond

func newPool(rt *Runtime) *pool {
	return &pool{rt: rt, jobs: make(chan store.Job, rt.opts.Publishers+rt.opts.BatchSize), freed: make(chan struct{}, 1)}
}

// start runs the workers; each publishes with publish until the queue is
// closed.
func (p *pool) start(publish func(store.Job)) {
	for range p.rt.opts.Publishers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for job := range p.jobs {
				began := p.rt.opts.Clock.Now()
				publish(job)
				p.done(p.rt.opts.Clock.Now().Sub(began))
			}
		}()
	}
}

// target is how many jobs this node may have claimed and unfinished.
func (p *pool) target() int {
	n := p.rt.opts.Publishers
	if p.avg > 0 {
		n += int(int64(claimHorizon) * int64(p.rt.opts.Publishers) / int64(p.avg))
	}
	return min(n, p.rt.opts.Publishers+p.rt.opts.BatchSize)
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
	case p.jobs <- job:
	default:
		// Cannot happen while slots bound the queue; never block a
		// claimer on it.
		p.rt.logger.Error("publisher queue full; the job waits for its lease to run out", slog.Int64("job_id", job.ID))
	}
}

// done ends one job's slot and counts its duration into the pace.
func (p *pool) done(took time.Duration) {
	p.mu.Lock()
	p.outstanding--
	if p.avg == 0 {
		p.avg = max(took, time.Microsecond)
	} else {
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
