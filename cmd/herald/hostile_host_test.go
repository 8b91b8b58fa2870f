package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	adminv1 "github.com/herald-social/herald/proto/herald/admin/v1"
)

// TestNoTokenAnswersOnlyLoopbackHosts: without tokens, a request whose
// Host is not a loopback name (a DNS-rebinding page's) is refused, even
// to trigger a schedule; loopback names and --allowed-host names are
// answered.
func TestNoTokenAnswersOnlyLoopbackHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", hostilePlan)
	n := startNode(t, "--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--dry-run",
		"--allowed-host", "herald.internal")
	addr := n.waitLog("start", 30*time.Second, msgIs("herald started"))["listen"].(string)
	_, port, _ := net.SplitHostPort(addr)
	for _, c := range []struct {
		host string
		want int
	}{
		{"rebind.attacker.example", http.StatusMisdirectedRequest},
		{"rebind.attacker.example:" + port, http.StatusMisdirectedRequest},
		{"localhost:" + port, http.StatusOK},
		{"127.0.0.1:" + port, http.StatusOK},
		{"herald.internal:" + port, http.StatusOK},
	} {
		req, _ := http.NewRequest("POST", "http://"+addr+triggerPath, strings.NewReader(`{"id":"h"}`))
		req.Host = c.host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("TriggerSchedule with Host %q: %d %s, want %d", c.host, resp.StatusCode, b, c.want)
		}
		if c.want == http.StatusMisdirectedRequest && !strings.Contains(string(b), "--allowed-host") {
			t.Errorf("Host %q: the refusal %q does not say how to allow a name", c.host, b)
		}
	}
	// Only the three allowed requests made a manual job.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	jobs, err := apiClients{base: "http://" + addr}.client("connect", "").ListJobs(ctx, connect.NewRequest(&adminv1.ListJobsRequest{ScheduleId: "h"}))
	if err != nil {
		t.Fatal(err)
	}
	manual := 0
	for _, j := range jobs.Msg.Jobs {
		if j.Trigger == "manual" {
			manual++
		}
	}
	if manual != 3 {
		t.Errorf("%d manual jobs, want 3 (one per allowed Host)", manual)
	}
}

// TestTokensNeedTLSBeyondLoopback: with admin tokens, a listener beyond
// loopback without TLS is refused at start, naming the flags that fix it;
// --insecure-http starts it.
func TestTokensNeedTLSBeyondLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", hostilePlan)
	env := []string{"HERALD_ADMIN_TOKENS=read:" + readToken, "HERALD_CACHE_DIR=off"}
	args := []string{"serve", "--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:" + filepath.Join(dir, "h.db"), "--dry-run", "--listen", "0.0.0.0:0"}
	r := heraldEnv(t, dir, env, args...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--listen 0.0.0.0:0: admin tokens would cross the network in clear text; give --tls-cert and --tls-key, or --insecure-http") {
		t.Errorf("tokens on 0.0.0.0 without TLS: exit %d, %q; want a usage error naming --tls-cert and --insecure-http", r.code, r.stderr)
	}
	n := startNodeEnv(t, env, append(args[1:], "--insecure-http")...)
	n.waitLog("start", 30*time.Second, msgIs("herald started"))
}
