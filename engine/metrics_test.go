package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
)

// Each Observer call lands in its series, with its labels.
func TestObserverSeries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		events func(o actors.Observer)
		metric string
		want   string
	}{
		{
			name: "fires by schedule and trigger",
			events: func(o actors.Observer) {
				o.Fired("daily", store.TriggerScheduled)
				o.Fired("daily", store.TriggerScheduled)
				o.Fired("daily", store.TriggerCatchup)
				o.Fired("launch", store.TriggerManual)
			},
			metric: "herald_fires_total",
			want: `
				herald_fires_total{schedule_id="daily",trigger="catchup"} 1
				herald_fires_total{schedule_id="daily",trigger="scheduled"} 2
				herald_fires_total{schedule_id="launch",trigger="manual"} 1
			`,
		},
		{
			name: "skipped fires by reason, every reason from zero, no schedule label",
			events: func(o actors.Observer) {
				o.FireSkipped("daily", actors.SkipPaused)
				o.FireSkipped("weekly", actors.SkipPaused)
				o.FireSkipped("daily", actors.SkipExpired)
			},
			metric: "herald_fires_skipped_total",
			want: `
				herald_fires_skipped_total{reason="expired"} 1
				herald_fires_skipped_total{reason="missed"} 0
				herald_fires_skipped_total{reason="paused"} 2
			`,
		},
		{
			name: "transitions, a creation from new",
			events: func(o actors.Observer) {
				o.Transition("", store.StatusPlanned)
				o.Transition("", store.StatusMissed)
				o.Transition(store.StatusPlanned, store.StatusRunning)
				o.Transition(store.StatusRunning, store.StatusSucceeded)
				o.Transition(store.StatusRetrying, store.StatusRunning)
			},
			metric: "herald_job_transitions_total",
			want: `
				herald_job_transitions_total{from="new",to="missed"} 1
				herald_job_transitions_total{from="new",to="planned"} 1
				herald_job_transitions_total{from="planned",to="running"} 1
				herald_job_transitions_total{from="retrying",to="running"} 1
				herald_job_transitions_total{from="running",to="succeeded"} 1
			`,
		},
		{
			name: "dead letters by schedule and reason",
			events: func(o actors.Observer) {
				o.DeadLetter("daily", "rejected")
				o.DeadLetter("daily", "rejected")
				o.DeadLetter("weekly", "expired")
			},
			metric: "herald_dead_letters_total",
			want: `
				herald_dead_letters_total{reason="expired",schedule_id="weekly"} 1
				herald_dead_letters_total{reason="rejected",schedule_id="daily"} 2
			`,
		},
		{
			name:   "actor restarts",
			events: func(o actors.Observer) { o.ActorRestarted(); o.ActorRestarted() },
			metric: "herald_actor_restarts_total",
			want:   `herald_actor_restarts_total 2`,
		},
		{
			name: "snapshots by account",
			events: func(o actors.Observer) {
				o.MetricsCaptured("brand", 3)
				o.MetricsCaptured("brand", 2)
				o.MetricsCaptured("other", 1)
			},
			metric: "herald_metrics_snapshots_total",
			want: `
				herald_metrics_snapshots_total{account="brand"} 5
				herald_metrics_snapshots_total{account="other"} 1
			`,
		},
		{
			name:   "fire writes",
			events: func(o actors.Observer) { o.FireWrites(20); o.FireWrites(3) },
			metric: "herald_fire_writes_total",
			want:   `herald_fire_writes_total 23`,
		},
		{
			name: "fire locks by result, every result from zero",
			events: func(o actors.Observer) {
				o.FireLocks(actors.FireLockWon, 12)
				o.FireLocks(actors.FireLockLost, 8)
			},
			metric: "herald_fire_locks_total",
			want: `
				herald_fire_locks_total{result="error"} 0
				herald_fire_locks_total{result="lost"} 8
				herald_fire_locks_total{result="won"} 12
			`,
		},
		{
			name: "redis round trips by op",
			events: func(o actors.Observer) {
				o.FireLockRoundTrip(actors.OpFireLock)
				o.FireLockRoundTrip(actors.OpFireLock)
				o.FireLockRoundTrip(actors.OpFireDone)
			},
			metric: "herald_redis_round_trips_total",
			want: `
				herald_redis_round_trips_total{op="fire_done"} 1
				herald_redis_round_trips_total{op="fire_lock"} 2
				herald_redis_round_trips_total{op="fire_verify"} 0
			`,
		},
		{
			name:   "dropped fires by reason, no schedule label",
			events: func(o actors.Observer) { o.FireDropped("daily", actors.DropStoreUnavailable) },
			metric: "herald_fires_dropped_total",
			want:   `herald_fires_dropped_total{reason="store_unavailable"} 1`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := newEngineMetrics()
			tt.events(m)
			if err := testutil.GatherAndCompare(m.registry, strings.NewReader(expo(m, tt.metric, tt.want)), tt.metric); err != nil {
				t.Error(err)
			}
		})
	}
}

