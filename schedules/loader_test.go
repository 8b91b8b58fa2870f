package schedules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// loaderFiles is the folder TestLoaderMatchesLoad starts from: accounts in
// one file, schedules in others that use them, an image and a video.
var loaderFiles = map[string]string{
	"accounts.yaml": "accounts:\n  brand: {platform: x}\n  other: {platform: x}\n",
	"a.yaml": `schedules:
  - {id: a1, account: brand, cron: "0 9 * * *", post: {text: "tip {{ .Run }}"}}
  - {id: a2, account: brand, rrule: "FREQ=WEEKLY;BYDAY=MO", start: 2026-01-05T10:00:00, post: {text: weekly}}
  - {id: a3, account: brand, at: 2027-01-01T00:00:00Z, post: {text: pic, media: [{path: img.png, alt: a picture}]}}
`,
	"b.yaml": `schedules:
  - {id: b1, account: other, cron: "0 10 * * *", post: {text: b one}}
  - {id: b2, account: other, cron: "0 11 * * *", post: {text: b two}}
`,
	"sub/c.yaml": `schedules:
  - {id: c1, account: brand, cron: "0 12 * * *", post: {text: clip, media: [{path: clip.mp4}]}}
`,
}

func writeFile(t *testing.T, dir, name string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// edit rewrites name with old replaced by new, failing when old is absent.
func edit(t *testing.T, dir, name, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	writeFile(t, dir, name, []byte(strings.Replace(string(b), old, new, 1)))
}

func rename(t *testing.T, dir, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, filepath.FromSlash(name))); err != nil {
		t.Fatal(err)
	}
}

