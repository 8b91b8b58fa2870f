package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// node is a real `herald serve` process whose JSON log lines are collected.
type node struct {
	t    *testing.T
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	done chan struct{}
}

func startNode(t *testing.T, args ...string) *node {
	t.Helper()
	return startNodeEnv(t, nil, args...)
}

// startNodeEnv starts herald serve with extra environment variables
// (NAME=VALUE) on top of the test's own.
func startNodeEnv(t *testing.T, env []string, args ...string) *node {
	t.Helper()
	return startBinary(t, heraldBin, env, append([]string{"serve", "--listen", "127.0.0.1:0", "--grace", "5s"}, args...)...)
}

// startBinary starts bin with args, the test's environment plus env, and
// reads its log; the process is killed at the end of the test if it still
// runs.
func startBinary(t *testing.T, bin string, env []string, args ...string) *node {
	t.Helper()
	n := &node{t: t, done: make(chan struct{})}
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = append(os.Environ(), env...)
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go n.read(stderr)
	t.Cleanup(func() {
		if n.cmd.ProcessState == nil {
			_ = n.cmd.Process.Kill()
			<-n.done
			_ = n.cmd.Wait()
		}
	})
	return n
}

func (n *node) read(r io.Reader) {
	defer close(n.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			n.t.Errorf("a log line is not JSON: %q", sc.Text())
			continue
		}
		n.mu.Lock()
		n.logs = append(n.logs, m)
		n.mu.Unlock()
	}
}

