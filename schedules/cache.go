package schedules

import (
	"fmt"
	"io/fs"
	"os"
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
	r := zoneResult{name: name}
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
	r.expr = k.expr
	r.err = guard(func() (err error) { r.spec, err = compile(); return })
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[specKey]specResult)
	}
	c.m[k] = r
	c.mu.Unlock()
	return r.expr, r.spec, r.err
}

// videoCache reads each video's duration once per Load: generated
// configurations attach one clip to many schedules. An entry is keyed by
// path, size and modification time, so a file replaced during the Load is
// read again.
type videoCache struct {
	mu sync.Mutex
	m  map[videoKey]videoResult
}

type videoKey struct {
	path  string
	size  int64
	mtime time.Time
}

type videoResult struct {
	d   time.Duration
	err error
}

// duration returns the length of the video at path, whose Stat is info.
func (c *videoCache) duration(path string, info fs.FileInfo) (time.Duration, error) {
	k := videoKey{path, info.Size(), info.ModTime()}
	c.mu.Lock()
	r, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return r.d, r.err
	}
	r.d, r.err = readVideoDuration(path, info.Size())
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[videoKey]videoResult)
	}
	c.m[k] = r
	c.mu.Unlock()
	return r.d, r.err
}

func readVideoDuration(path string, size int64) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, unwrapPathError(err)
	}
	defer f.Close()
	return mvhdDuration(f, size)
}
