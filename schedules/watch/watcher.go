package watch

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Change tells the engine that the configuration may have changed on disk
// and should be reloaded. It carries no content: the engine's reload reads
// the files itself.
type Change struct {
	// Reason is the first cause of the burst, for logs: "fsnotify: write
	// a.yaml", "fsnotify: create ..data", "poll: checksum changed",
	// "fsnotify overflow", "fsnotify error: ...".
	Reason string
	// At is when the burst ended and the Change was sent (Clock time).
	At time.Time
	// Events counts the triggers folded into this Change (at least 1).
	Events int
}

// Watcher watches the configured paths and sends a Change on Changes after
// each burst of changes. Create it with New, then call Start once and Stop
// when done.
type Watcher struct {
	opts    Options
	hasher  *hasher
	changes chan Change
	// newSource opens the fsnotify side; tests replace it.
	newSource func() (source, error)

	mu       sync.Mutex
	started  bool
	stopped  bool
	stop     chan struct{}
	done     chan struct{} // closed when the loop has ended
	closeErr error
}

// New checks opts and returns a Watcher that watches nothing yet.
func New(opts Options) (*Watcher, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Watcher{
		opts:      opts,
		hasher:    newHasher(opts.Clock.Now),
		changes:   make(chan Change, 1),
		newSource: fsnotifySource,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}, nil
}

// Start scans the configured paths, sets up the fsnotify watches and the
// poll, and returns. It fails with ErrMissingPath if a configured path does
// not exist, and with ErrStarted or ErrStopped when called again.
//
// Start sends no Change for the state it finds: call it before the engine's
// initial load, so that anything that changes after that load is reported.
// The watcher runs until ctx is done or Stop is called.
//
// If fsnotify cannot be set up (inotify instance limit, unsupported file
// system) and the poll is enabled, Start logs the error and carries on with
// the poll alone; with the poll disabled it returns the error.
func (w *Watcher) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.stopped:
		return ErrStopped
	case w.started:
		return ErrStarted
	}
	snap := scan(w.opts.Paths)
	for _, r := range snap.roots {
		if r.err != nil {
			return r.err
		}
	}
	src, err := w.newSource()
	if err != nil {
		if w.opts.PollInterval < 0 {
			return fmt.Errorf("watch: starting fsnotify: %w", err)
		}
		w.opts.Logger.Error("watch: fsnotify unavailable, relying on the checksum poll",
			"error", err, "poll_interval", w.opts.PollInterval)
		src = pollOnlySource()
	}
	l := newLoop(w, src)
	l.init(snap)
	w.started = true
	go l.run(ctx)
	return nil
}

// Changes returns the channel of Changes. It is buffered (capacity 1) and
// coalescing: the watcher never blocks on it, and while a Change waits
// unread, later bursts are folded into it (its Events count grows). It is
// closed once the watcher has stopped.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Stop ends the watcher and waits for its goroutines. It is safe to call
// more than once and before Start; only the first call can return an error
// (from closing fsnotify).
func (w *Watcher) Stop() error {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.stopped = true
	started := w.started
	w.mu.Unlock()
	close(w.stop)
	if !started {
		close(w.changes)
		close(w.done)
		return nil
	}
	<-w.done
	return w.closeErr
}

// Checksum returns the fingerprint the poll compares: a hash over, for
// every configuration file (as schedules.Load would find them, symlinks
// followed), its path relative to its configured path, its size and the
// SHA-256 of its content. Content is read again only for files whose stat
// data (size, mtime, ctime, inode) changed, so computing it for an
// unchanged folder of 100 files costs a walk and 100 stats.
//
// Paths it could not read are part of the fingerprint and are also
// returned as an error (wrapping ErrMissingPath for a missing configured
// path); the fingerprint is meaningful either way.
func (w *Watcher) Checksum() (string, error) {
	return w.hasher.fingerprint(scan(w.opts.Paths))
}
