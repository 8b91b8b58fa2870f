package fakex

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limit is an endpoint's rate limits: how many requests each window
// admits. 0 means that window does not limit.
//
// The per-app windows count every request made with the app's
// credentials (the OAuth 2.0 client id or the OAuth 1.0a consumer key),
// whichever user it is for. X applies some published per-app limits only
// to app-only (bearer) requests, which the fake does not serve; here they
// bind user requests too.
type Limit struct {
	PerUser15m, PerApp15m, PerUser24h, PerApp24h int
}

// Endpoint names, as Limits, Fault.Endpoint and Request.Endpoint spell
// them (X's documentation spells them the same way).
const (
	EndpointCreatePost    = "POST /2/tweets"
	EndpointDeletePost    = "DELETE /2/tweets/:id"
	EndpointLookupPosts   = "GET /2/tweets"
	EndpointMe            = "GET /2/users/me"
	EndpointUserPosts     = "GET /2/users/:id/tweets"
	EndpointMediaUpload   = "POST /2/media/upload"
	EndpointMediaInit     = "POST /2/media/upload/initialize"
	EndpointMediaAppend   = "POST /2/media/upload/:id/append"
	EndpointMediaFinalize = "POST /2/media/upload/:id/finalize"
	EndpointMediaStatus   = "GET /2/media/upload"
	EndpointMediaMetadata = "POST /2/media/metadata"
	EndpointToken         = "POST /2/oauth2/token"
	EndpointRevoke        = "POST /2/oauth2/revoke"
)

const (
	window15m, window24h = 15 * time.Minute, 24 * time.Hour

	headerLimit     = "x-rate-limit-limit"
	headerRemaining = "x-rate-limit-remaining"
	headerReset     = "x-rate-limit-reset"
	headerUser24h   = "x-user-limit-24hour-"
	headerApp24h    = "x-app-limit-24hour-"
)

// DefaultLimits returns X's published limits (pay-per-use, 2026) for the
// endpoints the fake serves. The limits of the one-shot upload, the media
// status and the alt-text endpoints are not in the facts Herald keeps;
// they get those of the chunked upload steps. The OAuth endpoints are not
// rate limited.
func DefaultLimits() map[string]Limit {
	media := Limit{PerUser15m: 1875}
	return map[string]Limit{
		EndpointCreatePost:    {PerUser15m: 100, PerApp24h: 10000},
		EndpointDeletePost:    {PerUser15m: 50},
		EndpointLookupPosts:   {PerUser15m: 5000, PerApp15m: 3500},
		EndpointMe:            {PerUser15m: 75},
		EndpointUserPosts:     {PerUser15m: 900},
		EndpointMediaUpload:   media,
		EndpointMediaInit:     media,
		EndpointMediaAppend:   media,
		EndpointMediaFinalize: media,
		EndpointMediaStatus:   media,
		EndpointMediaMetadata: media,
		EndpointToken:         {},
		EndpointRevoke:        {},
	}
}

// window is one fixed rate-limit window: it opens at the first request
// after the previous one closed, as X's do, and closes span later.
type window struct {
	start time.Time
	count int
}

type windowKey struct {
	endpoint string
	scope    string // "user:ID" or "app:ID"
	span     time.Duration
}

// windowState is what the headers report of one window.
type windowState struct {
	limit, remaining int
	reset            time.Time
}

// rateCheck is the outcome of admitting one request.
type rateCheck struct {
	allowed         bool
	user15, app15   *windowState
	user24, app24   *windowState
	primaryOverride *windowState // set by an injected 429
}

// admit counts a request against the endpoint's windows, unless one of
// them is exhausted, in which case nothing is counted and allowed is
// false. s.mu is held.
func (s *Server) admit(endpoint, userID, appID string, now time.Time) rateCheck {
	lim := s.limits[endpoint]
	type slot struct {
		limit int
		key   windowKey
		out   **windowState
	}
	var rc rateCheck
	slots := []slot{
		{lim.PerUser15m, windowKey{endpoint, "user:" + userID, window15m}, &rc.user15},
		{lim.PerApp15m, windowKey{endpoint, "app:" + appID, window15m}, &rc.app15},
		{lim.PerUser24h, windowKey{endpoint, "user:" + userID, window24h}, &rc.user24},
		{lim.PerApp24h, windowKey{endpoint, "app:" + appID, window24h}, &rc.app24},
	}
	rc.allowed = true
	for _, sl := range slots {
		if sl.limit <= 0 {
			continue
		}
		w := s.windows[sl.key]
		if w == nil || !now.Before(w.start.Add(sl.key.span)) {
			w = &window{start: now}
			s.windows[sl.key] = w
		}
		if w.count >= sl.limit {
			rc.allowed = false
		}
	}
	for _, sl := range slots {
		if sl.limit <= 0 {
			continue
		}
		w := s.windows[sl.key]
		if rc.allowed {
			w.count++
		}
		*sl.out = &windowState{limit: sl.limit, remaining: max(sl.limit-w.count, 0), reset: w.start.Add(sl.key.span)}
	}
	return rc
}

