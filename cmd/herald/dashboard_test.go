package main

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/chromedp/chromedp"

	"github.com/herald-social/herald/dashboard/browsertest"
	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

const dashboardPlan = `accounts:
  brand: {platform: x}
schedules:
  - id: every-second
    account: brand
    cron: "* * * * * *"
    post: {text: "tick {{ .Run }}"}
  - id: hourly
    account: brand
    cron: "0 * * * *"
    post: {text: "hourly {{ .Run }}"}
`

// TestDashboard drives the dashboard in a real headless Chromium against
// the real `herald serve`: the page served at /, a login with an admin
// token, the schedules read from the API, a pause and a resume that the
// API then reports, and a triggered job followed live on the event stream.
func TestDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end with a browser")
	}
	t.Parallel()
	b := browsertest.Start(t)
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", dashboardPlan)
	n := startNodeEnv(t, []string{"HERALD_ADMIN_TOKENS=admin:" + adminToken},
		"--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"),
		"--node-id", "dashboard-e2e", "--dry-run")
	addr := n.waitLog("start", 30*time.Second, msgIs("herald started"))["listen"].(string)
	api := apiClients{base: "http://" + addr}.client("connect-json", adminToken)
	p := b.Tab(t)

	p.Do("load the page", chromedp.Navigate("http://"+addr+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
	p.Do("log in",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="token-input"]`), adminToken),
		chromedp.Click(chromedp.CSS(`[data-testid="login-button"]`)))
	row := browsertest.Row("schedule-row", "every-second")
	p.Do("see the schedules", chromedp.WaitVisible(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS(browsertest.Row("schedule-row", "hourly"))))
	p.WaitText(`[data-testid="status-node"]`, "dashboard-e2e")
	// The schedule fires every second: its last outcome reaches succeeded
	// through the live stream (or the row's refresh).
	p.WaitText(row+` [data-testid="last-outcome"]`, "succeeded")

	p.Do("pause with a note",
		chromedp.Click(chromedp.CSS(row+` [data-testid="pause"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="pause-dialog"]`)),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="pause-note"]`), "dashboard e2e"),
		chromedp.Click(chromedp.CSS(`[data-testid="pause-confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="resume"]`)))
	p.WaitText(row+` [data-testid="paused"]`, "paused — dashboard e2e")
	if pause := getSchedule(t, api, "every-second").GetPause(); pause == nil || pause.GetNote() != "dashboard e2e" {
		t.Fatalf("after Pause the API reports pause %v, want one with the note", pause)
	}

	// A reload of the page keeps the session and shows the pause, as
	// stored.
	p.Do("reload the page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="resume"]`)))
	p.Do("resume", chromedp.Click(chromedp.CSS(row+` [data-testid="resume"]`)),
		chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="pause"]`)))
	p.WaitText(row+` [data-testid="paused"]`, "no")
	if pause := getSchedule(t, api, "every-second").GetPause(); pause != nil {
		t.Fatalf("after Resume the API still reports pause %v", pause)
	}

	// Live: a job made after the page loaded its list appears and moves
	// to succeeded through the event stream alone (the list is not read
	// again, and the stream never dropped).
	p.Do("list hourly's jobs",
		chromedp.SendKeys(chromedp.CSS(`[data-testid="job-schedule"]`), "hourly"),
		chromedp.Click(chromedp.CSS(`[data-testid="job-apply"]`)))
	p.WaitText(`[data-testid="jobs"] tbody`, "No jobs match.")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	trig, err := api.TriggerSchedule(ctx, connect.NewRequest(&adminv1.TriggerScheduleRequest{Id: "hourly"}))
	if err != nil {
		t.Fatalf("TriggerSchedule: %v", err)
	}
	job := browsertest.Row("job-row", strconv.FormatInt(trig.Msg.GetJob().GetId(), 10))
	p.Do("the triggered job appears", chromedp.WaitVisible(chromedp.CSS(job)))
	p.WaitText(job+` [data-testid="job-status"]`, "succeeded")
	ended := browsertest.Eval[int](p, `performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/WatchJobEvents")).length`)
	if ended != 0 {
		t.Errorf("the event stream ended %d times while the page was open", ended)
	}
}

func getSchedule(t *testing.T, api adminv1connect.AdminServiceClient, id string) *adminv1.Schedule {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := api.GetSchedule(ctx, connect.NewRequest(&adminv1.GetScheduleRequest{Id: id}))
	if err != nil {
		t.Fatalf("GetSchedule %s: %v", id, err)
	}
	return resp.Msg.GetSchedule()
}
