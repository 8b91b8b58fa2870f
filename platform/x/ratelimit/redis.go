package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/clock"
)

// keySlack is added to the expiry of every key Redis writes. Expiry only
// collects garbage: whether a report or block still holds is decided by
// the instants the scripts compare with the injected clock, so the slack
// covers the nodes' clocks being a little apart from Redis's.
const keySlack = time.Minute

// Redis is the Limiter of a cluster: the same accounting as Memory (sliding
// logs, X's reports, 429 blocks), kept in Redis so that every node counts
// against the same windows and sees at once what X told any of them.
//
// Each call is one Lua script, so a Reserve checks and counts every window
// of the endpoint atomically, all or nothing, whatever the other nodes do.
// Time is the injected clock's, passed into the scripts (never Redis TIME),
// so nodes agree with their own clocks' view and tests drive it with a fake
// clock. go-redis's Script runs them by EVALSHA, loading them on a miss.
//
// Keys (under prefix): log:ENDPOINT:SCOPE:PERIOD:ID (a sorted set, 40 bytes
// per request counted), rep:ENDPOINT:SCOPE:PERIOD:ID (a hash: X's last
// report), blk:ENDPOINT:SCOPE:ID (a 429's end). The subject's id comes last
// so that an account or app name may hold any character. Every key expires
// (a log one period after its last request, a report or block at its end,
// each plus keySlack), so nothing lives forever.
//
// Why not go-redis/redis_rate: its GCRA answers one limit per key and
// cannot take a request in several windows all or nothing, nor hold X's
// reported budgets and 429s beside them.
//
// Redis is not a Redis Cluster client: the keys of one call do not share a
// hash slot (an app's window is shared by accounts that hash elsewhere).
type Redis struct {
	client redis.Scripter
	prefix string
	clock  clock.Clock

	reserve, observe, exhausted, remaining, recordScript *redis.Script
	// pipe is client's pipelines, nil when it has none.
	pipe interface{ Pipeline() redis.Pipeliner }
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a Limiter keeping its state in client under prefix
// (for Herald, the engine's --redis-prefix plus "rl:"), reading time from
// c. The client's own timeouts bound every call.
func NewRedis(client redis.Scripter, prefix string, c clock.Clock) *Redis {
	r := &Redis{client: client, prefix: prefix, clock: c,
		reserve: redis.NewScript(reserveLua), observe: redis.NewScript(observeLua),
		exhausted: redis.NewScript(exhaustedLua), remaining: redis.NewScript(remainingLua),
		recordScript: redis.NewScript(recordLua)}
	r.pipe, _ = client.(interface{ Pipeline() redis.Pipeliner })
	return r
}

// encodeTime spells t as 20 decimal digits whose order is t's: Unix
// nanoseconds shifted by 2^63, so that instants before 1970 sort first too.
func encodeTime(t time.Time) string {
	var b [20]byte
	s := strconv.AppendUint(b[:0], uint64(t.UnixNano())+1<<63, 10)
	return strings.Repeat("0", 20-len(s)) + string(s)
}

func decodeTime(s string) (time.Time, error) {
	u, err := strconv.ParseUint(s, 10, 64)
	if err != nil || len(s) != 20 {
		return time.Time{}, fmt.Errorf("ratelimit: redis holds a malformed instant %q", s)
	}
	return time.Unix(0, int64(u-1<<63)).UTC(), nil
}

// ttlMillis is how long, in milliseconds, a key must live for d of clock
// time, with keySlack.
func ttlMillis(d time.Duration) int64 { return (max(d, 0) + keySlack).Milliseconds() }

func (r *Redis) logKey(scope Scope, id, endpoint string, period time.Duration) string {
	return r.prefix + "log:" + endpoint + ":" + string(scope) + ":" + period.String() + ":" + id
}

func (r *Redis) reportKey(scope Scope, id, endpoint string, period time.Duration) string {
	return r.prefix + "rep:" + endpoint + ":" + string(scope) + ":" + period.String() + ":" + id
}

func (r *Redis) blockKey(scope Scope, id, endpoint string) string {
	return r.prefix + "blk:" + endpoint + ":" + string(scope) + ":" + id
}

// reserveCall is one Reserve's script arguments, and what is needed to
// read its answer.
type reserveCall struct {
	keys    []string
	args    []any
	windows []Window // those checked, in the script's order
	reports []reportedWindow
	blocks  []Scope
}

func (r *Redis) reserveCall(subj Subject, endpoint string, windows []Window, now time.Time) (reserveCall, error) {
	var c reserveCall
	type logRef struct {
		key    string
		period time.Duration
	}
	var logs []logRef
	var refs []int
	for _, w := range windows {
		if w.Endpoint != endpoint {
			continue
		}
		if err := checkWindow(w); err != nil {
			return c, err
		}
		id := subjectID(subj, w.Scope)
		if id == "" {
			continue
		}
		k := r.logKey(w.Scope, id, endpoint, w.Period)
		i := 0
		for i < len(logs) && logs[i].key != k {
			i++
		}
		if i == len(logs) {
			logs = append(logs, logRef{k, w.Period})
		}
		c.windows, refs = append(c.windows, w), append(refs, i+1)
	}
	for _, rw := range reported() {
		if id := subjectID(subj, rw.scope); id != "" {
			c.reports = append(c.reports, rw)
		}
	}
	for _, scope := range [...]Scope{ScopeUser, ScopeApp} {
		if subjectID(subj, scope) != "" {
			c.blocks = append(c.blocks, scope)
		}
	}
	c.keys = make([]string, 0, len(logs)+len(c.reports)+len(c.blocks))
	c.args = make([]any, 0, 6+2*len(logs)+2*len(c.windows))
	c.args = append(c.args, encodeTime(now), strconv.FormatUint(rand.Uint64(), 36),
		len(logs), len(c.windows), len(c.reports), len(c.blocks))
	for _, l := range logs {
		c.keys = append(c.keys, l.key)
		c.args = append(c.args, encodeTime(now.Add(-l.period)), ttlMillis(l.period))
	}
	for i, w := range c.windows {
		c.args = append(c.args, refs[i], w.Limit)
	}
	for _, rw := range c.reports {
		c.keys = append(c.keys, r.reportKey(rw.scope, subjectID(subj, rw.scope), endpoint, rw.period))
	}
	for _, scope := range c.blocks {
		c.keys = append(c.keys, r.blockKey(scope, subjectID(subj, scope), endpoint))
	}
	return c, nil
}

// Reserve implements Limiter.
func (r *Redis) Reserve(ctx context.Context, subj Subject, endpoint string, windows []Window) (Reservation, error) {
	return r.reserveAfter(ctx, nil, subj, endpoint, windows)
}

// reserveAfter is Reserve, after recording obs (the headers of earlier
// responses) in the same round trip.
func (r *Redis) reserveAfter(ctx context.Context, obs []observed, subj Subject, endpoint string, windows []Window) (Reservation, error) {
	if err := ctx.Err(); err != nil {
		return Reservation{}, err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return Reservation{}, err
	}
	now := r.clock.Now()
	call, err := r.reserveCall(subj, endpoint, windows, now)
	if err != nil {
		return Reservation{}, err
	}
	var cmd *redis.Cmd
	if len(obs) == 0 {
		cmd = r.reserve.Run(ctx, r.client, call.keys, call.args...)
	} else if cmd, err = r.observeThen(ctx, obs, func(p redis.Pipeliner) *redis.Cmd {
		return r.reserve.EvalSha(ctx, p, call.keys, call.args...)
	}); err != nil {
		return Reservation{}, err
	}
	out, err := cmd.Slice()
	if err != nil {
		return Reservation{}, fmt.Errorf("ratelimit: reserving %s for %s in redis: %w", endpoint, subj.Account, err)
	}
	if ok, _ := out[0].(int64); ok == 1 {
		return Reservation{OK: true}, nil
	}
	if len(out) != 1+len(call.windows)+len(call.reports)+len(call.blocks) {
		return Reservation{}, fmt.Errorf("ratelimit: redis reserve script answered %d values", len(out))
	}
	var res Reservation
	refuse := func(at time.Time, w Window) {
		if res.RetryAt.IsZero() || at.After(res.RetryAt) {
			res.RetryAt, res.Window = at, w
		}
	}
	vals := out[1:]
	for i, w := range call.windows {
		if s, _ := vals[i].(string); s != "" {
			at, err := decodeTime(s)
			if err != nil {
				return Reservation{}, err
			}
			refuse(at.Add(w.Period), w)
		}
	}
	vals = vals[len(call.windows):]
	for i, rw := range call.reports {
		if s, _ := vals[i].(string); s != "" {
			resetS, limitS, _ := strings.Cut(s, " ")
			reset, err := decodeTime(resetS)
			if err != nil {
				return Reservation{}, err
			}
			limit, _ := strconv.Atoi(limitS)
			if limit == 0 {
				limit = configuredLimit(windows, endpoint, rw.scope, rw.period)
			}
			refuse(reset, Window{endpoint, rw.scope, limit, rw.period})
		}
	}
	vals = vals[len(call.reports):]
	for i, scope := range call.blocks {
		if s, _ := vals[i].(string); s != "" {
			until, err := decodeTime(s)
			if err != nil {
				return Reservation{}, err
			}
			refuse(until, Window{Endpoint: endpoint, Scope: scope})
		}
	}
	if res.RetryAt.IsZero() {
		return Reservation{}, fmt.Errorf("ratelimit: redis reserve script refused without a reason")
	}
	return res, nil
}

// record counts, without checking anything, a request of endpoint that
// subj sent at at: one a node allowed alone while Redis was away (see
// Shared), so that the cluster's windows hold it once Redis is back.
// Windows it has left by now are not touched.
func (r *Redis) record(ctx context.Context, subj Subject, endpoint string, windows []Window, at time.Time) error {
	now := r.clock.Now()
	var keys []string
	args := []any{encodeTime(at), strconv.FormatUint(rand.Uint64(), 36)}
	for _, w := range windows {
		id := subjectID(subj, w.Scope)
		left := at.Add(w.Period).Sub(now)
		if w.Endpoint != endpoint || id == "" || left <= 0 {
			continue
		}
		k := r.logKey(w.Scope, id, endpoint, w.Period)
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
			args = append(args, ttlMillis(left))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	if err := r.recordScript.Run(ctx, r.client, keys, args...).Err(); err != nil {
		return fmt.Errorf("ratelimit: recording a %s request of %s in redis: %w", endpoint, subj.Account, err)
	}
	return nil
}

// Observe implements Limiter, with Memory's merge of reports.
func (r *Redis) Observe(ctx context.Context, subj Subject, endpoint string, obs Observation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return err
	}
	keys, args := r.observeCall(observed{subj, endpoint, obs, r.clock.Now()})
	if len(keys) == 0 {
		return nil
	}
	if err := r.observe.Run(ctx, r.client, keys, args...).Err(); err != nil {
		return fmt.Errorf("ratelimit: recording %s headers for %s in redis: %w", endpoint, subj.Account, err)
	}
	return nil
}

// observed is a response's headers, heard at at.
type observed struct {
	subj     Subject
	endpoint string
	obs      Observation
	at       time.Time
}

// observeCall is the observe script's keys and arguments for o; no keys
// when its headers report nothing that holds.
func (r *Redis) observeCall(o observed) ([]string, []any) {
	now := o.at
	var keys []string
	args := []any{encodeTime(now)}
	o.obs.eachHeader(o.subj, func(scope Scope, id string, period time.Duration, h Header) {
		if h.Remaining == nil || h.Reset.IsZero() || !now.Before(h.Reset) {
			return // unknown, without an end, or already over
		}
		limit := 0
		if h.Limit != nil && *h.Limit > 0 {
			limit = *h.Limit
		}
		keys = append(keys, r.reportKey(scope, id, o.endpoint, period))
		args = append(args, max(*h.Remaining, 0), limit, encodeTime(h.Reset), ttlMillis(h.Reset.Sub(now)))
	})
	return keys, args
}

// canPipeline reports whether the client sends pipelines (a
// *redis.Client does), which observeThen needs.
func (r *Redis) canPipeline() bool { return r.pipe != nil }

// observeThen sends, in one round trip, the observe scripts of obs and
// then the script last queues (nil: none), and returns last's command. A
// script Redis does not hold (NOSCRIPT: Redis restarted) is loaded and the
// round trip made once more. The client must pipeline (canPipeline).
func (r *Redis) observeThen(ctx context.Context, obs []observed, last func(redis.Pipeliner) *redis.Cmd) (*redis.Cmd, error) {
	for try := 0; ; try++ {
		pipe := r.pipe.Pipeline()
		for _, o := range obs {
			if keys, args := r.observeCall(o); len(keys) > 0 {
				r.observe.EvalSha(ctx, pipe, keys, args...)
			}
		}
		var cmd *redis.Cmd
		if last != nil {
			cmd = last(pipe)
		}
		if pipe.Len() == 0 {
			return cmd, nil
		}
		_, err := pipe.Exec(ctx)
		if err != nil && cmd != nil && cmd.Err() == nil {
			// last went through: what failed was headers, which X sends
			// again with the next answer. Sending last again would count
			// its request twice.
			return cmd, nil
		}
		if err != nil && try == 0 && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if err := r.loadScripts(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("ratelimit: recording %d responses' headers in redis: %w", len(obs), err)
		}
		return cmd, nil
	}
}

// loadScripts loads the scripts observeThen sends by their hashes.
func (r *Redis) loadScripts(ctx context.Context) error {
	for _, sc := range []*redis.Script{r.observe, r.reserve} {
		if err := sc.Load(ctx, r.client).Err(); err != nil {
			return fmt.Errorf("ratelimit: loading a script into redis: %w", err)
		}
	}
	return nil
}

// Exhausted implements Limiter.
func (r *Redis) Exhausted(ctx context.Context, subj Subject, endpoint string, scope Scope, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	id, err := blockSubject(subj, endpoint, &scope)
	if err != nil {
		return err
	}
	now := r.clock.Now()
	if !until.After(now) {
		return nil
	}
	key := r.blockKey(scope, id, endpoint)
	if err := r.exhausted.Run(ctx, r.client, []string{key}, encodeTime(until), ttlMillis(until.Sub(now))).Err(); err != nil {
		return fmt.Errorf("ratelimit: recording a %s block for %s in redis: %w", endpoint, subj.Account, err)
	}
	return nil
}

// Remaining implements Limiter. It reads and writes nothing but what it
// reports: the logs are trimmed by the next Reserve.
func (r *Redis) Remaining(ctx context.Context, subj Subject, endpoint string, windows []Window) ([]WindowState, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkArgs(subj, endpoint); err != nil {
		return nil, err
	}
	now := r.clock.Now()
	var ws []Window
	var keys []string
	args := []any{encodeTime(now)}
	for _, w := range windows {
		id := subjectID(subj, w.Scope)
		if w.Endpoint != endpoint || id == "" {
			continue
		}
		if err := checkWindow(w); err != nil {
			return nil, err
		}
		ws = append(ws, w)
		keys = append(keys, r.logKey(w.Scope, id, endpoint, w.Period), r.reportKey(w.Scope, id, endpoint, w.Period),
			r.blockKey(w.Scope, id, endpoint))
		args = append(args, encodeTime(now.Add(-w.Period)), w.Limit)
	}
	if len(ws) == 0 {
		return nil, nil
	}
	out, err := r.remaining.Run(ctx, r.client, keys, args...).Slice()
	if err != nil {
		return nil, fmt.Errorf("ratelimit: reading %s budgets of %s in redis: %w", endpoint, subj.Account, err)
	}
	if len(out) != 4*len(ws) {
		return nil, fmt.Errorf("ratelimit: redis remaining script answered %d values", len(out))
	}
	states := make([]WindowState, len(ws))
	for i, w := range ws {
		st, err := decodeState(w, out[4*i:4*i+4])
		if err != nil {
			return nil, err
		}
		states[i] = st
	}
	return states, nil
}

// decodeState is Memory.Remaining's arithmetic over one window's answer of
// remainingLua: count, next instant, report, block.
func decodeState(w Window, v []any) (WindowState, error) {
	st := WindowState{Window: w, Remaining: w.Limit}
	if n, _ := v[0].(int64); n > 0 {
		s, _ := v[1].(string)
		at, err := decodeTime(s)
		if err != nil {
			return st, err
		}
		st.Remaining, st.Reset = max(w.Limit-int(n), 0), at.Add(w.Period)
	}
	if s, _ := v[2].(string); s != "" {
		resetS, remS, _ := strings.Cut(s, " ")
		reset, err := decodeTime(resetS)
		if err != nil {
			return st, err
		}
		rem, _ := strconv.Atoi(remS)
		switch {
		case rem < st.Remaining:
			st.Remaining, st.Reset = rem, reset
		case rem == 0 && reset.After(st.Reset):
			st.Reset = reset
		}
	}
	if s, _ := v[3].(string); s != "" {
		until, err := decodeTime(s)
		if err != nil {
			return st, err
		}
		if st.Remaining > 0 || until.After(st.Reset) {
			st.Reset = until
		}
		st.Remaining = 0
	}
	return st, nil
}