// waitLog waits for a log line matching pred and returns it.
func (n *node) waitLog(what string, timeout time.Duration, pred func(map[string]any) bool) map[string]any {
	n.t.Helper()
	deadline := time.Now().Add(timeout)
	for seen := 0; ; {
		n.mu.Lock()
		lines := n.logs[seen:]
		seen = len(n.logs)
		n.mu.Unlock()
		for _, l := range lines {
			if pred(l) {
				return l
			}
		}
		select {
		case <-n.done:
			n.t.Fatalf("herald exited while waiting for %s", what)
		default:
		}
		if time.Now().After(deadline) {
			n.mu.Lock()
			tail := n.logs[max(0, len(n.logs)-40):]
			n.mu.Unlock()
			for _, l := range tail {
				n.t.Logf("log: %v", l)
			}
			n.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *node) stop(sig syscall.Signal) int {
	n.t.Helper()
	_ = n.cmd.Process.Signal(sig)
	<-n.done
	err := n.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

func msgIs(msg string, kv ...string) func(map[string]any) bool {
	return func(l map[string]any) bool {
		if l["msg"] != msg {
			return false
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if fmt.Sprint(l[kv[i]]) != kv[i+1] {
				return false
			}
		}
		return true
	}
}

// writeAtomically saves like an editor that writes a temporary file and
// renames it over the original.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const e2eSchedules = `accounts:
  brand: {platform: x}
schedules:
  - id: every-second
    account: brand
    cron: "* * * * * *"
    catchup: 2s
    post: {text: "tick {{ .Run }} at {{ .Planned.Format \"15:04:05\" }}"}
  - id: every-two
    account: brand
    cron: "*/2 * * * * *"
    post: {text: "%s {{ .Run }}", thread: ["reply {{ .Run }}"]}
`

// TestServeEndToEnd runs the real binary on a temporary folder and database
// and shows: schedules firing on time, an edit applied, a broken edit
// rejected while the old schedules keep firing, a restart after kill -9 with
// nothing lost and nothing duplicated, and catch-up after downtime.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: runs herald serve for about half a minute")
	}
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		serveEndToEnd(t, "sqlite:"+filepath.Join(t.TempDir(), "herald.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		serveEndToEnd(t, pgtest.SchemaURL(t))
	})
}

func serveEndToEnd(t *testing.T, db string) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "schedules")
	cfgFile := filepath.Join(cfgDir, "plan.yaml")
	writeFile(t, cfgDir, "plan.yaml", fmt.Sprintf(e2eSchedules, "before"))
	args := []string{"--config", cfgDir, "--db", db, "--node-id", "e2e", "--poll-interval", "1s"}

	n := startNode(t, args...)
	started := n.waitLog("start", 30*time.Second, msgIs("herald started"))
	checkHealth(t, started["listen"].(string))

	// On time: fires are recorded running within a generous bound of their
	// planned instant (the benchmarks measure the real figures).
	for i := 0; i < 3; i++ {
		l := n.waitLog("a publish", 20*time.Second, msgIs("job transition", "schedule_id", "every-second", "to", "succeeded"))
		planned, _ := time.Parse(time.RFC3339Nano, l["planned_at"].(string))
		at, _ := time.Parse(time.RFC3339Nano, l["time"].(string))
		if late := at.Sub(planned); late < 0 || late > 3*time.Second {
			t.Errorf("fire planned %v succeeded at %v (%v late)", planned, at, late)
		}
	}

	// SIGHUP reloads at once (nothing changed: nothing added or removed).
	_ = n.cmd.Process.Signal(syscall.SIGHUP)
	n.waitLog("reload on SIGHUP", 20*time.Second, msgIs("config reload", "trigger", "SIGHUP", "result", "ok", "added", "0", "removed", "0", "changed", "0"))

	// An edit (saved by rename) is applied: the new text is posted.
	writeAtomically(t, cfgFile, fmt.Sprintf(e2eSchedules, "after"))
	n.waitLog("reload of the edit", 30*time.Second, msgIs("config reload", "result", "ok", "changed", "1"))
	n.waitLog("the edited text", 30*time.Second, func(l map[string]any) bool {
		return l["msg"] == "dry-run post" && strings.HasPrefix(fmt.Sprint(l["text"]), "after ")
	})

	// A broken edit is rejected with FILE:LINE:COL errors; the old
	// schedules keep firing.
	writeAtomically(t, cfgFile, strings.Replace(fmt.Sprintf(e2eSchedules, "after"), `cron: "*/2 * * * * *"`, `cron: "*/2 * * * * * * *"`, 1))
	rejected := n.waitLog("rejection", 30*time.Second, msgIs("config reload", "result", "error"))
	errs := fmt.Sprint(rejected["errors"])
	if !strings.Contains(errs, "plan.yaml:11:11:") {
		t.Errorf("reload errors %s do not point at plan.yaml:14", errs)
	}
	mark := time.Now()
	n.waitLog("a fire after the rejection", 20*time.Second, func(l map[string]any) bool {
		at, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(l["time"]))
		return l["msg"] == "dry-run post" && strings.HasPrefix(fmt.Sprint(l["text"]), "after ") && at.After(mark)
	})

	// kill -9, stay down long enough to miss fires, restart.
	if code := n.stop(syscall.SIGKILL); code != -1 {
		t.Logf("kill -9 exit code %d", code)
	}
	killed := time.Now()
	time.Sleep(5 * time.Second)
	writeAtomically(t, cfgFile, fmt.Sprintf(e2eSchedules, "after")) // repair it while down
	n2 := startNode(t, args...)
	n2.waitLog("catch-up published", 30*time.Second, func(l map[string]any) bool {
		return l["msg"] == "job transition" && l["to"] == "succeeded" && l["schedule_id"] == "every-second" &&
			jobTrigger(t, db, l) == store.TriggerCatchup
	})
	n2.waitLog("a fire after the restart", 20*time.Second, msgIs("job transition", "schedule_id", "every-two", "to", "succeeded"))
	// A job the kill interrupted mid-publish is taken over (its lease
	// released at start, reconciled, retried): wait until nothing is left
	// in flight before the final stop.
	waitSettled(t, db, killed)
	if code := n2.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("herald exited %d after SIGTERM, want 0", code)
	}
	n2.waitLog("clean stop", time.Second, msgIs("herald stopped"))

	checkNothingLostOrDuplicated(t, db, killed)
}

// waitSettled waits until every job planned before the kill is final.
func waitSettled(t *testing.T, db string, killed time.Time) {
	t.Helper()
	s := openDB(t, db)
	defer s.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		page, err := s.ListJobs(context.Background(), store.ListJobsParams{
			Statuses:  []store.Status{store.StatusPlanned, store.StatusRunning, store.StatusRetrying, store.StatusUnknown},
			PlannedTo: killed, Limit: 100,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Jobs) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs from before the kill still not final: %+v", page.Jobs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func checkHealth(t *testing.T, addr string) {
	t.Helper()
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
}

func openDB(t *testing.T, db string) store.Store {
	t.Helper()
	s, err := open.Open(context.Background(), db, open.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jobTrigger(t *testing.T, db string, l map[string]any) store.Trigger {
	s := openDB(t, db)
	defer s.Close()
	j, err := s.GetJob(context.Background(), int64(l["job_id"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	return j.Trigger
}

// checkNothingLostOrDuplicated: every second from the first fire to the
// last has exactly one job of every-second (the store's unique key makes a
// duplicate impossible; a gap would be a lost fire), each in a final state,
// with the downtime's fires missed but the newest caught up.
func checkNothingLostOrDuplicated(t *testing.T, db string, killed time.Time) {
	t.Helper()
	s := openDB(t, db)
	defer s.Close()
	var jobs []store.Job
	for token := ""; ; {
		page, err := s.ListJobs(context.Background(), store.ListJobsParams{ScheduleID: "every-second", Limit: 1000, PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, page.Jobs...)
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if len(jobs) < 5 {
		t.Fatalf("only %d jobs recorded", len(jobs))
	}
	missed, caughtUp := 0, 0
	for i, j := range jobs {
		if i > 0 && j.PlannedAt.Sub(jobs[i-1].PlannedAt) != time.Second {
			t.Errorf("gap or duplicate: job %d planned %v after %v", j.ID, j.PlannedAt, jobs[i-1].PlannedAt)
		}
		switch j.Status {
		case store.StatusSucceeded:
			if j.Attempt != 1 && j.Trigger != store.TriggerCatchup {
				t.Logf("job %d succeeded at attempt %d", j.ID, j.Attempt)
			}
		case store.StatusMissed:
			missed++
			if j.PlannedAt.Before(killed.Add(-2 * time.Second)) {
				t.Errorf("job %d planned %v before the kill was missed", j.ID, j.PlannedAt)
			}
		default:
			t.Errorf("job %d planned %v left %s", j.ID, j.PlannedAt, j.Status)
		}
		if j.Trigger == store.TriggerCatchup {
			caughtUp++
		}
	}
	if missed < 2 || caughtUp != 1 {
		t.Errorf("downtime of 5s with catchup 2s: %d missed, %d caught up; want several missed and exactly one caught up", missed, caughtUp)
	}
}

// TestServeReloadsSymlinkSwaps: folders swapped atomically through a
// symlink, as git-sync (the configured path is the link) and Kubernetes
// ConfigMap volumes (..data is the link) do, are reloaded.
func TestServeReloadsSymlinkSwaps(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	plan := func(text string) string {
		return "accounts:\n  brand: {platform: x}\nschedules:\n  - {id: s, account: brand, cron: \"0 0 1 1 *\", post: {text: \"" + text + "\"}}\n"
	}
	swap := func(t *testing.T, link, target string) {
		t.Helper()
		tmp := link + ".tmp"
		if err := os.Symlink(target, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, link); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("git-sync", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "rev-1/plan.yaml", plan("one"))
		writeFile(t, dir, "rev-2/plan.yaml", plan("two"))
		current := filepath.Join(dir, "current")
		swap(t, current, "rev-1")
		n := startNode(t, "--config", current, "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--poll-interval", "1h")
		n.waitLog("start", 30*time.Second, msgIs("herald started"))
		swap(t, current, "rev-2")
		n.waitLog("reload after the swap", 30*time.Second, msgIs("config reload", "result", "ok", "changed", "1"))
	})
	t.Run("configmap", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "..2026_11_28_1/plan.yaml", plan("one"))
		writeFile(t, dir, "..2026_11_28_2/plan.yaml", plan("two"))
		swap(t, filepath.Join(dir, "..data"), "..2026_11_28_1")
		if err := os.Symlink(filepath.Join("..data", "plan.yaml"), filepath.Join(dir, "plan.yaml")); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, "--config", dir, "--db", "sqlite:"+filepath.Join(t.TempDir(), "h.db"), "--poll-interval", "1h")
		n.waitLog("start", 30*time.Second, msgIs("herald started"))
		swap(t, filepath.Join(dir, "..data"), "..2026_11_28_2")
		n.waitLog("reload after the swap", 30*time.Second, msgIs("config reload", "result", "ok", "changed", "1"))
	})
}
