package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/herald-social/herald/actors"
	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/store"
)

// xWorld is a fake X server in this test process and a folder for one
// herald serve node that publishes to it.
type xWorld struct {
	t    *testing.T
	fake *fakex.Server
	srv  *httptest.Server
	clk  *aheadClock // the fake X's clock (token expiry, windows): the wall clock, moved ahead by tests
	dir  string
	db   string
	ids  map[string]string // user name -> numeric X user id
}

// aheadClock is the wall clock, moved ahead by Advance: the fake X tells
// the time as X does (Herald compares its posts' creation times with its
// own sends), and a test can still make its tokens expire at once.
type aheadClock struct{ ahead atomic.Int64 }

func (c *aheadClock) Now() time.Time { return time.Now().Add(time.Duration(c.ahead.Load())) }

func (c *aheadClock) AfterFunc(d time.Duration, f func()) clock.Timer { return time.AfterFunc(d, f) }

// Advance moves the clock ahead by d.
func (c *aheadClock) Advance(d time.Duration) { c.ahead.Add(int64(d)) }

func newXWorld(t *testing.T, opts fakex.Options) *xWorld {
	t.Helper()
	w := &xWorld{t: t, clk: &aheadClock{}, dir: t.TempDir(), ids: map[string]string{}}
	opts.Clock = w.clk
	w.fake = fakex.New(opts)
	w.srv = httptest.NewServer(w.fake)
	t.Cleanup(w.srv.Close)
	w.db = "sqlite:" + filepath.Join(w.dir, "herald.db")
	return w
}

// user registers an OAuth 2.0 user at the fake and returns the
// environment that gives herald its access token.
func (w *xWorld) user(name string) []string {
	w.ids[name] = fmt.Sprint(1000 + len(w.ids))
	w.fake.AddUser(fakex.User{ID: w.ids[name], Username: name, Name: name, AccessToken: "at-" + name})
	return []string{"X_" + strings.ToUpper(name) + "_TOKEN=at-" + name}
}

func (w *xWorld) account(name string, extra string) string {
	return fmt.Sprintf("  %s:\n    platform: x\n    oauth2: {access_token: env:X_%s_TOKEN}\n%s", name, strings.ToUpper(name), extra)
}

func (w *xWorld) start(env []string, plan string, args ...string) *node {
	w.t.Helper()
	writeFile(w.t, w.dir, "plan.yaml", plan)
	base := []string{"--config", filepath.Join(w.dir, "plan.yaml"), "--db", w.db, "--node-id", "x-e2e", "--x-api-url", w.srv.URL}
	n := startNodeEnv(w.t, env, append(base, args...)...)
	n.waitLog("start", 30*time.Second, msgIs("herald started"))
	return n
}

// soon is a one-shot `at` a few seconds from now, in UTC.
func soon(d time.Duration) string {
	return time.Now().UTC().Add(d).Truncate(time.Second).Format("2006-01-02T15:04:05")
}

func (w *xWorld) postsBy(user string) []fakex.Post {
	var out []fakex.Post
	for _, p := range w.fake.Posts() {
		if p.AuthorID == w.ids[user] && !p.Deleted {
			out = append(out, p)
		}
	}
	return out
}