// expo prefixes want with the HELP and TYPE lines of the metric, as
// registered: the comparison then also checks the type.
func expo(m *engineMetrics, name, want string) string {
	mfs, err := m.registry.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return fmt.Sprintf("# HELP %s %s\n# TYPE %s %s\n%s\n", name, mf.GetHelp(), name,
				strings.ToLower(mf.GetType().String()), strings.TrimSpace(want))
		}
	}
	return want // absent: the comparison fails and says so
}

func TestFireLatenessHistogram(t *testing.T) {
	t.Parallel()
	m := newEngineMetrics()
	m.FireLate(3 * time.Millisecond)
	m.FireLate(700 * time.Millisecond)
	m.FireLate(90 * time.Second)
	want := `
		herald_fire_lateness_seconds_bucket{le="0.001"} 0
		herald_fire_lateness_seconds_bucket{le="0.0025"} 0
		herald_fire_lateness_seconds_bucket{le="0.005"} 1
		herald_fire_lateness_seconds_bucket{le="0.01"} 1
		herald_fire_lateness_seconds_bucket{le="0.025"} 1
		herald_fire_lateness_seconds_bucket{le="0.05"} 1
		herald_fire_lateness_seconds_bucket{le="0.1"} 1
		herald_fire_lateness_seconds_bucket{le="0.25"} 1
		herald_fire_lateness_seconds_bucket{le="0.5"} 1
		herald_fire_lateness_seconds_bucket{le="1"} 2
		herald_fire_lateness_seconds_bucket{le="2.5"} 2
		herald_fire_lateness_seconds_bucket{le="5"} 2
		herald_fire_lateness_seconds_bucket{le="10"} 2
		herald_fire_lateness_seconds_bucket{le="30"} 2
		herald_fire_lateness_seconds_bucket{le="60"} 2
		herald_fire_lateness_seconds_bucket{le="+Inf"} 3
		herald_fire_lateness_seconds_sum 90.703
		herald_fire_lateness_seconds_count 3
	`
	if err := testutil.GatherAndCompare(m.registry, strings.NewReader(expo(m, "herald_fire_lateness_seconds", want)), "herald_fire_lateness_seconds"); err != nil {
		t.Error(err)
	}
}

func TestPublishDurationByAccountAndOutcome(t *testing.T) {
	t.Parallel()
	m := newEngineMetrics()
	m.Published("brand", actors.OutcomeSucceeded, 200*time.Millisecond)
	m.Published("brand", actors.OutcomeSucceeded, 2*time.Second)
	m.Published("brand", actors.OutcomeDeferred, 0)
	m.Published("other", actors.OutcomeAmbiguous, 30*time.Second)
	for _, tt := range []struct {
		account string
		outcome actors.PublishOutcome
		count   uint64
		sum     float64
	}{
		{"brand", actors.OutcomeSucceeded, 2, 2.2},
		{"brand", actors.OutcomeDeferred, 1, 0},
		{"other", actors.OutcomeAmbiguous, 1, 30},
		{"brand", actors.OutcomeTransient, 0, 0},
	} {
		count, sum := histogramOf(t, m.registry, "herald_publish_duration_seconds", "account", tt.account, "outcome", string(tt.outcome))
		if count != tt.count || !near(sum, tt.sum) {
			t.Errorf("%s/%s: count %d sum %v, want %d and %v", tt.account, tt.outcome, count, sum, tt.count, tt.sum)
		}
	}
}

