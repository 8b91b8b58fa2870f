package watch

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// k8sProject reproduces how the kubelet's atomic writer updates a
// ConfigMap volume mounted at dir: the keys are written into a new dated
// folder, ..data_tmp is pointed at it and renamed over ..data, the
// user-visible links (key -> ..data/key) of new keys are created and those
// of removed keys deleted, and the old dated folder is removed.
func k8sProject(t *testing.T, dir string, gen int, files map[string]string) {
	t.Helper()
	ts := fmt.Sprintf("..2026_11_28_%d", gen)
	for name, content := range files {
		writeFile(t, filepath.Join(dir, ts, name), content)
	}
	must(t, os.Symlink(ts, filepath.Join(dir, "..data_tmp")))
	must(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	entries, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range entries {
		if _, keep := files[e.Name()]; !keep && e.Type()&os.ModeSymlink != 0 && e.Name() != "..data" {
			must(t, os.Remove(filepath.Join(dir, e.Name())))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			must(t, os.Symlink(filepath.Join("..data", name), link))
		}
	}
	if gen > 1 {
		must(t, os.RemoveAll(filepath.Join(dir, fmt.Sprintf("..2026_11_28_%d", gen-1))))
	}
}

// gitSyncPublish reproduces git-sync: the new revision is checked out in a
// folder of its own, a temporary link to it is renamed over the link that
// is the configured path, and the old revision is removed.
func gitSyncPublish(t *testing.T, root, rev, old string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		writeFile(t, filepath.Join(root, rev, name), content)
	}
	must(t, os.Symlink(rev, filepath.Join(root, "tmp-link")))
	must(t, os.Rename(filepath.Join(root, "tmp-link"), filepath.Join(root, "current")))
	if old != "" {
		must(t, os.RemoveAll(filepath.Join(root, old)))
	}
}

// detectors: each symlink layout must be detected by fsnotify alone and by
// the poll alone.
var detectors = map[string]struct {
	opts   Options
	tweak  []func(*Watcher)
	reason string
}{
	"fsnotify": {opts: Options{PollInterval: -1}, reason: "fsnotify: "},
	"poll":     {opts: Options{PollInterval: 20 * time.Millisecond}, tweak: []func(*Watcher){pollOnly}, reason: "poll: checksum changed"},
}

func TestKubernetesConfigMapSwap(t *testing.T) {
	t.Parallel()
	for name, d := range detectors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "herald")
			must(t, os.Mkdir(dir, 0o755))
			k8sProject(t, dir, 1, map[string]string{"a.yaml": "a1", "b.yaml": "b1"})
			opts := d.opts
			opts.Paths = []string{dir}
			w := startWatcher(t, opts, d.tweak...)
			sums := checksums{}
			sums.add(t, w)

			// Same keys, new content.
			k8sProject(t, dir, 2, map[string]string{"a.yaml": "a2", "b.yaml": "b1"})
			waitChangeFor(t, w, d.reason)
			settle(t, w, testDebounce)
			sums.add(t, w)
			// A key added, one removed: the watch survived the swap.
			k8sProject(t, dir, 3, map[string]string{"a.yaml": "a2", "c.yaml": "c1"})
			waitChangeFor(t, w, d.reason)
			settle(t, w, testDebounce)
			sums.add(t, w)
			// Content only again, after a key change.
			k8sProject(t, dir, 4, map[string]string{"a.yaml": "a3", "c.yaml": "c1"})
			waitChangeFor(t, w, d.reason)
			sums.add(t, w)
		})
	}
}

// The configuration itself given as a ConfigMap key: --config
// /etc/herald/a.yaml, a link through ..data.
func TestKubernetesConfigMapKeyAsPath(t *testing.T) {
	t.Parallel()
	for name, d := range detectors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "herald")
			must(t, os.Mkdir(dir, 0o755))
			k8sProject(t, dir, 1, map[string]string{"a.yaml": "a1"})
			opts := d.opts
			opts.Paths = []string{filepath.Join(dir, "a.yaml")}
			w := startWatcher(t, opts, d.tweak...)
			for gen := 2; gen <= 3; gen++ {
				k8sProject(t, dir, gen, map[string]string{"a.yaml": fmt.Sprint("a", gen)})
				waitChangeFor(t, w, d.reason)
				settle(t, w, testDebounce)
			}
		})
	}
}

func TestGitSyncSwap(t *testing.T) {
	t.Parallel()
	for name, d := range detectors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			gitSyncPublish(t, root, "rev-abc", "", map[string]string{"a.yaml": "a1", "sub/b.yaml": "b1"})
			opts := d.opts
			opts.Paths = []string{filepath.Join(root, "current")}
			w := startWatcher(t, opts, d.tweak...)
			sums := checksums{}
			sums.add(t, w)

			gitSyncPublish(t, root, "rev-def", "rev-abc", map[string]string{"a.yaml": "a2", "sub/b.yaml": "b1"})
			waitChangeFor(t, w, d.reason)
			settle(t, w, testDebounce)
			sums.add(t, w)
			// The new revision's folders are watched now (nobody edits a
			// git-sync checkout, but the watches must have moved).
			writeFile(t, filepath.Join(root, "current", "sub", "b.yaml"), "b2")
			waitChangeFor(t, w, d.reason)
			settle(t, w, testDebounce)
			sums.add(t, w)
			gitSyncPublish(t, root, "rev-ghi", "rev-def", map[string]string{"a.yaml": "a3", "sub/c.yaml": "c1"})
			waitChangeFor(t, w, d.reason)
			sums.add(t, w)
		})
	}
}

// checksums records successive Checksums and requires each to differ from
// all before it.
type checksums map[string]int

func (c checksums) add(t *testing.T, w *Watcher) {
	t.Helper()
	sum, err := w.Checksum()
	must(t, err)
	if i, seen := c[sum]; seen {
		t.Fatalf("Checksum %s after step %d equals the one after step %d", sum, len(c), i)
	}
	c[sum] = len(c)
}
