package ratelimit

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/herald-social/herald/clock"
)

// pruneInterval is how often (in clock time) Memory sweeps out windows
// that hold nothing any more, so that memory follows the subjects and
// endpoints in use rather than every one ever seen.
const pruneInterval = time.Minute

// Memory is the one-node Limiter. Our own count is a sliding log per
// (scope, subject, endpoint, period): the instants of the requests taken, so
// that any interval of length Period holds at most Limit of them. That is
// stricter than X's fixed windows (a fixed window's interval is one of
// them), costs 8 bytes per request counted, and makes RetryAt exact: the
// instant the oldest request that must leave does. What X reports
// (Observe) and its 429s (Exhausted) are kept beside the logs as extra
// constraints, each until its reset.
//
// One mutex guards everything: a Reserve is a few map look-ups and an
// append, far cheaper than the HTTP request it guards.
type Memory struct {
	clock clock.Clock

	mu        sync.Mutex
	logs      map[windowKey]*slidingLog
	reports   map[windowKey]*report
	blocks    map[blockKey]time.Time
	nextPrune time.Time
}

// windowKey names a log or a reported window. id is the account for
// ScopeUser and the app for ScopeApp.
type windowKey struct {
	scope        Scope
	id, endpoint string
	period       time.Duration
}

type blockKey struct {
	scope        Scope
	id, endpoint string
}

// report is X's last word on one window. limit is 0 when X did not say.
type report struct {
	limit, remaining int
	reset            time.Time
}

// reportedWindow is a window X's headers describe.
type reportedWindow struct {
	scope  Scope
	period time.Duration
}

