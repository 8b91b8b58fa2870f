// Package diskcache is the schedules.DecodeCache that `herald serve` keeps
// on disk: a folder of files, one per decoded schedules file, so that a
// restarted node does not parse YAML it has parsed before.
//
// Entries are named by a SHA-256 of the binary's fingerprint and the
// Loader's key, so a new Herald binary never reads an older one's entries
// (they expire instead). Each entry ends with a CRC-32C of its content; a
// torn or damaged file is a miss. Entries are written to a temporary file
// and renamed, so concurrent nodes on one folder see whole entries or
// none. An entry's modification time is its last use, refreshed at most
// once an hour, and Trim removes the entries unused for longer than a
// given age, as Go's build cache does.
//
// It imports nothing of ours: schedules defines the interface it serves.
package diskcache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// suffix marks the files of this cache, so Trim touches nothing else.
const suffix = ".herald-decode"

// touchAfter is how stale an entry's modification time may get before a
// Get refreshes it.
const touchAfter = time.Hour

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Cache is a folder of decode entries.
type Cache struct {
	dir    string
	salt   []byte
	now    func() time.Time
	logger *slog.Logger
}

// Options configure Open.
type Options struct {
	// Salt separates the entries of different binaries: pass Fingerprint's
	// result. Entries written under another salt are never read.
	Salt []byte
	// Now is the clock of modification times; nil means time.Now.
	Now func() time.Time
	// Logger receives the failures to write, at debug level (the cache
	// only saves time); nil discards them.
	Logger *slog.Logger
}

// Open creates dir (mode 0700: entries describe the schedules) when it
// does not exist and returns the cache kept there. An existing folder open
// to group or others is narrowed to 0700 where this process may (a warning
// is logged where it may not); entries are written 0600.
func Open(dir string, opts Options) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("diskcache: no folder given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("diskcache: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, fi.Mode().Perm()&0o700); err != nil {
			opts.Logger.Warn("decode cache: the folder is open to other users and cannot be narrowed to 0700",
				slog.String("dir", dir), slog.String("mode", fi.Mode().Perm().String()), slog.String("error", err.Error()))
		}
	}
	return &Cache{dir: dir, salt: opts.Salt, now: opts.Now, logger: opts.Logger}, nil
}

// Dir is the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// path is the file of key.
func (c *Cache) path(key string) string {
	h := sha256.New()
	h.Write(c.salt)
	h.Write([]byte{0})
	h.Write([]byte(key))
	return filepath.Join(c.dir, hex.EncodeToString(h.Sum(nil))+suffix)
}

// Get returns the entry stored under key, if it is there and whole.
func (c *Cache) Get(key string) ([]byte, bool) {
	p := c.path(key)
	b, err := os.ReadFile(p)
	if err != nil || len(b) < 4 {
		return nil, false
	}
	data, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(data, castagnoli) != sum {
		c.logger.Debug("decode cache: damaged entry ignored", slog.String("file", p))
		return nil, false
	}
	if fi, err := os.Stat(p); err == nil {
		if now := c.now(); now.Sub(fi.ModTime()) > touchAfter {
			_ = os.Chtimes(p, now, now) // the entry is in use: keep it from Trim
		}
	}
	return data, true
}

// Put stores entry under key. A failure is logged at debug level and
// otherwise ignored: the next start parses the file again.
func (c *Cache) Put(key string, entry []byte) {
	if err := c.put(c.path(key), entry); err != nil {
		c.logger.Debug("decode cache: entry not written", slog.String("error", err.Error()))
	}
}

func (c *Cache) put(p string, entry []byte) error {
	f, err := os.CreateTemp(c.dir, ".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	_, err = f.Write(entry)
	if err == nil {
		_, err = f.Write(binary.LittleEndian.AppendUint32(nil, crc32.Checksum(entry, castagnoli)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		_ = os.Remove(f.Name())
	}
	return err
}

// Trim removes the entries not used for longer than maxAge, and temporary
// files that old (left by a process killed while writing). It returns how
// many files it removed.
func (c *Cache) Trim(maxAge time.Duration) (int, error) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, fmt.Errorf("diskcache: %w", err)
	}
	cutoff := c.now().Add(-maxAge)
	removed := 0
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, suffix) || strings.HasPrefix(name, ".tmp-")) {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("diskcache: %w", err)
		}
		if fi.ModTime().Before(cutoff) {
			if err := os.Remove(filepath.Join(c.dir, name)); err == nil {
				removed++
			}
		}
	}
	return removed, nil
}

// Fingerprint identifies the running binary by a SHA-256 of its
// executable file: any rebuild, even one that changes how schedules are
// decoded without changing the entry format, gets fresh entries.
func Fingerprint() ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("diskcache: finding the executable: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return nil, fmt.Errorf("diskcache: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("diskcache: reading %s: %w", exe, err)
	}
	return h.Sum(nil), nil
}
