package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// TestClusterRefreshesTheTokenOnce: three `herald serve` processes on one
// Postgres schema and one Redis prefix publish a schedule that fires every
// second, for one account whose access tokens live clusterTokenTTL at the
// fake X (a separate `herald fake-x` process), across several expiries.
// X's refresh tokens are single-use and the fake refuses a spent one, so
// two nodes refreshing the same token would show as a refused request
// and, soon after, a job dead with reason reauth. The run asserts: no
// token request refused (each refresh token spent once), no job dead,
// every fire one job published as one post, and several refreshes, by
// more than one node.
func TestClusterRefreshesTheTokenOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: four processes for about a minute")
	}
	t.Parallel()
	const (
		clusterTokenTTL = 8 * time.Second
		firing          = 40 * time.Second
	)
	db := pgtest.SchemaURL(t)
	_, prefix := redistest.Open(t)
	dir := t.TempDir()
	fake := startFakeX(t, "--log-format", "json", "--access-token-ttl", clusterTokenTTL.String(), "--user", "brand:at-0:rt-0:cid")

	end := time.Now().UTC().Add(firing).Truncate(time.Second)
	plan := fmt.Sprintf(`accounts:
  brand:
    platform: x
    oauth2: {access_token: env:X_AT, refresh_token: env:X_RT, client_id: env:X_CID}
schedules:
  - {id: tick, account: brand, cron: "* * * * * *", end: %s, post: {text: "tick {{ .Planned }}"}}
`, end.Format("2006-01-02T15:04:05"))
	cfg := writeFile(t, dir, "schedules/plan.yaml", plan)
	env := []string{"X_AT=at-0", "X_RT=rt-0", "X_CID=cid", "HERALD_TOKEN_KEY=MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	var nodes []*soakNode
	for n := 1; n <= 3; n++ {
		nodes = append(nodes, startSoakNode(t, dir, n, env, "--config", cfg, "--db", db, "--x-api-url", fake.url,
			"--node-id", fmt.Sprintf("node-%d", n), "--request-timeout", "5s", "--poll-interval", "1s",
			"--redis", redistest.URL(), "--redis-prefix", prefix))
	}
	var logs []string
	for _, n := range nodes {
		n.waitFor(t, `"herald started"`, 90*time.Second, func() bool { return !n.startedAt().IsZero() })
		logs = append(logs, n.logPath)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range grepFiles(logs, 40, "oauth2") {
				t.Log(l)
			}
		}
	})

	jobs := waitJobsSettled(t, db, end)
	for _, n := range nodes {
		if code := n.terminate(t); code != 0 {
			t.Errorf("serve #%d exited %d", n.n, code)
		}
	}
	checkOnePostPerFire(t, fake, jobs)
	checkRefreshes(t, fake, logs, clusterTokenTTL)
}

// waitJobsSettled waits for the firing to end and every job to reach a final
// state; it returns the jobs.
func waitJobsSettled(t *testing.T, db string, end time.Time) []store.Job {
	t.Helper()
	s := openDB(t, db)
	defer s.Close()
	deadline := end.Add(90 * time.Second) // a hang guard, not a timing assertion
	for {
		page, err := s.ListJobs(context.Background(), store.ListJobsParams{Limit: 1000})
		if err != nil {
			t.Fatalf("listing the jobs: %v", err)
		}
		settled := time.Now().After(end.Add(2 * time.Second))
		for _, j := range page.Jobs {
			if j.Status != store.StatusSucceeded && j.Status != store.StatusDead {
				settled = false
			}
		}
		if settled {
			return page.Jobs
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs not settled 90s after the last fire: %s", jobStatuses(page.Jobs))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func jobStatuses(jobs []store.Job) string {
	n := map[store.Status]int{}
	for _, j := range jobs {
		n[j.Status]++
	}
	return fmt.Sprint(n)
}

// checkOnePostPerFire: no job dead (reauth above all), each fire one job
// with one post, and the fake holds exactly those posts.
func checkOnePostPerFire(t *testing.T, fake *fakeXProcess, jobs []store.Job) {
	t.Helper()
	if len(jobs) < 20 {
		t.Errorf("%d jobs, want a fire a second for the run", len(jobs))
	}
	var posts []fakePost
	fake.getJSON(t, "/_fake/posts", &posts)
	atFake := map[string]int{}
	for _, p := range posts {
		atFake[p.ID]++
	}
	fires := map[time.Time]int{}
	for _, j := range jobs {
		fires[j.PlannedAt]++
		switch {
		case j.Status == store.StatusDead:
			t.Errorf("job %d (fire %s) is dead, reason %q: %s", j.ID, j.PlannedAt.Format(time.TimeOnly), j.DeadReason, j.LastError)
		case len(j.PostIDs) != 1:
			t.Errorf("job %d has posts %v, want one", j.ID, j.PostIDs)
		case atFake[j.PostIDs[0]] != 1:
			t.Errorf("job %d's post %s is at the fake %d times", j.ID, j.PostIDs[0], atFake[j.PostIDs[0]])
		}
	}
	for at, n := range fires {
		if n != 1 {
			t.Errorf("fire %s has %d jobs", at.Format(time.TimeOnly), n)
		}
	}
	if len(posts) != len(jobs) {
		t.Errorf("%d posts at the fake for %d jobs", len(posts), len(jobs))
	}
}

// checkRefreshes: every token request answered (a spent refresh token
// reused would be refused), one refresh per expiry or so, and more than
// one node publishing, so that the nodes did race for the token.
func checkRefreshes(t *testing.T, fake *fakeXProcess, logs []string, ttl time.Duration) {
	t.Helper()
	var requests []fakeRequest
	fake.getJSON(t, "/_fake/requests", &requests)
	var refreshed, refused int
	var first, last time.Time
	for _, r := range requests {
		if r.Endpoint != "POST /2/oauth2/token" {
			continue
		}
		if r.Status != http.StatusOK {
			refused++
			continue
		}
		refreshed++
		if first.IsZero() {
			first = r.At
		}
		last = r.At
	}
	if refused > 0 {
		t.Errorf("%d token requests refused: a spent refresh token was used again", refused)
	}
	if refreshed < 3 {
		t.Errorf("%d refreshes, want several expiries of the %s tokens", refreshed, ttl)
	}
	// Tokens are refreshed at three quarters of their life: more refreshes
	// than expiries would mean nodes refreshed the same token one after
	// the other instead of adopting the stored pair.
	if expiries := int(last.Sub(first)/(ttl*3/4)) + 1; refreshed > expiries+1 {
		t.Errorf("%d refreshes between %s and %s, want about one per %s", refreshed, first.Format(time.TimeOnly), last.Format(time.TimeOnly), ttl*3/4)
	}
	publishers := 0
	for _, l := range logs {
		if len(grepFiles([]string{l}, 1, `"msg":"job transition"`, `"to":"succeeded"`)) > 0 {
			publishers++
		}
	}
	adopted := len(grepFiles(logs, 1000, "using the token another process refreshed"))
	t.Logf("%d refreshes, %d adoptions of another node's pair, %d of 3 nodes published", refreshed, adopted, publishers)
	if publishers < 2 {
		t.Errorf("%d node(s) published: the nodes did not share the account", publishers)
	}
	if lines := grepFiles(logs, 5, "the refresh lock does not answer"); len(lines) > 0 {
		t.Errorf("the nodes refreshed without the Redis lock:\n%s", strings.Join(lines, "\n"))
	}
	if lines := grepFiles(logs, 5, "rt-0"); len(lines) > 0 {
		t.Errorf("a refresh token reached the logs: %s", strings.Join(lines, "\n"))
	}
}