// reported returns the windows X's headers describe (a function, not a
// package variable, so that nothing can change them).
func reported() [3]reportedWindow {
	return [...]reportedWindow{{ScopeUser, Period15m}, {ScopeUser, Period24h}, {ScopeApp, Period24h}}
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty Memory reading time from c.
func NewMemory(c clock.Clock) *Memory {
	return &Memory{
		clock:   c,
		logs:    make(map[windowKey]*slidingLog),
		reports: make(map[windowKey]*report),
		blocks:  make(map[blockKey]time.Time),
	}
}

// subjectID is the key of subj in scope, "" when subj has none there.
func subjectID(subj Subject, scope Scope) string {
	if scope == ScopeApp {
		return subj.App
	}
	return subj.Account
}

func checkArgs(subj Subject, endpoint string) error {
	if subj.Account == "" {
		return fmt.Errorf("%w: empty account", ErrInvalid)
	}
	if endpoint == "" {
		return fmt.Errorf("%w: empty endpoint", ErrInvalid)
	}
	return nil
}

func checkWindow(w Window) error {
	if !w.Scope.Valid() || w.Limit <= 0 || w.Period <= 0 {
		return fmt.Errorf("%w: window %s (want scope user or app, a positive limit and period)", ErrInvalid, w)
	}
	return nil
}

// Reserve implements Limiter.
func (m *Memory) Reserve(ctx context.Context, subj Subject, endpoint string, windows []Window) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return Reservation{}, err
	}
	keys := make([]windowKey, 0, 4)
	for _, w := range windows {
		if w.Endpoint != endpoint {
			continue
		}
		if err := checkWindow(w); err != nil {
			return Reservation{}, err
		}
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybePrune(now)

	var res Reservation
	refuse := func(at time.Time, w Window) {
		if res.RetryAt.IsZero() || at.After(res.RetryAt) {
			res.RetryAt, res.Window = at, w
		}
	}
	for _, w := range windows {
		id := subjectID(subj, w.Scope)
		if w.Endpoint != endpoint || id == "" {
			continue
		}
		k := windowKey{w.Scope, id, endpoint, w.Period}
		if l := m.logs[k]; l != nil {
			l.trim(now, w.Period)
			if at, ok := l.freeAt(w.Limit, w.Period); !ok {
				refuse(at, w)
			}
		}
		if !containsKey(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, rw := range reported() {
		id := subjectID(subj, rw.scope)
		if id == "" {
			continue
		}
		if r := m.activeReport(windowKey{rw.scope, id, endpoint, rw.period}, now); r != nil && r.remaining <= 0 {
			limit := r.limit
			if limit == 0 {
				limit = configuredLimit(windows, endpoint, rw.scope, rw.period)
			}
			refuse(r.reset, Window{endpoint, rw.scope, limit, rw.period})
		}
	}
	for _, scope := range [...]Scope{ScopeUser, ScopeApp} {
		id := subjectID(subj, scope)
		if id == "" {
			continue
		}
		if until, ok := m.blocks[blockKey{scope, id, endpoint}]; ok && now.Before(until) {
			refuse(until, Window{Endpoint: endpoint, Scope: scope})
		}
	}
	if !res.RetryAt.IsZero() {
		return res, nil
	}

	m.count(subj, endpoint, keys, now)
	return Reservation{OK: true}, nil
}

// count takes one request in the logs keys and in X's reports of
// endpoint for subj. The caller holds m.mu.
func (m *Memory) count(subj Subject, endpoint string, keys []windowKey, now time.Time) {
	for _, k := range keys {
		l := m.logs[k]
		if l == nil {
			l = &slidingLog{}
			m.logs[k] = l
		}
		l.add(now)
	}
	for _, rw := range reported() {
		id := subjectID(subj, rw.scope)
		if id == "" {
			continue
		}
		if r := m.activeReport(windowKey{rw.scope, id, endpoint, rw.period}, now); r != nil {
			r.remaining = max(r.remaining-1, 0)
		}
	}
}

// take counts a request of endpoint for subj in every window and report,
// checking none: one that another limiter allowed (the cluster's, see
// Shared), so that this node's own count knows what it sent.
func (m *Memory) take(subj Subject, endpoint string, windows []Window) {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybePrune(now)
	keys := make([]windowKey, 0, 4)
	for _, w := range windows {
		id := subjectID(subj, w.Scope)
		if w.Endpoint != endpoint || id == "" || checkWindow(w) != nil {
			continue
		}
		k := windowKey{w.Scope, id, endpoint, w.Period}
		if !containsKey(keys, k) {
			keys = append(keys, k)
		}
		if l := m.logs[k]; l != nil {
			l.trim(now, w.Period)
		}
	}
	m.count(subj, endpoint, keys, now)
}

// activeReport returns X's report for k while it has not reset, dropping
// it once it has.
func (m *Memory) activeReport(k windowKey, now time.Time) *report {
	r := m.reports[k]
	if r == nil {
		return nil
	}
	if !now.Before(r.reset) {
		delete(m.reports, k)
		return nil
	}
	return r
}

// Observe implements Limiter. Reports are merged by reset instant: a later
// reset replaces what we had (a new window began), the same reset keeps the
// smaller remaining count (answers of concurrent requests arrive in any
// order, and within one window the count only falls), an earlier reset is
// a stale answer and is ignored. A window reported without its remaining
// count or its reset is skipped: an unknown count is not zero.
func (m *Memory) Observe(ctx context.Context, subj Subject, endpoint string, obs Observation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return err
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybePrune(now)
	obs.eachHeader(subj, func(scope Scope, id string, period time.Duration, h Header) {
		m.observe(windowKey{scope, id, endpoint, period}, h, now)
	})
	return nil
}

func (m *Memory) observe(k windowKey, h Header, now time.Time) {
	if h.Remaining == nil || h.Reset.IsZero() {
		return // nothing to believe, or no end to believing it
	}
	if !now.Before(h.Reset) {
		return // already over: it constrains nothing
	}
	remaining := max(*h.Remaining, 0)
	limit := 0
	if h.Limit != nil && *h.Limit > 0 {
		limit = *h.Limit
	}
	r := m.activeReport(k, now)
	switch {
	case r == nil || h.Reset.After(r.reset):
		m.reports[k] = &report{limit: limit, remaining: remaining, reset: h.Reset}
	case h.Reset.Equal(r.reset):
		r.remaining = min(r.remaining, remaining)
		if limit > 0 {
			r.limit = limit
		}
	}
}

// Exhausted implements Limiter. A later block extends an earlier one; an
// earlier one changes nothing.
func (m *Memory) Exhausted(ctx context.Context, subj Subject, endpoint string, scope Scope, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id, err := blockSubject(subj, endpoint, &scope)
	if err != nil {
		return err
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybePrune(now)
	k := blockKey{scope, id, endpoint}
	if until.After(now) && until.After(m.blocks[k]) {
		m.blocks[k] = until
	}
	return nil
}

// blockSubject checks the arguments of Exhausted and returns the id the
// block is kept under; an empty *scope becomes ScopeUser.
func blockSubject(subj Subject, endpoint string, scope *Scope) (string, error) {
	if err := checkArgs(subj, endpoint); err != nil {
		return "", err
	}
	if *scope == "" {
		*scope = ScopeUser
	}
	if !scope.Valid() {
		return "", fmt.Errorf("%w: scope %q (want user or app)", ErrInvalid, *scope)
	}
	id := subjectID(subj, *scope)
	if id == "" {
		return "", fmt.Errorf("%w: an app-scope block for account %q, which has no app", ErrInvalid, subj.Account)
	}
	return id, nil
}

// Remaining implements Limiter. App windows of a subject without an app
// are left out, like windows of other endpoints.
func (m *Memory) Remaining(ctx context.Context, subj Subject, endpoint string, windows []Window) ([]WindowState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return nil, err
	}
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybePrune(now)
	var out []WindowState
	for _, w := range windows {
		id := subjectID(subj, w.Scope)
		if w.Endpoint != endpoint || id == "" {
			continue
		}
		if err := checkWindow(w); err != nil {
			return nil, err
		}
		st := WindowState{Window: w, Remaining: w.Limit}
		k := windowKey{w.Scope, id, endpoint, w.Period}
		if l := m.logs[k]; l != nil {
			l.trim(now, w.Period)
			st.Remaining, st.Reset = l.budget(w.Limit, w.Period)
		}
		if r := m.activeReport(k, now); r != nil {
			switch {
			case r.remaining < st.Remaining:
				st.Remaining, st.Reset = r.remaining, r.reset
			case r.remaining == 0 && r.reset.After(st.Reset):
				st.Reset = r.reset
			}
		}
		if until, ok := m.blocks[blockKey{w.Scope, id, endpoint}]; ok && now.Before(until) {
			if st.Remaining > 0 || until.After(st.Reset) {
				st.Reset = until
			}
			st.Remaining = 0
		}
		out = append(out, st)
	}
	return out, nil
}

// maybePrune drops, at most once per pruneInterval of clock time, every
// log, report and block that no longer constrains anything. The caller
// holds m.mu.
func (m *Memory) maybePrune(now time.Time) {
	if now.Before(m.nextPrune) {
		return
	}
	m.nextPrune = now.Add(pruneInterval)
	for k, l := range m.logs {
		l.trim(now, k.period)
		if l.len() == 0 {
			delete(m.logs, k)
		} else {
			l.shrink()
		}
	}
	for k, r := range m.reports {
		if !now.Before(r.reset) {
			delete(m.reports, k)
		}
	}
	for k, until := range m.blocks {
		if !now.Before(until) {
			delete(m.blocks, k)
		}
	}
}

// size returns how many entries m holds, for the pruning test.
func (m *Memory) size() (logs, requests, reports, blocks int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.logs {
		requests += l.len()
	}
	return len(m.logs), requests, len(m.reports), len(m.blocks)
}

// configuredLimit is the Limit of the window of endpoint, scope and period
// among windows, 0 when there is none.
func configuredLimit(windows []Window, endpoint string, scope Scope, period time.Duration) int {
	for _, w := range windows {
		if w.Endpoint == endpoint && w.Scope == scope && w.Period == period {
			return w.Limit
		}
	}
	return 0
}

func containsKey(keys []windowKey, k windowKey) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// activeKey is a subject's endpoint in one scope (id is the account for
// ScopeUser and the app for ScopeApp).
type activeKey struct {
	scope        Scope
	id, endpoint string
}

// active returns the (scope, subject, endpoint) triples m holds anything
// for now: requests counted, X's reports or blocks not yet over.
func (m *Memory) active() map[activeKey]bool {
	now := m.clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[activeKey]bool, len(m.logs))
	for k, l := range m.logs {
		if n := len(l.at); n > l.head && l.at[n-1] > now.Add(-k.period).UnixNano() {
			out[activeKey{k.scope, k.id, k.endpoint}] = true
		}
	}
	for k, r := range m.reports {
		if now.Before(r.reset) {
			out[activeKey{k.scope, k.id, k.endpoint}] = true
		}
	}
	for k, until := range m.blocks {
		if now.Before(until) {
			out[activeKey{k.scope, k.id, k.endpoint}] = true
		}
	}
	return out
}
