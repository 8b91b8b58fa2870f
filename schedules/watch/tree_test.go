package watch

import (
	"os"
	"path/filepath"
	"testing"
)

// Files added and removed, folders created after Start (and filled at
// once), folders removed or hidden: each gives a Change, new folders are
// watched and dropped ones are not.
func TestTreeChanges(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	w := startWatcher(t, Options{Paths: []string{dir}})
	step := func(want string, do func()) {
		t.Helper()
		do()
		waitChangeFor(t, w, want)
		settle(t, w, testDebounce)
	}

	step("b.yml", func() { writeFile(t, filepath.Join(dir, "b.yml"), "b") })
	step("b.yml", func() { must(t, os.Remove(filepath.Join(dir, "b.yml"))) })
	step("create new", func() { must(t, os.Mkdir(filepath.Join(dir, "new"), 0o755)) })
	step("new/c.yaml", func() { writeFile(t, filepath.Join(dir, "new", "c.yaml"), "c") })

	// A checkout creates nested folders and fills them straight away.
	deep := filepath.Join(dir, "deep", "er", "est", "d.yaml")
	step("deep", func() { writeFile(t, deep, "d1") })
	step("deep/er/est/d.yaml", func() { writeFile(t, deep, "d2") })

	step("new", func() { must(t, os.RemoveAll(filepath.Join(dir, "new"))) })
	// Re-created under the same name: a new inode, watched again.
	step("new", func() { writeFile(t, filepath.Join(dir, "new", "e.yaml"), "e") })
	step("new/e.yaml", func() { writeFile(t, filepath.Join(dir, "new", "e.yaml"), "e2") })

	// A folder renamed to a hidden name leaves the configuration: its
	// watches are dropped, so writing inside it is not a change.
	step("deep", func() { must(t, os.Rename(filepath.Join(dir, "deep"), filepath.Join(dir, ".deep"))) })
	writeFile(t, filepath.Join(dir, ".deep", "er", "est", "d.yaml"), "d3")
	writeFile(t, filepath.Join(dir, ".deep", "er", "f.yaml"), "f")
	expectOnlySentinel(t, w, dir)
}

// The configured folder itself removed and created again (a fresh clone):
// reported, and the new folder is watched.
func TestConfiguredFolderRecreated(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	w := startWatcher(t, Options{Paths: []string{dir}})
	must(t, os.RemoveAll(dir))
	writeFile(t, filepath.Join(dir, "sub", "a.yaml"), "a2")
	waitChangeFor(t, w, "a.yaml")
	settle(t, w, testDebounce)
	writeFile(t, filepath.Join(dir, "sub", "a.yaml"), "a3")
	waitChangeFor(t, w, "sub/a.yaml")
}

// Names schedules.Load does not read are noise: swap, backup and lock
// files, other extensions, .git internals, hidden folders.
func TestIgnoredNames(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	writeFile(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
	w := startWatcher(t, Options{Paths: []string{dir}})

	for _, name := range []string{
		".a.yaml.swp", ".a.yaml.swx", "4913", "a.yaml~", "#a.yaml#", ".#a.yaml",
		"README.md", "a.yaml.orig", "notes.txt",
		".git/HEAD", ".git/index.lock", ".git/objects/ab/cdef0123", ".git/refs/heads/b.yaml",
		".hidden/x.yaml",
	} {
		writeFile(t, filepath.Join(dir, name), "noise")
	}
	must(t, os.Rename(filepath.Join(dir, ".git", "index.lock"), filepath.Join(dir, ".git", "index")))
	must(t, os.Remove(filepath.Join(dir, ".a.yaml.swp")))
	must(t, os.Symlink("a.yaml", filepath.Join(dir, "link-without-extension")))
	expectOnlySentinel(t, w, dir)
}

// Reading the files, as the engine's reload does, must not be reported:
// otherwise every reload would cause the next.
func TestReadingIsNotAChange(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config")
	writeFile(t, filepath.Join(dir, "a.yaml"), "a")
	writeFile(t, filepath.Join(dir, "sub", "b.yaml"), "b")
	w := startWatcher(t, Options{Paths: []string{dir}})
	for range 3 {
		for _, p := range []string{"a.yaml", "sub/b.yaml"} {
			if _, err := os.ReadFile(filepath.Join(dir, p)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := os.ReadDir(dir); err != nil {
			t.Fatal(err)
		}
	}
	expectOnlySentinel(t, w, dir)
}
