package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeXProcess is a running `herald fake-x`.
type fakeXProcess struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
}

func (p *fakeXProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *fakeXProcess) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// startFakeX starts the binary on a free port and waits for the address
// it prints.
func startFakeX(t *testing.T, args ...string) *fakeXProcess {
	t.Helper()
	p := &fakeXProcess{}
	p.cmd = exec.Command(heraldBin, append([]string{"fake-x", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		if s.Scan() {
			line <- s.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case l, ok := <-line:
		const prefix = "fake X API listening on "
		if !ok || !strings.HasPrefix(l, prefix) {
			t.Fatalf("first line %q; stderr:\n%s", l, p.logs())
		}
		p.url = strings.TrimPrefix(l, prefix)
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatalf("fake-x printed no address; stderr:\n%s", p.logs())
	}
	return p
}

// stop sends SIGTERM and returns the exit status.
func (p *fakeXProcess) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (p *fakeXProcess) call(t *testing.T, method, path, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestFakeXServesTheDemoAccountUntilSIGTERM(t *testing.T) {
	t.Parallel()
	p := startFakeX(t)
	status, body := p.call(t, "POST", "/2/tweets", "demo-access-token", `{"text":"Hello from the demo"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct{ Data struct{ ID, Text string } }
	if err := json.Unmarshal(body, &created); err != nil || created.Data.ID == "" {
		t.Fatalf("create answer %s: %v", body, err)
	}

	status, body = p.call(t, "GET", "/_fake/posts", "", "")
	var posts []struct {
		ID, Text string
		AuthorID string `json:"author_id"`
	}
	if err := json.Unmarshal(body, &posts); err != nil || status != 200 {
		t.Fatalf("posts: %d %s %v", status, body, err)
	}
	if len(posts) != 1 || posts[0].ID != created.Data.ID || posts[0].Text != "Hello from the demo" {
		t.Fatalf("posts %+v", posts)
	}
	status, body = p.call(t, "GET", "/2/users/me", "demo-access-token", "")
	if status != 200 || !strings.Contains(string(body), `"username":"demo"`) || !strings.Contains(string(body), `"id":"`+posts[0].AuthorID+`"`) {
		t.Errorf("me: %d %s", status, body)
	}
	if status, body := p.call(t, "GET", "/", "", ""); status != 200 || !strings.Contains(string(body), "Hello from the demo") {
		t.Errorf("page: %d %s", status, body)
	}
	if status, _ := p.call(t, "POST", "/2/tweets", "wrong-token", `{"text":"x"}`); status != 401 {
		t.Errorf("wrong token: %d", status)
	}

	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.logs())
	}
	logs := p.logs()
	if !strings.Contains(logs, "fake x accepted a post") || !strings.Contains(logs, created.Data.ID) || !strings.Contains(logs, "Hello from the demo") {
		t.Errorf("the accepted post is not logged:\n%s", logs)
	}
	if strings.Contains(logs, "demo-access-token") {
		t.Errorf("a token is logged:\n%s", logs)
	}
}

func TestFakeXUsersFromFlags(t *testing.T) {
	t.Parallel()
	p := startFakeX(t, "--user", "brand:brand-token:brand-refresh:brand-client", "--user", "other:other-token", "--log-format", "json")
	if status, _ := p.call(t, "GET", "/2/users/me", "demo-access-token", ""); status != 401 {
		t.Errorf("the demo account exists beside --user: %d", status)
	}
	status, body := p.call(t, "GET", "/2/users/me", "brand-token", "")
	if status != 200 || !strings.Contains(string(body), `"username":"brand"`) {
		t.Fatalf("me: %d %s", status, body)
	}
	req, _ := http.NewRequest("POST", p.url+"/2/oauth2/token",
		strings.NewReader("grant_type=refresh_token&refresh_token=brand-refresh&client_id=brand-client"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("refresh: %d", resp.StatusCode)
	}
	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, line := range strings.Split(strings.TrimSpace(p.logs()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("--log-format json printed %q", line)
		}
	}
	if strings.Contains(p.logs(), "brand-token") || strings.Contains(p.logs(), "brand-refresh") {
		t.Errorf("a token is logged:\n%s", p.logs())
	}
}

func TestFakeXUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"help", []string{"fake-x", "--help"}, exitOK, "demo-access-token"},
		{"bad log format", []string{"fake-x", "--log-format", "xml"}, exitUsage, `--log-format "xml": want json or text`},
		{"user without token", []string{"fake-x", "--user", "brand"}, exitUsage, "want NAME:ACCESS_TOKEN[:REFRESH_TOKEN[:CLIENT_ID]]"},
		{"user with a bad name", []string{"fake-x", "--user", "the-brand:tok"}, exitUsage, `user name "the-brand"`},
		{"user twice", []string{"fake-x", "--user", "a:t1", "--user", "A:t2"}, exitUsage, "user A given twice"},
		{"empty token", []string{"fake-x", "--user", "a:"}, exitUsage, "empty access token"},
		{"stray argument", []string{"fake-x", "now"}, exitUsage, "fake-x takes no arguments"},
		{"unknown flag", []string{"fake-x", "--port", "1"}, exitUsage, "flag provided but not defined: -port"},
		{"address in use or invalid", []string{"fake-x", "--listen", "256.0.0.1:1"}, exitCheck, "herald fake-x:"},
		{"negative timeline lag", []string{"fake-x", "--timeline-lag", "-1s"}, exitUsage, "--timeline-lag -1s: want 0 or more"},
		{"negative duplicate window", []string{"fake-x", "--duplicate-window", "-1m"}, exitUsage, "--duplicate-window -1m0s: want 0 or more"},
		{"access tokens too short", []string{"fake-x", "--access-token-ttl", "500ms"}, exitUsage, "--access-token-ttl 500ms: want 1s or more"},
		{"chaos rate above 1", []string{"fake-x", "--chaos-rate", "1.5"}, exitUsage, "--chaos-rate 1.5: want 0 to 1"},
		{"unknown chaos fault", []string{"fake-x", "--chaos-faults", "5xx,meteor"}, exitUsage, `--chaos-faults: fakex: invalid chaos: unknown kind "meteor"`},
		{"no chaos hang", []string{"fake-x", "--chaos-hang", "0s"}, exitUsage, "--chaos-hang 0s: want more than 0"},
		{"a fault that is not JSON", []string{"fake-x", "--fault", "{endpoint"}, exitUsage, "--fault: fault {endpoint: decoding the body"},
		{"a fault of an unknown endpoint", []string{"fake-x", "--fault", `{"endpoint":"POST /2/tweet"}`}, exitUsage, `unknown endpoint "POST /2/tweet"`},
		{"help lists the new flags", []string{"fake-x", "--help"}, exitOK, "--chaos-rate R --chaos-seed N --chaos-faults LIST --chaos-hang D --chaos-reset D"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := herald(t, "", tt.args...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
			if strings.Contains(r.stderr, "t1") || strings.Contains(r.stderr, "t2") {
				t.Errorf("a token is quoted in %q", r.stderr)
			}
		})
	}
	if r := herald(t, "", "--help"); !strings.Contains(r.stdout, "fake-x") {
		t.Errorf("herald --help does not list fake-x:\n%s", r.stdout)
	}
}

// The timing and fault flags reach the server: chaos as configured,
// faults injected at start, and a post that stays out of the timeline for
// --timeline-lag while a lookup by id finds it.
func TestFakeXFaultAndTimingFlags(t *testing.T) {
	t.Parallel()
	p := startFakeX(t, "--timeline-lag", "1h", "--duplicate-window", "1m", "--log-format", "json",
		"--chaos-rate", "1", "--chaos-seed", "7", "--chaos-faults", "store_then_5xx", "--chaos-hang", "2s", "--chaos-reset", "4s",
		"--fault", `{"endpoint":"GET /2/users/me","status":503}`)
	const token = "demo-access-token"

	status, body := p.call(t, "GET", "/_fake/chaos", "", "")
	var chaos struct {
		Rate        float64
		Seed        uint64
		Kinds       []string
		Hang, Reset string
	}
	if err := json.Unmarshal(body, &chaos); err != nil || status != 200 {
		t.Fatalf("chaos: %d %s %v", status, body, err)
	}
	if chaos.Rate != 1 || chaos.Seed != 7 || len(chaos.Kinds) != 1 || chaos.Kinds[0] != "store_then_5xx" || chaos.Hang != "2s" || chaos.Reset != "4s" {
		t.Errorf("chaos %+v", chaos)
	}

	// Every post meets store_then_5xx: stored, then a 5xx.
	status, body = p.call(t, "POST", "/2/tweets", token, `{"text":"Stored, then 5xx"}`)
	if status < 500 || status > 504 {
		t.Fatalf("create under chaos: %d %s", status, body)
	}
	var posts []struct {
		ID, Text string
		Authored string `json:"authored_text"`
	}
	if status, body := p.call(t, "GET", "/_fake/posts", "", ""); status != 200 || json.Unmarshal(body, &posts) != nil ||
		len(posts) != 1 || posts[0].Text != "Stored, then 5xx" || posts[0].Authored != "Stored, then 5xx" {
		t.Fatalf("posts: %d %s", status, body)
	}
	var reqs []struct {
		Endpoint string
		Status   int
		Fault    bool
		Chaos    string
		Outcome  int
	}
	if status, body := p.call(t, "GET", "/_fake/requests", "", ""); status != 200 || json.Unmarshal(body, &reqs) != nil ||
		len(reqs) != 1 || !reqs[0].Fault || reqs[0].Chaos != "store_then_5xx" || reqs[0].Outcome != 201 || reqs[0].Status < 500 {
		t.Fatalf("requests: %d %s", status, body)
	}
	if status, _ := p.call(t, "DELETE", "/_fake/chaos", "", ""); status != 204 {
		t.Fatalf("stopping chaos: %d", status)
	}

	// The --fault answers the first GET /2/users/me, then it is used up.
	if status, _ := p.call(t, "GET", "/2/users/me", token, ""); status != 503 {
		t.Errorf("me under --fault: %d", status)
	}
	status, body = p.call(t, "GET", "/2/users/me", token, "")
	var me struct{ Data struct{ ID string } }
	if err := json.Unmarshal(body, &me); err != nil || status != 200 || me.Data.ID == "" {
		t.Fatalf("me: %d %s", status, body)
	}

	status, body = p.call(t, "GET", "/2/users/"+me.Data.ID+"/tweets", token, "")
	if status != 200 || !strings.Contains(string(body), `"result_count":0`) {
		t.Errorf("timeline within the lag: %d %s", status, body)
	}
	status, body = p.call(t, "GET", "/2/tweets?ids="+posts[0].ID, token, "")
	if status != 200 || !strings.Contains(string(body), `"id":"`+posts[0].ID+`"`) {
		t.Errorf("lookup by id: %d %s", status, body)
	}
	// Within the duplicate window, the same text is refused.
	if status, body := p.call(t, "POST", "/2/tweets", token, `{"text":"Stored, then 5xx"}`); status != 403 {
		t.Errorf("a retry within the duplicate window: %d %s", status, body)
	}

	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit %d; stderr:\n%s", code, p.logs())
	}
	for _, want := range []string{`"msg":"fake x chaos"`, `"seed":7`, `"msg":"fake x fault"`, `"timeline_lag":3600000000000`} {
		if !strings.Contains(p.logs(), want) {
			t.Errorf("the start's log lacks %s:\n%s", want, p.logs())
		}
	}
}
