package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/herald-social/herald/store/sqlite"
	"github.com/herald-social/herald/store/storetest"
)

// BenchmarkFires1M reads the latest fire of 1,000,000 schedules from a
// database file, as a node starting with them does: by their IDs
// (LatestFires) and all at once (AllLatestFires). The file is seeded once,
// straight in SQL; a run takes a minute, so it is skipped unless
// HERALD_BENCH_STORE_1M=1. Besides ns/op it reports the CPU time per read
// (cpu-s/op, user+sys; SQLite runs in this process, so it is all of it),
// which suffers less than ns/op when others share the machine.
//
//	HERALD_BENCH_STORE_1M=1 go test -run='^$' -bench=Fires1M -count=3 ./store/sqlite/
func BenchmarkFires1M(b *testing.B) {
	storetest.SkipUnlessFires1M(b)
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "herald.db"), sqlite.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	// IDs as the engine benchmarks name schedules; one in 100 has only
	// manual jobs (no planned instant).
	_, err = s.DB().ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
		INSERT INTO schedule_fires (schedule_id, last_run, last_planned_at)
		SELECT printf('s-%07d', i), i % 1000 + 1,
			CASE WHEN i % 100 = 0 THEN NULL ELSE 1800000000000000000 + i * 1000000000 END
		FROM n`, storetest.Fires1M)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	if _, err := s.DB().ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatalf("analyze: %v", err)
	}
	storetest.BenchLatestFires(b, s)
}
