package watch

import (
	"context"
	"errors"
	"time"

	"github.com/fsnotify/fsnotify"
)

// maxDrain bounds the events handled in one go before a debounce decision,
// so that a flood cannot hold the decision off for ever.
const maxDrain = 4096

// loop is the one goroutine that owns a started Watcher's state: the last
// snapshot, the watches, the debounce and the fingerprint last seen.
// Events, errors and timer firings all reach it as channel messages.
type loop struct {
	w    *Watcher
	opts Options
	src  source

	snap    *snapshot
	watches watchSet
	// seen is the fingerprint last observed: when the last Change was sent
	// (or at Start), or by a later poll that triggered one. A poll
	// triggers only when the fingerprint moved since, so that a poll
	// during a pending burst does not prolong it.
	seen string
	deb  debouncer

	debTimer, pollTimer Timer
	debFired, pollFired chan struct{}
}

func newLoop(w *Watcher, src source) *loop {
	return &loop{
		w:         w,
		opts:      w.opts,
		src:       src,
		watches:   newWatchSet(src.n, w.opts.Logger),
		deb:       debouncer{wait: w.opts.Debounce, maxWait: maxWaitFactor * w.opts.Debounce},
		debFired:  make(chan struct{}),
		pollFired: make(chan struct{}),
	}
}

// init takes the fingerprint before adding the watches, so that a change
// in between shows up at the first poll.
func (l *loop) init(snap *snapshot) {
	if l.polling() {
		l.seen, _ = l.w.hasher.fingerprint(snap)
		l.pollTimer = l.arm(l.opts.PollInterval, l.pollFired)
	}
	l.snap = snap
	l.watches.sync(snap)
}

func (l *loop) run(ctx context.Context) {
	defer l.shutdown()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.w.stop:
			return
		case ev, ok := <-l.src.events:
			if !ok {
				l.src.events = nil
				continue
			}
			l.onEvent(ev)
		case err, ok := <-l.src.errors:
			if !ok {
				l.src.errors = nil
				continue
			}
			l.onError(err)
		case <-l.debFired:
			l.onDebounce()
		case <-l.pollFired:
			l.onPoll()
		}
	}
}

func (l *loop) shutdown() {
	for _, t := range []Timer{l.debTimer, l.pollTimer} {
		if t != nil {
			t.Stop()
		}
	}
	l.w.closeErr = l.src.n.Close()
	close(l.w.changes)
	close(l.w.done) // releases timer callbacks still trying to deliver
}

func (l *loop) onEvent(ev fsnotify.Event) {
	relevant, r := l.snap.classify(ev)
	if !relevant {
		return
	}
	switch r {
	case refreshTree:
		l.watches.addTree(l.snap, ev.Name)
	case refreshAll:
		l.rescan()
	}
	l.trigger(l.snap.eventReason(ev))
}

// onError turns an fsnotify error into a Change: after an overflow or a
// read error events were lost, and only a reload is sure to catch up. The
// folders are rescanned too, since lost events may have created some.
func (l *loop) onError(err error) {
	reason := "fsnotify error: " + err.Error()
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		reason = "fsnotify overflow"
		l.opts.Logger.Warn("watch: fsnotify queue overflowed, events were lost; reloading",
			"error", err, "paths", l.opts.Paths)
	} else {
		l.opts.Logger.Warn("watch: fsnotify error, an event may be lost; reloading",
			"error", err, "paths", l.opts.Paths)
	}
	l.rescan()
	l.trigger(reason)
}

func (l *loop) trigger(reason string) {
	if delay, arm := l.deb.add(l.opts.Clock.Now(), reason); arm {
		l.opts.Logger.Debug("watch: change noticed", "reason", reason)
		l.debTimer = l.arm(delay, l.debFired)
	}
}

// onDebounce ends the burst if the files have been quiet long enough. The
// events already queued are handled first: on a loaded machine the timer
// can fire while the loop is still behind the burst.
func (l *loop) onDebounce() {
	l.debTimer = nil
	l.drain()
	c, again, done := l.deb.expire(l.opts.Clock.Now())
	if !done {
		if again > 0 {
			l.debTimer = l.arm(again, l.debFired)
		}
		return
	}
	// Rescan before sending, so that every folder that appeared during the
	// burst is watched (and the fingerprint taken) before the engine
	// reloads: whatever changes later is then reported again.
	snap := l.rescan()
	if l.polling() {
		l.seen, _ = l.w.hasher.fingerprint(snap)
	}
	l.opts.Logger.Debug("watch: change sent", "reason", c.Reason, "events", c.Events)
	l.publish(c)
}

func (l *loop) drain() {
	for range maxDrain {
		select {
		case ev, ok := <-l.src.events:
			if !ok {
				l.src.events = nil
				return
			}
			l.onEvent(ev)
		default:
			return
		}
	}
}

// onPoll compares the fingerprint with the one last seen. The rescan also
// repairs the watches if fsnotify missed a folder appearing.
func (l *loop) onPoll() {
	snap := l.rescan()
	fp, err := l.w.hasher.fingerprint(snap)
	if err != nil {
		l.opts.Logger.Debug("watch: poll could not read everything", "error", err)
	}
	if fp != l.seen {
		if !l.deb.pending {
			l.opts.Logger.Info("watch: poll found a change fsnotify did not report",
				"old", l.seen, "new", fp, "paths", l.opts.Paths)
		}
		l.seen = fp
		l.trigger("poll: checksum changed")
	}
	l.pollTimer = l.arm(l.opts.PollInterval, l.pollFired)
}

func (l *loop) rescan() *snapshot {
	l.snap = scan(l.opts.Paths)
	l.watches.sync(l.snap)
	return l.snap
}

// publish sends c without blocking: if a Change is still unread, c is
// folded into it. The loop is the only sender, so after taking the pending
// Change out (or finding the reader took it) the send cannot block.
func (l *loop) publish(c Change) {
	select {
	case l.w.changes <- c:
		return
	default:
	}
	select {
	case old := <-l.w.changes:
		old.Events += c.Events
		l.w.changes <- old
	default:
		l.w.changes <- c
	}
}

// arm sets a timer that reports on fired; its callback gives up once the
// loop has ended, so no goroutine outlives the Watcher.
func (l *loop) arm(d time.Duration, fired chan<- struct{}) Timer {
	done := l.w.done
	return l.opts.Clock.AfterFunc(d, func() {
		select {
		case fired <- struct{}{}:
		case <-done:
		}
	})
}

func (l *loop) polling() bool { return l.opts.PollInterval > 0 }
