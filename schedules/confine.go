package schedules

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ErrOutsideRoot is wrapped by ResolveWithin when a media path, once its
// symbolic links are resolved, leaves the plan's folder: a plan must not
// make Herald upload a file it was never meant to see (../../secret.png,
// or a link to /etc).
var ErrOutsideRoot = errors.New("schedules: media path outside the plan's folder")

// ResolveWithin resolves every symbolic link of path and of root and
// returns the real path of the file, or an error wrapping ErrOutsideRoot
// when it is not under root. Validation calls it, and so does a publisher
// just before it opens the file, since a link may be swapped in between.
// The root itself may be a link (git-sync's current -> rev-abc, or a
// Kubernetes ConfigMap's ..data): it is resolved too.
func ResolveWithin(root, path string) (string, error) {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("the plan's folder %s: %w", root, err)
	}
	return resolveUnder(root, realRoot, path)
}

// resolveUnder is ResolveWithin with the root already resolved (realRoot).
func resolveUnder(root, realRoot, path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", err
	}
	if !within(realRoot, real) {
		return real, fmt.Errorf("%s resolves to %s: %w %s", path, real, ErrOutsideRoot, root)
	}
	return real, nil
}

// within reports whether path is root or under it; both are clean and
// absolute.
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
