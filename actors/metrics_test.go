package actors

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/store"
)

// TestMetricsCapturedAtTheirStages publishes to a fake X on the same fake
// clock as Herald, then captures the post's metrics at 1h and, after a
// restart during which the 24h stage came due, late but not lost.
func TestMetricsCapturedAtTheirStages(t *testing.T) {
	h := newHarness(t)
	fake := fakex.New(fakex.Options{Clock: h.clock})
	srv := httptest.NewServer(fake)
	defer srv.Close()
	// Access tokens live 2 hours at the fake: the 24h stage needs a refresh.
	fake.AddUser(fakex.User{ID: "42", Username: "brand", AccessToken: "at-brand", RefreshToken: "rt-brand", ClientID: "cid"})
	secrets := map[string]string{"X_AT": "at-brand", "X_RT": "rt-brand", "X_CID": "cid"}
	pf, err := x.New(x.Options{
		BaseURL: srv.URL, Store: xTokens{h.store, h.clock}, Clock: h.clock, DryRun: dryrun.New(slog.New(slog.DiscardHandler)),
		TokenKey: []byte("0123456789abcdef0123456789abcdef"),
		Secrets:  x.Resolver{LookupEnv: func(k string) (string, bool) { v, ok := secrets[k]; return v, ok }},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := h.load(`
accounts:
  brand: {platform: x, oauth2: {access_token: env:X_AT, refresh_token: env:X_RT, client_id: env:X_CID}}
schedules:
  - id: launch
    account: brand
    at: 2026-06-01T12:01:00
    post: {text: "We launch today"}
    metrics: [1h, 24h]
`)
	if err := pf.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	h.platform = pf
	h.tune = func(o *Options) { o.MetricsPoll = 72 * time.Hour }

	rt := h.runtime("node-a")
	if _, err := rt.Apply(context.Background(), cfg, nil, "test"); err != nil {
		t.Fatal(err)
	}
	published := t0.Add(time.Minute)
	h.advanceTo(published)
	h.eventually("published", func() bool {
		j := h.jobs("launch")
		return len(j) == 1 && j[0].Status == store.StatusSucceeded
	})
	job := h.jobs("launch")[0]
	fake.SetMetrics(job.PostIDs[0], fakex.Metrics{Public: fakex.PublicMetrics{LikeCount: 5, ImpressionCount: 100}, NonPublic: fakex.NonPublicMetrics{URLLinkClicks: 2}})

	h.advanceTo(published.Add(time.Hour))
	snaps := h.waitSnapshots(job.ID, 1)
	if s := snaps[0]; s.Stage != time.Hour || s.Likes != 5 || s.Impressions != 100 || s.NonPublic["url_link_clicks"] != 2 || !s.CapturedAt.Equal(published.Add(time.Hour)) {
		t.Errorf("1h snapshot %+v", s)
	}

	// Down across the 24h stage; the task is durable and captured late.
	if err := rt.Stop(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	fake.SetMetrics(job.PostIDs[0], fakex.Metrics{Public: fakex.PublicMetrics{LikeCount: 40, ImpressionCount: 900}})
	late := published.Add(27 * time.Hour)
	h.clock.Set(late)
	h.runtime("node-a")
	defer func() {
		if t.Failed() {
			for _, l := range h.logs.lines() {
				t.Log(l)
			}
		}
	}()
	snaps = h.waitSnapshots(job.ID, 2)
	if s := snaps[1]; s.Stage != 24*time.Hour || s.Likes != 40 || !s.CapturedAt.Equal(late) || !s.DueAt.Equal(published.Add(24*time.Hour)) {
		t.Errorf("24h snapshot %+v", s)
	}
	lookups := 0 // answered ones (the 24h lookup first meets an expired token: 401, refresh, again)
	for _, r := range fake.Requests() {
		if r.Endpoint == fakex.EndpointLookupPosts && r.Status == http.StatusOK {
			lookups++
		}
	}
	if lookups != 2 {
		t.Errorf("%d lookups at the fake, want one per stage", lookups)
	}
}

func (h *harness) waitSnapshots(jobID int64, n int) []store.MetricsSnapshot {
	h.t.Helper()
	var snaps []store.MetricsSnapshot
	h.eventually("metrics snapshots", func() bool {
		var err error
		snaps, err = h.store.PostMetrics(context.Background(), jobID)
		if err != nil {
			h.t.Fatal(err)
		}
		return len(snaps) >= n
	})
	return snaps
}
