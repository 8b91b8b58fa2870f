package watch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// snapshot is what one scan of the configured paths found: the folders to
// watch and how to read their events, and the files whose content makes
// up the configuration (for the fingerprint). A scan only stats; it reads
// no file content.
type snapshot struct {
	roots []rootState
	// trees are the real folders walked: every event about a
	// configuration file name or a sub-folder in them matters.
	trees map[string]fileID
	// anchors are real folders holding a name that matters although the
	// folder is not walked (or the name is hidden): a configured path
	// itself, each symlink on the way to a configuration file, a link's
	// target. Only events about those names matter.
	anchors map[string]map[string]bool
	// anchorIDs identify the anchor folders that exist.
	anchorIDs map[string]fileID
	files     []fileState
}

// rootState is one configured path as scanned.
type rootState struct {
	given string // absolute, as configured
	real  string // symlinks resolved; "" when missing
	isDir bool
	err   error
}

// fileState is one configuration file as scanned.
type fileState struct {
	root int    // index of its configured path
	rel  string // slash-separated, relative to the configured path
	real string // the file to read
	key  statKey
	err  error // could not be read or stat'ed; schedules.Load reports it
}

// scan walks paths the way schedules.Load discovers files, also noting
// every folder and name whose change can change what Load would read.
func scan(paths []string) *snapshot {
	s := &snapshot{
		trees:     make(map[string]fileID),
		anchors:   make(map[string]map[string]bool),
		anchorIDs: make(map[string]fileID),
	}
	for i, p := range paths {
		st := rootState{given: p}
		real, links, err := resolve(p)
		s.anchorChain(real, links)
		var info fs.FileInfo
		if err == nil {
			info, err = os.Stat(real)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			st.err = fmt.Errorf("%w: %s: %w", ErrMissingPath, p, err)
		case err != nil:
			st.err = fmt.Errorf("watch: %s: %w", p, err)
		case info.IsDir():
			st.real, st.isDir = real, true
			s.walk(i, real, "")
		default:
			// A configured file is read whatever its name, as Load does.
			st.real = real
			s.addFile(i, filepath.Base(p), real, info, nil)
		}
		s.roots = append(s.roots, st)
	}
	return s
}

// walk records dir as a tree and descends into it. Like Load it skips
// hidden names and does not follow symlinked folders (no cycles), but it
// follows a symlinked *.yaml file.
func (s *snapshot) walk(root int, dir, rel string) {
	if info, err := os.Lstat(dir); err == nil {
		s.trees[dir] = idOf(info)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.files = append(s.files, fileState{root: root, rel: rel + "/", real: dir, err: err})
		return
	}
	for _, e := range entries {
		name := e.Name()
		if isHidden(name) {
			continue
		}
		full := filepath.Join(dir, name)
		r := path.Join(rel, name)
		switch {
		case e.IsDir():
			s.walk(root, full, r)
		case !isYAMLName(name):
		case e.Type()&fs.ModeSymlink != 0:
			target, links, err := resolve(full)
			s.anchorChain(target, links)
			var info fs.FileInfo
			if err == nil {
				info, err = os.Stat(target)
			}
			if err == nil && !info.Mode().IsRegular() {
				continue
			}
			s.addFile(root, r, target, info, err)
		case e.Type().IsRegular():
			info, err := e.Info()
			s.addFile(root, r, full, info, err)
		}
	}
}

func (s *snapshot) addFile(root int, rel, real string, info fs.FileInfo, err error) {
	f := fileState{root: root, rel: rel, real: real, err: err}
	if err == nil {
		f.key = keyOf(info)
	}
	s.files = append(s.files, f)
}

// anchorChain anchors each link passed while resolving a path and the
// path it resolved to (or the component that was missing).
func (s *snapshot) anchorChain(real string, links []string) {
	for _, l := range links {
		s.anchor(l)
	}
	s.anchor(real)
}

func (s *snapshot) anchor(p string) {
	dir, name := filepath.Dir(p), filepath.Base(p)
	if dir == p {
		return // the file system root has no parent to watch
	}
	names := s.anchors[dir]
	if names == nil {
		names = make(map[string]bool)
		s.anchors[dir] = names
		if info, err := os.Stat(dir); err == nil && info.IsDir() {
			s.anchorIDs[dir] = idOf(info)
		}
	}
	names[name] = true
}

// folders returns every folder that should be watched, with its identity.
func (s *snapshot) folders() map[string]fileID {
	out := make(map[string]fileID, len(s.trees)+len(s.anchorIDs))
	for d, id := range s.anchorIDs {
		out[d] = id
	}
	for d, id := range s.trees {
		out[d] = id
	}
	return out
}

// isHidden matches the names schedules.Load skips: .git, editor swap and
// lock files (.a.yaml.swp, .#a.yaml), Kubernetes' ..data and its dated
// folders.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// isYAMLName matches the configuration files schedules.Load reads. Backup
// names such as a.yaml~ or a.yaml.orig do not match.
func isYAMLName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}
