package schedules

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/herald-social/herald/schedules/spec"
)

// DecodeCache keeps the decode of schedule files between processes, so
// that a node restarted on files it has seen before does not parse their
// YAML again: for a million schedules the parse is most of a start-up
// (BENCHMARKS.md). The Loader gives it opaque entries under keys that
// name everything a decode depends on: the format below, the file's name,
// folder and bytes, and the options that change validation. The media
// files an entry depends on are looked at again on every use, as for the
// Loader's own memory. Only decodes without any problem and without
// accounts are stored: a file with errors is parsed again to report them,
// and accounts (a few per configuration, with references to secrets)
// never leave the process. Implementations must be safe for concurrent
// use; a Get that fails is a miss and a Put that fails is ignored, since
// the cache only ever saves time.
type DecodeCache interface {
	Get(key string) ([]byte, bool)
	Put(key string, entry []byte)
}

// cacheFormat names the encoding below. Change it whenever the encoding or
// what a decode produces changes: every entry of another format is then a
// miss. The binary's own identity (an implementation's salt) guards the
// rest. v2: the file's warnings. v3: a deadline left out is stored as its
// default, not as 0, which now means `deadline: none`. v4: media are confined
// to the plan's root (a media probe says where a path outside leads).
const cacheFormat = "herald decode v4\n"

// cacheKey names the decode of file f with content hash sum under opts.
func cacheKey(f fileRef, sum [sha256.Size]byte, opts LoadOptions) string {
	h := sha256.New()
	var buf []byte
	for _, s := range [...]string{cacheFormat, f.display, f.rel, f.absDir, f.root} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = append(buf, sum[:]...)
	buf = binary.AppendVarint(buf, opts.SampleFrom.UnixNano())
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))
}

// cacheable reports whether a decode may be stored (see DecodeCache). A
// decode with warnings may: they are stored with it.
func cacheable(r *fileResult) bool {
	return r.read && len(r.diags) == 0 && len(r.accounts) == 0
}

// encodeResult encodes the parts of a decode that cannot be recomputed
// cheaply. Each schedule's Location and Spec are not stored: they are
// compiled again from its Timezone, Kind, Expr and window, through the
// Load's caches (shared by all the schedules with the same timing), and
// Source.File is the file's name, as is each warning's File.
func encodeResult(r *fileResult) []byte {
	var e encoder
	e.buf = append(e.buf, cacheFormat...)
	e.uint(uint64(len(r.media)))
	for _, d := range r.media {
		e.str(d.key.path)
		e.bool(d.key.video)
		p := d.probe
		e.bool(p.notExist)
		e.str(p.outside)
		e.str(p.err)
		e.bool(p.regular)
		e.int(p.size)
		e.int(int64(p.dur))
		e.str(p.durErr)
	}
	// Warnings: the distinct messages (a generated file repeats a few in
	// many schedules), then each warning with the index of its message.
	var msgs []string
	index := make(map[string]int)
	for _, w := range r.warnings {
		if _, ok := index[w.Message]; !ok {
			index[w.Message] = len(msgs)
			msgs = append(msgs, w.Message)
		}
	}
	e.uint(uint64(len(msgs)))
	for _, m := range msgs {
		e.str(m)
	}
	e.uint(uint64(len(r.warnings)))
	for _, w := range r.warnings {
		e.int(int64(w.Line))
		e.int(int64(w.Col))
		e.str(w.Field)
		e.uint(uint64(index[w.Message]))
	}
	e.uint(uint64(len(r.schedules)))
	for i, s := range r.schedules {
		e.str(s.ID)
		e.str(s.Account)
		e.uint(uint64(s.Kind))
		e.str(s.Expr)
		e.str(s.Timezone)
		e.int(int64(s.Jitter))
		e.int(int64(s.Catchup))
		e.int(int64(s.Deadline))
		e.int(int64(s.MaxAttempts))
		e.bool(s.Enabled)
		e.civil(s.Start)
		e.civil(s.End)
		e.str(s.Post.Text)
		e.uint(uint64(len(s.Post.Media)))
		for _, m := range s.Post.Media {
			e.str(m.Path)
			e.str(m.Alt)
		}
		e.uint(uint64(len(s.Post.Thread)))
		for _, t := range s.Post.Thread {
			e.str(t)
		}
		e.uint(uint64(len(s.Metrics)))
		for _, m := range s.Metrics {
			e.int(int64(m))
		}
		e.int(int64(s.Source.Line))
		e.int(int64(s.Source.Col))
		e.str(s.Hash)
		ref := r.refs[i]
		for _, v := range [...]int{ref.item, ref.idLine, ref.idCol, ref.accountLine, ref.accountCol} {
			e.int(int64(v))
		}
	}
	return e.buf
}

