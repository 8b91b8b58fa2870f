package ratelimit

import "context"

// The fallback of Shared: its local Memory, every window divided among the
// live nodes.

// shareOf returns the windows of endpoint that apply to subj (validated),
// each with its share of n nodes beside it: Limit/n, rounded down, which
// may be zero.
func shareOf(subj Subject, endpoint string, windows []Window, n int) (orig, div []Window, err error) {
	for _, w := range windows {
		if w.Endpoint != endpoint {
			continue
		}
		if err := checkWindow(w); err != nil {
			return nil, nil, err
		}
		if subjectID(subj, w.Scope) == "" {
			continue
		}
		d := w
		d.Limit = w.Limit / n
		orig, div = append(orig, w), append(div, d)
	}
	return orig, div, nil
}

// original maps a window of div back to the one of orig it was divided
// from (a block's window, in neither, is kept).
func original(w Window, orig, div []Window) Window {
	for i, d := range div {
		if d == w {
			return orig[i]
		}
	}
	return w
}

func (s *Shared) reserveLocal(ctx context.Context, subj Subject, endpoint string, windows []Window) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return Reservation{}, err
	}
	orig, div, err := shareOf(subj, endpoint, windows, s.share())
	if err != nil {
		return Reservation{}, err
	}
	for i, d := range div {
		if d.Limit == 0 {
			// This node's share is nothing: only Redis can allow it.
			return Reservation{RetryAt: s.opts.Clock.Now().Add(zeroShareWait), Window: orig[i]}, nil
		}
	}
	r, err := s.local.Reserve(ctx, subj, endpoint, div)
	if err != nil {
		return r, err
	}
	if !r.OK {
		r.Window = original(r.Window, orig, div)
		return r, nil
	}
	s.mu.Lock()
	if len(s.pending) >= maxPending {
		s.pending = s.pending[1:]
	}
	s.pending = append(s.pending, pendingTake{subj: subj, endpoint: endpoint, windows: orig, at: s.opts.Clock.Now()})
	s.mu.Unlock()
	return r, nil
}

func (s *Shared) remainingLocal(ctx context.Context, subj Subject, endpoint string, windows []Window) ([]WindowState, error) {
	if err := checkArgs(subj, endpoint); err != nil {
		return nil, err
	}
	orig, div, err := shareOf(subj, endpoint, windows, s.share())
	if err != nil {
		return nil, err
	}
	var some []Window
	for _, d := range div {
		if d.Limit > 0 {
			some = append(some, d)
		}
	}
	st, err := s.local.Remaining(ctx, subj, endpoint, some)
	if err != nil {
		return nil, err
	}
	out := make([]WindowState, len(div))
	for i, d := range div {
		if d.Limit == 0 {
			out[i] = WindowState{Window: orig[i]}
			continue
		}
		out[i], st = st[0], st[1:]
		out[i].Window = orig[i]
	}
	return out, nil
}

// divideObservation returns obs with each remaining count divided by n,
// rounded down: this node's part of what X says is left.
func divideObservation(obs Observation, n int) Observation {
	div := func(p *int) *int {
		if p == nil {
			return nil
		}
		v := *p / n
		return &v
	}
	obs.Remaining = div(obs.Remaining)
	for _, h := range []**Header{&obs.User24h, &obs.App24h} {
		if *h != nil {
			c := **h
			c.Remaining = div(c.Remaining)
			*h = &c
		}
	}
	return obs
}
