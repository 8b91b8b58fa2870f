package postgres_test

import (
	"context"
	"testing"

	"github.com/herald-social/herald/store/postgres/pgtest"
	"github.com/herald-social/herald/store/storetest"
)

// BenchmarkFires1M reads the latest fire of 1,000,000 schedules, as a node
// starting with them does: by their IDs (LatestFires) and all at once
// (AllLatestFires). The schema is seeded once, straight in SQL; a run takes
// a minute, so it is skipped unless HERALD_BENCH_STORE_1M=1. Besides ns/op it
// reports this process's CPU time per read (cpu-s/op, user+sys; the
// server's share is not in it), which suffers less than ns/op when others
// share the machine.
//
//	HERALD_BENCH_STORE_1M=1 HERALD_TEST_POSTGRES_URL=... go test -run='^$' -bench=Fires1M -count=3 ./store/postgres/
func BenchmarkFires1M(b *testing.B) {
	storetest.SkipUnlessFires1M(b)
	s := pgtest.Open(b)
	ctx := context.Background()
	// IDs as the engine benchmarks name schedules; one in 100 has only
	// manual jobs (no planned instant).
	_, err := s.Pool().Exec(ctx, `INSERT INTO schedule_fires (schedule_id, last_run, last_planned_at)
		SELECT 's-' || lpad(i::text, 7, '0'), i % 1000 + 1,
			CASE WHEN i % 100 = 0 THEN NULL ELSE 1800000000000000000 + i * 1000000000::bigint END
		FROM generate_series(0, $1::int - 1) AS i`, storetest.Fires1M)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	// As a table that has lived: statistics known, visibility map set.
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE schedule_fires`); err != nil {
		b.Fatalf("vacuum: %v", err)
	}
	storetest.BenchLatestFires(b, s)
}