// TestPublishesTextMediaAndThreadOnce runs herald serve against the fake X:
// a text post, a post with an image and its alt text, and a thread are each
// published exactly once, the thread as replies to the previous post.
func TestPublishesTextMediaAndThreadOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	env := w.user("brand")
	writePNG(t, filepath.Join(w.dir, "chart.png"))
	at := soon(3 * time.Second)
	plan := "accounts:\n" + w.account("brand", "") + fmt.Sprintf(`schedules:
  - {id: text, account: brand, at: %[1]s, post: {text: "Hello from Herald"}}
  - id: media
    account: brand
    at: %[1]s
    post: {text: "A chart", media: [{path: chart.png, alt: "Posts per weekday, Monday highest"}]}
  - id: thread
    account: brand
    at: %[1]s
    post: {text: "Thread 1/3", thread: ["Thread 2/3", "Thread 3/3"]}
`, at)
	n := w.start(env, plan)
	for _, id := range []string{"text", "media", "thread"} {
		n.waitLog(id+" published", 30*time.Second, msgIs("job transition", "schedule_id", id, "to", "succeeded"))
	}
	stopClean(t, n)

	posts := w.postsBy("brand")
	byText := map[string][]fakex.Post{}
	for _, p := range posts {
		byText[p.AuthoredText] = append(byText[p.AuthoredText], p)
	}
	for _, text := range []string{"Hello from Herald", "A chart", "Thread 1/3", "Thread 2/3", "Thread 3/3"} {
		if got := len(byText[text]); got != 1 {
			t.Errorf("%q posted %d times, want once", text, got)
		}
	}
	if len(posts) != 5 {
		t.Errorf("%d posts at the fake, want 5: %+v", len(posts), posts)
	}
	if m := byText["A chart"]; len(m) == 1 {
		if len(m[0].MediaIDs) != 1 {
			t.Fatalf("media post carries %d media ids, want 1", len(m[0].MediaIDs))
		}
		if alt := m[0].AltTexts[m[0].MediaIDs[0]]; alt != "Posts per weekday, Monday highest" {
			t.Errorf("alt text at the fake = %q", alt)
		}
	}
	if a, b, c := byText["Thread 1/3"], byText["Thread 2/3"], byText["Thread 3/3"]; len(a) == 1 && len(b) == 1 && len(c) == 1 {
		if b[0].ReplyTo != a[0].ID || c[0].ReplyTo != b[0].ID || a[0].ReplyTo != "" {
			t.Errorf("thread not chained: %s <- %s (reply to %s) <- %s (reply to %s)", a[0].ID, b[0].ID, b[0].ReplyTo, c[0].ID, c[0].ReplyTo)
		}
	}
	checkJobPosts(t, w.db, "thread", 3)
}

