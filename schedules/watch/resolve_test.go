package watch

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	root, err := filepath.EvalSymlinks(t.TempDir())
	must(t, err)
	writeFile(t, filepath.Join(root, "k8s", "..2026_1", "a.yaml"), "a")
	writeFile(t, filepath.Join(root, "plain", "b.yaml"), "b")
	links := map[string]string{ // link -> target
		"k8s/..data":       "..2026_1",
		"k8s/a.yaml":       "..data/a.yaml",
		"current":          "plain",
		"abs":              filepath.Join(root, "plain"),
		"up":               "plain/../k8s/a.yaml",
		"chain1":           "chain2",
		"chain2":           "current/b.yaml",
		"dangling":         "missing/x.yaml",
		"loop1":            "loop2",
		"loop2":            "loop1",
		"plain/sibling.ln": "../k8s",
	}
	for l, target := range links {
		must(t, os.Symlink(target, filepath.Join(root, l)))
	}
	tests := []struct {
		path      string
		real      string
		links     []string
		errNoFile bool
		errLoop   bool
	}{
		{path: "plain/b.yaml", real: "plain/b.yaml"},
		{path: "k8s/a.yaml", real: "k8s/..2026_1/a.yaml", links: []string{"k8s/a.yaml", "k8s/..data"}},
		{path: "current/b.yaml", real: "plain/b.yaml", links: []string{"current"}},
		{path: "abs/b.yaml", real: "plain/b.yaml", links: []string{"abs"}},
		{path: "up", real: "k8s/..2026_1/a.yaml", links: []string{"up", "k8s/a.yaml", "k8s/..data"}},
		{path: "chain1", real: "plain/b.yaml", links: []string{"chain1", "chain2", "current"}},
		{path: "plain/sibling.ln/a.yaml", real: "k8s/..2026_1/a.yaml", links: []string{"plain/sibling.ln", "k8s/a.yaml", "k8s/..data"}},
		{path: "dangling", real: "missing", links: []string{"dangling"}, errNoFile: true},
		{path: "loop1", errLoop: true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			real, gotLinks, err := resolve(filepath.Join(root, tt.path))
			switch {
			case tt.errLoop:
				if err == nil || !errors.Is(err, errLinkLoop) {
					t.Fatalf("err = %v, want a link loop", err)
				}
				return
			case tt.errNoFile:
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("err = %v, want not exist", err)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			}
			if want := filepath.Join(root, tt.real); real != want {
				t.Errorf("real = %s, want %s", real, want)
			}
			var want []string
			for _, l := range tt.links {
				want = append(want, filepath.Join(root, l))
			}
			if !slices.Equal(gotLinks, want) {
				t.Errorf("links = %v, want %v", gotLinks, want)
			}
			if !tt.errNoFile {
				if ev, err := filepath.EvalSymlinks(filepath.Join(root, tt.path)); err != nil || ev != real {
					t.Errorf("EvalSymlinks = %s, %v; resolve disagrees: %s", ev, err, real)
				}
			}
		})
	}
}
