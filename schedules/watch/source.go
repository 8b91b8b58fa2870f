package watch

import "github.com/fsnotify/fsnotify"

// notifier is the part of *fsnotify.Watcher the loop uses; tests put a
// fake in its place to inject events and errors such as an overflow.
type notifier interface {
	Add(path string) error
	Remove(path string) error
	WatchList() []string
	Close() error
}

// source is a notifier with its event and error channels.
type source struct {
	n      notifier
	events <-chan fsnotify.Event
	errors <-chan error
}

func fsnotifySource() (source, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return source{}, err
	}
	return source{n: fw, events: fw.Events, errors: fw.Errors}, nil
}

// pollOnlySource watches nothing: its nil channels never deliver.
func pollOnlySource() source { return source{n: nopNotifier{}} }

type nopNotifier struct{}

func (nopNotifier) Add(string) error    { return nil }
func (nopNotifier) Remove(string) error { return nil }
func (nopNotifier) WatchList() []string { return nil }
func (nopNotifier) Close() error        { return nil }
