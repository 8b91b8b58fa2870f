package actors_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
)

// storeStats times the store's write calls the runtime makes while it
// runs, to tell the store's share of a fire's lateness from the runtime's.
type storeStats struct {
	store.Store
	mu    sync.Mutex
	calls map[string][]time.Duration
	items map[string]int
	// claimed is when the CreateJobs call that created and claimed each
	// fire returned: the fire's commit, later than the claim's At (the
	// time the batch began) by the write itself.
	claimed map[fireKey]time.Time
}

// fireKey names a fire: its schedule and planned instant.
type fireKey struct {
	schedule string
	planned  int64
}

func (s *storeStats) note(op string, start time.Time, items int) {
	d := time.Since(start)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls == nil {
		s.calls, s.items = map[string][]time.Duration{}, map[string]int{}
	}
	s.calls[op] = append(s.calls[op], d)
	s.items[op] += items
}

func (s *storeStats) CreateJobs(ctx context.Context, p store.CreateJobsParams) ([]store.CreateResult, error) {
	defer s.note("CreateJobs", time.Now(), len(p.Jobs))
	res, err := s.Store.CreateJobs(ctx, p)
	end := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed == nil {
		s.claimed = map[fireKey]time.Time{}
	}
	for _, r := range res {
		if r.Claim != nil {
			s.claimed[fireKey{r.Job.ScheduleID, r.Job.PlannedAt.UnixNano()}] = end
		}
	}
	return res, err
}

// commitLateness returns, sorted, how late each fire of recs was committed
// claimed: the return of its CreateJobs call minus its planned instant.
func (s *storeStats) commitLateness(recs []*fireRecord) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ds []time.Duration
	for _, r := range recs {
		if at, ok := s.claimed[fireKey{r.schedule, r.planned.UnixNano()}]; ok {
			ds = append(ds, at.Sub(r.planned))
		}
	}
	slices.Sort(ds)
	return ds
}

func (s *storeStats) ClaimJobs(ctx context.Context, p store.ClaimJobsParams) ([]store.Change, error) {
	op := "ClaimJobs(ids)"
	if len(p.IDs) == 0 {
		op = "ClaimJobs(due)"
	}
	defer s.note(op, time.Now(), len(p.IDs))
	return s.Store.ClaimJobs(ctx, p)
}

func (s *storeStats) Transition(ctx context.Context, p ...store.TransitionParams) ([]store.TransitionResult, error) {
	defer s.note("Transition", time.Now(), len(p))
	return s.Store.Transition(ctx, p...)
}

// log writes, per operation, the calls, the items they carried, and the
// median and largest call time.
func (s *storeStats) log(b *testing.B) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range []string{"CreateJobs", "ClaimJobs(ids)", "ClaimJobs(due)", "Transition"} {
		ds := slices.Sorted(slices.Values(s.calls[op]))
		if len(ds) > 0 {
			b.Logf("store %-15s %6d calls, %7d items, median %v, max %v", op, len(ds), s.items[op], ds[len(ds)/2], ds[len(ds)-1])
		}
	}
}
