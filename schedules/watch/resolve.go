package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxLinks bounds the symlinks followed for one path, as the kernel does
// (ELOOP), so that a link cycle cannot hang a scan.
const maxLinks = 255

// errLinkLoop is returned by resolve for a path with too many links.
var errLinkLoop = errors.New("too many levels of symbolic links")

// resolve follows path like filepath.EvalSymlinks, and also returns every
// symlink passed on the way, each as a real path (no link among its
// folders). A symlink can be swapped by rename without anything changing
// in the folders the files live in, so the folder of every link must be
// watched: `config/a.yaml -> ..data/a.yaml` passes both config/a.yaml and
// config/..data.
//
// On failure (a missing component, a dangling link) real is the real path
// of the first component that could not be read, so that its folder can
// be watched for the component to appear. path must be absolute.
func resolve(path string) (real string, links []string, err error) {
	vol := filepath.VolumeName(path)
	cur := vol + string(filepath.Separator)
	rest := splitPath(path[len(vol):])
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case ".":
			continue
		case "..":
			// cur holds no links, so its parent is the real parent.
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, name)
		info, err := os.Lstat(next)
		if err != nil {
			return next, links, err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if len(links) == maxLinks {
			return next, links, &fs.PathError{Op: "resolve", Path: path, Err: errLinkLoop}
		}
		links = append(links, next)
		target, err := os.Readlink(next)
		if err != nil {
			return next, links, err
		}
		if filepath.IsAbs(target) {
			tvol := filepath.VolumeName(target)
			cur = tvol + string(filepath.Separator)
			target = target[len(tvol):]
		}
		rest = append(splitPath(target), rest...)
	}
	return cur, links, nil
}

// splitPath splits p into its non-empty components.
func splitPath(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == filepath.Separator })
}
