package schedules

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

// mapCache is a DecodeCache in memory, as the disk's would be across
// processes; it counts what it was asked.
type mapCache struct {
	mu         sync.Mutex
	m          map[string][]byte
	gets, puts int
}

func (c *mapCache) Get(key string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gets++
	b, ok := c.m[key]
	return slices.Clone(b), ok
}

func (c *mapCache) Put(key string, entry []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string][]byte)
	}
	c.puts++
	c.m[key] = slices.Clone(entry)
}

// richFiles set every field a schedule has, across the kinds, so that the
// round trip below covers each (TestDecodeCacheCoversEveryField keeps it
// so when fields are added).
var richFiles = map[string]string{
	"accounts.yaml": "accounts:\n  brand: {platform: x}\n",
	"rich.yaml": `schedules:
  - id: every-field
    account: brand
    timezone: Europe/Berlin
    cron: "0 9 * * 1-5"
    jitter: 5m
    catchup: 1h
    deadline: 2h
    max_attempts: 7
    enabled: false
    start: 2026-01-05T10:00:00
    end: 2027-06-30T00:00:00
    metrics: [1h, 24h]
    post:
      text: "Tip #{{ .Run }}"
      media: [{path: img.png, alt: "A chart"}, {path: img.png, alt: "The same chart"}]
      thread: ["second", "third"]
  - {id: clip, account: brand, cron: "@daily", post: {text: clip, media: [{path: sub/clip.mp4}]}}
  - {id: weekly, account: brand, rrule: "FREQ=WEEKLY;BYDAY=MO", start: 2026-01-05T10:00:00, deadline: none, post: {text: weekly}}
  - {id: once, account: brand, timezone: Asia/Kathmandu, at: 2027-01-01T09:00:00, post: {text: once}}
`,
}

func writeRich(t *testing.T) string {
	t.Helper()
	dir := writeFiles(t, richFiles)
	writeFile(t, dir, "img.png", make([]byte, 100))
	writeFile(t, dir, "sub/clip.mp4", videoFixture(10*time.Second))
	return dir
}

