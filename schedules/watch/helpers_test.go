package watch

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Real file-system tests wait for Changes with generous deadlines rather
// than sleeping, so that they pass on a loaded 2-core machine.
const (
	eventDeadline = 10 * time.Second
	testDebounce  = 50 * time.Millisecond
)

// startWatcher creates and starts a Watcher, stopped at the end of the
// test. Unset Debounce and PollInterval mean testDebounce and no poll.
func startWatcher(t *testing.T, opts Options, tweak ...func(*Watcher)) *Watcher {
	t.Helper()
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = -1
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	w, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for _, f := range tweak {
		f(w)
	}
	if err := w.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return w
}

// pollOnly makes a Watcher rely on the poll alone.
func pollOnly(w *Watcher) { w.newSource = func() (source, error) { return pollOnlySource(), nil } }

// waitChange waits for the next Change.
func waitChange(t *testing.T, w *Watcher) Change {
	t.Helper()
	select {
	case c, ok := <-w.Changes():
		if !ok {
			t.Fatal("Changes closed")
		}
		return c
	case <-time.After(eventDeadline):
		t.Fatalf("no Change within %v", eventDeadline)
		return Change{}
	}
}

// waitChangeFor waits for a Change whose reason contains want.
func waitChangeFor(t *testing.T, w *Watcher, want string) Change {
	t.Helper()
	c := waitChange(t, w)
	t.Logf("Change: %q (%d events)", c.Reason, c.Events)
	if !strings.Contains(c.Reason, want) {
		t.Fatalf("Change reason = %q, want it to mention %q", c.Reason, want)
	}
	return c
}

// settle discards Changes until none has come for 3 debounces, so that a
// step's stragglers are not taken for the next step's Change.
func settle(t *testing.T, w *Watcher, debounce time.Duration) {
	t.Helper()
	deadline := time.After(eventDeadline)
	for {
		select {
		case <-w.Changes():
		case <-time.After(3 * debounce):
			return
		case <-deadline:
			t.Fatal("Changes never settled")
		}
	}
}

var sentinelSeq atomic.Int64

// expectOnlySentinel is the robust form of "nothing happened": it writes a
// new configuration file in dir and checks that the next Change names it.
// Had anything before it triggered, that Change (or the one it was folded
// into) would name the earlier cause, since a Change keeps the first
// reason of its burst and events arrive in order.
func expectOnlySentinel(t *testing.T, w *Watcher, dir string) {
	t.Helper()
	name := fmt.Sprintf("zz-sentinel-%d.yaml", sentinelSeq.Add(1))
	writeFile(t, filepath.Join(dir, name), "sentinel")
	waitChangeFor(t, w, name)
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// testLogger sends the watcher's log lines to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// logBuffer collects log lines for tests that check them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitCount waits until the log holds n lines containing msg.
func (b *logBuffer) waitCount(t *testing.T, msg string, n int) {
	t.Helper()
	deadline := time.Now().Add(eventDeadline)
	for strings.Count(b.String(), msg) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has %d × %q, want %d:\n%s", strings.Count(b.String(), msg), msg, n, b)
		}
		time.Sleep(time.Millisecond) // waiting for a condition, not for time to pass
	}
}
