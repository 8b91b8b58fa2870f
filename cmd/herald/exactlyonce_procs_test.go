package main

import (
	"bufio"
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
)

// soakNode is one `herald serve` process of the run. Its stderr (JSON log
// lines, and anything else the process prints, such as a panic) goes to
// a file of its own in the run's folder; the lines the harness waits
// for are also kept in memory.
type soakNode struct {
	n       int // 1 for the first start, 2 after the first kill, ...
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed at the end of stderr

	mu      sync.Mutex
	started time.Time // the time of "herald started", zero before
	reloads []soakReload
}

// soakReload is a "config reload" line (the start's too) of some node.
type soakReload struct {
	Node     int
	At       time.Time
	Result   string
	Revision string
	Trigger  string
}

// startSoakNode starts herald serve with args (after --listen and
// --grace) and env on top of the test's environment.
func startSoakNode(t *testing.T, dir string, n int, env []string, args ...string) *soakNode {
	t.Helper()
	p := &soakNode{n: n, logPath: filepath.Join(dir, fmt.Sprintf("serve-%d.log", n)), done: make(chan struct{})}
	f, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(heraldBin, append([]string{"serve", "--listen", "127.0.0.1:0", "--grace", "5s"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr, f)
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
			_ = p.cmd.Wait()
		}
	})
	return p
}

func (p *soakNode) read(r io.Reader, f *os.File) {
	defer close(p.done)
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		w.Write(line)
		w.WriteByte('\n')
		var l struct {
			Msg      string    `json:"msg"`
			Time     time.Time `json:"time"`
			Result   string    `json:"result"`
			Revision string    `json:"revision"`
			Trigger  string    `json:"trigger"`
		}
		if json.Unmarshal(line, &l) != nil {
			continue
		}
		switch l.Msg {
		case "herald started":
			p.mu.Lock()
			p.started = l.Time
			p.mu.Unlock()
		case "config reload":
			p.mu.Lock()
			p.reloads = append(p.reloads, soakReload{Node: p.n, At: l.Time, Result: l.Result, Revision: l.Revision, Trigger: l.Trigger})
			p.mu.Unlock()
		}
	}
}

func (p *soakNode) startedAt() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.started
}

func (p *soakNode) reloadsSeen() []soakReload {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]soakReload(nil), p.reloads...)
}

func (p *soakNode) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls cond every 50 ms until it holds, the process exits or
// timeout passes; it fails the test with what in the two last cases.
func (p *soakNode) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p.exited() {
			t.Fatalf("serve #%d exited while waiting for %s; its log ends:\n%s", p.n, what, tailFile(p.logPath, 30))
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve #%d: no %s after %s; its log ends:\n%s", p.n, what, timeout, tailFile(p.logPath, 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill is kill -9.
func (p *soakNode) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	_ = p.cmd.Wait()
}

// terminate sends SIGTERM and returns the exit status, killing the process
// if it outlives its grace by far.
func (p *soakNode) terminate(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second): // --grace is 5s: a hang guard
		t.Errorf("serve #%d did not stop within 30s of SIGTERM; killed", p.n)
		p.kill()
	}
	err := p.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return 0
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(reading %s: %v)", path, err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// grepFiles returns up to n lines of the files that contain every one of
// subs, each prefixed with its file's base name.
func grepFiles(paths []string, n int, subs ...string) []string {
	var out []string
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
	lines:
		for sc.Scan() {
			for _, s := range subs {
				if !strings.Contains(sc.Text(), s) {
					continue lines
				}
			}
			out = append(out, filepath.Base(path)+": "+sc.Text())
			if len(out) == n {
				f.Close()
				return out
			}
		}
		f.Close()
	}
	return out
}

// fakePost is a post at the fake X as GET /_fake/posts lists it.
type fakePost struct {
	ID       string `json:"id"`
	AuthorID string `json:"author_id"`
	// Text is as X stores it (a media post's ends with a t.co link);
	// AuthoredText as the client sent it, what a job's frozen text is.
	Text         string    `json:"text"`
	AuthoredText string    `json:"authored_text"`
	MediaIDs     []string  `json:"media_ids"`
	ReplyTo      string    `json:"reply_to"`
	CreatedAt    time.Time `json:"created_at"`
	Deleted      bool      `json:"deleted"`
}

// fakeRequest is a request the fake X answered, as GET /_fake/requests
// lists it.
type fakeRequest struct {
	Endpoint string    `json:"endpoint"`
	User     string    `json:"user"`
	At       time.Time `json:"at"`
	Status   int       `json:"status"`
	Dropped  bool      `json:"dropped"`
	Fault    bool      `json:"fault"`
	Chaos    string    `json:"chaos"`
}

// getJSON GETs a control-plane path of the fake X into v.
func (p *fakeXProcess) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(p.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
