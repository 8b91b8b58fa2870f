package schedules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/herald-social/herald/schedules/spec"
)

// zoneCache loads each time zone once per Load: time.LoadLocation reads
// the zone database every time, and equal zones should share memory.
type zoneCache struct {
	mu sync.Mutex
	m  map[string]zoneResult
}

type zoneResult struct {
	name string
	loc  *time.Location
	err  error
}

// load returns the zone called name, and the name as first seen, which
// schedules share instead of one copy each.
func (z *zoneCache) load(name string) (string, *time.Location, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if r, ok := z.m[name]; ok {
		return r.name, r.loc, r.err
	}
	// The cache outlives the string it was given (a slice of a decode
	// cache entry, say), so it keeps a copy of its own.
	r := zoneResult{name: strings.Clone(name)}
	switch {
	case name == "":
		r.err = fmt.Errorf("must not be empty (leave it out for UTC)")
	case name == "Local" || strings.EqualFold(name, "local"):
		r.err = fmt.Errorf("\"Local\" depends on the machine; name an IANA zone such as Europe/Berlin")
	case len(name) > 64:
		r.err = fmt.Errorf("unknown time zone %s", quoteShort(name))
	default:
		if r.loc, r.err = time.LoadLocation(name); r.err != nil {
			r.loc, r.err = nil, fmt.Errorf("unknown time zone %s (use an IANA name such as Europe/Berlin)", quoteShort(name))
		}
	}
	if z.m == nil {
		z.m = make(map[string]zoneResult)
	}
	z.m[name] = r
	return r.name, r.loc, r.err
}

// specCache shares compiled specs between schedules with the same timing
// (kind, expression, zone and window) within one Load. Specs are immutable,
// and generated configurations repeat a few timings many times, so this
// saves both the compile and the memory (an RRULE costs about 1 KB).
//
// It holds at most maxSpecCache timings: past that, new ones are compiled
// and not kept. Why: a plan of a million distinct timings shares nothing,
// and a map growing to a million keys cost about 4.5 of the 24 CPU-seconds
// of loading it (rehashing as it grew, and the collector scanning it).
type specCache struct {
	mu sync.Mutex
	m  map[specKey]specResult
}

type specKey struct {
	kind       Kind
	expr, zone string
	start, end spec.Civil
}

type specResult struct {
	expr string
	spec spec.Spec
	err  error
}

// get returns the spec for k, compiling it (outside the lock, so workers do
// not wait on each other) when it is not cached, and the expression string
// to keep. A panic in the compiler becomes an error, see guard.
func (c *specCache) get(k specKey, compile func() (spec.Spec, error)) (string, spec.Spec, error) {
	c.mu.Lock()
	r, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return r.expr, r.spec, r.err
	}
	r.expr = strings.Clone(k.expr) // as zoneCache's name
	r.err = guard(func() (err error) { r.spec, err = compile(); return })
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[specKey]specResult)
	}
	if len(c.m) < maxSpecCache {
		c.m[k] = r
	}
	c.mu.Unlock()
	return r.expr, r.spec, r.err
}

// maxSpecCache bounds specCache: far more distinct timings than
// generated plans use, and a map small enough to stay cheap.
const maxSpecCache = 1 << 16

// mediaCache looks at each media file once per Load: generated
// configurations attach one clip to many schedules, and a Loader checks
// again, on every Load, the media of each file whose decode it reuses.
// Keying by path alone makes one Load see each file in a single state
// even if it is replaced meanwhile.
type mediaCache struct {
	mu    sync.Mutex
	m     map[mediaKey]mediaProbe
	roots map[string]rootProbe // each root resolved once per Load
}

// rootProbe is a plan's root with its symbolic links resolved.
type rootProbe struct {
	real string
	err  error
}

// root resolves the plan's root once per Load.
func (c *mediaCache) root(root string) rootProbe {
	c.mu.Lock()
	r, ok := c.roots[root]
	c.mu.Unlock()
	if ok {
		return r
	}
	r.real, r.err = filepath.EvalSymlinks(root)
	c.mu.Lock()
	if c.roots == nil {
		c.roots = make(map[string]rootProbe)
	}
	c.roots[root] = r
	c.mu.Unlock()
	return r
}

// mediaKey is a media file's absolute path and whether it is a video (only
// a video's content is read).
type mediaKey struct {
	path  string
	root  string // the file's root (see fileRef): the media must stay under it
	video bool
}

// mediaProbe is everything validation learns of a media file from the
// disk: a file's decode depends on nothing else outside its bytes, so two
// equal probes mean an equal decode. It is comparable with ==.
type mediaProbe struct {
	notExist bool
	// outside is where the path leads, symbolic links resolved, when that
	// is not under the plan's root (see ResolveWithin).
	outside string
	err     string // a Stat error other than "does not exist"
	regular bool
	size    int64
	// dur and durErr are a video's length, read only when it is a regular
	// file within X's video size limit.
	dur    time.Duration
	durErr string
}

// probe returns what the disk says of the media file k.
func (c *mediaCache) probe(k mediaKey) mediaProbe {
	c.mu.Lock()
	r, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return r
	}
	r = probeMedia(k, c.root(k.root))
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[mediaKey]mediaProbe)
	}
	c.m[k] = r
	c.mu.Unlock()
	return r
}

func probeMedia(k mediaKey, root rootProbe) mediaProbe {
	if root.err != nil {
		// Never a file unchecked: the root vanished during the Load.
		return mediaProbe{err: "the plan's folder: " + unwrapPathError(root.err).Error()}
	}
	path := k.path
	real, err := resolveUnder(k.root, root.real, k.path)
	switch {
	case errors.Is(err, ErrOutsideRoot):
		return mediaProbe{outside: real}
	case err == nil:
		path = real // what was checked is what is read
	}
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return mediaProbe{notExist: true}
	case err != nil:
		return mediaProbe{err: unwrapPathError(err).Error()}
	case !info.Mode().IsRegular():
		return mediaProbe{}
	}
	r := mediaProbe{regular: true, size: info.Size()}
	if k.video && r.size <= mediaLimits[classVideo] {
		if r.dur, err = readVideoDuration(path, r.size); err != nil {
			r.durErr = err.Error()
		}
	}
	return r
}

func readVideoDuration(path string, size int64) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, unwrapPathError(err)
	}
	defer f.Close()
	return mvhdDuration(f, size)
}