// TestFailureClassesTakeTheirPaths gives each account of one herald node
// its own fault at the fake X and checks the path each job takes.
func TestFailureClassesTakeTheirPaths(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	var env []string
	accounts := "accounts:\n"
	for _, a := range []string{"flaky", "limited", "rejected", "late", "dropped", "stored"} {
		env = append(env, w.user(a)...)
		accounts += w.account(a, "")
	}
	const create = "POST /2/tweets"
	// 408: X did not read the whole request; nothing happened.
	w.fake.Inject(fakex.Fault{Endpoint: create, User: "flaky", Count: 2, Status: 408})
	reset := time.Now().Add(4 * time.Second).Truncate(time.Second).Add(time.Second)
	w.fake.Inject(fakex.Fault{Endpoint: create, User: "limited", Count: 1, Status: 429, Reset: reset})
	w.fake.Inject(fakex.Fault{Endpoint: create, User: "rejected", Count: 1, Status: 403,
		Body: `{"title":"Forbidden","type":"about:blank","status":403,"detail":"You are not permitted to perform this action."}`})
	w.fake.Inject(fakex.Fault{Endpoint: create, User: "late", Count: 100, Status: 408})
	w.fake.Inject(fakex.Fault{Endpoint: create, User: "dropped", Count: 1, DropAfterStore: true})
	// X stores the post and answers 503 all the same.
	w.fake.Inject(fakex.Fault{Endpoint: create, User: "stored", Count: 1, AfterStore: true, Status: 503})

	at := soon(3 * time.Second)
	plan := accounts + fmt.Sprintf(`schedules:
  - {id: flaky, account: flaky, at: %[1]s, max_attempts: 5, post: {text: "flaky post"}}
  - {id: limited, account: limited, at: %[1]s, post: {text: "limited post"}}
  - {id: rejected, account: rejected, at: %[1]s, post: {text: "rejected post"}}
  - {id: late, account: late, at: %[1]s, deadline: 3s, max_attempts: 100, post: {text: "late post"}}
  - {id: dropped, account: dropped, at: %[1]s, post: {text: "dropped post"}}
  - {id: stored, account: stored, at: %[1]s, post: {text: "stored post"}}
`, at)
	n := w.start(env, plan, "--log-level", "debug")

	// Transient: retried with backoff, then published.
	n.waitLog("flaky published", 60*time.Second, msgIs("job transition", "schedule_id", "flaky", "to", "succeeded"))
	if got := countLogs(n, msgIs("job transition", "schedule_id", "flaky", "to", "retrying")); got != 2 {
		t.Errorf("flaky: %d retries, want 2 (one per 408)", got)
	}
	// 429: waits until X's reset, then published.
	ok := n.waitLog("limited published", 60*time.Second, msgIs("job transition", "schedule_id", "limited", "to", "succeeded"))
	if at := logTime(t, ok); at.Before(reset) {
		t.Errorf("limited: published at %v, before the 429's reset %v", at, reset)
	}
	// Permanent: dead at once, X's message kept.
	dead := n.waitLog("rejected dead", 30*time.Second, msgIs("job transition", "schedule_id", "rejected", "to", "dead"))
	if d := fmt.Sprint(dead["detail"]); !strings.Contains(d, "You are not permitted to perform this action.") || !strings.HasPrefix(d, "rejected") {
		t.Errorf("rejected: dead detail %q lacks the reason and X's message", d)
	}
	// Deadline: dead as expired, not retried past it.
	exp := n.waitLog("late expired", 60*time.Second, msgIs("job transition", "schedule_id", "late", "to", "dead"))
	if d := fmt.Sprint(exp["detail"]); !strings.HasPrefix(d, "expired") {
		t.Errorf("late: dead detail %q, want the reason expired", d)
	}
	// Dropped after X stored it: unknown, reconciled, exactly one post.
	n.waitLog("dropped unknown", 30*time.Second, msgIs("job transition", "schedule_id", "dropped", "to", "unknown"))
	rec := n.waitLog("dropped reconciled", 30*time.Second, msgIs("job transition", "schedule_id", "dropped", "to", "succeeded"))
	if d := fmt.Sprint(rec["detail"]); !strings.Contains(d, "reconciled") {
		t.Errorf("dropped: succeeded with detail %q, want it reconciled", d)
	}
	// A 5xx to a post is ambiguous: unknown, reconciled, never sent twice.
	n.waitLog("stored unknown", 30*time.Second, msgIs("job transition", "schedule_id", "stored", "to", "unknown"))
	rec = n.waitLog("stored reconciled", 30*time.Second, msgIs("job transition", "schedule_id", "stored", "to", "succeeded"))
	if d := fmt.Sprint(rec["detail"]); !strings.Contains(d, "reconciled") {
		t.Errorf("stored: succeeded with detail %q, want it reconciled", d)
	}
	stopClean(t, n)

	for _, a := range []string{"flaky", "limited", "dropped", "stored"} {
		if got := len(w.postsBy(a)); got != 1 {
			t.Errorf("%s: %d posts at the fake, want exactly 1", a, got)
		}
	}
	for _, a := range []string{"rejected", "late"} {
		if got := len(w.postsBy(a)); got != 0 {
			t.Errorf("%s: %d posts at the fake, want none", a, got)
		}
	}
	s := openDB(t, w.db)
	defer s.Close()
	page, err := s.ListJobs(context.Background(), store.ListJobsParams{ScheduleID: "rejected"})
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("rejected jobs: %v %+v", err, page.Jobs)
	}
	if j := page.Jobs[0]; j.DeadReason != "rejected" || !strings.Contains(j.LastError, "You are not permitted") {
		t.Errorf("dead letter: reason %q, last error %q", j.DeadReason, j.LastError)
	}
}

// TestNoRequestBeyondTheRateLimit: an account limited to 3 posts per 15
// minutes sends X exactly 3, and the rest wait in retrying.
func TestNoRequestBeyondTheRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{Limits: map[string]fakex.Limit{"POST /2/tweets": {PerUser15m: 3}}})
	env := w.user("capped")
	plan := "accounts:\n" + w.account("capped", "    limits:\n      windows: [{endpoint: create_post, scope: user, limit: 3, per: 15m}]\n") + `schedules:
  - {id: tick, account: capped, cron: "* * * * * *", post: {text: "tick {{ .Run }}"}}
`
	n := w.start(env, plan)
	for i := 0; i < 3; i++ {
		n.waitLog("a post", 30*time.Second, msgIs("job transition", "schedule_id", "tick", "to", "succeeded"))
	}
	n.waitLog("a deferral", 30*time.Second, func(l map[string]any) bool {
		return l["msg"] == "job transition" && l["to"] == "retrying" && strings.Contains(fmt.Sprint(l["detail"]), "deferred")
	})
	time.Sleep(3 * time.Second) // more fires come and wait
	stopClean(t, n)

	sent, limited := 0, 0
	for _, r := range w.fake.Requests() {
		if r.Endpoint == "POST /2/tweets" {
			sent++
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
	}
	if sent != 3 || limited != 0 {
		t.Errorf("the fake saw %d create requests (%d answered 429); want exactly 3, none refused", sent, limited)
	}
}