func TestReloadsByResult(t *testing.T) {
	t.Parallel()
	e := &Engine{metrics: newEngineMetrics()}
	e.observeReload(ReloadResult{Result: "ok"})
	e.observeReload(ReloadResult{Result: "ok"})
	e.observeReload(ReloadResult{Result: "error"})
	if ok, bad := testutil.ToFloat64(e.metrics.reloads.WithLabelValues("ok")), testutil.ToFloat64(e.metrics.reloads.WithLabelValues("error")); ok != 2 || bad != 1 {
		t.Errorf("reloads ok %v, error %v; want 2 and 1", ok, bad)
	}
}

// The configuration and the accounts' rate-limit budgets are read at
// scrape time: a change shows in the next scrape, with no hook.
func TestStateReadAtScrapeTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	clk := clock.NewFake(t0)
	limiter := ratelimit.NewMemory(clk)
	pf, err := x.New(x.Options{Store: tokenStore{s, clk}, Clock: clk, Limiter: limiter, DryRun: dryrun.New(slog.New(slog.DiscardHandler)),
		Secrets: x.Resolver{LookupEnv: func(name string) (string, bool) { return "secret-" + name, true }}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, `
accounts:
  brand:
    platform: x
    oauth2: {access_token: env:BRAND_TOKEN, client_id: env:BRAND_CLIENT}
  quiet: {platform: x}
schedules:
  - {id: a, account: brand, cron: "0 9 * * *", post: {text: a}}
  - {id: b, account: quiet, cron: "0 9 * * *", post: {text: b}}
  - {id: c, account: quiet, cron: "0 9 * * *", enabled: false, post: {text: c}}
`)
	if err := pf.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	e := &Engine{metrics: newEngineMetrics(), platform: pf, logger: slog.New(slog.DiscardHandler)}
	var opts actors.Options
	e.instrument(&opts)
	e.instrument(&opts) // a second call registers nothing twice
	if opts.Observer != actors.Observer(e.metrics) {
		t.Fatalf("instrument set Observer %T, want the engine's metrics", opts.Observer)
	}

	// Nothing loaded yet.
	if err := testutil.GatherAndCompare(e.metrics.registry, strings.NewReader(expo(e.metrics, "herald_schedules_loaded", "herald_schedules_loaded 0")),
		"herald_schedules_loaded", "herald_config_info", "herald_rate_limit_remaining"); err != nil {
		t.Error(err)
	}

	e.mu.Lock()
	e.current = cfg
	e.mu.Unlock()
	subj, windows := pf.Windows("brand")
	for range 3 {
		if r, err := limiter.Reserve(ctx, subj, ratelimit.EndpointCreatePost, windows[ratelimit.EndpointCreatePost]); err != nil || !r.OK {
			t.Fatalf("Reserve = %+v, %v", r, err)
		}
	}
	// The dry-run account has no windows; the X account all of its
	// preset's (app windows because it names its app).
	want := expo(e.metrics, "herald_schedules_loaded", "herald_schedules_loaded 3") +
		expo(e.metrics, "herald_config_info", fmt.Sprintf(`herald_config_info{revision=%q} 1`, cfg.Revision)) +
		expo(e.metrics, "herald_rate_limit_remaining", `
			herald_rate_limit_remaining{account="brand",endpoint="create_post",scope="app",window="24h"} 9997
			herald_rate_limit_remaining{account="brand",endpoint="create_post",scope="user",window="15m"} 97
			herald_rate_limit_remaining{account="brand",endpoint="delete_post",scope="user",window="15m"} 50
			herald_rate_limit_remaining{account="brand",endpoint="lookup_posts",scope="app",window="15m"} 3500
			herald_rate_limit_remaining{account="brand",endpoint="lookup_posts",scope="user",window="15m"} 5000
			herald_rate_limit_remaining{account="brand",endpoint="media_upload",scope="user",window="15m"} 1875
			herald_rate_limit_remaining{account="brand",endpoint="user_posts",scope="user",window="15m"} 900
		`)
	if err := testutil.GatherAndCompare(e.metrics.registry, strings.NewReader(want),
		"herald_schedules_loaded", "herald_config_info", "herald_rate_limit_remaining"); err != nil {
		t.Error(err)
	}

	// And over HTTP, in the text format.
	rec := httptest.NewRecorder()
	e.metricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || !bytes.Contains(body, []byte(`herald_rate_limit_remaining{account="brand",endpoint="create_post",scope="user",window="15m"} 97`)) {
		t.Errorf("GET /metrics = %d:\n%s", rec.Code, body)
	}
}

