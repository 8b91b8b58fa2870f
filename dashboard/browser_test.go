package dashboard_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herald-social/herald/dashboard/browsertest"
	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

const (
	adminToken = "admin-token-for-tests"
	readToken  = "read-token-for-tests"
)

var roles = map[string]string{adminToken: "admin", readToken: "read"}

// TestPage drives the page in a real browser against the fake API: every
// view, as an operator uses it. The real server is exercised by
// cmd/herald's TestDashboard.
func TestPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	b := browsertest.Start(t)

	t.Run("login, filter, pause and resume", func(t *testing.T) {
		f := newFakeAPI(roles)
		url := f.serve(t)
		p := b.Tab(t)
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))

		login(p, "not-a-token")
		p.WaitText(`[data-testid="login-error"]`, "not accepted")
		login(p, adminToken)
		row := browsertest.Row("schedule-row", "every-second")
		p.Do("see the schedules", chromedp.WaitVisible(chromedp.CSS(row)))
		p.WaitText(row+` [data-testid="last-outcome"]`, "succeeded")
		p.WaitText(`[data-testid="status-node"]`, "node-a")
		p.WaitText(`[data-testid="status-warning"]`, "2 live nodes share this store without Redis")
		// The nodes: node-c runs another revision than the others, and
		// says so; node-a does not.
		p.WaitText(browsertest.Row("node-row", "node-c"), "http://node-c:8080")
		p.WaitText(browsertest.Row("node-row", "node-c")+` [data-testid="revision-mismatch"]`, "≠ cluster")
		p.WaitText(browsertest.Row("node-row", "node-c"), "degraded: i/o timeout")
		p.WaitText(browsertest.Row("node-row", "node-a"), "http://node-a:8080")
		if n := browsertest.Eval[int](p, `document.querySelectorAll('[data-testid="revision-mismatch"]').length`); n != 1 {
			t.Errorf("%d nodes marked with another revision, want 1 (node-c)", n)
		}

		// The filter asks the server.
		p.Do("filter", chromedp.SendKeys(chromedp.CSS(`[data-testid="schedule-filter"]`), "news"))
		p.Do("see only hourly", chromedp.WaitNotPresent(chromedp.CSS(row)), chromedp.WaitVisible(chromedp.CSS(browsertest.Row("schedule-row", "hourly"))))
		p.Do("change the filter", browsertest.ClearInput(`[data-testid="schedule-filter"]`),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="schedule-filter"]`), "every"), chromedp.WaitVisible(chromedp.CSS(row)))

		p.Do("pause with a note",
			chromedp.Click(chromedp.CSS(row+` [data-testid="pause"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="pause-dialog"]`)),
			chromedp.SendKeys(chromedp.CSS(`[data-testid="pause-note"]`), "launch freeze"),
			chromedp.Click(chromedp.CSS(`[data-testid="pause-confirm"]`)),
			chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="resume"]`)))
		p.WaitText(row+` [data-testid="paused"]`, "paused — launch freeze")
		if pause := f.paused("every-second"); pause == nil || pause.Note != "launch freeze" {
			t.Fatalf("the API has pause %v, want one with the note", pause)
		}

		// The token is kept for the tab: a reload needs no login.
		p.Do("reload the page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="resume"]`)))
		p.Do("resume", chromedp.Click(chromedp.CSS(row+` [data-testid="resume"]`)), chromedp.WaitVisible(chromedp.CSS(row+` [data-testid="pause"]`)))
		p.WaitText(row+` [data-testid="paused"]`, "no")
		if pause := f.paused("every-second"); pause != nil {
			t.Fatalf("still paused in the API after Resume: %v", pause)
		}

		p.Do("log out", chromedp.Click(chromedp.CSS(`[data-testid="logout"]`)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
		if token := browsertest.Eval[string](p, `sessionStorage.getItem("herald.adminToken") ?? ""`); token != "" {
			t.Errorf("the token %q is still stored after logging out", token)
		}
	})

	t.Run("no token configured: no login", func(t *testing.T) {
		f := newFakeAPI(nil)
		f.schedules[1].Enabled = false // omitted from the JSON
		url := f.serve(t)
		p := b.Tab(t)
		hourly := browsertest.Row("schedule-row", "hourly")
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(hourly)))
		p.Do("no log out", chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="logout"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="login-form"]`)))
		p.Do("hourly is disabled", chromedp.WaitVisible(chromedp.CSS(hourly+` [data-testid="disabled"]`)))
		if n := browsertest.Eval[int](p, `document.querySelectorAll('[data-testid="disabled"]').length`); n != 1 {
			t.Errorf("%d schedules shown disabled, want 1 (hourly)", n)
		}
	})

	t.Run("a read token hides the actions", func(t *testing.T) {
		f := newFakeAPI(roles)
		url := f.serve(t)
		p := b.Tab(t)
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`[data-testid="login-form"]`)))
		login(p, readToken)
		row := browsertest.Row("schedule-row", "every-second")
		p.Do("trigger", chromedp.Click(chromedp.CSS(row+` [data-testid="trigger"]`)))
		p.WaitText(`[data-testid="error"]`, "permission_denied")
		p.Do("the actions are gone", chromedp.WaitVisible(chromedp.CSS(`[data-testid="read-only"]`)),
			chromedp.WaitNotVisible(chromedp.CSS(row+` [data-testid="pause"]`)),
			chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="reload"]`)))
		p.WaitText(row+` [data-testid="paused"]`, "no")
	})

	t.Run("jobs: filter, pages, timeline and metrics", func(t *testing.T) {
		f := newFakeAPI(nil)
		url := f.serve(t)
		p := b.Tab(t)
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(browsertest.Row("job-row", "1"))))
		// 61 jobs, 50 a page.
		p.Do("next page", chromedp.Click(chromedp.CSS(`[data-testid="jobs-next"]`)),
			chromedp.WaitVisible(chromedp.CSS(browsertest.Row("job-row", "61"))), chromedp.WaitNotPresent(chromedp.CSS(browsertest.Row("job-row", "1"))))
		p.Do("previous page", chromedp.Click(chromedp.CSS(`[data-testid="jobs-prev"]`)), chromedp.WaitVisible(chromedp.CSS(browsertest.Row("job-row", "1"))))
		p.Do("only succeeded jobs",
			chromedp.SetValue(chromedp.CSS(`[data-testid="job-status-filter"]`), "JOB_STATUS_SUCCEEDED"),
			chromedp.Click(chromedp.CSS(`[data-testid="job-apply"]`)),
			chromedp.WaitNotPresent(chromedp.CSS(browsertest.Row("job-row", "1"))))
		if n := browsertest.Eval[int](p, `document.querySelectorAll('[data-testid="job-row"]').length`); n != 1 {
			t.Fatalf("%d rows for succeeded jobs, want 1", n)
		}

		p.Do("open job 60", chromedp.Click(chromedp.CSS(browsertest.Row("job-row", "60")+` [data-testid="job-open"]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="timeline"]`)))
		p.WaitText(`[data-testid="timeline"]`, "posted 1900000000000000060")
		if n := browsertest.Eval[int](p, `document.querySelectorAll('[data-testid="timeline-row"]').length`); n != 3 {
			t.Errorf("%d timeline rows, want 3", n)
		}
		p.WaitText(`[data-testid="post-account"]`, "brand")
		texts := browsertest.Eval[[]string](p, `[...document.querySelectorAll('[data-testid="post-texts"] li')].map((li) => li.textContent)`)
		if len(texts) != 2 || texts[0] != "Run 60: <b>not bold</b>\nsecond line" || texts[1] != "and a reply" {
			t.Errorf("the frozen post's texts are shown as %q, want the thread's two texts, as text", texts)
		}
		p.WaitText(`[data-testid="post-media"]`, "sha256:2c26b46b68ffc68f (20480 bytes)")
		p.WaitText(`[data-testid="post-media"]`, "1900000000000000100")
		if media := browsertest.Eval[[]string](p, `[...document.querySelectorAll('[data-testid="post-media-row"]')].map((tr) => tr.textContent)`); len(media) != 2 ||
			!strings.Contains(media[0], "media/run.png") || !strings.Contains(media[0], "a chart") || !strings.Contains(media[1], "not yet") {
			t.Errorf("media rows %q, want the uploaded image and the GIF not uploaded yet", media)
		}
		p.Do("the chart", chromedp.WaitVisible(chromedp.CSS(`[data-testid="chart-impressions"]`)))
		for _, m := range []string{"likes", "reposts", "replies", "impressions"} {
			points := browsertest.Eval[int](p, fmt.Sprintf(`document.querySelectorAll('[data-testid="chart-%s"] circle').length`, m))
			if points != 3 {
				t.Errorf("%s chart has %d points, want 3 (one per stage)", m, points)
			}
		}
		p.WaitText(`[data-testid="chart-impressions"]`, "7d")
		p.Do("close", chromedp.Click(chromedp.CSS(`[data-testid="job-close"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="job-dialog"]`)))
	})

	t.Run("dead letters: retry; trigger", func(t *testing.T) {
		f := newFakeAPI(nil)
		url := f.serve(t)
		p := b.Tab(t)
		dead := browsertest.Row("dead-row", "61")
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(dead)))
		p.WaitText(dead, "403 Forbidden")
		p.Do("retry", chromedp.Click(chromedp.CSS(dead+` [data-testid="dead-retry"]`)), chromedp.WaitNotPresent(chromedp.CSS(dead)))
		if s := f.jobStatus(61); s != adminv1.JobStatus_JOB_STATUS_PLANNED {
			t.Errorf("job 61 is %s after Retry, want planned", s)
		}
		p.WaitText(`[data-testid="notice"]`, "Job 61 is planned")

		p.Do("trigger hourly", chromedp.Click(chromedp.CSS(browsertest.Row("schedule-row", "hourly")+` [data-testid="trigger"]`)))
		p.WaitText(`[data-testid="notice"]`, "Triggered hourly: job 62 is planned")
	})

	t.Run("a failed reload is shown until a good one", func(t *testing.T) {
		f := newFakeAPI(nil)
		f.status.LastReload = &adminv1.ReloadResult{Result: "error", Trigger: "watch: plan.yaml", Revision: "rev-0123456789abcdef",
			Errors: []string{"plan.yaml:11:11: cron: expected 5 or 6 fields, got 8"}, At: ts(time.Minute)}
		f.reloadTo = &adminv1.ReloadResult{Result: "ok", Trigger: "api", Revision: "rev-fedcba9876543210", Changed: 1, At: ts(2 * time.Minute)}
		url := f.serve(t)
		p := b.Tab(t)
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`[data-testid="reload-errors"]`)))
		p.WaitText(`[data-testid="reload-error-list"]`, "plan.yaml:11:11: cron: expected 5 or 6 fields, got 8")
		p.Do("reload", chromedp.Click(chromedp.CSS(`[data-testid="reload"]`)), chromedp.WaitNotVisible(chromedp.CSS(`[data-testid="reload-errors"]`)))
		p.WaitText(`[data-testid="notice"]`, "Reloaded: revision rev-fedcba98")
	})

	t.Run("accounts: states and re-authorization warnings", func(t *testing.T) {
		f := newFakeAPI(nil)
		f.status.Accounts = append(f.status.Accounts,
			&adminv1.AccountStatus{Name: "locked", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_REAUTH_REQUIRED, Since: ts(time.Minute),
				Detail: "xapi token: HTTP 400 Bad Request: Value passed for the token was invalid."},
			&adminv1.AccountStatus{Name: "unsure", Auth: "oauth2", AuthState: adminv1.AuthState_AUTH_STATE_REFRESH_IN_PROGRESS_FOUND, Since: ts(2 * time.Minute),
				Detail: "the answer of X's token endpoint was lost: X may have spent the refresh token"})
		url := f.serve(t)
		p := b.Tab(t)
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`[data-testid="account-warnings"]`)))
		p.WaitText(`[data-testid="account-warnings"] h2`, "2 accounts may need re-authorization")
		p.WaitText(`[data-testid="account-warning-list"] li[data-id="locked"]`, "reauth_required")
		p.WaitText(`[data-testid="account-warning-list"] li[data-id="locked"]`, "put new tokens in the account's environment")
		p.WaitText(`[data-testid="account-warning-list"] li[data-id="unsure"]`, "The next refresh tries the stored refresh token once")
		p.WaitText(browsertest.Row("account-row", "locked")+` [data-testid="auth-state"]`, "reauth_required")
		p.WaitText(browsertest.Row("account-row", "locked"), "Value passed for the token was invalid.")
		p.WaitText(browsertest.Row("account-row", "news"), "dry run")
		p.WaitText(browsertest.Row("account-row", "brand")+` [data-testid="auth-state"]`, "ok")
		if n := browsertest.Eval[int](p, `document.querySelectorAll('[data-testid="account-warning-list"] li').length`); n != 2 {
			t.Errorf("%d accounts in the warning, want 2 (the ok ones are not)", n)
		}
	})

	t.Run("live updates resume after a drop", func(t *testing.T) {
		f := newFakeAPI(nil)
		url := f.serve(t)
		p := b.Tab(t)
		row := browsertest.Row("job-row", "1")
		p.Do("load the page", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(row)))
		if after := receive(t, f.watches); after != 0 {
			t.Fatalf("the first watch starts after event %d, want 0 (only new events)", after)
		}
		job := &adminv1.Job{Id: 1, ScheduleId: "every-second", PlannedAt: ts(time.Second), Status: adminv1.JobStatus_JOB_STATUS_RUNNING, Attempt: 1, Node: "node-a"}
		send(t, f.live, &adminv1.WatchJobEventsResponse{Event: &adminv1.JobEvent{Id: 500, JobId: 1, At: ts(time.Second),
			From: adminv1.JobStatus_JOB_STATUS_PLANNED, To: adminv1.JobStatus_JOB_STATUS_RUNNING, Node: "node-a", Attempt: 1}, Job: job})
		p.WaitText(row+` [data-testid="job-status"]`, "running")

		send(t, f.live, nil) // the stream drops
		if after := receive(t, f.watches); after != 500 {
			t.Fatalf("the watch resumed after event %d, want 500 (the last seen)", after)
		}
		job.Status = adminv1.JobStatus_JOB_STATUS_DEAD
		job.DeadReason = "rejected"
		send(t, f.live, &adminv1.WatchJobEventsResponse{Event: &adminv1.JobEvent{Id: 501, JobId: 1, At: ts(2 * time.Second),
			From: adminv1.JobStatus_JOB_STATUS_RUNNING, To: adminv1.JobStatus_JOB_STATUS_DEAD, Node: "node-a", Attempt: 1}, Job: job})
		p.WaitText(row+` [data-testid="job-status"]`, "dead")
		p.Do("a new dead letter", chromedp.WaitVisible(chromedp.CSS(browsertest.Row("dead-row", "1"))))
		p.WaitText(`[data-testid="live-status"]`, "live")
	})
}

func login(p *browsertest.Tab, token string) {
	p.Do("log in",
		browsertest.ClearInput(`[data-testid="token-input"]`),
		chromedp.SendKeys(chromedp.CSS(`[data-testid="token-input"]`), token),
		chromedp.Click(chromedp.CSS(`[data-testid="login-button"]`)))
}

// receive and send bound a hand-off with the page, which has its own
// pace, by a deadline that only a broken page reaches.
func receive[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(browsertest.Timeout):
		t.Fatal("the page did not call WatchJobEvents")
		panic("unreachable")
	}
}

func send[T any](t *testing.T, ch chan<- T, v T) {
	t.Helper()
	select {
	case ch <- v:
	case <-time.After(browsertest.Timeout):
		t.Fatal("the page is not watching job events")
	}
}
