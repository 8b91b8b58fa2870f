package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

const metricsPlan = `schedules:
  - id: every-second
    account: brand
    cron: "* * * * * *"
    post: {text: "tick {{ .Run }} at {{ .Planned.Format \"15:04:05\" }}"}
  - id: daily
    account: brand
    cron: "0 9 * * *"
    post: {text: "daily {{ .Run }}"}
`

// TestMetricsEndpoint runs herald serve against the fake X and scrapes GET
// /metrics: the fires, transitions, lateness, publishes, reloads,
// schedules and the account's rate-limit budget are there and move.
func TestMetricsEndpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	env := w.user("brand")
	n := w.start(env, "accounts:\n"+w.account("brand", "")+metricsPlan)
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	load := n.waitLog("the first load", 30*time.Second, msgIs("config reload", "result", "ok"))
	url := "http://" + started["listen"].(string) + "/metrics"
	n.waitLog("a publish", 30*time.Second, msgIs("job transition", "schedule_id", "every-second", "to", "succeeded"))

	// The observer is called right after the log line: scrape until the
	// series caught up.
	var m scrape
	waitMetrics(t, url, "the first publish in the metrics", func(s scrape) bool {
		m = s
		return s.sum("herald_job_transitions_total", "to", "succeeded") > 0 &&
			s.sum("herald_publish_duration_seconds_count", "account", "brand", "outcome", "succeeded") > 0 &&
			s.sum("herald_rate_limit_remaining", "account", "brand", "endpoint", "create_post", "scope", "user", "window", "15m") < 100
	})
	for _, c := range []struct {
		what string
		ok   bool
	}{
		{"fires of every-second", m.sum("herald_fires_total", "schedule_id", "every-second", "trigger", "scheduled") > 0},
		{"no fire of daily", !m.has("herald_fires_total", "schedule_id", "daily")},
		{"lateness observed", m.sum("herald_fire_lateness_seconds_count") > 0},
		{"planned -> running counted", m.sum("herald_job_transitions_total", "from", "planned", "to", "running") > 0},
		{"one ok reload", m.sum("herald_config_reloads_total", "result", "ok") == 1},
		{"no failed reload", m.has("herald_config_reloads_total", "result", "error") && m.sum("herald_config_reloads_total", "result", "error") == 0},
		{"2 schedules loaded", m.has("herald_schedules_loaded") && m.sum("herald_schedules_loaded") == 2},
		{"the revision running", m.sum("herald_config_info", "revision", fmt.Sprint(load["revision"])) == 1},
		{"skipped fires from zero", m.has("herald_fires_skipped_total", "reason", "missed") && m.sum("herald_fires_skipped_total") == 0},
		{"no restart", m.has("herald_actor_restarts_total") && m.sum("herald_actor_restarts_total") == 0},
		{"no dead letter", !m.has("herald_dead_letters_total")},
	} {
		if !c.ok {
			t.Errorf("%s: not so in\n%s", c.what, m.text)
		}
	}

	// A third schedule: the next scrape says so, and counts the reload.
	writeAtomically(t, filepath.Join(w.dir, "plan.yaml"), "accounts:\n"+w.account("brand", "")+metricsPlan+`  - id: weekly
    account: brand
    cron: "0 9 * * 1"
    post: {text: "weekly {{ .Run }}"}
`)
	n.waitLog("the edit applied", 30*time.Second, msgIs("config reload", "result", "ok", "added", "1"))
	fires := m.sum("herald_fires_total", "schedule_id", "every-second")
	waitMetrics(t, url, "3 schedules, 2 reloads, more fires", func(s scrape) bool {
		m = s
		return s.sum("herald_schedules_loaded") == 3 && s.sum("herald_config_reloads_total", "result", "ok") == 2 &&
			s.sum("herald_fires_total", "schedule_id", "every-second") > fires
	})
	if code := n.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("herald exited %d after SIGTERM, want 0", code)
	}
}

// scrape is one GET /metrics in the text format: each sample's name,
// labels and value.
type scrape struct {
	text    string
	samples []sample
}

type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var labelRE = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

func parseScrape(t *testing.T, r io.Reader) scrape {
	t.Helper()
	var s scrape
	var b strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		b.WriteString(line + "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if sp < 0 || err != nil {
			t.Fatalf("not a sample line: %q", line)
		}
		key := line[:sp]
		smp := sample{name: key, labels: map[string]string{}, value: v}
		if i := strings.IndexByte(key, '{'); i >= 0 {
			smp.name = key[:i]
			for _, m := range labelRE.FindAllStringSubmatch(key[i:], -1) {
				smp.labels[m[1]] = m[2]
			}
		}
		s.samples = append(s.samples, smp)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	s.text = b.String()
	return s
}

// match calls f with each sample of name whose labels include the given
// name/value pairs.
func (s scrape) match(name string, labels []string, f func(sample)) {
next:
	for _, smp := range s.samples {
		if smp.name != name {
			continue
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if smp.labels[labels[i]] != labels[i+1] {
				continue next
			}
		}
		f(smp)
	}
}

func (s scrape) sum(name string, labels ...string) float64 {
	var v float64
	s.match(name, labels, func(smp sample) { v += smp.value })
	return v
}

func (s scrape) has(name string, labels ...string) bool {
	found := false
	s.match(name, labels, func(sample) { found = true })
	return found
}

// waitMetrics scrapes url until cond holds, failing after a generous
// deadline.
func waitMetrics(t *testing.T, url, what string, cond func(scrape) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			resp.Body.Close()
			t.Fatalf("GET %s = %s, Content-Type %q", url, resp.Status, resp.Header.Get("Content-Type"))
		}
		s := parseScrape(t, resp.Body)
		resp.Body.Close()
		if cond(s) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last scrape:\n%s", what, s.text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
