package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/herald-social/herald/store"
)

// checkRedisDegraded polls every node's /readyz until `until`: each must
// answer 200 (Redis never makes a node unready) and, at least once, name
// Redis degraded.
func (r *chaosRun) checkRedisDegraded(until time.Time) {
	time.Sleep(time.Second) // the pool's connections notice the outage
	degraded := map[string]bool{}
	for time.Now().Before(until) {
		for _, n := range r.c.nodes {
			if n.isDown() {
				continue
			}
			code, body := n.readyz()
			if code != 200 {
				r.t.Errorf("%s /readyz during the Redis outage: %d %v, want 200 (Redis must not make a node unready)", n.id, code, body)
			}
			if s, _ := body["redis"].(string); strings.HasPrefix(s, "degraded") {
				degraded[n.id] = true
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	for _, n := range r.c.nodes {
		if !degraded[n.id] && !n.isDown() {
			r.t.Errorf("%s /readyz never reported Redis degraded during the Redis outage", n.id)
		}
	}
	r.note("/readyz during the Redis outage: degraded on %v", slices.Sorted(maps.Keys(degraded)))
}

// checkUnready polls the cut node's /readyz until `until`: it must answer
// 503 with the store unreachable at least once, and never 200 after the
// first 503 (the cut lasts).
func (r *chaosRun) checkUnready(n *clusterNode, until time.Time) {
	time.Sleep(500 * time.Millisecond)
	seen := map[int]int{}
	for time.Now().Before(until.Add(-time.Second)) {
		code, body := n.readyz()
		seen[code]++
		if code == 503 && body["store"] != "unreachable" {
			r.t.Errorf("%s /readyz during its cut: 503 %v, want the store named unreachable", n.id, body)
		}
		if code == 200 && seen[503] > 0 {
			r.t.Errorf("%s /readyz during its cut: 200 %v after a 503, while its store is still cut", n.id, body)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if seen[503] == 0 {
		r.t.Errorf("%s /readyz never answered 503 while cut from Postgres (answers by status: %v)", n.id, seen)
	}
	r.note("%s /readyz during its cut, answers by status: %v", n.id, seen)
}

// waitReady polls nodes' /readyz until ok holds for each, or fails the
// test after a minute.
func (r *chaosRun) waitReady(nodes []*clusterNode, what string, ok func(int, map[string]any) bool) {
	deadline := time.Now().Add(time.Minute)
	for _, n := range nodes {
		for {
			code, body := n.readyz()
			if ok(code, body) {
				break
			}
			if time.Now().After(deadline) {
				r.t.Errorf("%s: not %s within a minute: /readyz %d %v", n.id, what, code, body)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	r.note("%s: %s", what, nodeIDs(nodes))
}

func nodeIDs(nodes []*clusterNode) string {
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.id)
	}
	return strings.Join(ids, ",")
}

// drain waits until no job planned before hi is in flight, for at most
// 90 seconds (a lease of a node killed mid-publish, and retries); what is
// left is reported by the checks.
func (r *chaosRun) drain(hi time.Time) {
	s := openDB(r.t, r.c.db)
	defer s.Close()
	deadline := time.Now().Add(90 * time.Second)
	for {
		page, err := s.ListJobs(context.Background(), store.ListJobsParams{Statuses: inFlight, PlannedTo: hi.Add(time.Second), Limit: 1000})
		if err != nil {
			r.t.Fatalf("listing the jobs in flight: %v", err)
		}
		if len(page.Jobs) == 0 {
			r.note("drained")
			return
		}
		if time.Now().After(deadline) {
			r.note("%d job(s) still in flight after 90s", len(page.Jobs))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clusterResult is what checkClusterFires found and measured.
type clusterResult struct {
	findings []string
	bad      []int64         // jobs named in findings, first found first
	fires    int             // planned fires in the window
	posts    int             // posts at X, all fires
	lateness []time.Duration // of the window's fires: main post at X minus planned instant
	latest   []lateFire      // the latest fires, latest first (up to 3)
}

// lateFire is a fire and how late its main post reached X.
type lateFire struct {
	schedule string
	planned  time.Time
	late     time.Duration
}

// noteLate keeps the three latest fires.
func (res *clusterResult) noteLate(f lateFire) {
	res.lateness = append(res.lateness, f.late)
	res.latest = append(res.latest, f)
	slices.SortFunc(res.latest, func(a, b lateFire) int { return int(b.late - a.late) })
	res.latest = res.latest[:min(len(res.latest), 3)]
}

func (res *clusterResult) add(job int64, format string, args ...any) {
	res.findings = append(res.findings, fmt.Sprintf(format, args...))
	if job != 0 && !slices.Contains(res.bad, job) {
		res.bad = append(res.bad, job)
	}
}

// checkClusterFires holds the cluster to the promise. For every planned
// instant in [lo, hi] of every schedule: exactly one job, succeeded (every
// node but one at most is up and reaches the store at any moment, so no
// fire may be missed or dead), whose post ids are its posts at X, each
// part posted exactly once with its text. Over the whole run: no text
// posted twice, no post that is not a job's.
func checkClusterFires(plan soakPlan, lo, hi time.Time, jobs []store.Job, posts []fakePost) *clusterResult {
	res := &clusterResult{posts: len(posts)}
	byFire := map[fireKey]*store.Job{}
	byPlanned := map[string]*store.Job{}
	for i := range jobs {
		j := &jobs[i]
		k := j.ScheduleID + "@" + j.PlannedAt.UTC().Format(time.RFC3339Nano)
		if prev := byPlanned[k]; prev != nil && j.Trigger != store.TriggerManual {
			res.add(j.ID, "job %d and job %d are both %s planned %s", prev.ID, j.ID, j.ScheduleID, j.PlannedAt.Format("15:04:05"))
		}
		byPlanned[k] = j
		byFire[fireKey{j.ScheduleID, j.Run}] = j
	}
	atX := map[fireKey][]fakePost{}
	byText := map[string][]string{}
	for _, p := range posts {
		byText[p.AuthoredText] = append(byText[p.AuthoredText], p.ID)
		st, ok := parseSoakText(p.AuthoredText)
		if !ok || byFire[fireKey{st.Schedule, st.Run}] == nil {
			res.add(0, "post %s at X (%q) is no job's", p.ID, p.AuthoredText)
			continue
		}
		atX[fireKey{st.Schedule, st.Run}] = append(atX[fireKey{st.Schedule, st.Run}], p)
	}
	for _, text := range slices.Sorted(maps.Keys(byText)) {
		if ids := byText[text]; len(ids) > 1 {
			st, _ := parseSoakText(text)
			var job int64
			if j := byFire[fireKey{st.Schedule, st.Run}]; j != nil {
				job = j.ID
			}
			res.add(job, "%q posted %d times at X: %v", text, len(ids), ids)
		}
	}
	for _, s := range plan.Schedules {
		every := time.Duration(s.Every) * time.Second
		for at := lo.Truncate(every).Add(every); !at.After(hi); at = at.Add(every) {
			res.fires++
			j := byPlanned[s.ID+"@"+at.UTC().Format(time.RFC3339Nano)]
			if j == nil {
				res.add(0, "%s planned %s: no job", s.ID, at.Format("15:04:05"))
				continue
			}
			checkClusterFire(res, s, j, atX[fireKey{s.ID, j.Run}])
		}
	}
	return res
}

// checkClusterFire checks one fire of the window: its job and its posts.
func checkClusterFire(res *clusterResult, s soakSchedule, j *store.Job, found []fakePost) {
	if j.Status != store.StatusSucceeded {
		res.add(j.ID, "%s planned %s: job %d is %s (reason %q, last error %q), want succeeded",
			s.ID, j.PlannedAt.Format("15:04:05"), j.ID, j.Status, j.DeadReason, j.LastError)
	}
	for part := range s.Posts() {
		want := s.Text(part, j.Run, j.PlannedAt, 1)
		var at []fakePost
		for _, p := range found {
			if p.AuthoredText == want && !p.Deleted {
				at = append(at, p)
			}
		}
		if len(at) != 1 {
			res.add(j.ID, "%s planned %s (job %d, %s): part %d %q is at X %d times, want once",
				s.ID, j.PlannedAt.Format("15:04:05"), j.ID, j.Status, part, want, len(at))
			continue
		}
		if part == 0 {
			res.noteLate(lateFire{schedule: s.ID, planned: j.PlannedAt, late: at[0].CreatedAt.Sub(j.PlannedAt)})
		}
		if j.Status == store.StatusSucceeded && (part >= len(j.PostIDs) || j.PostIDs[part] != at[0].ID) {
			res.add(j.ID, "job %d's post ids %v do not name post %s, part %d at X", j.ID, j.PostIDs, at[0].ID, part)
		}
	}
}

// percentiles is p50, p99 and max of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("p50 %s p99 %s max %s (n=%d)", r(at(0.50)), r(at(0.99)), r(s[len(s)-1]), len(s))
}

// stats are the figures of a run: fires, posts, lateness, and what the
// nodes' metrics say each fire cost.
func (r *chaosRun) stats(res *clusterResult, jobs []store.Job) string {
	bursts := map[time.Time]bool{}
	for _, j := range jobs {
		bursts[j.PlannedAt] = true
	}
	c := r.c
	var b strings.Builder
	fmt.Fprintf(&b, "%d fires in the window, %d jobs in all, %d posts at X; lateness at X %s\n", res.fires, len(jobs), res.posts, percentiles(res.lateness))
	for _, f := range res.latest {
		fmt.Fprintf(&b, "  late: %s planned %s (+%.2fs), %s late\n", f.schedule, f.planned.Format("15:04:05.000"), f.planned.Sub(r.origin).Seconds(), f.late.Round(time.Millisecond))
	}
	fmt.Fprintf(&b, "  jobs recorded per job, summed over the nodes (herald_fires_total; above 1, a node recorded a fire another had): %s\n", c.perUnit("herald_fires_total", len(jobs)))
	fmt.Fprintf(&b, "  database writes per fire (herald_fire_writes_total): %s\n", c.perUnit("herald_fire_writes_total", len(jobs)))
	fmt.Fprintf(&b, "  Redis round trips per burst (herald_redis_round_trips_total): %s\n", c.perUnit("herald_redis_round_trips_total", len(bursts)))
	fmt.Fprintf(&b, "  fire locks: %s\n", c.labelled("herald_fire_locks_total"))
	fmt.Fprintf(&b, "  (counters as last scraped: before each kill, and at the end)\n")
	for _, n := range c.nodes {
		pg, rd := n.pg.Counts(), n.redis.Counts()
		fmt.Fprintf(&b, "  %s: %d processes; postgres proxy %d conns (%d reset, %d held); redis proxy %d conns (%d reset, %d held)\n",
			n.id, len(n.logPaths()), pg.Accepted, pg.Reset, pg.Held, rd.Accepted, rd.Reset, rd.Held)
	}
	return b.String()
}

// labelled lists a metric's sums by label set, "n/a" when no node has it.
func (c *testCluster) labelled(name string) string {
	sums := map[string]float64{}
	for _, n := range c.nodes {
		n.mu.Lock()
		for _, s := range n.scraped {
			for k, v := range s {
				if strings.HasPrefix(k, name+"{") {
					sums[strings.TrimPrefix(k, name)] += v
				}
			}
		}
		n.mu.Unlock()
	}
	if len(sums) == 0 {
		return "n/a (no " + name + ")"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(sums)) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, sums[k]))
	}
	return strings.Join(parts, ", ")
}

// report is the failure report: the findings, then the events and log
// lines of the first jobs named.
func (r *chaosRun) report(res *clusterResult, jobs []store.Job, posts []fakePost) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the cluster broke the promise (replay: %s):\n", r.cfg)
	for i, f := range res.findings {
		if i == 40 {
			fmt.Fprintf(&b, "  ... and %d more\n", len(res.findings)-i)
			break
		}
		fmt.Fprintf(&b, "  %s\n", f)
	}
	s := openDBQuiet(r.c.db)
	if s != nil {
		defer s.Close()
	}
	for i, id := range res.bad {
		if i == 6 {
			break
		}
		fmt.Fprintf(&b, "job %d:\n", id)
		if s != nil {
			if events, err := s.JobEvents(context.Background(), id); err == nil {
				for _, e := range events {
					fmt.Fprintf(&b, "    event %s %s->%s node %s attempt %d %q\n", e.At.Format("15:04:05.000"), e.From, e.To, e.Node, e.Attempt, e.Detail)
				}
			}
		}
		for _, l := range grepFiles(r.c.logPaths(), 12, fmt.Sprintf(`"job_id":%d,`, id)) {
			fmt.Fprintf(&b, "    log %s\n", l)
		}
	}
	return b.String()
}