// errBadEntry is a cache entry that does not decode: a miss.
var errBadEntry = errors.New("schedules: malformed decode cache entry")

// decodeResult rebuilds the decode of file f (content hash sum) from an
// entry of encodeResult. The strings a schedule keeps are copied out of
// the entry (the zone and expression come from the Load's caches, which
// keep copies; crossCheck then shares the account's), so the entry is
// garbage once decoded and a
// restarted node is the size of one that parsed its files: slices of the
// entry would keep all of it, about 100 B per schedule more. It fails when
// the entry is malformed or a timing no longer compiles, and the caller
// parses the file instead.
func decodeResult(env *loadEnv, f fileRef, sum [sha256.Size]byte, entry []byte) (fileResult, error) {
	return decodeEntry(env, f, sum, string(entry))
}

// decodeEntry is decodeResult on the entry as a string, whose memory no
// string of the result shares.
func decodeEntry(env *loadEnv, f fileRef, sum [sha256.Size]byte, entry string) (res fileResult, err error) {
	d := decoder{s: entry}
	if len(d.s) < len(cacheFormat) || d.s[:len(cacheFormat)] != cacheFormat {
		return res, errBadEntry
	}
	d.s = d.s[len(cacheFormat):]
	res = fileResult{sum: sum, read: true}
	if n := d.count(); n > 0 {
		res.media = make([]mediaDep, n)
		for i := range res.media {
			m := &res.media[i]
			m.key.path, m.key.root, m.key.video = d.keep(), f.root, d.bool()
			m.probe.notExist, m.probe.outside = d.bool(), d.keep()
			m.probe.err, m.probe.regular = d.keep(), d.bool()
			m.probe.size, m.probe.dur, m.probe.durErr = d.int(), time.Duration(d.int()), d.keep()
		}
	}
	var msgs []string // shared by the warnings, as the walker's are
	if n := d.count(); n > 0 {
		msgs = make([]string, n)
		for i := range msgs {
			msgs[i] = d.keep()
		}
	}
	if n := d.count(); n > 0 {
		res.warnings = make([]Diagnostic, n)
		for i := range res.warnings {
			w := &res.warnings[i]
			*w = Diagnostic{File: f.display, Line: int(d.int()), Col: int(d.int()), Field: d.keep(), Warning: true}
			if m := d.uint(); m < uint64(len(msgs)) {
				w.Message = msgs[m]
			} else {
				d.fail()
			}
		}
	}
	n := d.count()
	slab := make([]Schedule, n) // one allocation for the file's schedules
	res.schedules = make([]*Schedule, n)
	res.refs = make([]scheduleRefs, n)
	for i := range slab {
		s := &slab[i]
		s.ID, s.Account, s.Kind, s.Expr, s.Timezone = d.keep(), d.keep(), Kind(d.uint()), d.str(), d.str()
		s.Jitter, s.Catchup, s.Deadline = time.Duration(d.int()), time.Duration(d.int()), time.Duration(d.int())
		s.MaxAttempts, s.Enabled = int(d.int()), d.bool()
		s.Start, s.End = d.civil(), d.civil()
		s.Post.Text = d.keep()
		if n := d.count(); n > 0 {
			s.Post.Media = make([]Media, n)
			for j := range s.Post.Media {
				s.Post.Media[j] = Media{Path: d.keep(), Alt: d.keep(), Root: f.root}
			}
		}
		if n := d.count(); n > 0 {
			s.Post.Thread = make([]string, n)
			for j := range s.Post.Thread {
				s.Post.Thread[j] = d.keep()
			}
		}
		if n := d.count(); n > 0 {
			s.Metrics = make([]time.Duration, n)
			for j := range s.Metrics {
				s.Metrics[j] = time.Duration(d.int())
			}
		}
		s.Source = Pos{File: f.display, Line: int(d.int()), Col: int(d.int())}
		s.Hash = d.keep()
		r := &res.refs[i]
		r.item, r.idLine, r.idCol, r.accountLine, r.accountCol = int(d.int()), int(d.int()), int(d.int()), int(d.int()), int(d.int())
		if d.err != nil {
			return fileResult{}, d.err
		}
		if err := env.compileCached(s); err != nil {
			return fileResult{}, err
		}
		res.schedules[i] = s
	}
	if d.err == nil && d.s != "" {
		d.err = errBadEntry
	}
	if d.err != nil {
		return fileResult{}, d.err
	}
	return res, nil
}