// TestDecodeCacheRoundTrip encodes the decode of every file of rich
// configurations and checks that decoding the entry gives the same
// result, compiled specs and locations included.
func TestDecodeCacheRoundTrip(t *testing.T) {
	trips := 0
	// testdata/multi fails its cross-file checks, but several of its files
	// decode cleanly on their own, and the Loader keeps those.
	for _, dir := range []string{writeRich(t), "testdata/good", "testdata/multi"} {
		l := NewLoader(LoadOptions{})
		_, _ = l.Load(dir)
		for f, want := range l.files {
			if !cacheable(&want) {
				continue
			}
			trips++
			env := &loadEnv{opts: LoadOptions{}.withDefaults(), zones: &zoneCache{}, specs: &specCache{}, media: &mediaCache{}}
			got, err := decodeResult(env, f, want.sum, encodeResult(&want))
			if err != nil {
				t.Fatalf("%s: %v", f.display, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: the decode read back differs:\n got %s\nwant %s", f.display, describeResult(got), describeResult(want))
			}
		}
	}
	if trips < 4 {
		t.Errorf("%d files went through the cache's encoding, want at least 4", trips)
	}
}

// TestDecodeCacheCoversEveryField fails when Schedule (or a type in it)
// gains a field that richFiles leave zero: that field may be missing from
// the cache's encoding too. Set it in richFiles, and encode it.
func TestDecodeCacheCoversEveryField(t *testing.T) {
	l := NewLoader(LoadOptions{})
	cfg, err := l.Load(writeRich(t))
	if err != nil {
		t.Fatal(err)
	}
	set := make(map[string]bool)
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type().PkgPath() != reflect.TypeFor[Schedule]().PkgPath() {
				set[prefix] = set[prefix] || !v.IsZero() // a type of another package is a value
				return
			}
			for i := range v.NumField() {
				walk(prefix+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case reflect.Slice:
			set[prefix] = set[prefix] || v.Len() > 0
			for i := range v.Len() {
				walk(prefix+"[]", v.Index(i))
			}
		default:
			set[prefix] = set[prefix] || !v.IsZero()
		}
	}
	for _, s := range cfg.Schedules {
		walk("Schedule", reflect.ValueOf(*s))
	}
	for _, name := range slices.Sorted(maps.Keys(set)) {
		if !set[name] {
			t.Errorf("%s is zero in every schedule of richFiles", name)
		}
	}
	if len(set) < 20 {
		t.Errorf("walked %d fields, want every field of Schedule: %v", len(set), set)
	}
}

// TestLoaderCache loads through a cache as successive processes would:
// each with a new Loader. A node started again on the same files takes
// every decode it can from the cache and returns exactly what a fresh
// Load returns; a changed file or media file, a damaged entry and another
// format are misses.
func TestLoaderCache(t *testing.T) {
	dir := writeRich(t)
	writeFile(t, dir, "b.yaml", []byte(loaderFiles["b.yaml"]))
	edit(t, dir, "accounts.yaml", "brand: {platform: x}", "brand: {platform: x}\n  other: {platform: x}")
	cache := &mapCache{}
	opts := LoadOptions{Cache: cache}
	start := func(name string, want LoadStats) {
		t.Helper()
		l := NewLoader(opts)
		got, err := l.Load(dir)
		fresh, freshErr := Load(LoadOptions{}, dir)
		if err != nil || freshErr != nil {
			t.Fatalf("%s: %v / %v", name, err, freshErr)
		}
		if !reflect.DeepEqual(got, fresh) {
			t.Fatalf("%s: the Load through the cache differs from a fresh Load:\n got %s\nwant %s", name, describeLoad(got, err), describeLoad(fresh, nil))
		}
		if len(got.Warnings) == 0 { // so that the comparison covers them
			t.Fatalf("%s: no warnings; richFiles' plain thread items should have some", name)
		}
		if st := l.LastStats(); st != want {
			t.Errorf("%s: %+v, want %+v", name, st, want)
		}
	}
	start("first start", LoadStats{Files: 3, Decoded: 3})
	if cache.puts != 2 {
		t.Errorf("first start stored %d entries, want 2 (the accounts file is never stored)", cache.puts)
	}
	start("restart", LoadStats{Files: 3, Decoded: 1, Cached: 2})

	edit(t, dir, "b.yaml", "b one", "b uno")
	start("a file edited", LoadStats{Files: 3, Decoded: 2, Cached: 1})
	writeFile(t, dir, "sub/clip.mp4", videoFixture(20*time.Second))
	start("a video of another length", LoadStats{Files: 3, Decoded: 2, Cached: 1})
	start("and again", LoadStats{Files: 3, Decoded: 1, Cached: 2})

	for k, v := range cache.m {
		cache.m[k] = v[:len(v)-3] // torn
	}
	start("torn entries", LoadStats{Files: 3, Decoded: 3})
	for k, v := range cache.m {
		v[0] ^= 1 // another format
		cache.m[k] = v
	}
	start("entries of another format", LoadStats{Files: 3, Decoded: 3})
	start("mended", LoadStats{Files: 3, Decoded: 1, Cached: 2})
}

// TestDecodeCacheRefusesOlderFormats: an entry of an older format is a
// miss, never read with today's meaning. v2 stored a deadline left out as
// 0, which now means `deadline: none`; v1 had no warnings.
func TestDecodeCacheRefusesOlderFormats(t *testing.T) {
	l := NewLoader(LoadOptions{})
	if _, err := l.Load(writeRich(t)); err != nil {
		t.Fatal(err)
	}
	for f, r := range l.files {
		if !cacheable(&r) {
			continue
		}
		entry := encodeResult(&r)
		env := &loadEnv{opts: LoadOptions{}.withDefaults(), zones: &zoneCache{}, specs: &specCache{}, media: &mediaCache{}}
		if _, err := decodeResult(env, f, r.sum, entry); err != nil {
			t.Fatalf("%s: %v", f.rel, err)
		}
		if oldCacheKey(f, r.sum, cacheFormat) != cacheKey(f, r.sum, LoadOptions{}.withDefaults()) {
			t.Fatal("oldCacheKey does not compute keys as cacheKey does")
		}
		for _, old := range []string{"herald decode v1\n", "herald decode v2\n", "herald decode v3\n"} {
			aged := append([]byte(old), entry[len(cacheFormat):]...)
			if _, err := decodeResult(env, f, r.sum, aged); err == nil {
				t.Errorf("%s: an entry of format %q decoded", f.rel, old)
			}
			if k := cacheKey(f, r.sum, LoadOptions{}.withDefaults()); k == oldCacheKey(f, r.sum, old) {
				t.Errorf("%s: format %q has today's key", f.rel, old)
			}
		}
	}
	// The deadlines read back are today's: the default, none, and 2h.
	cfg, err := NewLoader(LoadOptions{Cache: &mapCache{}}).Load(writeRich(t))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]time.Duration{"every-field": 2 * time.Hour, "weekly": 0, "clip": DefaultDeadline} {
		if got := cfg.Schedule(id).Deadline; got != want {
			t.Errorf("%s: Deadline %v, want %v", id, got, want)
		}
	}
}

