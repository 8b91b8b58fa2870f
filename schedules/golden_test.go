package schedules

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the .golden files of the golden tests")

// TestBadFiles loads each testdata/bad/*.yaml and compares the problems
// with the file's .golden twin: exactly the lines `herald validate` prints.
// Run `go test ./schedules -run TestBadFiles -update` after an intended
// change, and review the diff.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			checkGolden(t, f+".golden", f)
		})
	}
}

// TestFolder loads a folder of files that only make sense together:
// accounts in one file used in another, a duplicate id and a duplicate
// account across files, an unknown account, and a hidden folder to skip.
func TestFolder(t *testing.T) {
	checkGolden(t, "testdata/multi.golden", "testdata/multi")
}

// TestWarnFiles loads each testdata/warn/*.yaml, which must load, and
// compares its warnings with the file's .golden twin: exactly the lines
// `herald validate` prints. -update rewrites them, as for TestBadFiles.
func TestWarnFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/warn/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no warn files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			cfg, err := Load(LoadOptions{}, f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var b strings.Builder
			for _, d := range cfg.Warnings {
				if !d.Warning {
					t.Errorf("%s: Warning is false", d)
				}
				b.WriteString(d.String())
				b.WriteString("\n")
			}
			compareGolden(t, f+".golden", b.String())
		})
	}
}

func checkGolden(t *testing.T, golden string, paths ...string) {
	t.Helper()
	cfg, err := Load(LoadOptions{}, paths...)
	var diags Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("Load = %v, %v; want Diagnostics", cfg, err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false")
	}
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String())
		b.WriteString("\n")
	}
	compareGolden(t, golden, b.String())
}

// compareGolden compares got with the file golden, or rewrites it with
// -update.
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("diagnostics differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
	}
}