// compileCached sets the Location and Spec of a schedule read from the
// cache, as its decode did: through the Load's zone and spec caches, so a
// timing shared by many schedules is compiled once and its strings are
// shared.
func (env *loadEnv) compileCached(s *Schedule) error {
	var err error
	if s.Timezone, s.Location, err = env.zones.load(s.Timezone); err != nil {
		return err
	}
	win := spec.Window{Start: s.Start, End: s.End}
	switch s.Kind {
	case KindCron:
		s.Expr, s.Spec, err = env.specs.get(specKey{KindCron, s.Expr, s.Timezone, s.Start, s.End}, func() (spec.Spec, error) {
			return spec.Cron(s.Expr, s.Location, win)
		})
	case KindRRule:
		s.Expr, s.Spec, err = env.specs.get(specKey{KindRRule, s.Expr, s.Timezone, s.Start, s.End}, func() (spec.Spec, error) {
			return spec.RRule(s.Expr, s.Start, s.Location, win)
		})
	case KindAt:
		var t time.Time
		s.Expr = strings.Clone(s.Expr) // an instant is not shared: the schedule keeps it
		if t, err = spec.ParseAt(s.Expr, s.Location); err == nil {
			s.Spec = spec.At(t)
		}
	default:
		err = errBadEntry
	}
	return err
}

// encoder appends varints and length-prefixed strings: the cache's
// entries and the schedule hash (hash.go) are written with it.
type encoder struct{ buf []byte }

func (e *encoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }
func (e *encoder) int(v int64)   { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) str(s string)  { e.uint(uint64(len(s))); e.buf = append(e.buf, s...) }
func (e *encoder) bool(b bool) {
	if b {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}
func (e *encoder) civil(c spec.Civil) {
	for _, v := range [...]int{c.Year, int(c.Month), c.Day, c.Hour, c.Minute, c.Second} {
		e.int(int64(v))
	}
}

// decoder reads what encoder wrote from a string; str returns slices of
// it, keep copies. The first error sticks and every
// later read returns zero.
type decoder struct {
	s   string
	err error
}

func (d *decoder) fail() { d.err, d.s = errBadEntry, "" }

func (d *decoder) uint() uint64 {
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		if d.s == "" {
			break
		}
		b := d.s[0]
		d.s = d.s[1:]
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	d.fail()
	return 0
}

func (d *decoder) int() int64 {
	u := d.uint()
	return int64(u>>1) ^ -int64(u&1) // zig-zag, as binary.AppendVarint
}

// count reads a length and checks it against what is left (each element
// takes at least one byte), so a corrupt entry cannot ask for a huge slice.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.s)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	n := d.count()
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

// keep is str for a string the result keeps: a copy, not a slice of the
// entry.
func (d *decoder) keep() string { return strings.Clone(d.str()) }

func (d *decoder) bool() bool {
	switch d.uint() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *decoder) civil() spec.Civil {
	return spec.Civil{Year: int(d.int()), Month: time.Month(d.int()), Day: int(d.int()),
		Hour: int(d.int()), Minute: int(d.int()), Second: int(d.int())}
}
