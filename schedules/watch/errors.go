package watch

import "errors"

// ErrNoPaths is returned by New when Options.Paths is empty: there would be
// nothing to watch, which is always a wiring mistake.
var ErrNoPaths = errors.New("watch: no paths to watch")

// ErrInvalidOptions is wrapped by New when an option is out of range (such
// as a negative Debounce).
var ErrInvalidOptions = errors.New("watch: invalid options")

// ErrMissingPath is wrapped by Start when a configured path does not exist
// (or is a dangling symlink). Herald refuses to start on a missing
// configuration rather than wait for one to appear. Checksum wraps it too.
var ErrMissingPath = errors.New("watch: configured path does not exist")

// ErrStarted is returned by Start on a Watcher that was already started.
var ErrStarted = errors.New("watch: already started")

// ErrStopped is returned by Start on a Watcher that was stopped.
var ErrStopped = errors.New("watch: stopped")
