package schedules

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// discover lists the files under paths, sorted and without repeats.
func discover(paths []string) ([]fileRef, []Diagnostic) {
	var files []fileRef
	var diags []Diagnostic
	seen := make(map[string]bool)
	add := func(display, rel, root string) {
		abs, err := filepath.Abs(display)
		if err == nil {
			root, err = filepath.Abs(root)
		}
		if err != nil {
			diags = append(diags, Diagnostic{File: display, Message: err.Error()})
			return
		}
		if seen[abs] {
			return
		}
		seen[abs] = true
		files = append(files, fileRef{display: display, rel: rel, absDir: filepath.Dir(abs), root: root})
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			diags = append(diags, Diagnostic{File: root, Message: unwrapPathError(err).Error()})
			continue
		}
		if !info.IsDir() {
			add(filepath.Clean(root), filepath.Base(root), filepath.Dir(root))
			continue
		}
		// A configured folder may itself be a symlink (git-sync swaps
		// "current -> rev-abc" by rename): a trailing separator makes
		// WalkDir follow it, where it would otherwise stop at the link.
		walkRoot := root
		if li, err := os.Lstat(root); err == nil && li.Mode()&fs.ModeSymlink != 0 {
			walkRoot = root + string(filepath.Separator)
		}
		err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				diags = append(diags, Diagnostic{File: p, Message: unwrapPathError(err).Error()})
				return nil
			}
			if p != walkRoot && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !isYAMLName(d.Name()) {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				// Follow links to files (Kubernetes mounts ConfigMap
				// keys as links), never to folders (no cycles).
				info, err := os.Stat(p)
				if err != nil {
					diags = append(diags, Diagnostic{File: p, Message: unwrapPathError(err).Error()})
					return nil
				}
				if !info.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				rel = d.Name()
			}
			add(p, filepath.ToSlash(rel), root)
			return nil
		})
		if err != nil {
			diags = append(diags, Diagnostic{File: root, Message: err.Error()})
		}
	}
	slices.SortFunc(files, func(a, b fileRef) int { return strings.Compare(a.display, b.display) })
	return files, diags
}

func isYAMLName(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}
