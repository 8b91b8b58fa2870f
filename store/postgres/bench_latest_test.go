package postgres_test

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// fires1M is the number of schedules a node starts with in the start-up
// goal (issue 3): every one has a latest fire.
const fires1M = 1_000_000

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
	if os.Getenv("HERALD_BENCH_STORE_1M") != "1" {
		b.Skip("set HERALD_BENCH_STORE_1M=1 to read 1,000,000 latest fires")
	}
	s := pgtest.Open(b)
	ctx := context.Background()
	// IDs as the engine benchmarks name schedules; one in 100 has only
	// manual jobs (no planned instant).
	_, err := s.Pool().Exec(ctx, `INSERT INTO schedule_fires (schedule_id, last_run, last_planned_at)
		SELECT 's-' || lpad(i::text, 7, '0'), i % 1000 + 1,
			CASE WHEN i % 100 = 0 THEN NULL ELSE 1800000000000000000 + i * 1000000000::bigint END
		FROM generate_series(0, $1::int - 1) AS i`, fires1M)
	if err != nil {
		b.Fatalf("seed: %v", err)
	}
	// As a table that has lived: statistics known, visibility map set.
	if _, err := s.Pool().Exec(ctx, `VACUUM ANALYZE schedule_fires`); err != nil {
		b.Fatalf("vacuum: %v", err)
	}
	ids := make([]string, fires1M)
	for i := range ids {
		ids[i] = fmt.Sprintf("s-%07d", i)
	}
	b.Run("LatestFires", func(b *testing.B) {
		benchRead(b, func() (map[string]store.Fire, error) { return s.LatestFires(ctx, ids) })
	})
	b.Run("AllLatestFires", func(b *testing.B) {
		benchRead(b, func() (map[string]store.Fire, error) { return s.AllLatestFires(ctx) })
	})
}

// benchRead runs read in a loop, checks what it read, and reports cpu-s/op.
func benchRead(b *testing.B, read func() (map[string]store.Fire, error)) {
	b.ReportAllocs()
	cpu0 := cpuTime()
	var got map[string]store.Fire
	for b.Loop() {
		var err error
		if got, err = read(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	if len(got) != fires1M {
		b.Fatalf("read %d fires, want %d", len(got), fires1M)
	}
	if f := got["s-0000100"]; f.Run != 101 || !f.PlannedAt.IsZero() {
		b.Errorf("s-0000100: %+v, want run 101 and no planned instant", f)
	}
	if f := got["s-0000101"]; f.Run != 102 || f.PlannedAt.UnixNano() != 1800000101000000000 || f.PlannedAt.Location() != time.UTC {
		b.Errorf("s-0000101: %+v, want run 102 planned at 1800000101000000000 UTC", f)
	}
}

// cpuTime is this process's CPU time so far, over all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
