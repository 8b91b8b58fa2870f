package diskcache

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/schedules"
)

var _ schedules.DecodeCache = (*Cache)(nil)

// fakeNow is a settable clock for modification times.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func open(t *testing.T, dir string, salt string, clk *fakeNow) *Cache {
	t.Helper()
	c, err := Open(dir, Options{Salt: []byte(salt), Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestGetPut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	clk := &fakeNow{t: time.Now()}
	c := open(t, dir, "binary-1", clk)
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the folder: %v, %v; want it created with mode 0700", fi, err)
	}
	if _, ok := c.Get("k"); ok {
		t.Fatal("a hit in an empty cache")
	}
	c.Put("k", []byte("entry one"))
	c.Put("k2", nil)
	if b, ok := c.Get("k"); !ok || string(b) != "entry one" {
		t.Fatalf("Get = %q, %v", b, ok)
	}
	if b, ok := c.Get("k2"); !ok || len(b) != 0 {
		t.Fatalf("Get of an empty entry = %q, %v", b, ok)
	}
	c.Put("k", []byte("entry two")) // replaced whole
	if b, _ := c.Get("k"); string(b) != "entry two" {
		t.Fatalf("after a second Put, Get = %q", b)
	}
	if fi, err := os.Stat(c.path("k")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("an entry: %v, %v; want mode 0600", fi, err)
	}
	if _, ok := open(t, dir, "binary-2", clk).Get("k"); ok {
		t.Error("another binary's salt read this binary's entry")
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		if !strings.HasSuffix(n, suffix) {
			t.Errorf("left behind: %s", n)
		}
	}
}

// TestDamagedEntries: a torn or changed file is a miss, never a wrong entry.
func TestDamagedEntries(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, "s", &fakeNow{t: time.Now()})
	entry := bytes.Repeat([]byte("schedule "), 100)
	for name, damage := range map[string]func([]byte) []byte{
		"torn":      func(b []byte) []byte { return b[:len(b)/2] },
		"one bit":   func(b []byte) []byte { b[10] ^= 1; return b },
		"checksum":  func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
		"too short": func(b []byte) []byte { return b[:3] },
		"empty":     func(b []byte) []byte { return nil },
	} {
		c.Put(name, entry)
		p := c.path(name)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, damage(b), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Get(name); ok {
			t.Errorf("%s: Get returned %d bytes", name, len(got))
		}
	}
}

// TestTrim removes what was not used within the age, keeps what was (a
// Get refreshes an entry), and leaves other files alone.
func TestTrim(t *testing.T) {
	dir := t.TempDir()
	clk := &fakeNow{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	c := open(t, dir, "s", clk)
	for _, k := range []string{"used", "unused"} {
		c.Put(k, []byte(k))
		if err := os.Chtimes(c.path(k), clk.now(), clk.now()); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "README")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := clk.now()
	if err := os.Chtimes(other, old, old); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".tmp-123")
	if err := os.WriteFile(stale, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}

	clk.add(6 * 24 * time.Hour)
	if _, ok := c.Get("used"); !ok {
		t.Fatal("miss")
	}
	clk.add(2 * 24 * time.Hour) // "unused" was last used 8 days ago, "used" 2
	n, err := c.Trim(7 * 24 * time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("Trim = %d, %v; want 2 (the unused entry and the stale temporary file)", n, err)
	}
	if _, ok := c.Get("used"); !ok {
		t.Error("Trim removed an entry used 2 days ago")
	}
	if _, ok := c.Get("unused"); ok {
		t.Error("Trim kept an entry unused for 8 days")
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("Trim removed a file that is not the cache's: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	a, err := Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Fingerprint()
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("Fingerprint = %x then %x", a, b)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("", Options{}); err == nil {
		t.Error("Open of no folder succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(file, "sub"), Options{}); err == nil || !strings.Contains(err.Error(), "file") {
		t.Errorf("Open under a file: %v", err)
	}
}

// TestOpenNarrowsAnOpenFolder: a folder made by someone else, readable by
// all, is narrowed to its owner.
func TestOpenNarrowsAnOpenFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	open(t, dir, "binary-1", &fakeNow{t: time.Now()})
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("the folder: %v, %v; want it narrowed to 0700", fi, err)
	}
}
