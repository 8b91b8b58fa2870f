package watch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixture lays out a small configuration folder the mutations below work on.
func fixture(t testing.TB) string {
	dir := filepath.Join(t.TempDir(), "config")
	for _, f := range []string{"a.yaml", "b.yml", "sub/c.yaml", "README.md", ".git/HEAD", ".hidden/d.yaml", "shared/e.yaml"} {
		writeFile(t, filepath.Join(dir, f), "content of "+f)
	}
	return dir
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		changed bool
	}{
		{"nothing", func(*testing.T, string) {}, false},
		{"same-size edit", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "a.yaml"), "CONTENT OF a.yaml") }, true},
		{"edit in a sub-folder", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "sub/c.yaml"), "x") }, true},
		{"file added", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "new.yaml"), "") }, true},
		{"file removed", func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "b.yml"))) }, true},
		{"file renamed", func(t *testing.T, dir string) {
			must(t, os.Rename(filepath.Join(dir, "b.yml"), filepath.Join(dir, "b2.yml")))
		}, true},
		{"file made unreadable", func(t *testing.T, dir string) {
			if os.Getuid() == 0 {
				t.Skip("root reads anything")
			}
			must(t, os.Chmod(filepath.Join(dir, "a.yaml"), 0))
		}, true},
		{"folder removed", func(t *testing.T, dir string) { must(t, os.RemoveAll(filepath.Join(dir, "sub"))) }, true},
		{"symlinked file added", func(t *testing.T, dir string) {
			must(t, os.Symlink("shared/e.yaml", filepath.Join(dir, "link.yaml")))
		}, true},
		{"configured folder removed", func(t *testing.T, dir string) { must(t, os.RemoveAll(dir)) }, true},
		// Not what schedules.Load reads, or not content:
		{"identical rewrite (touch, checkout of the same bytes)", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "a.yaml")
			writeFile(t, p, "content of a.yaml")
			must(t, os.Chtimes(p, time.Now().Add(time.Hour), time.Now().Add(time.Hour)))
		}, false},
		{"other extension", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "README.md"), "new") }, false},
		{"swap and backup files", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, ".a.yaml.swp"), "swap")
			writeFile(t, filepath.Join(dir, "a.yaml~"), "backup")
		}, false},
		{".git internals", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ".git/refs/x.yaml"), "x") }, false},
		{"hidden folder", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ".hidden/d.yaml"), "x") }, false},
		{"symlinked folder (not followed, as by Load)", func(t *testing.T, dir string) {
			must(t, os.Symlink("sub", filepath.Join(dir, "sub-link")))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := fixture(t)
			h := newHasher(time.Now)
			before, err := h.fingerprint(scan([]string{dir}))
			must(t, err)
			tt.mutate(t, dir)
			after, _ := h.fingerprint(scan([]string{dir}))
			if (before != after) != tt.changed {
				t.Errorf("fingerprint changed = %v, want %v", before != after, tt.changed)
			}
			// A fresh hasher (no cache) must agree with the cached one.
			fresh, _ := newHasher(time.Now).fingerprint(scan([]string{dir}))
			if fresh != after {
				t.Errorf("cached fingerprint %s, fresh %s", after, fresh)
			}
		})
	}
}

// Content is read again only when the stat data changed, or while it is
// too fresh to trust (racyWindow).
func TestFingerprintCache(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "config")
	for i := range 100 {
		writeFile(t, filepath.Join(dir, fmt.Sprintf("s%03d.yaml", i)), "x")
	}
	now := time.Now()
	h := newHasher(func() time.Time { return now })
	fp := func() string {
		sum, err := h.fingerprint(scan([]string{dir}))
		must(t, err)
		return sum
	}
	reads := func() int { h.mu.Lock(); defer h.mu.Unlock(); return h.reads }

	first := fp()
	if reads() != 100 {
		t.Fatalf("first fingerprint read %d files, want 100", reads())
	}
	fp()
	if reads() != 200 {
		t.Fatalf("files just written were trusted from the cache (%d reads, want 200)", reads())
	}
	now = now.Add(racyWindow + time.Second)
	fp() // hashed late enough: trusted from now on
	fp()
	if reads() != 300 {
		t.Fatalf("unchanged files were read again (%d reads, want 300)", reads())
	}
	writeFile(t, filepath.Join(dir, "s042.yaml"), "y")
	if fp() == first {
		t.Fatal("fingerprint unchanged after an edit")
	}
	if reads() != 301 {
		t.Fatalf("%d reads after one edit, want 301", reads())
	}
}

func TestChecksumMissingPath(t *testing.T) {
	t.Parallel()
	dir := fixture(t)
	w, err := New(Options{Paths: []string{dir, filepath.Join(dir, "nope.yaml")}})
	must(t, err)
	sum, err := w.Checksum()
	if !errors.Is(err, ErrMissingPath) || sum == "" {
		t.Fatalf("Checksum = %q, %v; want a fingerprint and ErrMissingPath", sum, err)
	}
	writeFile(t, filepath.Join(dir, "nope.yaml"), "here now")
	sum2, err := w.Checksum()
	if err != nil || sum2 == sum {
		t.Fatalf("Checksum after the path appeared = %q, %v (before %q)", sum2, err, sum)
	}
}

// BenchmarkChecksum100 is the poll's steady state: 100 unchanged files.
func BenchmarkChecksum100(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "config")
	for i := range 100 {
		p := filepath.Join(dir, fmt.Sprintf("sub%d", i%5), fmt.Sprintf("s%03d.yaml", i))
		writeFile(b, p, string(make([]byte, 4096)))
	}
	later := time.Now().Add(time.Hour) // past the racy window
	h := newHasher(func() time.Time { return later })
	for b.Loop() {
		if _, err := h.fingerprint(scan([]string{dir})); err != nil {
			b.Fatal(err)
		}
	}
}
