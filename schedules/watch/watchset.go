package watch

import (
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
)

// watchSet keeps the fsnotify watches equal to the folders a snapshot
// needs. Folders are watched by real path; a folder replaced by another of
// the same name is watched again, since a watch follows the inode.
type watchSet struct {
	n      notifier
	log    *slog.Logger
	ids    map[string]fileID // folders added, with the identity they had
	failed map[string]string // folders whose Add failed, with the error logged
}

func newWatchSet(n notifier, log *slog.Logger) watchSet {
	return watchSet{n: n, log: log, ids: make(map[string]fileID), failed: make(map[string]string)}
}

// sync adds the folders s needs and drops the others (a folder removed,
// made hidden, or no longer on a symlink's way).
func (ws *watchSet) sync(s *snapshot) {
	want := s.folders()
	have := make(map[string]bool)
	for _, p := range ws.n.WatchList() {
		have[p] = true
	}
	for dir, id := range want {
		if have[dir] && ws.ids[dir] == id {
			continue
		}
		if have[dir] {
			_ = ws.n.Remove(dir) // a stale watch on the folder that was there before
		}
		ws.add(dir, id)
	}
	for dir := range have {
		if _, ok := want[dir]; !ok {
			// An error means fsnotify already dropped it (folder deleted).
			_ = ws.n.Remove(dir)
		}
	}
	for dir := range ws.ids {
		if _, ok := want[dir]; !ok {
			delete(ws.ids, dir)
		}
	}
}

// addTree walks a folder just created in a tree and watches it and its
// sub-folders at once.
func (ws *watchSet) addTree(s *snapshot, dir string) {
	sub := &snapshot{
		trees:     make(map[string]fileID),
		anchors:   make(map[string]map[string]bool),
		anchorIDs: make(map[string]fileID),
	}
	sub.walk(0, filepath.Clean(dir), "")
	for d, id := range sub.trees {
		s.trees[d] = id
		ws.add(d, id)
	}
	for d, names := range sub.anchors {
		for name := range names {
			s.anchor(filepath.Join(d, name))
		}
	}
	for d, id := range sub.anchorIDs {
		ws.add(d, id)
	}
}

func (ws *watchSet) add(dir string, id fileID) {
	if err := ws.n.Add(dir); err != nil {
		ws.addFailed(dir, err)
		return
	}
	delete(ws.failed, dir)
	ws.ids[dir] = id
}

// addFailed logs a folder that cannot be watched, once per distinct error.
// A folder gone meanwhile is no news (the rescan before the next Change
// settles it); anything else (the inotify watch limit) leaves that folder
// to the poll.
func (ws *watchSet) addFailed(dir string, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if ws.failed[dir] == err.Error() {
		return
	}
	ws.failed[dir] = err.Error()
	ws.log.Warn("watch: cannot watch folder, relying on the checksum poll", "dir", dir, "error", err)
}
