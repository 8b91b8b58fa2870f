package fakex

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ChaosKind is a kind of fault Chaos injects at random.
type ChaosKind string

// The kinds of fault Chaos draws from: the ways X and the network have
// been seen to fail a publisher.
const (
	// ChaosDropBeforeStore closes the connection before the request acts.
	ChaosDropBeforeStore ChaosKind = "drop_before_store"
	// ChaosDropAfterStore lets the request act, then closes the
	// connection without an answer.
	ChaosDropAfterStore ChaosKind = "drop_after_store"
	// ChaosStoreThen5xx lets the request act, then answers 500, 502, 503
	// or 504.
	ChaosStoreThen5xx ChaosKind = "store_then_5xx"
	// ChaosStoreThenHang lets the request act, then holds the answer back
	// for Chaos.Hang (or until the client gives up).
	ChaosStoreThenHang ChaosKind = "store_then_hang"
	// Chaos5xx answers 500, 502, 503 or 504 without acting.
	Chaos5xx ChaosKind = "5xx"
	// Chaos429 answers 429 with a reset Chaos.Reset ahead.
	Chaos429 ChaosKind = "429"
	// Chaos429MissingHeaders is Chaos429 with one to three of
	// x-rate-limit-limit, -remaining and -reset left out.
	Chaos429MissingHeaders ChaosKind = "429_missing_headers"
	// ChaosLatency holds the request back for a random time up to
	// Chaos.Hang, then answers it normally.
	ChaosLatency ChaosKind = "latency"
)

// ChaosKinds returns every kind of chaos fault, the default of Chaos.Kinds.
func ChaosKinds() []ChaosKind {
	return []ChaosKind{ChaosDropBeforeStore, ChaosDropAfterStore, ChaosStoreThen5xx, ChaosStoreThenHang,
		Chaos5xx, Chaos429, Chaos429MissingHeaders, ChaosLatency}
}

// ChaosEndpoints returns the endpoints Chaos hits by default: posting, the
// media upload steps and the user timeline, what a publisher calls.
func ChaosEndpoints() []string {
	return []string{EndpointCreatePost, EndpointUserPosts, EndpointMediaUpload, EndpointMediaInit, EndpointMediaAppend,
		EndpointMediaFinalize, EndpointMediaStatus, EndpointMediaMetadata}
}

