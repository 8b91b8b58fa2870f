package watch

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"
)

// Defaults for the zero Options fields.
const (
	// DefaultDebounce is long enough to fold an editor's save (write a
	// temporary file, rename it, fix modes) or a git checkout into one
	// Change, and short enough that an operator does not notice it.
	DefaultDebounce = 200 * time.Millisecond
	// DefaultPollInterval bounds how late a change that fsnotify missed is
	// noticed.
	DefaultPollInterval = 10 * time.Second
	// maxWaitFactor caps a debounce: a path written without a pause (a
	// runaway script) still gives a Change every maxWaitFactor × Debounce
	// (10 s by default) instead of starving reloads forever.
	maxWaitFactor = 50
)

// Options configures a Watcher.
type Options struct {
	// Paths are the files or folders given to `herald serve --config`,
	// the same list the engine passes to schedules.Load. Folders are
	// watched recursively. Relative paths are made absolute by New.
	Paths []string
	// Debounce is how long the files must stay quiet before a Change is
	// sent: a burst of events (a git checkout, an editor save) gives one.
	// Zero means DefaultDebounce.
	Debounce time.Duration
	// PollInterval is the period of the checksum poll that backs fsnotify
	// up. Zero means DefaultPollInterval; a negative value disables it.
	PollInterval time.Duration
	// Clock arms the debounce and poll timers; nil means the wall clock.
	Clock Clock
	// Logger receives errors and notable events; nil discards them.
	Logger *slog.Logger
}

// withDefaults validates o and fills in the zero fields.
func (o Options) withDefaults() (Options, error) {
	if len(o.Paths) == 0 {
		return o, ErrNoPaths
	}
	if o.Debounce < 0 {
		return o, fmt.Errorf("%w: negative Debounce %v", ErrInvalidOptions, o.Debounce)
	}
	if o.Debounce == 0 {
		o.Debounce = DefaultDebounce
	}
	if o.PollInterval == 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	paths := make([]string, len(o.Paths))
	for i, p := range o.Paths {
		if p == "" {
			return o, fmt.Errorf("%w: empty path", ErrInvalidOptions)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return o, fmt.Errorf("%w: %s: %w", ErrInvalidOptions, p, err)
		}
		paths[i] = abs
	}
	o.Paths = paths
	return o, nil
}
