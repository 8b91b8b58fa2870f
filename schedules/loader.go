package schedules

import (
	"crypto/sha256"
	"strings"
	"sync"
)

// Loader loads the same configuration again and again, as a node does on
// every edit, and decodes only what changed. It keeps, per file, the hash
// of the file's bytes and the file's decode (its accounts, schedules and
// diagnostics, before cross-file checks); a Load reads and hashes every
// file, decodes only those whose bytes changed, and then runs the checks
// that span files (duplicate ids and accounts, unknown accounts, the
// revision) over all of them. Reading and hashing 100 files is cheap;
// decoding and validating 100,000 schedules is not. Sizes and modification
// times are not trusted: a file rewritten within one clock tick keeps both.
//
// The decode of a file depends on nothing outside its bytes except its
// name and folder (part of the key) and its media files: those are looked
// at again on every Load, and a file whose media the disk now describes
// differently (size, kind, existence, a video's length) is decoded again.
// The time zone database is taken as fixed for the life of the process.
//
// A Load returns exactly what a fresh Load of the same paths returns,
// diagnostics included. The *Schedule and *Account values of unchanged
// files are shared between the Configs of successive loads, which also
// keeps the diff of a reload cheap; like every Config they are never
// written after they were first returned, so a Config stays safe to read
// while the next Load runs.
//
// With LoadOptions.Cache it also looks there for files it holds no decode
// of (a new Loader's first Load, after a restart) and stores there what it
// decodes, so a new process parses only files it has not seen.
//
// The Loader drops the decode of every file a Load did not find. What it
// holds is one decode per file, which shares its values with the Config of
// the last Load; after a rejected Load, the files that changed hold the
// rejected decode beside the last good Config the caller keeps. Loads are
// serialised; the zero Loader uses the default LoadOptions.
type Loader struct {
	opts LoadOptions

	mu    sync.Mutex
	files map[fileRef]fileResult
	// decoded names the files the last Load decoded, for tests.
	decoded []string
	stats   LoadStats
}

// LoadStats says where a Load took each file's decode from.
type LoadStats struct {
	Files   int // the files found
	Decoded int // parsed and validated
	Reused  int // unchanged since the Loader's previous Load
	Cached  int // taken from LoadOptions.Cache
}

// LastStats describes the Loader's last Load.
func (l *Loader) LastStats() LoadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// NewLoader returns a Loader that loads with opts.
func NewLoader(opts LoadOptions) *Loader { return &Loader{opts: opts} }

// Load is the package's Load of paths with the Loader's options, reusing
// the decode of every file whose bytes and media did not change since the
// Loader's previous Load.
func (l *Loader) Load(paths ...string) (*Config, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	opts := l.opts.withDefaults()
	if len(paths) == 0 {
		return nil, Diagnostics{{Message: "no schedules file or folder given"}}
	}
	files, diags := discover(paths)
	if len(files) == 0 && len(diags) == 0 {
		// An empty folder is almost always a mistake (a missing mount)
		// and applying it would stop every schedule, so it is an error.
		diags = append(diags, Diagnostic{File: strings.Join(paths, ", "), Message: "no *.yaml or *.yml files found"})
	}
	return l.load(opts, files, diags, paths[0], func(f fileRef) ([]byte, error) {
		return readFile(f.display, opts.MaxFileSize)
	})
}

// load decodes and validates files (read by read, in parallel) and merges
// them. Tests and the fuzzer give it files that are not on disk. The
// caller holds l.mu.
func (l *Loader) load(opts LoadOptions, files []fileRef, diags []Diagnostic, commitPath string, read func(fileRef) ([]byte, error)) (*Config, error) {
	results := make([]fileResult, len(files))
	env := loadEnv{opts: opts, zones: &zoneCache{}, specs: &specCache{}, media: &mediaCache{}}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Workers, max(len(files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := env
			env.renderer = &renderer{cache: make(map[string]cachedTemplate)}
			env.scratch = newScratch()
			for i := range next {
				data, err := read(files[i])
				if err != nil {
					results[i].diags = []Diagnostic{{File: files[i].display, Message: err.Error()}}
					continue
				}
				sum := sha256.Sum256(data)
				// l.files is only read while the workers run.
				if prev, ok := l.files[files[i]]; ok && prev.sum == sum && env.media.same(prev.media) {
					results[i] = prev
					results[i].reused = true
					continue
				}
				results[i] = env.decode(files[i], data, sum)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	l.keep(files, results)

	cfg := &Config{Accounts: make(map[string]*Account), Files: make([]string, len(files))}
	for i, f := range files {
		cfg.Files[i] = f.display
	}
	diags = append(diags, crossCheck(cfg, results)...)
	if len(diags) > 0 {
		return nil, sortDiagnostics(diags)
	}
	cfg.Revision = revision(files, results)
	if commitPath != "" {
		cfg.Commit = gitCommit(commitPath)
	}
	return cfg, nil
}

// decode decodes one file, or takes its decode from the options' cache
// when an entry for exactly these bytes is there and its media files look
// as they did; a new decode is offered to the cache.
func (env *loadEnv) decode(f fileRef, data []byte, sum [sha256.Size]byte) fileResult {
	c := env.opts.Cache
	if c == nil {
		return loadFile(env, f, data, sum)
	}
	key := cacheKey(f, sum, env.opts)
	if entry, ok := c.Get(key); ok {
		if r, err := decodeResult(env, f, sum, entry); err == nil && env.media.same(r.media) {
			r.cached = true
			return r
		}
	}
	r := loadFile(env, f, data, sum)
	if cacheable(&r) {
		c.Put(key, encodeResult(&r))
	}
	return r
}

// keep remembers the decode of every file read by this Load, and forgets
// every other file.
func (l *Loader) keep(files []fileRef, results []fileResult) {
	kept := make(map[fileRef]fileResult, len(files))
	l.decoded = l.decoded[:0]
	l.stats = LoadStats{Files: len(files)}
	for i, f := range files {
		r := results[i]
		if !r.read {
			continue
		}
		switch {
		case r.cached:
			l.stats.Cached++
		case r.reused:
			l.stats.Reused++
		default:
			l.stats.Decoded++
			l.decoded = append(l.decoded, f.display)
		}
		r.reused, r.cached = false, false
		kept[f] = r
	}
	l.files = kept
}

// same reports whether every media file in deps looks as it did.
func (c *mediaCache) same(deps []mediaDep) bool {
	for _, d := range deps {
		if c.probe(d.key) != d.probe {
			return false
		}
	}
	return true
}
