package actors_test

// Helpers of the engine benchmarks (bench_engine_test.go): a platform that
// does nothing, schedule folders written fast, stores, and reading back
// from the store what happened to each fire.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres"
	"github.com/herald-social/herald/store/postgres/pgtest"
	"github.com/herald-social/herald/store/sqlite"
)

// The engine benchmarks run for minutes with the real clock: they skip
// unless HERALD_BENCH_ENGINE=1, so `go test -bench=.` elsewhere is not
// hijacked. HERALD_BENCH_SECONDS overrides a benchmark's run length,
// HERALD_BENCH_PUBLISHERS the publisher pool (default: the runtime's), HERALD_BENCH_BATCH its BatchSize, and
// HERALD_BENCH_STORE (sqlite or postgres, default postgres) the store of the
// memory and reload benchmarks.
func benchEngine(b *testing.B) {
	b.Helper()
	if os.Getenv("HERALD_BENCH_ENGINE") != "1" {
		b.Skip("engine benchmark: set HERALD_BENCH_ENGINE=1 to run it (it takes minutes)")
	}
	b.Logf("loadavg at start: %s", loadavg())
	if l, err := strconv.ParseFloat(strings.Fields(loadavg() + " 0")[0], 64); err == nil {
		b.ReportMetric(l, "load1")
	}
	b.Cleanup(func() { b.Logf("loadavg at end: %s", loadavg()) })
}

func benchSeconds(def time.Duration) time.Duration {
	if s, err := strconv.Atoi(os.Getenv("HERALD_BENCH_SECONDS")); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	return def
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// nopPlatform publishes nothing and returns synthetic ids.
type nopPlatform struct{ n atomic.Int64 }

func (p *nopPlatform) Publish(_ context.Context, post platform.Post, hooks platform.Hooks) (platform.Result, error) {
	res := platform.Result{IDs: slices.Clone(post.Published)}
	for range post.Texts[len(res.IDs):] {
		id := strconv.FormatInt(p.n.Add(1), 10)
		if hooks.Posted != nil {
			if err := hooks.Posted(id, time.Time{}); err != nil {
				return res, err
			}
		}
		res.IDs = append(res.IDs, id)
	}
	return res, nil
}

func (p *nopPlatform) Find(_ context.Context, _ string, posts []platform.Post) ([][]string, error) {
	return make([][]string, len(posts)), nil
}

func (p *nopPlatform) Settled(string, time.Time, time.Time) bool { return true }

// openStore opens an empty store: "sqlite" (a file in a temporary folder)
// or "postgres" (a fresh schema through pgtest).
func openStore(b *testing.B, kind string) store.Store {
	b.Helper()
	if kind == "postgres" {
		return pgtest.Open(b)
	}
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "herald.db"), sqlite.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchStoreKind() string {
	if k := os.Getenv("HERALD_BENCH_STORE"); k != "" {
		return k
	}
	return "postgres"
}

// startRuntime starts a runtime on st with the no-op platform and a
// discarding logger; it is stopped at cleanup if the benchmark did not.
func startRuntime(b *testing.B, st store.Store, clk clock.Clock, tune ...func(*actors.Options)) *actors.Runtime {
	b.Helper()
	opts := actors.Options{Store: st, Platform: &nopPlatform{}, Clock: clk,
		Logger: slog.New(slog.DiscardHandler), Node: "bench", Publishers: envInt("HERALD_BENCH_PUBLISHERS"),
		BatchSize: envInt("HERALD_BENCH_BATCH")}
	// HERALD_BENCH_EAGER=1 spawns every actor at Apply, for an A/B of
	// the dormant start (see actors.Options.EagerActors).
	opts.EagerActors = os.Getenv("HERALD_BENCH_EAGER") == "1"
	for _, f := range tune {
		f(&opts)
	}
	switch c := clk.(type) {
	case *armClock:
		// Watch the schedule timers themselves, not the heap's one timer.
		opts.Clock, opts.Timers = clock.Real(), c
	case *clock.Heap:
		// The caller counts the armed timers (Heap.Len).
		opts.Clock, opts.Timers = clock.Real(), c
	}
	rt, err := actors.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rt.Stop(context.Background(), 10*time.Second) })
	publishers := envInt("HERALD_BENCH_PUBLISHERS")
	if publishers <= 0 {
		publishers = 8 // the actors.Options default
	}
	b.ReportMetric(float64(publishers), "publishers")
	return rt
}

// applyTimes is how long each step of a reload took, and when Apply began.
type applyTimes struct {
	latestFires, apply time.Duration
	applyStart         time.Time
}

