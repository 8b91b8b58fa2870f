package watch

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// refresh says what an event requires of the watches before the loop goes
// on, so that what follows in the same burst is seen.
type refresh int

const (
	// refreshNone: the watches stay as they are until the rescan that
	// precedes each Change. A folder removed needs nothing (its watch
	// dies with it), and whatever changes inside a folder not yet
	// watched is covered by that Change, which is still to come.
	refreshNone refresh = iota
	// refreshTree: a folder was created (or renamed) into a tree; a
	// checkout creates a folder and then fills it, so it is watched at
	// once.
	refreshTree
	// refreshAll: a configured path or a symlink on the way to a file was
	// created or renamed into place (a ConfigMap or git-sync swap, a
	// configuration folder re-cloned): rescan everything at once, so that
	// the new tree is watched for the rest of the burst. Such events are
	// few, even in a large swap.
	refreshAll
)

// classify tells whether an fsnotify event can change what schedules.Load
// would read (relevant), and what it requires of the watches.
//
// Every operation counts, including Chmod: a file made unreadable changes
// Load's result, and reading files (as Load does) sends no event, so
// reloading cannot feed back into the watcher.
func (s *snapshot) classify(ev fsnotify.Event) (relevant bool, r refresh) {
	name := filepath.Clean(ev.Name)
	dir, base := filepath.Dir(name), filepath.Base(name)
	if s.anchors[dir][base] {
		// A configured path, a link on the way to a file, a link's target.
		if ev.Has(fsnotify.Create) {
			return true, refreshAll
		}
		return true, refreshNone
	}
	if _, ok := s.trees[name]; ok {
		return true, refreshNone // a walked folder removed, renamed or changed
	}
	if _, ok := s.trees[dir]; !ok || isHidden(base) {
		return false, refreshNone // .git, swap files, a folder no longer wanted
	}
	if isYAMLName(base) {
		return true, refreshNone
	}
	if ev.Has(fsnotify.Create) {
		// A new folder, or one renamed into the tree. Anything else
		// (README.md, a.yaml~) does not matter.
		if info, err := os.Lstat(name); err == nil && info.IsDir() {
			return true, refreshTree
		}
	}
	return false, refreshNone
}

// display shortens name for a Change reason: relative to the configured
// path holding it when there is one.
func (s *snapshot) display(name string) string {
	for _, r := range s.roots {
		if r.real == "" || !r.isDir {
			if r.real == name {
				return filepath.Base(r.given)
			}
			continue
		}
		rel, err := filepath.Rel(r.real, name)
		switch {
		case err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)):
		case rel == ".":
			return filepath.Base(r.given)
		default:
			return filepath.ToSlash(rel)
		}
	}
	return name
}

// eventReason is the Change reason for ev, such as "fsnotify: write a.yaml".
func (s *snapshot) eventReason(ev fsnotify.Event) string {
	return "fsnotify: " + strings.ToLower(ev.Op.String()) + " " + s.display(filepath.Clean(ev.Name))
}