// TestLoaderMatchesLoad edits a folder step by step and checks after each
// step that a Loader kept across all of them returns exactly what a fresh
// Load returns (Config or Diagnostics), and that it decoded only the files
// whose bytes or media changed.
func TestLoaderMatchesLoad(t *testing.T) {
	dir := t.TempDir()
	for name, content := range loaderFiles {
		writeFile(t, dir, name, []byte(content))
	}
	writeFile(t, dir, "img.png", make([]byte, 100))
	writeFile(t, dir, "sub/clip.mp4", videoFixture(10*time.Second))
	all := []string{"a.yaml", "accounts.yaml", "b.yaml", "sub/c.yaml"}

	opts := LoadOptions{Workers: 2, MaxFileSize: 4 << 10}
	l := NewLoader(opts)
	// A process started after each step: a new Loader whose decode cache
	// every earlier step's restart filled.
	cached := opts
	cached.Cache = &mapCache{}
	for _, step := range []struct {
		name    string
		edit    func(t *testing.T)
		decoded []string // relative to dir, sorted
		wantErr string   // in the Diagnostics, or "" for a Config
	}{
		{"first load", func(*testing.T) {}, all, ""},
		{"nothing changed", func(*testing.T) {}, nil, ""},
		{"same bytes, new modification time", func(t *testing.T) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(dir, "b.yaml"), later, later); err != nil {
				t.Fatal(err)
			}
		}, nil, ""},
		{"one schedule changed", func(t *testing.T) { edit(t, dir, "a.yaml", `cron: "0 9 * * *"`, `cron: "30 9 * * *"`) },
			[]string{"a.yaml"}, ""},
		{"a file added", func(t *testing.T) {
			writeFile(t, dir, "d.yaml", []byte("schedules:\n  - {id: d1, account: other, cron: \"@daily\", post: {text: d}}\n"))
		}, []string{"d.yaml"}, ""},
		{"a file removed", func(t *testing.T) { remove(t, dir, "d.yaml") }, nil, ""},
		{"a file renamed", func(t *testing.T) { rename(t, dir, "b.yaml", "b2.yaml") }, []string{"b2.yaml"}, ""},
		{"a file's YAML broken", func(t *testing.T) { edit(t, dir, "a.yaml", "  - {id: a2", "  - {id: a2\n  bad: [") },
			[]string{"a.yaml"}, "a.yaml:"},
		{"and fixed", func(t *testing.T) { edit(t, dir, "a.yaml", "\n  bad: [", "") }, []string{"a.yaml"}, ""},
		{"a schedule invalid", func(t *testing.T) { edit(t, dir, "b2.yaml", "b one}", "b one}, colour: red") },
			[]string{"b2.yaml"}, `unknown field "colour"`},
		{"and valid again", func(t *testing.T) { edit(t, dir, "b2.yaml", ", colour: red", "") }, []string{"b2.yaml"}, ""},
		{"an account another file uses renamed", func(t *testing.T) { edit(t, dir, "accounts.yaml", "other:", "another:") },
			[]string{"accounts.yaml"}, `b2.yaml:2:23: account: unknown account "other" (did you mean "another"?)`},
		{"and back", func(t *testing.T) { edit(t, dir, "accounts.yaml", "another:", "other:") }, []string{"accounts.yaml"}, ""},
		{"a schedule moved between files", func(t *testing.T) {
			edit(t, dir, "a.yaml", "  - {id: a2, account: brand, rrule: \"FREQ=WEEKLY;BYDAY=MO\", start: 2026-01-05T10:00:00, post: {text: weekly}}\n", "")
			edit(t, dir, "sub/c.yaml", "schedules:\n", "schedules:\n  - {id: a2, account: brand, rrule: \"FREQ=WEEKLY;BYDAY=MO\", start: 2026-01-05T10:00:00, post: {text: weekly}}\n")
		}, []string{"a.yaml", "sub/c.yaml"}, ""},
		{"an id taken by another file", func(t *testing.T) {
			writeFile(t, dir, "d.yaml", []byte("schedules:\n  - {id: b1, account: other, cron: \"@daily\", post: {text: d}}\n"))
		}, []string{"d.yaml"}, `duplicate schedule id "b1"`},
		{"and freed", func(t *testing.T) { remove(t, dir, "b2.yaml") }, nil, ""},
		{"an image grows", func(t *testing.T) { writeFile(t, dir, "img.png", make([]byte, 200)) }, []string{"a.yaml"}, ""},
		{"an image over the limit", func(t *testing.T) {
			if err := os.Truncate(filepath.Join(dir, "img.png"), 5<<20+1); err != nil {
				t.Fatal(err)
			}
		}, []string{"a.yaml"}, "over X's limit of 5 MB"},
		{"an image deleted", func(t *testing.T) { remove(t, dir, "img.png") }, []string{"a.yaml"}, "img.png: no such file"},
		{"an image that is a folder", func(t *testing.T) {
			if err := os.Mkdir(filepath.Join(dir, "img.png"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"a.yaml"}, "img.png: not a regular file"},
		{"an image back", func(t *testing.T) {
			remove(t, dir, "img.png")
			writeFile(t, dir, "img.png", make([]byte, 100))
		}, []string{"a.yaml"}, ""},
		{"a video of another length, same size", func(t *testing.T) {
			writeFile(t, dir, "sub/clip.mp4", videoFixture(200*time.Second))
		}, []string{"sub/c.yaml"}, "clip.mp4 is 200 s long"},
		{"a video that is not one", func(t *testing.T) { writeFile(t, dir, "sub/clip.mp4", []byte("not a video\n")) },
			[]string{"sub/c.yaml"}, "cannot read the video's duration"},
		{"a video fixed", func(t *testing.T) { writeFile(t, dir, "sub/clip.mp4", videoFixture(20*time.Second)) },
			[]string{"sub/c.yaml"}, ""},
		{"a file over the size limit", func(t *testing.T) {
			edit(t, dir, "d.yaml", "post: {text: d}}", "post: {text: d}}\n# "+strings.Repeat("x", 5<<10))
		}, nil, "d.yaml: the file is"},
		{"and under it", func(t *testing.T) { edit(t, dir, "d.yaml", "# "+strings.Repeat("x", 5<<10), "") },
			[]string{"d.yaml"}, ""},
		{"the accounts file removed", func(t *testing.T) { remove(t, dir, "accounts.yaml") }, nil,
			`unknown account "brand" (no file defines any account)`},
		{"every file removed", func(t *testing.T) {
			for _, name := range []string{"a.yaml", "d.yaml", "sub/c.yaml"} {
				remove(t, dir, name)
			}
		}, nil, "no *.yaml or *.yml files found"},
		{"every file back", func(t *testing.T) {
			for name, content := range loaderFiles {
				writeFile(t, dir, name, []byte(content))
			}
		}, all, ""},
	} {
		step.edit(t)
		got, gotErr := l.Load(dir)
		want, wantErr := Load(opts, dir)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("%s: the Loader differs from Load:\n got %s\nwant %s", step.name, describeLoad(got, gotErr), describeLoad(want, wantErr))
		}
		restarted, restartedErr := NewLoader(cached).Load(dir)
		if !reflect.DeepEqual(restarted, want) || !reflect.DeepEqual(restartedErr, wantErr) {
			t.Fatalf("%s: a new Loader through the decode cache differs from Load:\n got %s\nwant %s", step.name, describeLoad(restarted, restartedErr), describeLoad(want, wantErr))
		}
		switch {
		case step.wantErr == "" && wantErr != nil:
			t.Fatalf("%s: %v", step.name, wantErr)
		case step.wantErr != "" && (wantErr == nil || !strings.Contains(wantErr.Error(), step.wantErr)):
			t.Fatalf("%s: error %v, want one containing %q", step.name, wantErr, step.wantErr)
		}
		var decoded []string
		for _, name := range l.decoded {
			rel, _ := filepath.Rel(dir, name)
			decoded = append(decoded, filepath.ToSlash(rel))
		}
		slices.Sort(decoded)
		if !slices.Equal(decoded, step.decoded) {
			t.Errorf("%s: decoded %q, want %q", step.name, decoded, step.decoded)
		}
		kept := slices.Sorted(func(yield func(string) bool) {
			for f := range l.files {
				if !yield(f.rel) {
					return
				}
			}
		})
		if wantKept := readable(t, dir, opts); !slices.Equal(kept, wantKept) {
			t.Errorf("%s: the Loader keeps %q, want %q", step.name, kept, wantKept)
		}
	}
}

