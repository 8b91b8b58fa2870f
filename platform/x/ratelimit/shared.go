package ratelimit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
)

// Defaults of SharedOptions. The timeout is short because every request
// to X waits for the limiter: Redis answers in a millisecond, and one that
// does not answer within a quarter second is treated as down (this node's
// share then decides, which is safe); it is asked again after the retry
// interval, so a Redis that is down costs one timeout per interval.
const (
	DefaultSharedTimeout = 250 * time.Millisecond
	DefaultSharedRetry   = 2 * time.Second
	// maxPending bounds the requests a degraded node remembers to count
	// in Redis once it is back; beyond it the oldest are forgotten.
	maxPending = 10_000
	// zeroShareWait is the RetryAt of a request a window refuses because
	// its share is zero (a limit smaller than the live nodes): long enough
	// not to churn deferrals, short enough to resume soon after Redis.
	zeroShareWait = 30 * time.Second
)

// SharedOptions configure a Shared limiter.
type SharedOptions struct {
	Redis *Redis      // required
	Clock clock.Clock // default clock.Real()
	// Share returns the number of live nodes, each of which falls back to
	// its part of every window while Redis is away (nil: 1; less than 1
	// counts as 1).
	Share  func() int
	Logger *slog.Logger // default: discard
	// Timeout bounds one call to Redis (default DefaultSharedTimeout), on
	// top of the client's own timeouts.
	Timeout time.Duration
	// Retry is how long after a failure Redis is left alone, every call
	// answered by the fallback, before one call tries it again (default
	// DefaultSharedRetry).
	Retry time.Duration
}

// Shared is the limiter of a node of a cluster: Redis while it answers,
// and, when a call to it fails, a local Memory in which each window holds
// only this node's share: floor(Limit / live nodes). The shares add up to
// at most the limit, so the cluster stays within X's limits while Redis is
// away. A window whose share is zero (a limit of 1 with 3 nodes) lets no
// node send until Redis is back: that is the price of never exceeding it.
//
// The local Memory always learns what this node does and hears: the
// requests it takes through Redis, X's headers (remaining counts divided
// by the live nodes, as the other nodes spend the rest) and 429s. So a
// fallback starts from what this node knows, not from empty windows.
// Requests allowed by the fallback are written to Redis when it answers
// again, so that the shared windows hold them.
//
// After a failure, calls go straight to the fallback for Options.Retry;
// then one call tries Redis again (a paused Redis costs one call per Retry
// its timeout, not every call). Falling back and returning are logged
// once each; Degraded reports the state for a gauge.
type Shared struct {
	opts  SharedOptions
	local *Memory

	// heard holds X's headers not yet recorded in Redis (see Observe).
	heardMu sync.Mutex
	heard   []observed

	mu       sync.Mutex
	degraded bool
	since    time.Time // when degraded began
	retryAt  time.Time // when degraded, the next instant Redis is tried
	pending  []pendingTake
}

// pendingTake is a request the fallback allowed, to be counted in Redis.
type pendingTake struct {
	subj     Subject
	endpoint string
	windows  []Window
	at       time.Time
}

var _ Limiter = (*Shared)(nil)

// NewShared returns a Shared limiter over o.Redis.
func NewShared(o SharedOptions) *Shared {
	if o.Clock == nil {
		o.Clock = clock.Real()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultSharedTimeout
	}
	if o.Retry <= 0 {
		o.Retry = DefaultSharedRetry
	}
	return &Shared{opts: o, local: NewMemory(o.Clock)}
}

// Degraded reports whether the node is answering from its fallback.
func (s *Shared) Degraded() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.degraded
}

func (s *Shared) share() int {
	if s.opts.Share == nil {
		return 1
	}
	return max(s.opts.Share(), 1)
}

// useRedis says whether this call goes to Redis, and whether requests the
// fallback allowed are waiting to be written there first.
func (s *Shared) useRedis() (use, replay bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.degraded {
		now := s.opts.Clock.Now()
		if now.Before(s.retryAt) {
			return false, false
		}
		s.retryAt = now.Add(s.opts.Retry) // this call probes; the others wait
	}
	return true, len(s.pending) > 0
}

// redis runs f against Redis when it is in use, after writing there what
// the fallback allowed. It reports whether f's answer (err included)
// stands; false means Redis failed and the fallback answers.
func (s *Shared) redis(ctx context.Context, f func(context.Context) error) (bool, error) {
	use, replay := s.useRedis()
	if !use {
		return false, nil
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	var err error
	if replay {
		err = s.replay(rctx)
	}
	if err == nil {
		err = f(rctx)
	}
	switch {
	case err == nil:
		s.recovered()
		return true, nil
	case errors.Is(err, ErrInvalid) || ctx.Err() != nil:
		return true, err // the caller's mistake or cancellation, not Redis's
	}
	s.failed(err)
	return false, nil
}

func (s *Shared) failed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Clock.Now()
	s.retryAt = now.Add(s.opts.Retry)
	if s.degraded {
		return
	}
	s.degraded, s.since = true, now
	s.opts.Logger.Warn("rate limits: redis failed, each node keeps to its share of every window until it answers",
		slog.Int("nodes", s.share()), slog.String("error", err.Error()))
}

func (s *Shared) recovered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.degraded {
		return
	}
	s.degraded = false
	s.opts.Logger.Info("rate limits: redis answers again, the cluster shares its windows",
		slog.Duration("degraded_for", s.opts.Clock.Now().Sub(s.since)))
}