// ParseChaosKinds parses a comma-separated list of kinds; "all" (or an
// empty list) is every kind.
func ParseChaosKinds(list string) ([]ChaosKind, error) {
	if strings.TrimSpace(list) == "" || list == "all" {
		return ChaosKinds(), nil
	}
	var out []ChaosKind
	for _, name := range strings.Split(list, ",") {
		k := ChaosKind(strings.TrimSpace(name))
		if !slices.Contains(ChaosKinds(), k) {
			return nil, fmt.Errorf("%w: unknown kind %q: want all or some of %s", errBadChaos, name, kindList())
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

func kindList() string {
	names := make([]string, 0, len(ChaosKinds()))
	for _, k := range ChaosKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ",")
}

// Chaos injects faults at random into the requests of some endpoints, for
// soak tests: each admitted request that no injected Fault matches gets a
// fault with probability Rate, of a kind drawn from Kinds. The draws come
// from a math/rand/v2 PCG source seeded with Seed, so the same requests in
// the same order meet the same faults. Every one is marked in Requests
// (Fault, and Chaos with its kind).
type Chaos struct {
	// Rate is the probability, 0 to 1, that a request gets a fault; 0
	// turns chaos off.
	Rate float64
	// Seed seeds the draws.
	Seed uint64
	// Kinds are the faults drawn from, with equal odds (default
	// ChaosKinds).
	Kinds []ChaosKind
	// Endpoints are the endpoints hit (default ChaosEndpoints).
	Endpoints []string
	// Hang is how long a store_then_hang holds the answer back, and the
	// most a latency fault waits, on real timers as Fault.Latency
	// (default 30s).
	Hang time.Duration
	// Reset is how far ahead of the fake's clock a chaos 429 puts
	// x-rate-limit-reset (default 3s): a soak test must not stall for the
	// 15 minutes of a real window.
	Reset time.Duration
}

// errBadChaos is wrapped by the errors of Chaos.Validate.
var errBadChaos = errors.New("fakex: invalid chaos")

// Validate reports a Chaos the fake cannot apply: New and SetChaos panic
// on it, PUT /_fake/chaos answers 400 and the command refuses its flags.
func (c Chaos) Validate() error {
	switch {
	case math.IsNaN(c.Rate) || c.Rate < 0 || c.Rate > 1:
		return fmt.Errorf("%w: rate %v: want 0 to 1", errBadChaos, c.Rate)
	case c.Hang < 0:
		return fmt.Errorf("%w: negative hang %s", errBadChaos, c.Hang)
	case c.Reset < 0:
		return fmt.Errorf("%w: negative reset %s", errBadChaos, c.Reset)
	}
	for _, k := range c.Kinds {
		if !slices.Contains(ChaosKinds(), k) {
			return fmt.Errorf("%w: unknown kind %q: want some of %s", errBadChaos, k, kindList())
		}
	}
	for _, ep := range c.Endpoints {
		if _, ok := DefaultLimits()[ep]; !ok {
			return fmt.Errorf("%w: unknown endpoint %q: want e.g. %q", errBadChaos, ep, EndpointCreatePost)
		}
	}
	return nil
}

// withDefaults fills the fields left empty.
func (c Chaos) withDefaults() Chaos {
	if len(c.Kinds) == 0 {
		c.Kinds = ChaosKinds()
	}
	if len(c.Endpoints) == 0 {
		c.Endpoints = ChaosEndpoints()
	}
	if c.Hang == 0 {
		c.Hang = 30 * time.Second
	}
	if c.Reset == 0 {
		c.Reset = 3 * time.Second
	}
	c.Kinds, c.Endpoints = slices.Clone(c.Kinds), slices.Clone(c.Endpoints)
	return c
}

// chaosState is the configured Chaos and its random source.
type chaosState struct {
	cfg Chaos
	rng *rand.Rand
}

func newChaos(c Chaos) chaosState {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	c = c.withDefaults()
	return chaosState{cfg: c, rng: rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))}
}

// SetChaos replaces the chaos configuration and reseeds its draws; a zero
// Chaos turns chaos off. It panics on a Chaos that Validate refuses.
func (s *Server) SetChaos(c Chaos) {
	st := newChaos(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chaos = st
}

// Chaos returns the chaos configuration, defaults filled in.
func (s *Server) Chaos() Chaos {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chaos.cfg
	c.Kinds, c.Endpoints = slices.Clone(c.Kinds), slices.Clone(c.Endpoints)
	return c
}

// serverError draws one of the 5xx statuses a chaos fault answers with.
func (c *chaosState) serverError() int {
	return [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout}[c.rng.IntN(4)]
}

// draw decides whether a request to endpoint gets a chaos fault, and
// which. s.mu is held.
func (c *chaosState) draw(endpoint string, now time.Time) (*Fault, ChaosKind) {
	if c.cfg.Rate <= 0 || !slices.Contains(c.cfg.Endpoints, endpoint) || c.rng.Float64() >= c.cfg.Rate {
		return nil, ""
	}
	kind := c.cfg.Kinds[c.rng.IntN(len(c.cfg.Kinds))]
	f := &Fault{Endpoint: endpoint, Count: 1}
	switch kind {
	case ChaosDropBeforeStore:
		f.DropBeforeStore = true
	case ChaosDropAfterStore:
		f.DropAfterStore = true
	case ChaosStoreThen5xx:
		f.AfterStore, f.Status = true, c.serverError()
	case ChaosStoreThenHang:
		f.AfterStore, f.Latency = true, c.cfg.Hang
	case Chaos5xx:
		f.Status = c.serverError()
	case Chaos429, Chaos429MissingHeaders:
		f.Status, f.Reset = http.StatusTooManyRequests, now.Add(c.cfg.Reset)
		if kind == Chaos429MissingHeaders {
			mask := 1 + c.rng.IntN(7) // a non-empty subset of the three
			for i, name := range []string{headerLimit, headerRemaining, headerReset} {
				if mask&(1<<i) != 0 {
					f.OmitHeaders = append(f.OmitHeaders, name)
				}
			}
		}
	case ChaosLatency:
		f.Latency = 1 + time.Duration(c.rng.Int64N(int64(c.cfg.Hang)))
	}
	return f, kind
}