// applyConfig does what the engine does on a reload: read the latest fire
// of each enabled schedule that prev (the configuration running, nil at
// start) did not run, then Apply.
func applyConfig(b *testing.B, rt *actors.Runtime, st store.Store, prev, cfg *schedules.Config) (actors.ApplyResult, applyTimes) {
	b.Helper()
	ctx := context.Background()
	ids := actors.StartingSchedules(prev, cfg)
	var t applyTimes
	start := time.Now()
	fires, err := st.LatestFires(ctx, ids)
	if err != nil {
		b.Fatal(err)
	}
	t.latestFires = time.Since(start)
	t.applyStart = time.Now()
	res, err := rt.Apply(ctx, cfg, fires, "bench")
	if err != nil {
		b.Fatal(err)
	}
	t.apply = time.Since(t.applyStart)
	return res, t
}

// schedulesPerFile keeps each file far below the loader's 8 MiB cap.
const schedulesPerFile = 5000

func scheduleID(i int) string { return fmt.Sprintf("s-%07d", i) }

// writeSchedules writes schedules 0..n-1 under dir, schedulesPerFile to a
// file, plus accounts.yaml. timing(i) is schedule i's timing as a YAML
// key: value, for example `cron: "0 * * * * *"`.
func writeSchedules(b *testing.B, dir string, n int, timing func(i int) string) {
	b.Helper()
	err := os.WriteFile(filepath.Join(dir, "accounts.yaml"), []byte("accounts:\n  bench: {platform: x}\n"), 0o644)
	if err != nil {
		b.Fatal(err)
	}
	for f := 0; f*schedulesPerFile < n; f++ {
		writeScheduleFile(b, dir, f, min(n, (f+1)*schedulesPerFile), timing)
	}
}

// writeScheduleFile (re)writes file f, which holds the schedules from
// f*schedulesPerFile to end.
func writeScheduleFile(b *testing.B, dir string, f, end int, timing func(i int) string) {
	var sb strings.Builder
	sb.WriteString("schedules:\n")
	for i := f * schedulesPerFile; i < end; i++ {
		fmt.Fprintf(&sb, "  - {id: %s, account: bench, %s, post: {text: \"post {{ .Run }}\"}}\n", scheduleID(i), timing(i))
	}
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("schedules-%03d.yaml", f)), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}

func loadSchedules(b *testing.B, dir string, want int) *schedules.Config {
	b.Helper()
	return loadSchedulesWith(b, schedules.NewLoader(schedules.LoadOptions{}), dir, want)
}

// loadSchedulesWith loads dir with l, which a reload benchmark keeps as the
// engine keeps its Loader.
func loadSchedulesWith(b *testing.B, l *schedules.Loader, dir string, want int) *schedules.Config {
	b.Helper()
	cfg, err := l.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	if len(cfg.Schedules) != want {
		b.Fatalf("loaded %d schedules, want %d", len(cfg.Schedules), want)
	}
	return cfg
}

// seedLatestFires records, straight in the store's table, a latest fire at
// planned for every schedule of cfg, as a node restarting after a long run
// would find: what LatestFires then reads back.
func seedLatestFires(b *testing.B, st store.Store, cfg *schedules.Config, planned time.Time) {
	b.Helper()
	ids := make([]string, len(cfg.Schedules))
	for i, s := range cfg.Schedules {
		ids[i] = s.ID
	}
	seedLatestFireIDs(b, st, ids, planned)
}

// seedLatestFireIDs is seedLatestFires for schedules named by id.
func seedLatestFireIDs(b *testing.B, st store.Store, ids []string, planned time.Time) {
	b.Helper()
	ctx := context.Background()
	var err error
	switch s := st.(type) {
	case *postgres.Store:
		_, err = s.Pool().CopyFrom(ctx, pgx.Identifier{"schedule_fires"}, []string{"schedule_id", "last_run", "last_planned_at"},
			pgx.CopyFromSlice(len(ids), func(i int) ([]any, error) { return []any{ids[i], int64(1), planned.UnixNano()}, nil }))
		if err == nil {
			// A restarting node finds a settled database, not one still
			// vacuuming, analysing and checkpointing a bulk load (which
			// took a core from the start-up measured after it).
			_, err = s.Pool().Exec(ctx, `VACUUM ANALYZE schedule_fires`)
		}
		if err == nil {
			_, err = s.Pool().Exec(ctx, `CHECKPOINT`)
		}
	case *sqlite.Store:
		var js []byte
		if js, err = json.Marshal(ids); err == nil {
			_, err = s.DB().ExecContext(ctx, `INSERT INTO schedule_fires (schedule_id, last_run, last_planned_at)
				SELECT value, 1, ? FROM json_each(?)`, planned.UnixNano(), string(js))
		}
	default:
		err = fmt.Errorf("unknown store %T", st)
	}
	if err != nil {
		b.Fatal(err)
	}
}

// fireRecord is one job as the store tells it: its first claim (to
// running) and its success, zero when it never got there.
type fireRecord struct {
	schedule                    string
	planned, running, succeeded time.Time
}