// replay writes to Redis the requests the fallback allowed; those not
// written stay pending.
func (s *Shared) replay(ctx context.Context) error {
	s.mu.Lock()
	todo := s.pending
	s.pending = nil
	s.mu.Unlock()
	for i, p := range todo {
		if err := s.opts.Redis.record(ctx, p.subj, p.endpoint, p.windows, p.at); err != nil {
			s.mu.Lock()
			s.pending = append(todo[i:], s.pending...)
			s.mu.Unlock()
			return err
		}
	}
	return nil
}

// Reserve implements Limiter.
func (s *Shared) Reserve(ctx context.Context, subj Subject, endpoint string, windows []Window) (Reservation, error) {
	var r Reservation
	ok, err := s.redis(ctx, func(ctx context.Context) (err error) {
		r, err = s.opts.Redis.reserveAfter(ctx, s.takeHeard(), subj, endpoint, windows)
		return err
	})
	if ok {
		if err == nil && r.OK {
			s.local.take(subj, endpoint, windows)
		}
		return r, err
	}
	return s.reserveLocal(ctx, subj, endpoint, windows)
}

// observeDelay bounds how long X's headers heard by a node wait before
// they are recorded in Redis, when no request of the node's carries them
// sooner (see Observe).
const observeDelay = 20 * time.Millisecond

// maxHeard bounds the headers a node keeps to record; beyond it the
// oldest are forgotten (X repeats its count in every answer).
const maxHeard = 10_000

// Observe implements Limiter. The local Memory hears X too, each remaining
// count divided by the live nodes. Redis hears it with this node's next
// call to Redis, in the same round trip, or within observeDelay: why not
// at once, each answer of X would cost a round trip on the path of a
// publish, a third of a publish's time when Redis shares the machine's
// cores. X's count only corrects ours (it is believed where it is lower),
// so a few milliseconds of delay cost nothing that X itself does not
// repeat in its next answer.
func (s *Shared) Observe(ctx context.Context, subj Subject, endpoint string, obs Observation) error {
	if err := s.local.Observe(ctx, subj, endpoint, divideObservation(obs, s.share())); err != nil {
		return err
	}
	if !s.opts.Redis.canPipeline() {
		_, err := s.redis(ctx, func(ctx context.Context) error { return s.opts.Redis.Observe(ctx, subj, endpoint, obs) })
		return err
	}
	s.heardMu.Lock()
	if len(s.heard) >= maxHeard {
		s.heard = s.heard[1:]
	}
	s.heard = append(s.heard, observed{subj, endpoint, obs, s.opts.Clock.Now()})
	first := len(s.heard) == 1
	s.heardMu.Unlock()
	if first {
		s.opts.Clock.AfterFunc(observeDelay, func() {
			ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
			defer cancel()
			s.flushHeard(ctx)
		})
	}
	return nil
}

// takeHeard returns the headers waiting for Redis, and forgets them: the
// caller sends them (if that fails, the local Memory still has them).
func (s *Shared) takeHeard() []observed {
	s.heardMu.Lock()
	defer s.heardMu.Unlock()
	h := s.heard
	s.heard = nil
	return h
}

// flushHeard records in Redis the headers waiting for it.
func (s *Shared) flushHeard(ctx context.Context) {
	if h := s.takeHeard(); len(h) > 0 {
		_, _ = s.redis(ctx, func(ctx context.Context) error {
			_, err := s.opts.Redis.observeThen(ctx, h, nil)
			return err
		})
	}
}

// Exhausted implements Limiter: the block holds locally and in Redis.
func (s *Shared) Exhausted(ctx context.Context, subj Subject, endpoint string, scope Scope, until time.Time) error {
	if err := s.local.Exhausted(ctx, subj, endpoint, scope, until); err != nil {
		return err
	}
	_, err := s.redis(ctx, func(ctx context.Context) error {
		return s.opts.Redis.Exhausted(ctx, subj, endpoint, scope, until)
	})
	return err
}

// ActiveFilter returns a test of whether this node has used an endpoint of
// a subject (sent a request, or heard X's headers or a 429) within its
// windows, taken once for a whole pass over the accounts. Why: Remaining
// costs a round trip to Redis, and a metrics scrape that read every
// account's every endpoint would cost thousands of them; each node reports
// what it used, and the cluster's view is the minimum over the nodes.
func (s *Shared) ActiveFilter() func(subj Subject, endpoint string) bool {
	act := s.local.active()
	return func(subj Subject, endpoint string) bool {
		return act[activeKey{ScopeUser, subj.Account, endpoint}] || subj.App != "" && act[activeKey{ScopeApp, subj.App, endpoint}]
	}
}

// Remaining implements Limiter: the cluster's budgets, or this node's
// share of them while degraded.
func (s *Shared) Remaining(ctx context.Context, subj Subject, endpoint string, windows []Window) ([]WindowState, error) {
	var st []WindowState
	ok, err := s.redis(ctx, func(ctx context.Context) (err error) {
		if h := s.takeHeard(); len(h) > 0 {
			if _, err := s.opts.Redis.observeThen(ctx, h, nil); err != nil {
				return err
			}
		}
		st, err = s.opts.Redis.Remaining(ctx, subj, endpoint, windows)
		return err
	})
	if ok {
		return st, err
	}
	return s.remainingLocal(ctx, subj, endpoint, windows)
}
