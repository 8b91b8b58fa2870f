package actors_test

import (
	"cmp"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// BenchmarkPruneLateness (issue 14): fire lateness of 10,000 schedules
// firing every minute on Postgres, over a store holding old terminal jobs
// (HERALD_BENCH_PRUNE_ROWS rows, half jobs, half their events; default
// 1,000,000), without and with retention pruning them while the fires
// run. The pruner loops as engine's does: batches of 1,000 jobs
// (store.PruneJobs), 50 ms apart (HERALD_BENCH_PRUNE_BATCH and
// HERALD_BENCH_PRUNE_PAUSE_MS change them). Goal: p99 with pruning within 10% of
// the p99 without, over the fires planned while pruning ran (window-p99;
// the whole run's p99 includes the minutes after it finished).
//
//	HERALD_BENCH_ENGINE=1 go test -run='^$' -bench=PruneLateness -benchtime=1x -timeout=60m ./actors/
func BenchmarkPruneLateness(b *testing.B) {
	const pruneWindow = 25 * time.Second
	for _, prune := range []bool{false, true} {
		b.Run(fmt.Sprintf("prune=%t", prune), func(b *testing.B) {
			benchEngine(b)
			rows := envInt("HERALD_BENCH_PRUNE_ROWS")
			if rows == 0 {
				rows = 1_000_000
			}
			pg := pgtest.Open(b)
			seedOldJobs(b, pg.Pool(), rows/2)
			st := &storeStats{Store: pg}
			dir := b.TempDir()
			const n = 10_000
			writeSchedules(b, dir, n, func(i int) string { return fmt.Sprintf(`cron: "%d * * * * *"`, i%60) })
			cfg := loadSchedules(b, dir, n)
			rt := startRuntime(b, st, clock.Real())
			applyConfig(b, rt, st, nil, cfg)
			from := time.Now().Add(warmUp)
			to := from.Add(benchSeconds(130*time.Second) - warmUp)
			ctx, cancel := context.WithCancel(context.Background())
			pruned := make(chan store.PruneResult, 1)
			go func() {
				var total store.PruneResult
				if prune {
					total = pruneAll(ctx, b, pg, from)
				}
				pruned <- total
			}()
			time.Sleep(time.Until(to.Add(drain)))
			cancel()
			total := <-pruned
			if err := rt.Stop(context.Background(), 10*time.Second); err != nil {
				b.Fatal(err)
			}
			recs := readFires(b, st, from, to)
			missed, planned := countMissed(cfg, recs, from, to)
			b.Logf("%d fires planned, %d missed; pruned %+v", planned, missed, total)
			reportLateness(b, lateness(recs))
			// The pruning takes about 30 s per million rows: the fires
			// of its first 25 s, in both runs, are the ones to compare.
			var window []*fireRecord
			for _, r := range recs {
				if r.planned.Before(from.Add(pruneWindow)) {
					window = append(window, r)
				}
			}
			w := lateness(window)
			b.ReportMetric(ms(percentile(w, 0.99)), "window-p99-ms")
			b.Logf("lateness of the %d fires of the first %v: p50 %v, p99 %v, max %v", len(w), pruneWindow,
				percentile(w, 0.5), percentile(w, 0.99), percentile(w, 1))
			b.ReportMetric(float64(missed), "missed")
			b.ReportMetric(float64(total.Jobs+total.Events), "pruned-rows")
		})
	}
}

// seedOldJobs inserts jobs missed a year ago, each with its creation
// event, in one statement each, and analyses the tables.
func seedOldJobs(b *testing.B, pool *pgxpool.Pool, jobs int) {
	b.Helper()
	ctx := context.Background()
	old := time.Now().AddDate(-1, 0, 0).UnixNano()
	start := time.Now()
	for _, st := range []struct {
		q    string
		args []any
	}{
		{`INSERT INTO jobs (schedule_id, planned_at, due_at, status, run, trigger_kind, created_at, updated_at)
		 SELECT 'old-' || (g % 1000), $1::bigint + g, $1::bigint + g, 'missed', g, 'scheduled', $1::bigint + g, $1::bigint + g
		 FROM generate_series(1, $2::bigint) g`, []any{old, jobs}},
		{`INSERT INTO job_events (job_id, at, from_status, to_status, node, attempt, detail)
		 SELECT id, created_at, '', 'missed', 'seed', 0, 'seeded' FROM jobs`, nil},
		{`ANALYZE jobs`, nil},
		{`ANALYZE job_events`, nil},
	} {
		if _, err := pool.Exec(ctx, st.q, st.args...); err != nil {
			b.Fatalf("seeding: %v", err)
		}
	}
	b.Logf("seeded %d old jobs and their events in %v", jobs, time.Since(start))
}

// pruneAll runs pruning rounds as the engine's pruner does, from the
// instant start, until nothing is left or ctx ends.
func pruneAll(ctx context.Context, b *testing.B, st store.Store, start time.Time) store.PruneResult {
	var total store.PruneResult
	batch, pause := cmp.Or(envInt("HERALD_BENCH_PRUNE_BATCH"), 1000), 50*time.Millisecond
	if p := envInt("HERALD_BENCH_PRUNE_PAUSE_MS"); p > 0 {
		pause = time.Duration(p) * time.Millisecond
	}
	b.Logf("pruning in batches of %d jobs, %v apart", batch, pause)
	time.Sleep(time.Until(start))
	began := time.Now()
	for ctx.Err() == nil {
		res, err := st.PruneJobs(ctx, store.PruneParams{Before: time.Now().Add(-90 * 24 * time.Hour), Limit: batch})
		if err != nil {
			if ctx.Err() == nil {
				b.Errorf("PruneJobs: %v", err)
			}
			break
		}
		total.Jobs += res.Jobs
		total.Events += res.Events
		if res.Jobs < batch {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
	}
	b.Logf("pruned %d jobs and %d events in %v", total.Jobs, total.Events, time.Since(began))
	return total
}