// oldCacheKey is cacheKey as a binary of another format computed it.
func oldCacheKey(f fileRef, sum [sha256.Size]byte, format string) string {
	h := sha256.New()
	var buf []byte
	for _, s := range [...]string{format, f.display, f.rel, f.absDir, f.root} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = append(buf, sum[:]...)
	buf = binary.AppendVarint(buf, LoadOptions{}.withDefaults().SampleFrom.UnixNano())
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// TestDecodeResultRejectsDamage decodes every prefix of an entry, and the
// entry with each byte changed: none may panic, a prefix must fail, and a
// change may only fail or give a result (a checksum is the disk cache's).
func TestDecodeResultRejectsDamage(t *testing.T) {
	l := NewLoader(LoadOptions{})
	if _, err := l.Load(writeRich(t)); err != nil {
		t.Fatal(err)
	}
	var f fileRef
	var r fileResult
	for k, v := range l.files {
		if k.rel == "rich.yaml" {
			f, r = k, v
		}
	}
	entry := encodeResult(&r)
	env := func() *loadEnv {
		return &loadEnv{opts: LoadOptions{}.withDefaults(), zones: &zoneCache{}, specs: &specCache{}, media: &mediaCache{}}
	}
	for n := range len(entry) {
		if _, err := decodeResult(env(), f, [sha256.Size]byte{}, entry[:n]); err == nil {
			t.Fatalf("a prefix of %d of %d bytes decoded", n, len(entry))
		}
	}
	for i := range entry {
		damaged := slices.Clone(entry)
		damaged[i] ^= 0x5a
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("byte %d changed: %v", i, p)
				}
			}()
			_, _ = decodeResult(env(), f, [sha256.Size]byte{}, damaged)
		}()
	}
}

func describeResult(r fileResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "media %+v, refs %+v, warnings %+v\n", r.media, r.refs, r.warnings)
	for _, s := range r.schedules {
		fmt.Fprintf(&b, "  %+v\n", *s)
	}
	return b.String()
}

// TestDecodeEntryKeepsNoSliceOfIt checks that no string of a decode read
// from the cache points into the entry: one would keep the whole entry
// (about 100 B per schedule) alive as long as the schedule.
func TestDecodeEntryKeepsNoSliceOfIt(t *testing.T) {
	l := NewLoader(LoadOptions{})
	if _, err := l.Load(writeRich(t)); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for f, r := range l.files {
		if !cacheable(&r) {
			continue
		}
		entry := string(encodeResult(&r))
		env := &loadEnv{opts: LoadOptions{}.withDefaults(), zones: &zoneCache{}, specs: &specCache{}, media: &mediaCache{}}
		got, err := decodeEntry(env, f, r.sum, entry)
		if err != nil {
			t.Fatal(err)
		}
		lo := uintptr(unsafe.Pointer(unsafe.StringData(entry)))
		hi := lo + uintptr(len(entry))
		var walk func(path string, v reflect.Value)
		walk = func(path string, v reflect.Value) {
			switch v.Kind() {
			case reflect.String:
				checked++
				if p := uintptr(unsafe.Pointer(unsafe.StringData(v.String()))); v.Len() > 0 && p >= lo && p < hi {
					t.Errorf("%s: %s = %q is a slice of the cache entry", f.rel, path, v.String())
				}
			case reflect.Struct:
				for i := range v.NumField() {
					walk(path+"."+v.Type().Field(i).Name, v.Field(i))
				}
			case reflect.Slice:
				for i := range v.Len() {
					walk(path+"[]", v.Index(i))
				}
			case reflect.Pointer:
				if !v.IsNil() && v.Elem().Kind() == reflect.Struct && v.Type().Elem().PkgPath() == reflect.TypeFor[Schedule]().PkgPath() {
					walk(path, v.Elem())
				}
			}
		}
		for i, s := range got.schedules {
			walk(fmt.Sprintf("schedules[%d]", i), reflect.ValueOf(*s))
		}
		for i, w := range got.warnings {
			walk(fmt.Sprintf("warnings[%d]", i), reflect.ValueOf(w))
		}
		for i, m := range got.media {
			walk(fmt.Sprintf("media[%d].path", i), reflect.ValueOf(m.key.path))
			walk(fmt.Sprintf("media[%d].err", i), reflect.ValueOf(m.probe.err))
		}
	}
	if checked < 30 {
		t.Errorf("checked %d strings, want every string of richFiles' schedules", checked)
	}
}
