package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

const ctlNodesPlan = `accounts:
  brand: {platform: x}
schedules:
  - id: hourly
    account: brand
    cron: "0 * * * *"
    post: {text: "hourly {{ .Run }}"}
`

// TestCtlNodes runs two herald serve processes on one Postgres schema
// without Redis, plus a third node recorded through the store with another
// revision: herald ctl nodes lists all three with their addresses and
// marks the odd revision, and the second node warns, in its log and in
// herald ctl status, that the store is shared without Redis.
func TestCtlNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	dir := t.TempDir()
	plan := writeFile(t, dir, "plan.yaml", ctlNodesPlan)
	db := pgtest.SchemaURL(t)
	env := []string{"HERALD_ADMIN_TOKENS=read:" + ctlE2ERead}
	start := func(id string) (*node, string) {
		n := startNodeEnv(t, env, "--config", plan, "--db", db, "--node-id", id)
		started := n.waitLog("start of "+id, 60*time.Second, msgIs("herald started"))
		return n, started["listen"].(string)
	}
	_, addrA := start("node-a")
	b, addrB := start("node-b")
	b.waitLog("the warning of node-b", 60*time.Second, msgIs("nodes share this store without Redis", "live_nodes", "2"))

	ctx := context.Background()
	st, err := postgres.Open(ctx, db, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	if err := st.Heartbeat(ctx, store.HeartbeatParams{Now: now, Node: store.Node{ID: "node-x", Address: "http://x:1",
		Version: "v0", Revision: "rev-other", StartedAt: now, StoreHealth: "ok", RedisHealth: "degraded: refused"}}); err != nil {
		t.Fatal(err)
	}

	read := []string{"HERALD_SERVER=" + addrB, "HERALD_TOKEN=" + ctlE2ERead}
	r := runCtlBin(t, read, "nodes")
	if r.code != exitOK {
		t.Fatalf("herald ctl nodes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(r.stdout, "\n")
	if !strings.HasPrefix(lines[0], "NODE") || !strings.Contains(lines[0], "IN FLIGHT") {
		t.Fatalf("header: %q", lines[0])
	}
	row := func(id string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, id+" ") {
				return l
			}
		}
		t.Fatalf("no row for %s in:\n%s", id, r.stdout)
		return ""
	}
	for id, addr := range map[string]string{"node-a": addrA, "node-b": addrB} {
		l := row(id)
		for _, want := range []string{"http://" + addr, " yes ", " none ", " ok "} {
			if !strings.Contains(l, want) {
				t.Errorf("%s's row lacks %q: %q", id, want, l)
			}
		}
		if strings.Contains(l, "*") {
			t.Errorf("%s is marked as running another revision: %q", id, l)
		}
	}
	if l := row("node-x"); !strings.Contains(l, "rev-other *") || !strings.Contains(l, "degraded: refused") {
		t.Errorf("node-x's row: %q, want its revision marked", l)
	}
	if !strings.Contains(r.stdout, "* runs a configuration revision other than the most common among live nodes") {
		t.Errorf("no legend for the mark:\n%s", r.stdout)
	}

	r = runCtlBin(t, read, "status")
	if r.code != exitOK || !strings.Contains(r.stdout, "live nodes share this store without Redis") ||
		!strings.Contains(r.stdout, "nodes\n") || !strings.Contains(r.stdout, "node-x") {
		t.Errorf("herald ctl status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
