package watch

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The poll alone (fsnotify silent) notices a change within one interval,
// and only a change: an unchanged poll arms nothing.
func TestPollDetectsWhatFsnotifyMissed(t *testing.T) {
	t.Parallel()
	const debounce, every = 200 * time.Millisecond, 10 * time.Second
	w, clk, _, dir := fakeSetup(t, Options{Debounce: debounce, PollInterval: every})
	clk.waitTimers(t, every)

	steps := []struct {
		name   string
		mutate func(t *testing.T)
		change bool
	}{
		{"nothing", func(*testing.T) {}, false},
		{"same-size edit", func(t *testing.T) { writeFile(t, filepath.Join(dir, "a.yaml"), "b") }, true},
		{"new folder", func(t *testing.T) { writeFile(t, filepath.Join(dir, "sub", "b.yaml"), "b") }, true},
		{"noise", func(t *testing.T) { writeFile(t, filepath.Join(dir, ".git", "HEAD"), "x") }, false},
		{"removed", func(t *testing.T) { must(t, os.Remove(filepath.Join(dir, "a.yaml"))) }, true},
	}
	for _, s := range steps {
		s.mutate(t)
		clk.Advance(every)
		if !s.change {
			// The poll re-arms itself last: once it has, it is done, and a
			// debounce timer would have been armed before.
			clk.waitTimers(t, every)
			expectNoChangeNow(t, w)
			continue
		}
		clk.waitTimers(t, debounce, every)
		clk.Advance(debounce)
		c := waitChangeFor(t, w, "poll: checksum changed")
		if c.Events != 1 {
			t.Fatalf("%s: Change %+v, want 1 event", s.name, c)
		}
		clk.waitTimers(t, every-debounce)
	}
}

// A poll that sees a change fsnotify already reported joins its burst, and
// the next poll does not report it again.
func TestPollDuringBurstJoinsIt(t *testing.T) {
	t.Parallel()
	const debounce, every = 200 * time.Millisecond, 10 * time.Second
	w, clk, fn, dir := fakeSetup(t, Options{Debounce: debounce, PollInterval: every})
	clk.waitTimers(t, every)
	clk.Advance(every - 100*time.Millisecond)

	writeFile(t, filepath.Join(dir, "a.yaml"), "b")
	fn.send(t, fsnotify.Event{Name: filepath.Join(dir, "a.yaml"), Op: fsnotify.Write})
	clk.waitTimers(t, 100*time.Millisecond, debounce)
	clk.Advance(100 * time.Millisecond) // the poll sees the edit too
	clk.waitTimers(t, 100*time.Millisecond, every)
	clk.Advance(100 * time.Millisecond) // only 100 ms quiet since the poll
	clk.waitTimers(t, 100*time.Millisecond, every-100*time.Millisecond)
	expectNoChangeNow(t, w)
	clk.Advance(100 * time.Millisecond)
	c := waitChangeFor(t, w, "fsnotify: write a.yaml")
	if c.Events != 2 {
		t.Fatalf("Change %+v, want the event and the poll folded together", c)
	}
	clk.waitTimers(t, every-200*time.Millisecond)
	clk.Advance(every)
	clk.waitTimers(t, every) // re-armed, and no debounce
	expectNoChangeNow(t, w)
}
