package schedules

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary bytes to Load as the content of one file. Load
// must never panic, must return exactly one of a Config and a sorted
// Diagnostics, and a Config's schedules must be usable.
//
//	go test -run='^$' -fuzz=FuzzLoad -fuzztime=120s ./schedules/
//
// The seed corpus is testdata/fuzz/FuzzLoad (committed, including anything
// the fuzzer found) plus every YAML file under testdata.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	files = append(files, "../schedules.example.yaml")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := loadBytes(data)
		if err != nil {
			var diags Diagnostics
			if !errors.As(err, &diags) || len(diags) == 0 || cfg != nil {
				t.Fatalf("Load = %v, %v; want only Diagnostics", cfg, err)
			}
			if !slices.IsSortedFunc(diags, func(a, b Diagnostic) int {
				if a.less(b) {
					return -1
				}
				if b.less(a) {
					return 1
				}
				return 0
			}) {
				t.Fatalf("diagnostics not sorted: %v", diags)
			}
			for _, d := range diags {
				if d.Message == "" || d.Line < 0 || d.Col < 0 {
					t.Fatalf("bad diagnostic %+v", d)
				}
			}
			return
		}
		if cfg == nil || cfg.Revision == "" {
			t.Fatalf("Load = %v with no error", cfg)
		}
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, s := range cfg.Schedules {
			if i > 0 && cfg.Schedules[i-1].ID >= s.ID {
				t.Fatalf("schedules not sorted: %q then %q", cfg.Schedules[i-1].ID, s.ID)
			}
			if s.Spec == nil || len(s.Hash) != 16 || s.Location == nil || cfg.Accounts[s.Account] == nil {
				t.Fatalf("incomplete schedule %+v", s)
			}
			if i < 20 {
				if fire, ok := s.NextFire(from); ok {
					_, _ = s.Render(RenderData{Run: 2, Planned: fire.Planned})
				}
			}
		}
	})
}

// TestFuzzCorpusCommitted makes sure the committed seed corpus is there,
// since `go test` runs it as part of FuzzLoad.
func TestFuzzCorpusCommitted(t *testing.T) {
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzLoad/*")
	if len(seeds) < 12 {
		t.Fatalf("%d seeds in testdata/fuzz/FuzzLoad, want at least 12", len(seeds))
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil || !strings.HasPrefix(string(b), "go test fuzz v1\n") {
			t.Errorf("%s is not a fuzz corpus file: %v", s, err)
		}
	}
}
