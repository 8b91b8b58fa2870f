package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestClusterBench measures a burst on 1 node and on 3 (Postgres and
// Redis, and each without Redis), publishing for real to a fake X: N schedules (10,000 by
// default, HERALD_BENCH_SCHEDULES) firing at second 0 of every minute for
// two minutes, with lateness at X (arrival minus planned instant) p50,
// p99 and max, missing and duplicated posts; then a herd of N one-shot
// `at` schedules due at one instant T, with T to the first and to the last
// post. Each schedule has an account of its own, so that X's per-account
// limits bind none. Gated by HERALD_BENCH_CLUSTER=1 (make bench-cluster):
// it runs for about ten minutes.
func TestClusterBench(t *testing.T) {
	if os.Getenv("HERALD_BENCH_CLUSTER") != "1" {
		t.Skip("set HERALD_BENCH_CLUSTER=1 (make bench-cluster): runs for about ten minutes")
	}
	n := 10000
	if v := os.Getenv("HERALD_BENCH_SCHEDULES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 50000 {
			t.Fatalf("HERALD_BENCH_SCHEDULES=%q: want an integer from 1 to 50000", v)
		}
	}
	for _, run := range []struct {
		nodes   int
		noRedis bool
	}{{1, false}, {1, true}, {3, false}, {3, true}} {
		name := fmt.Sprintf("%d-nodes", run.nodes)
		if run.noRedis {
			name += "-without-redis"
		}
		t.Run(name, func(t *testing.T) { benchCluster(t, run.nodes, n, run.noRedis) })
	}
}

func benchCluster(t *testing.T, nodes, n int, noRedis bool) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "schedules")
	var env, users []string
	var accounts, crons strings.Builder
	accounts.WriteString("accounts:\n")
	crons.WriteString("schedules:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&accounts, "  a%05d: {platform: x, oauth2: {access_token: env:X_A%05d}}\n", i, i)
		fmt.Fprintf(&crons, "  - {id: c%05d, account: a%05d, cron: \"0 * * * * *\", post: {text: \"c%05d {{ .Planned.Unix }}\"}}\n", i, i, i)
		env = append(env, fmt.Sprintf("X_A%05d=tok%05d", i, i))
		users = append(users, "--user", fmt.Sprintf("a%05d:tok%05d::client-%05d", i, i, i))
	}
	writeFile(t, cfgDir, "accounts.yaml", accounts.String())
	writeFile(t, cfgDir, "crons.yaml", crons.String())
	c := newTestCluster(t, dir, nodes, env, "--config", cfgDir, "--poll-interval", "2s", "--grace", "10s")
	c.noRedis = noRedis
	began := time.Now()
	// A text is a duplicate for 1ns only, so that a fire posted twice shows.
	c.startAll(append([]string{"--duplicate-window", "1ns"}, users...)...)
	t.Logf("%d node(s) with %d schedules started in %s", nodes, n, time.Since(began).Round(time.Millisecond))

	// Two bursts: the first two minutes that begin after every node runs.
	first := time.Now().Truncate(time.Minute).Add(time.Minute)
	bursts := []time.Time{first, first.Add(time.Minute)}
	time.Sleep(time.Until(bursts[1].Add(5 * time.Second)))
	posts := benchWait(t, c, "c", 2*n, bursts, 90*time.Second)
	late, missing, dups := benchLateness(posts, "c", n, bursts)
	t.Logf("%d node(s), %d schedules at second 0, 2 bursts: lateness at X %s; missing %d, duplicated %d",
		nodes, n, percentiles(late), missing, dups)

	// The herd: n one-shot schedules due at T.
	T := time.Now().Truncate(time.Second).Add(30 * time.Second)
	var herd strings.Builder
	herd.WriteString("schedules:\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&herd, "  - {id: h%05d, account: a%05d, at: %s, post: {text: \"h%05d {{ .Planned.Unix }}\"}}\n", i, i, T.UTC().Format(time.RFC3339), i)
	}
	writeAtomically(t, filepath.Join(cfgDir, "herd.yaml"), herd.String())
	time.Sleep(time.Until(T))
	posts = benchWait(t, c, "h", n, []time.Time{T}, 90*time.Second)
	late, missing, dups = benchLateness(posts, "h", n, []time.Time{T})
	var firstPost, lastPost time.Duration
	if len(late) > 0 {
		firstPost, lastPost = late[0], late[0]
		for _, d := range late {
			firstPost, lastPost = min(firstPost, d), max(lastPost, d)
		}
	}
	t.Logf("%d node(s), herd of %d at T: T->first post %s, T->last post %s; lateness %s; missing %d, duplicated %d",
		nodes, n, firstPost.Round(time.Millisecond), lastPost.Round(time.Millisecond), percentiles(late), missing, dups)
	c.stopAll()
	t.Logf("%d node(s): database writes per fire %s; Redis round trips per burst %s; fire locks %s", nodes,
		c.perUnit("herald_fire_writes_total", 3*n), c.perUnit("herald_redis_round_trips_total", 3), c.labelled("herald_fire_locks_total"))
	c.fake.stop(t)
}

// benchWait polls the fake X until want posts whose text starts with
// prefix and names one of the planned instants are there, or none came
// for quiet; it returns every post.
func benchWait(t *testing.T, c *testCluster, prefix string, want int, planned []time.Time, quiet time.Duration) []fakePost {
	t.Helper()
	last, lastChange := -1, time.Now()
	for {
		var posts []fakePost
		c.fake.getJSON(t, "/_fake/posts", &posts)
		got := 0
		for _, p := range posts {
			if _, ok := benchPlanned(p, prefix, planned); ok {
				got++
			}
		}
		if got >= want || time.Since(lastChange) > quiet {
			return posts
		}
		if got != last {
			last, lastChange = got, time.Now()
		}
		time.Sleep(time.Second)
	}
}

// benchPlanned parses a bench post's text, "c00042 1760000000": its
// planned instant, if it is one of planned.
func benchPlanned(p fakePost, prefix string, planned []time.Time) (time.Time, bool) {
	f := strings.Fields(p.AuthoredText)
	if len(f) != 2 || !strings.HasPrefix(f[0], prefix) {
		return time.Time{}, false
	}
	u, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	at := time.Unix(u, 0)
	for _, q := range planned {
		if q.Equal(at) {
			return at, true
		}
	}
	return time.Time{}, false
}

// benchLateness is the lateness of the first post of each fire, and how
// many fires have no post and how many posts repeat a fire's.
func benchLateness(posts []fakePost, prefix string, n int, planned []time.Time) (late []time.Duration, missing, dups int) {
	seen := map[string]bool{}
	for _, p := range posts {
		at, ok := benchPlanned(p, prefix, planned)
		if !ok {
			continue
		}
		if seen[p.AuthoredText] {
			dups++
			continue
		}
		seen[p.AuthoredText] = true
		late = append(late, p.CreatedAt.Sub(at))
	}
	return late, n*len(planned) - len(seen), dups
}