// TestTokenRotatesAcrossRestart: X's refresh tokens are single-use. Herald
// refreshes an expired access token, stores the new pair (encrypted), and
// after a restart uses the stored refresh token, never the spent one still
// in its environment.
func TestTokenRotatesAcrossRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "77", Username: "rot", AccessToken: "at-0", RefreshToken: "rt-0", ClientID: "client-1", ClientSecret: "secret-1"})
	env := []string{"X_ROT_ACCESS=at-0", "X_ROT_REFRESH=rt-0", "X_CLIENT_ID=client-1", "X_CLIENT_SECRET=secret-1",
		"HERALD_TOKEN_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	plan := `accounts:
  rot:
    platform: x
    oauth2: {access_token: env:X_ROT_ACCESS, refresh_token: env:X_ROT_REFRESH, client_id: env:X_CLIENT_ID, client_secret: env:X_CLIENT_SECRET}
schedules:
  - {id: tick, account: rot, cron: "*/2 * * * * *", post: {text: "tick {{ .Run }}"}}
`
	n := w.start(env, plan)
	n.waitLog("a post with the first token", 30*time.Second, msgIs("job transition", "schedule_id", "tick", "to", "succeeded"))
	w.clk.Advance(2*time.Hour + time.Minute) // at-0 expires at the fake
	n.waitLog("refresh", 30*time.Second, msgIs("oauth2: token refreshed and stored", "account", "rot"))
	mark := time.Now()
	n.waitLog("a post after the refresh", 30*time.Second, func(l map[string]any) bool {
		return l["msg"] == "job transition" && l["to"] == "succeeded" && logTime(t, l).After(mark)
	})
	stopClean(t, n)
	first := w.fake.RefreshTokenOf("77")
	if first == "rt-0" || first == "" {
		t.Fatalf("refresh token at the fake = %q: not rotated", first)
	}

	w.clk.Advance(2*time.Hour + time.Minute) // the rotated access token expires too
	n2 := w.start(env, plan)
	n2.waitLog("refresh after restart", 30*time.Second, msgIs("oauth2: token refreshed and stored", "account", "rot"))
	mark = time.Now()
	n2.waitLog("a post after the restart", 30*time.Second, func(l map[string]any) bool {
		return l["msg"] == "job transition" && l["to"] == "succeeded" && logTime(t, l).After(mark)
	})
	stopClean(t, n2)
	if second := w.fake.RefreshTokenOf("77"); second == first || second == "" {
		t.Errorf("refresh token not rotated again after the restart (%q)", second)
	}
	for _, r := range w.fake.Requests() {
		if r.Endpoint == "POST /2/oauth2/token" && r.Status != http.StatusOK {
			t.Errorf("a refresh was refused (%d): a spent refresh token was reused", r.Status)
		}
	}
	for _, l := range append(n.snapshot(), n2.snapshot()...) {
		if b, _ := json.Marshal(l); strings.Contains(string(b), "rt-0") || strings.Contains(string(b), "secret-1") {
			t.Errorf("a secret reached the logs: %s", b)
		}
	}
}

// TestDeadLetterWebhook: each new dead letter is POSTed to the webhook,
// signed with a timestamp, once; the URL and the secret come from files, a
// redirect is not followed (the delivery is tried again), and the URL's
// secret (its path and query) never reaches the logs.
func TestDeadLetterWebhook(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	w.fake.Inject(fakex.Fault{Endpoint: "POST /2/tweets", Count: 1, Status: 400,
		Body: `{"title":"Invalid Request","type":"https://api.twitter.com/2/problems/invalid-request","detail":"One or more parameters to your request was invalid.","errors":[{"message":"bad text","parameters":{"text":["x"]}}]}`})
	var mu sync.Mutex
	var got []map[string]any
	var verified []error
	redirected, followed := 0, 0
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/elsewhere":
			followed++
			return
		case redirected == 0:
			redirected++
			http.Redirect(rw, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		got = append(got, m)
		verified = append(verified, actors.VerifyDeadLetter([]byte("whsec"), r.Header.Get("X-Herald-Timestamp"),
			r.Header.Get("X-Herald-Signature"), b, time.Now(), actors.DeadLetterTolerance))
	}))
	defer hook.Close()
	writeFile(t, w.dir, "hook-url", hook.URL+"/services/s3cret-path?token=s3cret-query\n")
	writeFile(t, w.dir, "hook-secret", "whsec\n")
	env := append(w.user("brand"), "HERALD_DEAD_LETTER_SECRET_FILE="+filepath.Join(w.dir, "hook-secret"))
	plan := "accounts:\n" + w.account("brand", "") + fmt.Sprintf("schedules:\n  - {id: doomed, account: brand, at: %s, post: {text: \"doomed\"}}\n", soon(3*time.Second))
	n := w.start(env, plan, "--dead-letter-webhook-file", filepath.Join(w.dir, "hook-url"))
	n.waitLog("delivered", 30*time.Second, msgIs("dead-letter webhook delivered", "schedule_id", "doomed"))
	stopClean(t, n)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("webhook called %d times, want once: %v", len(got), got)
	}
	if got[0]["schedule_id"] != "doomed" || got[0]["reason"] != "rejected" || !strings.Contains(fmt.Sprint(got[0]["error"]), "invalid") {
		t.Errorf("webhook body %v", got[0])
	}
	if verified[0] != nil {
		t.Errorf("the signature does not verify: %v", verified[0])
	}
	if redirected != 1 || followed != 0 {
		t.Errorf("redirected %d times, followed %d; want one redirect, not followed", redirected, followed)
	}
	if countLogs(n, msgIs("dead-letter webhook failed")) == 0 {
		t.Error("the redirect was not logged as a failed delivery")
	}
	for _, l := range n.snapshot() {
		if b, _ := json.Marshal(l); strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "whsec") {
			t.Errorf("a secret reached the logs: %s", b)
		}
		if l["msg"] == "dead-letter webhook failed" && !strings.Contains(fmt.Sprint(l["error"]), hook.URL+"/…") {
			t.Errorf("the failure does not name the webhook as %s/…: %v", hook.URL, l["error"])
		}
	}
}

// TestDeadLetterWebhookFlags: a URL given as a flag value works but is
// warned about (without being shown); given two ways, it is refused.
func TestDeadLetterWebhookFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	plan := "accounts:\n" + w.account("brand", "") + "schedules: []\n"
	n := w.start(w.user("brand"), plan, "--dead-letter-webhook", "http://127.0.0.1:1/hook?token=s3cret")
	stopClean(t, n)
	warned := false
	for _, l := range n.snapshot() {
		if b, _ := json.Marshal(l); strings.Contains(string(b), "s3cret") {
			t.Errorf("the URL reached the logs: %s", b)
		}
		if l["level"] == "WARN" && strings.Contains(fmt.Sprint(l["msg"]), "dead-letter webhook URL is given on the command line") {
			warned = true
		}
	}
	if !warned {
		t.Error("no warning about the URL on the command line")
	}

	writeFile(t, w.dir, "hook-url", "http://127.0.0.1:1/hook\n")
	r := herald(t, "", "serve", "--config", filepath.Join(w.dir, "plan.yaml"), "--db", w.db,
		"--dead-letter-webhook", "http://127.0.0.1:1/x", "--dead-letter-webhook-file", filepath.Join(w.dir, "hook-url"))
	if r.code != 2 || !strings.Contains(r.stderr, "--dead-letter-webhook-file: the URL is also given") {
		t.Errorf("both ways: exit %d, stderr %s; want 2 and the conflict named", r.code, r.stderr)
	}
}

func stopClean(t *testing.T, n *node) {
	t.Helper()
	if code := n.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("herald exited %d after SIGTERM, want 0", code)
	}
}

func (n *node) snapshot() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]map[string]any(nil), n.logs...)
}

func countLogs(n *node, pred func(map[string]any) bool) int {
	c := 0
	for _, l := range n.snapshot() {
		if pred(l) {
			c++
		}
	}
	return c
}

func logTime(t *testing.T, l map[string]any) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(l["time"]))
	if err != nil {
		t.Fatalf("log time %v: %v", l["time"], err)
	}
	return at
}

// checkJobPosts checks that the schedule's one job recorded n post ids.
func checkJobPosts(t *testing.T, db, scheduleID string, n int) {
	t.Helper()
	s := openDB(t, db)
	defer s.Close()
	page, err := s.ListJobs(context.Background(), store.ListJobsParams{ScheduleID: scheduleID})
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("jobs of %s: %v %+v", scheduleID, err, page.Jobs)
	}
	if got := len(page.Jobs[0].PostIDs); got != n {
		t.Errorf("%s: job recorded %d post ids, want %d", scheduleID, got, n)
	}
}

func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := 0; i < 8; i++ {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