// readFires pages through the jobs planned in [from, to) and the whole
// event log.
func readFires(b *testing.B, st store.Store, from, to time.Time) []*fireRecord {
	b.Helper()
	ctx := context.Background()
	byID := map[int64]*fireRecord{}
	var out []*fireRecord
	params := store.ListJobsParams{PlannedFrom: from, PlannedTo: to, Limit: 1000}
	for {
		page, err := st.ListJobs(ctx, params)
		if err != nil {
			b.Fatal(err)
		}
		for _, j := range page.Jobs {
			r := &fireRecord{schedule: j.ScheduleID, planned: j.PlannedAt}
			byID[j.ID] = r
			out = append(out, r)
		}
		if params.PageToken = page.NextPageToken; params.PageToken == "" {
			break
		}
	}
	for after := int64(0); ; {
		events, err := st.ListEvents(ctx, store.ListEventsParams{AfterID: after, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			r := byID[e.JobID]
			switch {
			case r == nil:
			case e.To == store.StatusRunning && r.running.IsZero():
				r.running = e.At
			case e.To == store.StatusSucceeded:
				r.succeeded = e.At
			}
		}
		after = events[len(events)-1].ID
	}
	return out
}

// countMissed counts the fires cfg plans in [from, to) that have no job or
// whose job never succeeded.
func countMissed(cfg *schedules.Config, recs []*fireRecord, from, to time.Time) (missed, planned int) {
	type key struct {
		id string
		at int64
	}
	done := make(map[key]bool, len(recs))
	for _, r := range recs {
		done[key{r.schedule, r.planned.UnixNano()}] = !r.succeeded.IsZero()
	}
	for _, s := range cfg.Schedules {
		for f, ok := s.NextFire(from.Add(-time.Nanosecond)); ok && f.Planned.Before(to); f, ok = s.NextFire(f.Planned) {
			planned++
			if !done[key{s.ID, f.Planned.UnixNano()}] {
				missed++
			}
		}
	}
	return missed, planned
}

// lateness returns, sorted, each claimed fire's claim time minus its
// planned time.
func lateness(recs []*fireRecord) []time.Duration {
	var ds []time.Duration
	for _, r := range recs {
		if !r.running.IsZero() {
			ds = append(ds, r.running.Sub(r.planned))
		}
	}
	slices.Sort(ds)
	return ds
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reportLateness reports p50, p99 and max of sorted lateness.
func reportLateness(b *testing.B, sorted []time.Duration) {
	p50, p99, mx := percentile(sorted, 0.50), percentile(sorted, 0.99), percentile(sorted, 1)
	b.ReportMetric(ms(p50), "p50-ms")
	b.ReportMetric(ms(p99), "p99-ms")
	b.ReportMetric(ms(mx), "max-ms")
	b.Logf("lateness of %d fires: p50 %v, p99 %v, max %v", len(sorted), p50, p99, mx)
}

func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// procStatus reads a field of /proc/self/status in kB (VmRSS, VmHWM), as
// bytes, after returning freed memory to the OS.
func procStatus(field string) uint64 {
	debug.FreeOSMemory()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeakRSS starts VmHWM (peak-rss-MB) again from the current RSS.
func resetPeakRSS(b *testing.B) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("the peak RSS could not be reset, so it includes what came before: %v", err)
	}
}

// armClock is the real clock, noting when a timer is armed for one
// watched instant (within a second) and counting the other long timers
// (over an hour: schedule actors arming their next yearly fire).
type armClock struct {
	clock.Clock
	watch     atomic.Int64 // unix nanos of the instant watched, 0 for none
	armed     chan time.Time
	longArmed atomic.Int64
}

// newArmClock wraps the runtime's default schedule timers (a clock.Heap
// over the real clock); startRuntime passes it as Options.Timers.
func newArmClock() *armClock {
	return &armClock{Clock: clock.NewHeap(clock.Real()), armed: make(chan time.Time, 1)}
}

func (c *armClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	at := c.Now().Add(d)
	if w := c.watch.Load(); w != 0 && at.Sub(time.Unix(0, w)).Abs() < time.Second {
		select {
		case c.armed <- time.Now():
		default:
		}
	} else if d > time.Hour {
		c.longArmed.Add(1)
	}
	return c.Clock.AfterFunc(d, f)
}

// profilePhase writes a CPU profile of one phase of a benchmark to the file
// the environment variable env names, if it is set, and returns what ends
// it. Why: go test -cpuprofile covers the whole run (writing the files,
// stopping a million actors), where a start-up's phases need their own.
func profilePhase(b *testing.B, env string) (stop func()) {
	name := os.Getenv(env)
	if name == "" {
		return func() {}
	}
	f, err := os.Create(name)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