// primary is the window x-rate-limit-* report: the 15-minute window with
// the fewest requests left (the user's on a tie), else the 24-hour one. A
// client that trusts these headers is never surprised by a 429 from
// another window of the same span.
func (rc rateCheck) primary() *windowState {
	if rc.primaryOverride != nil {
		return rc.primaryOverride
	}
	pick := func(a, b *windowState) *windowState {
		switch {
		case a == nil:
			return b
		case b == nil:
			return a
		case b.remaining < a.remaining:
			return b
		}
		return a
	}
	if w := pick(rc.user15, rc.app15); w != nil {
		return w
	}
	return pick(rc.user24, rc.app24)
}

// setHeaders writes the rate-limit headers X sends on every response of a
// rate-limited endpoint.
func (rc rateCheck) setHeaders(h http.Header) {
	put := func(prefix string, w *windowState) {
		if w == nil {
			return
		}
		h.Set(prefix+"limit", strconv.Itoa(w.limit))
		h.Set(prefix+"remaining", strconv.Itoa(w.remaining))
		h.Set(prefix+"reset", strconv.FormatInt(w.reset.Unix(), 10))
	}
	if p := rc.primary(); p != nil {
		h.Set(headerLimit, strconv.Itoa(p.limit))
		h.Set(headerRemaining, strconv.Itoa(p.remaining))
		h.Set(headerReset, strconv.FormatInt(p.reset.Unix(), 10))
	}
	put(headerUser24h, rc.user24)
	put(headerApp24h, rc.app24)
}

// fault makes the headers of an injected 429 say what f asks: the
// reported window exhausted (or with f.Remaining left) until f.Reset, and
// a 24-hour window exhausted when f.Exhausted24h names one.
func (rc *rateCheck) fault(f *Fault, now time.Time) {
	if f.Status != http.StatusTooManyRequests {
		return
	}
	reset := f.Reset
	if reset.IsZero() {
		reset = now.Add(window15m)
	}
	limit := 0
	if p := rc.primary(); p != nil {
		limit = p.limit
	}
	rc.primaryOverride = &windowState{limit: limit, remaining: f.Remaining, reset: reset}
	exhaust := func(w *windowState) *windowState {
		out := windowState{limit: limit, reset: now.Add(window24h)}
		if w != nil {
			out.limit, out.reset = w.limit, w.reset
		}
		if !f.Reset24h.IsZero() {
			out.reset = f.Reset24h
		}
		return &out
	}
	switch f.Exhausted24h {
	case "user":
		rc.user24 = exhaust(rc.user24)
	case "app":
		rc.app24 = exhaust(rc.app24)
	}
}

// omitHeaders deletes the rate-limit headers a fault leaves out; a name
// ending in "*" stands for the limit, remaining and reset of its family.
func omitHeaders(h http.Header, names []string) {
	for _, name := range names {
		prefix, family := strings.CutSuffix(strings.ToLower(name), "*")
		if !family {
			h.Del(name)
			continue
		}
		for _, suffix := range []string{"limit", "remaining", "reset"} {
			h.Del(prefix + suffix)
		}
	}
}

// SetLimit changes an endpoint's limits from now on; windows already open
// keep their counts. It panics on an endpoint the fake does not serve.
func (s *Server) SetLimit(endpoint string, l Limit) {
	mustEndpoint(endpoint)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits[endpoint] = l
}

func mustEndpoint(endpoint string) {
	if _, ok := DefaultLimits()[endpoint]; !ok {
		panic("fakex: unknown endpoint " + strconv.Quote(endpoint) + " (use the Endpoint* constants)")
	}
}
