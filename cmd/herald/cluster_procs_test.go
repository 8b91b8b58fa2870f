package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/herald-social/herald/cluster/redistest"
	"github.com/herald-social/herald/internal/faultproxy"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/postgres/pgtest"
)

// clusterNode is one node of a test cluster: a fixed node id and listen
// address, its own fault proxies to Postgres and Redis, and the serve
// processes started in its place, the running one last. A kill and a
// restart keep the address, so its dashboard URL stays the same.
type clusterNode struct {
	id     string // node1, node2, ...
	listen string
	dir    string // its logs, serve-1.log after the first start, ...
	pg     *faultproxy.Proxy
	redis  *faultproxy.Proxy
	db     string // the schema's URL through pg
	rdbURL string // Redis through redis

	mu    sync.Mutex
	procs []*soakNode
	// scraped is the last scrape of each process's /metrics, by process
	// number: a killed process's counters as they were before the kill.
	scraped map[int]promSample
	// down is set while the harness has killed the node and not yet
	// started it again.
	down bool
}

// testCluster is a few nodes sharing a Postgres schema and a Redis
// prefix, and a fake X, as real processes.
type testCluster struct {
	t      *testing.T
	dir    string
	db     string // the schema's URL, directly
	prefix string // the Redis key prefix
	rdb    *redis.Client
	fake   *fakeXProcess
	nodes  []*clusterNode
	args   []string // serve flags common to every node
	env    []string
	// noRedis starts the nodes without --redis: every node writes every
	// fire and counts rate limits alone.
	noRedis bool
}

// newTestCluster makes n nodes' proxies, folders and addresses; nothing
// runs until start.
func newTestCluster(t *testing.T, dir string, n int, env []string, args ...string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, dir: dir, db: pgtest.SchemaURL(t), args: args, env: env}
	c.rdb, c.prefix = redistest.Open(t)
	pgURL, err := url.Parse(c.db)
	if err != nil {
		t.Fatal(err)
	}
	rURL, err := url.Parse(redistest.URL())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		node := &clusterNode{id: fmt.Sprintf("node%d", i), listen: freeAddr(t), dir: filepath.Join(dir, fmt.Sprintf("node%d", i)), scraped: map[int]promSample{}}
		if err := os.MkdirAll(node.dir, 0o755); err != nil {
			t.Fatal(err)
		}
		node.pg = newProxy(t, pgURL.Host)
		node.redis = newProxy(t, rURL.Host)
		u := *pgURL
		u.Host = node.pg.Addr()
		node.db = u.String()
		u = *rURL
		u.Host = node.redis.Addr()
		node.rdbURL = u.String()
		c.nodes = append(c.nodes, node)
	}
	return c
}

func newProxy(t *testing.T, target string) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// freeAddr is a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start starts node n's next process without waiting for it.
func (c *testCluster) start(n *clusterNode) *soakNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	args := []string{"--listen", n.listen, "--node-id", n.id, "--db", n.db, "--x-api-url", c.fake.url}
	if !c.noRedis {
		args = append(args, "--redis", n.rdbURL, "--redis-prefix", c.prefix)
	}
	args = append(args, c.args...)
	p := startSoakNode(c.t, n.dir, len(n.procs)+1, c.env, args...)
	n.procs = append(n.procs, p)
	n.down = false
	return p
}

func (n *clusterNode) proc() *soakNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.procs[len(n.procs)-1]
}

// isDown reports whether the harness has the node killed.
func (n *clusterNode) isDown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down
}

// kill scrapes the node's metrics, then kill -9s it.
func (n *clusterNode) kill() {
	p := n.proc()
	n.scrape()
	n.mu.Lock()
	n.down = true
	n.mu.Unlock()
	p.kill()
}

func (n *clusterNode) logPaths() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, p := range n.procs {
		out = append(out, p.logPath)
	}
	return out
}

func (c *testCluster) logPaths() []string {
	var out []string
	for _, n := range c.nodes {
		out = append(out, n.logPaths()...)
	}
	return out
}

// startAll starts the fake X and every node, one after the other (the
// first migrates the schema), and returns when all have logged "herald
// started".
func (c *testCluster) startAll(fakeArgs ...string) {
	t := c.t
	c.fake = startFakeX(t, append([]string{"--log-format", "json"}, fakeArgs...)...)
	for _, n := range c.nodes {
		p := c.start(n)
		p.waitFor(t, `"herald started"`, time.Minute, func() bool { return !p.startedAt().IsZero() })
	}
}

// firstStarted is when the first node of the run logged "herald started".
func (c *testCluster) firstStarted() time.Time {
	var first time.Time
	for _, n := range c.nodes {
		n.mu.Lock()
		s := n.procs[0].startedAt()
		n.mu.Unlock()
		if first.IsZero() || s.Before(first) {
			first = s
		}
	}
	return first
}

// stopAll sends SIGTERM to every running node, scraping its metrics
// first, and reports a node that exits with an error.
func (c *testCluster) stopAll() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		p := n.proc()
		if p.exited() {
			continue
		}
		n.scrape()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code := p.terminate(c.t); code != 0 {
				c.t.Errorf("%s (serve #%d) exited %d after SIGTERM; its log ends:\n%s", n.id, p.n, code, tailFile(p.logPath, 30))
			}
		}()
	}
	wg.Wait()
}

// allJobs lists every job in the cluster's store.
func (c *testCluster) allJobs() []store.Job { return listAllJobs(c.t, c.db) }

// readyz is a node's GET /readyz: the status and the body's fields; status
// 0 when it did not answer.
func (n *clusterNode) readyz() (int, map[string]any) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + n.listen + "/readyz")
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer resp.Body.Close()
	body := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// promSample is the sum of each metric family's samples in one scrape,
// whatever their labels, and the sums by label set of a few.
type promSample map[string]float64

// scrape reads the running process's /metrics into n.scraped; it keeps
// the previous scrape if this one fails (a node cut from its store still
// answers /metrics).
func (n *clusterNode) scrape() {
	p := n.proc()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + n.listen + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	s := parseProm(resp.Body)
	n.mu.Lock()
	n.scraped[p.n] = s
	n.mu.Unlock()
}

// parseProm sums the samples of the Prometheus text format by family
// name, and by name{labels} too.
func parseProm(r io.Reader) promSample {
	s := promSample{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		key := line[:sp]
		name := key
		if i := strings.IndexByte(key, '{'); i >= 0 {
			name = key[:i]
			s[key] += v
		}
		s[name] += v
	}
	return s
}

// metric is the sum of a metric over every process of the cluster, as last
// scraped; ok is false when no process exposed it.
func (c *testCluster) metric(name string) (sum float64, ok bool) {
	for _, n := range c.nodes {
		n.mu.Lock()
		for _, s := range n.scraped {
			if v, has := s[name]; has {
				sum += v
				ok = true
			}
		}
		n.mu.Unlock()
	}
	return sum, ok
}

// perUnit formats the sum of a metric over a number of units, or "n/a"
// when no node exposes the metric (a Herald without it).
func (c *testCluster) perUnit(name string, units int) string {
	v, ok := c.metric(name)
	if !ok {
		return "n/a (no " + name + ")"
	}
	if units == 0 {
		return fmt.Sprintf("%.0f in all", v)
	}
	return fmt.Sprintf("%.2f (%.0f / %d)", v/float64(units), v, units)
}
