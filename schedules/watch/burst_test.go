package watch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A git checkout switching branches rewrites, renames, deletes and creates
// many files (and churns .git) within milliseconds: one Change, after the
// burst settles.
func TestCheckoutBurstGivesOneChange(t *testing.T) {
	t.Parallel()
	// A longer debounce than elsewhere: the whole burst must fit in it
	// even when this goroutine is descheduled on a loaded machine.
	const debounce = 250 * time.Millisecond
	dir := filepath.Join(t.TempDir(), "config")
	for i := range 50 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("s%02d.yaml", i)), "v1")
	}
	writeFile(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
	writeFile(t, filepath.Join(dir, ".git", "index"), "index v1")
	w := startWatcher(t, Options{Paths: []string{dir}, Debounce: debounce})

	start := time.Now()
	git := filepath.Join(dir, ".git")
	writeFile(t, filepath.Join(git, "index.lock"), "index v2")
	for i := range 50 {
		p := filepath.Join(dir, fmt.Sprintf("s%02d.yaml", i))
		switch i % 5 {
		case 0: // rewritten in place
			writeFile(t, p, "v2")
		case 1: // replaced by rename, as git does for most files
			writeFile(t, p+".tmp", "v2")
			must(t, os.Rename(p+".tmp", p))
		case 2: // deleted on the new branch
			must(t, os.Remove(p))
		case 3: // moved into a folder that exists only on the new branch
			must(t, os.MkdirAll(filepath.Join(dir, "feature", "x"), 0o755))
			must(t, os.Rename(p, filepath.Join(dir, "feature", "x", filepath.Base(p))))
		case 4: // created
			writeFile(t, filepath.Join(dir, "feature", fmt.Sprintf("n%02d.yml", i)), "new")
		}
	}
	must(t, os.Rename(filepath.Join(git, "index.lock"), filepath.Join(git, "index")))
	writeFile(t, filepath.Join(git, "HEAD"), "ref: refs/heads/feature\n")
	took := time.Since(start)

	c := waitChange(t, w)
	t.Logf("burst of %v gave Change %q (%d events)", took, c.Reason, c.Events)
	if took > debounce/2 {
		// The burst itself had gaps close to the debounce: more than one
		// Change would be correct behaviour, so there is nothing to assert.
		t.Logf("burst took %v, too slow to expect a single Change", took)
		settle(t, w, debounce)
		return
	}
	if c.Events < 2 {
		t.Errorf("Change folded %d events, want the whole burst", c.Events)
	}
	select {
	case c2 := <-w.Changes():
		t.Fatalf("second Change %q (%d events) within %v of the first", c2.Reason, c2.Events, 3*debounce)
	case <-time.After(3 * debounce):
	}
	// And nothing from the burst is still on its way.
	expectOnlySentinel(t, w, dir)
	sum1, err := w.Checksum()
	must(t, err)
	writeFile(t, filepath.Join(dir, "feature", "x", "s03.yaml"), "v3")
	waitChangeFor(t, w, "feature/x/s03.yaml")
	sum2, err := w.Checksum()
	must(t, err)
	if sum1 == sum2 {
		t.Error("Checksum unchanged by an edit")
	}
}