// promlint checks names, units, help and label conventions of every
// family, once each has a sample.
func TestMetricsFollowNamingConventions(t *testing.T) {
	t.Parallel()
	e := &Engine{metrics: newEngineMetrics(), current: loadConfig(t, observedPlan)}
	e.instrument(&actors.Options{})
	m := e.metrics
	m.Fired("a", store.TriggerScheduled)
	m.FireSkipped("a", actors.SkipPaused)
	m.FireLate(time.Second)
	m.Transition("", store.StatusPlanned)
	m.Published("brand", actors.OutcomeSucceeded, time.Second)
	m.DeadLetter("a", "rejected")
	m.ActorRestarted()
	m.MetricsCaptured("brand", 1)
	e.observeReload(ReloadResult{Result: "ok"})
	problems, err := testutil.GatherAndLint(m.registry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

func TestWindowLabel(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		15 * time.Minute: "15m", 24 * time.Hour: "24h", 90 * time.Second: "1m30s", time.Hour + 30*time.Minute: "1h30m", 45 * time.Second: "45s",
	} {
		if got := windowLabel(d); got != want {
			t.Errorf("windowLabel(%v) = %q, want %q", d, got, want)
		}
	}
}

// scriptedPlatform publishes every schedule's post except those it is
// told to fail, and reads every post's metrics.
type scriptedPlatform struct {
	fail map[string]error // by schedule id; read-only once running
}

func (p *scriptedPlatform) Publish(_ context.Context, post platform.Post, _ platform.Hooks) (platform.Result, error) {
	if err := p.fail[post.ScheduleID]; err != nil {
		return platform.Result{}, err
	}
	return platform.Result{IDs: []string{fmt.Sprintf("%s-%d", post.ScheduleID, post.JobID)}}, nil
}

func (p *scriptedPlatform) Find(_ context.Context, _ string, posts []platform.Post) ([][]string, error) {
	return make([][]string, len(posts)), nil
}

func (p *scriptedPlatform) Settled(string, time.Time, time.Time) bool { return true }

func (p *scriptedPlatform) PostMetrics(_ context.Context, _ string, ids []string) ([]platform.Metrics, error) {
	out := make([]platform.Metrics, len(ids))
	for i, id := range ids {
		out[i] = platform.Metrics{PostID: id, Likes: 1}
	}
	return out, nil
}

const observedPlan = `
accounts:
  brand: {platform: x}
schedules:
  - {id: ok, account: brand, cron: "* * * * *", metrics: [1m], post: {text: "ok {{ .Run }}"}}
  - {id: rejected, account: brand, cron: "* * * * *", post: {text: "rejected {{ .Run }}"}}
  - {id: late, account: brand, cron: "* * * * *", deadline: 30s, post: {text: "late {{ .Run }}"}}
  - {id: paused, account: brand, cron: "* * * * *", post: {text: "paused {{ .Run }}"}}
  - {id: hourly, account: brand, cron: "0 * * * *", catchup: 1m, post: {text: "hourly {{ .Run }}"}}
`

// A real runtime reports through the engine's metrics what it does: fires,
// a catch-up and the fires missed before it, a paused fire, a rejected
// post, a post whose rate-limit wait runs past its deadline, lateness,
// transitions, publish outcomes and metrics snapshots.
func TestRuntimeReportsThroughTheMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := newEngineMetrics()
	clk := clock.NewFake(t0.Add(10 * time.Second))
	pf := &scriptedPlatform{fail: map[string]error{
		"rejected": fmt.Errorf("403: %w", platform.ErrPermanent),
		"late":     &platform.DeferredError{Until: t0.Add(time.Hour), Reason: "window used up"},
	}}
	rt := startRuntime(t, actors.Options{Platform: pf, Clock: clk, Observer: m})
	rt.SetPauses(map[string]store.Pause{"paused": {At: t0}})
	// hourly last fired 5h ago: t0-4h .. t0-1h are missed, t0 (10s ago,
	// within its 1m catch-up) is published now, 10s late.
	if _, err := rt.Apply(ctx, loadConfig(t, observedPlan), map[string]store.Fire{"hourly": {PlannedAt: t0.Add(-5 * time.Hour)}}, "test"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the catch-up published", func() bool {
		return valueOf(t, m.registry, "herald_job_transitions_total", "from", "running", "to", "succeeded") == 1
	})
	if c, sum := histogramOf(t, m.registry, "herald_fire_lateness_seconds"); c != 1 || !near(sum, 10) {
		t.Errorf("lateness after the catch-up: count %d sum %v, want 1 and 10", c, sum)
	}

	// Four schedule timers at t0+1m, hourly's at t0+1h, the dispatcher's
	// sleep: all armed before the clock moves.
	eventually(t, "six timers armed", func() bool { return clk.Pending() >= 6 })
	clk.Set(t0.Add(time.Minute))
	eventually(t, "the minute's fires settled", func() bool {
		return valueOf(t, m.registry, "herald_job_transitions_total", "from", "running", "to", "succeeded") == 2 &&
			valueOf(t, m.registry, "herald_job_transitions_total", "from", "running", "to", "dead") == 2 &&
			valueOf(t, m.registry, "herald_fires_skipped_total", "reason", "paused") == 1
	})

	for _, tt := range []struct {
		metric string
		labels []string
		want   float64
	}{
		{"herald_fires_total", []string{"schedule_id", "ok", "trigger", "scheduled"}, 1},
		{"herald_fires_total", []string{"schedule_id", "rejected", "trigger", "scheduled"}, 1},
		{"herald_fires_total", []string{"schedule_id", "late", "trigger", "scheduled"}, 1},
		{"herald_fires_total", []string{"schedule_id", "hourly", "trigger", "catchup"}, 1},
		{"herald_fires_total", []string{"schedule_id", "paused"}, 0},
		{"herald_fires_skipped_total", []string{"reason", "missed"}, 4},
		{"herald_fires_skipped_total", []string{"reason", "expired"}, 1},
		{"herald_job_transitions_total", []string{"from", "new", "to", "planned"}, 4},
		{"herald_job_transitions_total", []string{"from", "new", "to", "missed"}, 4},
		{"herald_job_transitions_total", []string{"from", "planned", "to", "running"}, 4},
		{"herald_dead_letters_total", []string{"schedule_id", "rejected", "reason", "rejected"}, 1},
		{"herald_dead_letters_total", []string{"schedule_id", "late", "reason", "expired"}, 1},
		{"herald_actor_restarts_total", nil, 0},
	} {
		if got := valueOf(t, m.registry, tt.metric, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.metric, tt.labels, got, tt.want)
		}
	}
	// The fake clock stood still during each publish: durations are 0, the
	// counts are what matters.
	for outcome, want := range map[actors.PublishOutcome]uint64{actors.OutcomeSucceeded: 2, actors.OutcomePermanent: 1, actors.OutcomeDeferred: 1, actors.OutcomeTransient: 0} {
		if c, _ := histogramOf(t, m.registry, "herald_publish_duration_seconds", "account", "brand", "outcome", string(outcome)); c != want {
			t.Errorf("publishes %s: %d, want %d", outcome, c, want)
		}
	}
	// The minute's three claims were on time; the catch-up's 10s stays.
	if c, sum := histogramOf(t, m.registry, "herald_fire_lateness_seconds"); c != 4 || !near(sum, 10) {
		t.Errorf("lateness: count %d sum %v, want 4 and 10", c, sum)
	}

	// ok's post is captured a minute after it was published.
	clk.Set(t0.Add(2 * time.Minute))
	eventually(t, "a metrics snapshot", func() bool {
		return valueOf(t, m.registry, "herald_metrics_snapshots_total", "account", "brand") == 1
	})
}