// readable lists the YAML files under dir that Load can read.
func readable(t *testing.T, dir string, opts LoadOptions) []string {
	t.Helper()
	files, _ := discover([]string{dir})
	var out []string
	for _, f := range files {
		if _, err := readFile(f.display, opts.MaxFileSize); err == nil {
			out = append(out, f.rel)
		}
	}
	slices.Sort(out)
	return out
}

func describeLoad(cfg *Config, err error) string {
	if err != nil {
		return fmt.Sprintf("error %q", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "revision %s, files %v, accounts %d\n", cfg.Revision, cfg.Files, len(cfg.Accounts))
	for _, s := range cfg.Schedules {
		fmt.Fprintf(&b, "  %+v\n", *s)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(&b, "  %s\n", w)
	}
	return b.String()
}

// TestLoaderReusesSchedules checks that an unchanged file's schedules are
// the very values of the previous Config (what keeps a reload's diff and
// memory small) and a changed file's are new.
func TestLoaderReusesSchedules(t *testing.T) {
	dir := writeFiles(t, loaderFiles)
	writeFile(t, dir, "img.png", make([]byte, 100))
	writeFile(t, dir, "sub/clip.mp4", videoFixture(10*time.Second))
	var l Loader // the zero Loader loads with the default options
	first, err := l.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(t, dir, "a.yaml", "text: weekly", "text: every week")
	second, err := l.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a1", "a2", "b1", "c1"} {
		same := first.Schedule(id) == second.Schedule(id)
		if wantSame := id[0] != 'a'; same != wantSame {
			t.Errorf("schedule %s: reused %v, want %v", id, same, wantSame)
		}
	}
	if first.Schedule("a2").Hash == second.Schedule("a2").Hash {
		t.Errorf("a2's hash did not change with its text")
	}
	if first.Accounts["other"] != second.Accounts["other"] {
		t.Errorf("the unchanged accounts file's accounts are not reused")
	}
}

// TestLoaderLeavesConfigsAlone reads a Config while the same Loader loads
// edits that reuse its schedules (the race detector catches a write), and
// checks that the Config still equals a fresh Load of the files it came
// from.
func TestLoaderLeavesConfigsAlone(t *testing.T) {
	dir := writeFiles(t, loaderFiles)
	writeFile(t, dir, "img.png", make([]byte, 100))
	writeFile(t, dir, "sub/clip.mp4", videoFixture(10*time.Second))
	l := NewLoader(LoadOptions{})
	cfg, err := l.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Load(LoadOptions{}, dir)
	if err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, s := range cfg.Schedules {
				_ = describeLoad(&Config{Schedules: []*Schedule{s}}, nil)
			}
		}
	}()
	// Each account edit gives the accounts new name strings, which the
	// cross-file check would store into every schedule of a fresh file.
	for i := range 20 {
		edit(t, dir, "accounts.yaml", "accounts:\n", fmt.Sprintf("accounts:\n  extra-%d: {platform: x}\n", i))
		if i%2 == 1 {
			edit(t, dir, "accounts.yaml", "other:", "renamed:")
		} else if i > 0 {
			edit(t, dir, "accounts.yaml", "renamed:", "other:")
		}
		if _, err := l.Load(dir); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("a later Load changed an earlier Config:\n got %s\nwant %s", describeLoad(cfg, nil), describeLoad(want, nil))
	}
}
