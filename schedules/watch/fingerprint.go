package watch

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"
	"time"
)

// fileID identifies a file or folder on its device (zero where the
// platform gives no inode).
type fileID struct{ dev, ino uint64 }

// statKey is the stat data a cached content hash is valid for.
type statKey struct {
	id           fileID
	size         int64
	mtime, ctime int64 // Unix nanoseconds
	mode         fs.FileMode
}

// racyWindow: a hash taken less than this long after the file last changed
// is not trusted at the next poll, because two writes within one tick of
// the file system's clock leave identical stat data (git calls such files
// "racily clean"). The file is hashed again until it has been still that
// long, which for a configuration folder is almost always.
const racyWindow = 2 * time.Second

// hasher computes fingerprints, remembering each file's content hash with
// the stat data it was taken under, so that a poll of an unchanged folder
// of 100 files costs a walk and 100 stats, not 100 reads. It is shared by
// the watcher's loop and Checksum, hence the mutex.
type hasher struct {
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cacheEntry // by real path
	reads int                   // files read so far; tests check the cache with it
}

type cacheEntry struct {
	key      statKey
	sum      [sha256.Size]byte
	hashedAt time.Time
}

func newHasher(now func() time.Time) *hasher {
	return &hasher{now: now, cache: make(map[string]cacheEntry)}
}

// fingerprint hashes, in a fixed order, each configured path's state and,
// for every configuration file, its path relative to its configured path,
// its size and the SHA-256 of its content. Modification times and inodes
// only decide whether the cached content hash can be reused: a checkout or
// a ConfigMap update that rewrites identical bytes is not a change.
//
// Paths that cannot be read are part of the fingerprint (as errors, so that
// their appearing or disappearing is a change) and are returned joined.
func (h *hasher) fingerprint(s *snapshot) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	next := make(map[string]cacheEntry, len(s.files))
	sha := sha256.New()
	var errs []error
	for _, r := range s.roots {
		switch {
		case r.err != nil:
			fmt.Fprintf(sha, "root %q error %q\n", r.given, r.err.Error())
			errs = append(errs, r.err)
		case r.isDir:
			fmt.Fprintf(sha, "root %q dir\n", r.given)
		default:
			fmt.Fprintf(sha, "root %q file\n", r.given)
		}
	}
	files := slices.Clone(s.files)
	slices.SortStableFunc(files, func(a, b fileState) int {
		return cmp.Or(cmp.Compare(a.root, b.root), cmp.Compare(a.rel, b.rel))
	})
	for _, f := range files {
		err := f.err
		var digest [sha256.Size]byte
		if err == nil {
			digest, err = h.sum(f, now, next)
		}
		if err != nil {
			fmt.Fprintf(sha, "%d %q error %q\n", f.root, f.rel, err.Error())
			errs = append(errs, fmt.Errorf("watch: %s: %w", f.real, err))
			continue
		}
		fmt.Fprintf(sha, "%d %q %d %x\n", f.root, f.rel, f.key.size, digest)
	}
	h.cache = next
	return hex.EncodeToString(sha.Sum(nil)[:16]), errors.Join(errs...)
}

// sum returns f's content hash, from the cache when its stat data is
// unchanged and the hash is not racy, and records it in next.
func (h *hasher) sum(f fileState, now time.Time, next map[string]cacheEntry) ([sha256.Size]byte, error) {
	if c, ok := h.cache[f.real]; ok && c.key == f.key {
		changed := time.Unix(0, max(f.key.mtime, f.key.ctime))
		if c.hashedAt.Sub(changed) >= racyWindow {
			next[f.real] = c
			return c.sum, nil
		}
	}
	h.reads++
	sum, err := hashFile(f.real)
	if err != nil {
		return sum, err
	}
	next[f.real] = cacheEntry{key: f.key, sum: sum, hashedAt: now}
	return sum, nil
}

func hashFile(path string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
