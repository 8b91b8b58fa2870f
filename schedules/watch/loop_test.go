package watch

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// fakeNotifier stands in for fsnotify: the test sends the events and
// errors itself, so that the loop's timing can be driven by a fakeClock.
type fakeNotifier struct {
	events chan fsnotify.Event
	errors chan error

	mu      sync.Mutex
	watched []string
}

func newFakeNotifier() *fakeNotifier {
	return &fakeNotifier{events: make(chan fsnotify.Event), errors: make(chan error)}
}

func (f *fakeNotifier) source() (source, error) {
	return source{n: f, events: f.events, errors: f.errors}, nil
}

func (f *fakeNotifier) Add(p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.watched, p) {
		f.watched = append(f.watched, p)
	}
	return nil
}

func (f *fakeNotifier) Remove(p string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watched = slices.DeleteFunc(f.watched, func(w string) bool { return w == p })
	return nil
}

func (f *fakeNotifier) WatchList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.watched)
}

func (f *fakeNotifier) Close() error { return nil }

// send delivers ev and then a barrier event the loop ignores: once the
// barrier is taken, ev has been handled completely.
func (f *fakeNotifier) send(t *testing.T, ev fsnotify.Event) {
	t.Helper()
	for _, e := range []fsnotify.Event{ev, {Name: filepath.Join(filepath.Dir(ev.Name), "barrier.txt"), Op: fsnotify.Write}} {
		select {
		case f.events <- e:
		case <-time.After(eventDeadline):
			t.Fatal("the loop does not take events")
		}
	}
}

// fakeSetup starts a Watcher on a real folder with a fakeClock and a
// fakeNotifier (no poll unless opts asks for one).
func fakeSetup(t *testing.T, opts Options) (*Watcher, *fakeClock, *fakeNotifier, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	clk, fn := newFakeClock(), newFakeNotifier()
	opts.Paths, opts.Clock = []string{dir}, clk
	w := startWatcher(t, opts, func(w *Watcher) { w.newSource = fn.source })
	return w, clk, fn, dir
}

// expectNoChangeNow checks that no Change is waiting. With a fake clock
// and no timer armed, none can be on its way.
func expectNoChangeNow(t *testing.T, w *Watcher) {
	t.Helper()
	select {
	case c := <-w.Changes():
		t.Fatalf("unexpected Change %+v", c)
	default:
	}
}

// The debounce, deterministically: 50 events give one Change, sent when
// the files have been quiet for the whole Debounce and not before.
func TestLoopDebounceWithFakeClock(t *testing.T) {
	t.Parallel()
	const debounce = 200 * time.Millisecond
	w, clk, fn, dir := fakeSetup(t, Options{Debounce: debounce})
	a := filepath.Join(dir, "a.yaml")

	for range 50 {
		fn.send(t, fsnotify.Event{Name: a, Op: fsnotify.Write})
	}
	clk.waitTimers(t, debounce)
	clk.Advance(150 * time.Millisecond)
	fn.send(t, fsnotify.Event{Name: a, Op: fsnotify.Chmod}) // the burst goes on
	clk.Advance(50 * time.Millisecond)                      // first timer fires: only 50 ms quiet
	clk.waitTimers(t, 150*time.Millisecond)
	expectNoChangeNow(t, w)
	clk.Advance(150 * time.Millisecond)
	c := waitChangeFor(t, w, "fsnotify: write a.yaml")
	if c.Events != 51 || !c.At.Equal(clk.Now()) {
		t.Fatalf("Change = %+v, want 51 events at %v", c, clk.Now())
	}
	clk.waitTimers(t) // nothing armed: no second Change can come
	expectNoChangeNow(t, w)

	// Irrelevant names arm nothing.
	for _, name := range []string{".a.yaml.swp", "a.yaml~", "README.md", ".git/index"} {
		fn.send(t, fsnotify.Event{Name: filepath.Join(dir, name), Op: fsnotify.Create})
	}
	clk.waitTimers(t)
	expectNoChangeNow(t, w)
}

// An unread Change absorbs later ones: the watcher never blocks on a slow
// reader, and the reader then reloads once.
func TestChangesCoalesce(t *testing.T) {
	t.Parallel()
	const debounce = 100 * time.Millisecond
	logs := &logBuffer{}
	w, clk, fn, dir := fakeSetup(t, Options{Debounce: debounce, Logger: logs.logger()})
	for i, name := range []string{"a.yaml", "b.yaml", "c.yaml"} {
		fn.send(t, fsnotify.Event{Name: filepath.Join(dir, name), Op: fsnotify.Write})
		fn.send(t, fsnotify.Event{Name: filepath.Join(dir, name), Op: fsnotify.Write})
		clk.waitTimers(t, debounce)
		clk.Advance(debounce)
		logs.waitCount(t, "watch: change sent", i+1)
		// Once the loop takes another event it is done publishing.
		fn.send(t, fsnotify.Event{Name: filepath.Join(dir, "noise.txt"), Op: fsnotify.Write})
		if got := len(w.Changes()); got != 1 {
			t.Fatalf("after burst %d: %d Changes buffered, want 1", i, got)
		}
	}
	c := waitChangeFor(t, w, "a.yaml")
	if c.Events != 6 {
		t.Fatalf("coalesced Change has %d events, want 6", c.Events)
	}
	expectNoChangeNow(t, w)
}
