package watch

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A real inotify queue overflow: the loop is held while more events than
// the kernel queue holds are generated (on names that do not matter, so
// that the overflow is the only trigger), then released. The lost events
// must give a Change, not silence.
func TestOverflowGivesChange(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip("not inotify:", err)
	}
	queue, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || queue > 1<<20 {
		t.Skipf("max_queued_events = %q, too large to overflow quickly", b)
	}
	const debounce, every = 200 * time.Millisecond, time.Hour
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	clk, logs := newFakeClock(), &logBuffer{}
	var gated atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	w := startWatcher(t, Options{Paths: []string{dir}, Debounce: debounce, PollInterval: every, Clock: clk, Logger: logs.logger()},
		func(w *Watcher) {
			w.hasher.now = func() time.Time {
				if gated.CompareAndSwap(true, false) {
					close(entered)
					<-release
				}
				return clk.Now()
			}
		})

	// Hold the loop inside a poll.
	gated.Store(true)
	clk.waitTimers(t, every)
	clk.Advance(every)
	select {
	case <-entered:
	case <-time.After(eventDeadline):
		t.Fatal("the poll did not run")
	}
	// fsnotify buffers up to 4096 raw events on top of the kernel queue;
	// alternating names keeps the kernel from merging them.
	files := make([]*os.File, 2)
	for i := range files {
		f, err := os.Create(filepath.Join(dir, ".flood"+strconv.Itoa(i)+".swp"))
		must(t, err)
		defer f.Close()
		files[i] = f
	}
	for i := range 2 * (queue + 4096) {
		if _, err := files[i%2].Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)

	clk.waitTimers(t, debounce, every)
	clk.Advance(debounce)
	c := waitChange(t, w)
	if c.Reason != "fsnotify overflow" {
		t.Fatalf("Change reason %q, want fsnotify overflow", c.Reason)
	}
	if !strings.Contains(logs.String(), `msg="watch: fsnotify queue overflowed, events were lost; reloading" error="fsnotify: queue or buffer overflow"`) {
		t.Errorf("overflow not logged with its error attribute:\n%s", logs)
	}
}

// Any other fsnotify error also gives a Change (an event may be lost with
// it) and is logged with attributes.
func TestFsnotifyErrorGivesChange(t *testing.T) {
	t.Parallel()
	const debounce = 100 * time.Millisecond
	logs := &logBuffer{}
	w, clk, fn, dir := fakeSetup(t, Options{Debounce: debounce, Logger: logs.logger()})
	fn.errors <- errors.New("read: boom")
	clk.waitTimers(t, debounce)
	clk.Advance(debounce)
	waitChangeFor(t, w, "fsnotify error: read: boom")
	want := `level=WARN msg="watch: fsnotify error, an event may be lost; reloading" error="read: boom" paths=[` + dir + `]`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("log lacks %s:\n%s", want, logs)
	}
}
