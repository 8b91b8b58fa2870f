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
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
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
}

// fileResult is what one worker makes of one file.
type fileResult struct {
	sum       [sha256.Size]byte
	accounts  []*Account
	schedules []*Schedule
	refs      []scheduleRefs
	diags     []Diagnostic
}

// loadEnv is shared by the walkers of one Load; renderer is per worker.
type loadEnv struct {
	opts     LoadOptions
	zones    *zoneCache
	specs    *specCache
	videos   *videoCache
	renderer *renderer
}

// Load reads every *.yaml and *.yml file under paths (files, or folders
// searched recursively, skipping hidden files and folders such as .git and
// Kubernetes' ..data), validates all of them together, and returns the
// Config, or a Diagnostics error listing every problem. I/O problems are
// diagnostics too. Files are decoded in parallel; the result does not
// depend on the order workers finish in.
func Load(opts LoadOptions, paths ...string) (*Config, error) {
	opts = opts.withDefaults()
	if len(paths) == 0 {
		return nil, Diagnostics{{Message: "no schedules file or folder given"}}
	}
	files, diags := discover(paths)
	if len(files) == 0 && len(diags) == 0 {
		// An empty folder is almost always a mistake (a missing mount)
		// and applying it would stop every schedule, so it is an error.
		diags = append(diags, Diagnostic{File: strings.Join(paths, ", "), Message: "no *.yaml or *.yml files found"})
	}

	return load(opts, files, diags, paths[0], func(f fileRef) ([]byte, error) {
		return readFile(f.display, opts.MaxFileSize)
	})
}

// load decodes and validates files (read by read, in parallel) and merges
// them. Tests and the fuzzer give it files that are not on disk.
func load(opts LoadOptions, files []fileRef, diags []Diagnostic, commitPath string, read func(fileRef) ([]byte, error)) (*Config, error) {
	results := make([]fileResult, len(files))
	env := loadEnv{opts: opts, zones: &zoneCache{}, specs: &specCache{}, videos: &videoCache{}}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Workers, max(len(files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			env := env
			env.renderer = &renderer{cache: make(map[string]cachedTemplate)}
			for i := range next {
				data, err := read(files[i])
				if err != nil {
					results[i].diags = []Diagnostic{{File: files[i].display, Message: err.Error()}}
					continue
				}
				results[i] = loadFile(&env, files[i], data)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

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

// loadFile decodes and validates one file.
func loadFile(env *loadEnv, f fileRef, data []byte) fileResult {
	var res fileResult
	res.sum = sha256.Sum256(data)
	w := &walker{file: f.display, env: env, fc: f}
	var fd fileDraft
	decodeAll(w, data, &fd)
	if !w.fatal {
		res.accounts = fd.accounts
		res.schedules = make([]*Schedule, 0, len(fd.schedules))
		res.refs = make([]scheduleRefs, 0, len(fd.schedules))
		for _, d := range fd.schedules {
			s, refs := w.validate(d)
			refs.item = d.p.item
			res.schedules = append(res.schedules, s)
			res.refs = append(res.refs, refs)
		}
	}
	if w.dropped > 0 {
		w.diags = append(w.diags, Diagnostic{File: f.display,
			Message: fmt.Sprintf("%d more problems in this file are not shown (the first %d are)", w.dropped, maxFileDiagnostics)})
	}
	res.diags = w.diags
	return res
}

// decodeAll parses every YAML document in data and walks it.
func decodeAll(w *walker, data []byte, fd *fileDraft) {
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
