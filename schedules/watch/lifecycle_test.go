package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestNewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"no paths", Options{}, ErrNoPaths},
		{"empty path", Options{Paths: []string{""}}, ErrInvalidOptions},
		{"negative debounce", Options{Paths: []string{"x"}, Debounce: -time.Second}, ErrInvalidOptions},
	}
	for _, tt := range tests {
		if _, err := New(tt.opts); !errors.Is(err, tt.want) {
			t.Errorf("%s: New error %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestStartMissingPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	must(t, os.Symlink("nowhere", filepath.Join(dir, "dangling")))
	for _, p := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "dangling")} {
		w, err := New(Options{Paths: []string{dir, p}})
		must(t, err)
		if err := w.Start(t.Context()); !errors.Is(err, ErrMissingPath) {
			t.Errorf("Start(%s) = %v, want ErrMissingPath", p, err)
		}
		must(t, w.Stop())
	}
}

func TestStartStopRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	w, err := New(Options{Paths: []string{dir}})
	must(t, err)
	must(t, w.Start(t.Context()))
	if err := w.Start(t.Context()); !errors.Is(err, ErrStarted) {
		t.Errorf("second Start = %v, want ErrStarted", err)
	}
	must(t, w.Stop())
	must(t, w.Stop())
	if _, ok := <-w.Changes(); ok {
		t.Error("Changes still open after Stop")
	}
	if err := w.Start(t.Context()); !errors.Is(err, ErrStopped) {
		t.Errorf("Start after Stop = %v, want ErrStopped", err)
	}

	// Stop before Start closes Changes too, so a reader never hangs.
	w2, err := New(Options{Paths: []string{dir}})
	must(t, err)
	must(t, w2.Stop())
	if _, ok := <-w2.Changes(); ok {
		t.Error("Changes open after Stop without Start")
	}
}

// No goroutine outlives a Watcher, whether it ends by Stop or by its
// context. Not parallel: it counts the process's goroutines (goleak would
// do the same, but is not a dependency of this module).
func TestNoGoroutineLeak(t *testing.T) {
	for _, how := range []string{"stop", "cancel"} {
		t.Run(how, func(t *testing.T) {
			before := runtime.NumGoroutine()
			dir := filepath.Join(t.TempDir(), "config")
			writeFile(t, filepath.Join(dir, "a.yaml"), "a")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w, err := New(Options{Paths: []string{dir}, Debounce: testDebounce, PollInterval: 20 * time.Millisecond})
			must(t, err)
			must(t, w.Start(ctx))
			// Leave work in flight: a pending debounce and a poll timer.
			writeFile(t, filepath.Join(dir, "a.yaml"), "b")
			waitChange(t, w)
			writeFile(t, filepath.Join(dir, "b.yaml"), "b")

			switch how {
			case "stop":
				must(t, w.Stop())
			case "cancel":
				cancel()
				for range w.Changes() { // closed once the loop has ended
				}
				must(t, w.Stop())
			}
			deadline := time.Now().Add(eventDeadline)
			for runtime.NumGoroutine() > before {
				if time.Now().After(deadline) {
					buf := make([]byte, 1<<20)
					t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				}
				time.Sleep(10 * time.Millisecond) // waiting for a condition, not for time to pass
			}
		})
	}
}

// Without fsnotify (inotify instances exhausted) the poll carries on
// alone; with the poll disabled too, Start refuses.
func TestStartWithoutFsnotify(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	broken := func(w *Watcher) {
		w.newSource = func() (source, error) { return source{}, errors.New("too many open files") }
	}

	w, err := New(Options{Paths: []string{dir}, PollInterval: -1})
	must(t, err)
	broken(w)
	if err := w.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "too many open files") {
		t.Fatalf("Start without fsnotify nor poll = %v, want the fsnotify error", err)
	}

	logs := &logBuffer{}
	w = startWatcher(t, Options{Paths: []string{dir}, PollInterval: 20 * time.Millisecond, Logger: logs.logger()}, broken)
	if !strings.Contains(logs.String(), `level=ERROR msg="watch: fsnotify unavailable, relying on the checksum poll" error="too many open files"`) {
		t.Errorf("fallback not logged:\n%s", logs)
	}
	writeFile(t, filepath.Join(dir, "a.yaml"), "b")
	waitChangeFor(t, w, "poll: checksum changed")
}
