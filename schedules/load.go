package schedules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/herald-social/herald/schedules/internal/yamlfast"
)

// DefaultMaxFileSize bounds one file unless LoadOptions say otherwise. A
// yaml.Node costs about 170 bytes, so a file of tiny nodes ("[1,1,1,...")
// needs up to 40 times its size in memory while it is decoded; 8 MiB is
// about 30,000 schedules per file.
const DefaultMaxFileSize = 8 << 20

// LoadOptions tune Load; the zero value is what `herald serve` and `herald
// validate` use.
type LoadOptions struct {
	// Workers is how many files are decoded at once; 0 means GOMAXPROCS.
	Workers int
	// MaxFileSize bounds each file, in bytes; 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// SampleFrom is the reference instant of the sample run that checks
	// each post template: a schedule renders for its first fire after its
	// start, or after SampleFrom. Zero means 2026-01-01T00:00:00Z.
	SampleFrom time.Time
	// Cache, when set, keeps decodes between processes (see DecodeCache):
	// `herald serve` sets it, `herald validate` does not.
	Cache DecodeCache
}

func (o LoadOptions) withDefaults() LoadOptions {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.SampleFrom.IsZero() {
		o.SampleFrom = defaultSampleFrom
	}
	return o
}

// fileRef is one file to load.
type fileRef struct {
	display string // as reached from the path given: schedules/a/b.yaml
	rel     string // relative to the folder given, slash-separated: a/b.yaml
	absDir  string // absolute folder of the file, for media paths
	// root is the absolute path given to Load that led to the file (the
	// file's own folder when a file was given): its media must stay under
	// it, symbolic links resolved.
	root string
}

// fileResult is what one worker makes of one file: the decode of its bytes,
// before cross-file checks. A Loader keeps it for the next Load.
type fileResult struct {
	sum       [sha256.Size]byte
	accounts  []*Account
	schedules []*Schedule
	refs      []scheduleRefs
	diags     []Diagnostic
	warnings  []Diagnostic // see Config.Warnings
	media     []mediaDep   // the media files the decode looked at
	read      bool         // the file was read, so the result may be kept
	reused    bool         // taken from the Loader by this Load, see crossCheck
	cached    bool         // taken from LoadOptions.Cache by this Load
}

// loadEnv is shared by the walkers of one Load; renderer and scratch are
// per worker.
type loadEnv struct {
	opts     LoadOptions
	zones    *zoneCache
	specs    *specCache
	media    *mediaCache
	renderer *renderer
	scratch  *scratch
}

// Load reads every *.yaml and *.yml file under paths (files, or folders
// searched recursively, skipping hidden files and folders such as .git and
// Kubernetes' ..data), validates all of them together, and returns the
// Config, or a Diagnostics error listing every problem. I/O problems are
// diagnostics too. Files are decoded in parallel; the result does not
// depend on the order workers finish in. It is a new Loader's first Load:
// a process that loads the same paths again (on every edit) keeps a Loader.
func Load(opts LoadOptions, paths ...string) (*Config, error) {
	return NewLoader(opts).Load(paths...)
}

// revision hashes the sorted (relative path, content hash) pairs.
func revision(files []fileRef, results []fileResult) string {
	order := make([]int, len(files))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(files[a].rel, files[b].rel); c != 0 {
			return c
		}
		return strings.Compare(files[a].display, files[b].display)
	})
	h := sha256.New()
	for _, i := range order {
		fmt.Fprintf(h, "%d:%s", len(files[i].rel), files[i].rel)
		h.Write(results[i].sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// loadFile decodes and validates one file, whose bytes hash to sum.
func loadFile(env *loadEnv, f fileRef, data []byte, sum [sha256.Size]byte) fileResult {
	res := fileResult{sum: sum, read: true}
	env.scratch.reset()
	w := &walker{file: f.display, env: env, fc: f}
	var fd fileDraft
	decodeAll(w, data, &fd)
	if !w.fatal {
		res.accounts = fd.accounts
		res.schedules = make([]*Schedule, 0, len(fd.schedules))
		res.refs = make([]scheduleRefs, 0, len(fd.schedules))
		for _, d := range fd.schedules {
			s, refs := w.validate(d)
			refs.item = d.i
			res.schedules = append(res.schedules, s)
			res.refs = append(res.refs, refs)
		}
	}
	if w.dropped > 0 {
		w.diags = append(w.diags, Diagnostic{File: f.display,
			Message: fmt.Sprintf("%d more problems in this file are not shown (the first %d are)", w.dropped, maxFileDiagnostics)})
	}
	if w.warnsDropped > 0 {
		w.warns = append(w.warns, Diagnostic{File: f.display, Warning: true,
			Message: fmt.Sprintf("%d more warnings in this file are not shown (the first %d are)", w.warnsDropped, maxFileDiagnostics)})
	}
	res.diags = w.diags
	res.warnings = w.warns
	res.media = w.mediaDeps
	return res
}

// decodeAll parses every YAML document in data and walks it. yamlfast
// reads most files, many times faster; yaml.v3 reads the rest, and words
// every syntax error.
func decodeAll(w *walker, data []byte, fd *fileDraft) {
	if doc, ok := yamlfast.Parse(data, w.env.scratch); ok {
		if w.prepare(doc) {
			w.document(doc, fd)
		} else {
			w.fatal = true
		}
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for !w.fatal {
		var doc yaml.Node
		err := decodeDoc(dec, &doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			w.fatal = true
			w.diags = append(w.diags, yamlDiagnostic(w.file, data, err))
			return
		}
		if w.prepare(&doc) {
			w.document(&doc, fd)
		} else {
			w.fatal = true
		}
	}
}

// decodeDoc decodes the next document. A panic in the YAML parser on
// hostile input becomes an error, not a crash of the service.
func decodeDoc(dec *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	return dec.Decode(doc)
}

// readFile reads a file of at most max bytes.
func readFile(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, unwrapPathError(err)
	}
	defer f.Close()
	var size int64
	if info, err := f.Stat(); err == nil {
		if size = info.Size(); size > max {
			return nil, fmt.Errorf("the file is %d bytes, over the limit of %d", size, max)
		}
	}
	// Read into a buffer of the size stat gave (plus room to see EOF)
	// rather than letting io.ReadAll double its way up; the file may still
	// change size meanwhile, which the limit reader bounds.
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, max+1)); err != nil {
		return nil, unwrapPathError(err)
	}
	data := buf.Bytes()
	if int64(len(data)) > max {
		return nil, fmt.Errorf("the file is over the limit of %d bytes", max)
	}
	return data, nil
}