// panicSpec is a schedule timing that panics, standing for a bug in a
// schedule actor.
type panicSpec struct{}

func (panicSpec) Next(time.Time) (time.Time, bool) { panic("boom") }
func (panicSpec) Location() *time.Location         { return time.UTC }

// A panicking schedule actor's restarts are counted; its final stop is not.
func TestActorRestartsCounted(t *testing.T) {
	t.Parallel()
	m := newEngineMetrics()
	logs := &syncBuffer{}
	rt := startRuntime(t, actors.Options{Platform: &scriptedPlatform{}, Clock: clock.NewFake(t0), Observer: m,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	cfg := loadConfig(t, observedPlan)
	cfg.Schedules[0].Spec, cfg.Schedules[0].Hash = panicSpec{}, "panics"
	if _, err := rt.Apply(context.Background(), cfg, nil, "test"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the failing actor stopped", func() bool {
		return strings.Contains(logs.String(), "schedule actor stopped after repeated failures")
	})
	// The supervisor restarts a failing actor 3 times (actors.maxRestarts)
	// before it stops it.
	if got := valueOf(t, m.registry, "herald_actor_restarts_total"); got != 3 {
		t.Errorf("herald_actor_restarts_total = %v, want 3", got)
	}
}

var t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) store.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func loadConfig(t *testing.T, yaml string) *schedules.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "plan.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := schedules.Load(schedules.LoadOptions{}, p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startRuntime starts an actors runtime on a fresh store, with schedule
// timers straight on the clock (so that tests see them) and a dispatcher
// that stays asleep unless a test moves the clock an hour.
func startRuntime(t *testing.T, o actors.Options) *actors.Runtime {
	t.Helper()
	o.Store, o.Node, o.Timers, o.DispatchInterval = openStore(t), "node-a", o.Clock, time.Hour
	rt, err := actors.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Stop(context.Background(), time.Second) })
	return rt
}

// eventually polls cond until it holds, failing after a generous deadline:
// the actors run on their own goroutines even under a fake clock.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// valueOf sums the counters and gauges of a family whose labels include
// the given name/value pairs (0 when none matches).
func valueOf(t *testing.T, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	v, _, _ := sumSeries(t, g, name, labels)
	return v
}

// histogramOf sums the sample counts and sums of the matching histograms.
func histogramOf(t *testing.T, g prometheus.Gatherer, name string, labels ...string) (uint64, float64) {
	t.Helper()
	_, count, sum := sumSeries(t, g, name, labels)
	return count, sum
}

func sumSeries(t *testing.T, g prometheus.Gatherer, name string, labels []string) (value float64, count uint64, sum float64) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue metrics
				}
			}
			value += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			count += m.GetHistogram().GetSampleCount()
			sum += m.GetHistogram().GetSampleSum()
		}
	}
	return value, count, sum
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// syncBuffer is a log sink shared by the actors' goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
