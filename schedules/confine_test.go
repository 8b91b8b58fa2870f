package schedules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMediaConfined: a media path must stay under the plan's root once
// its symbolic links are resolved; the root is the path given to Load that
// led to the file (its own folder for a file given).
func TestMediaConfined(t *testing.T) {
	yamlWith := func(path string) string {
		return account + "schedules:\n  - {id: m, account: brand, cron: \"@daily\", post: {text: hi, media: [{path: " + path + "}]}}\n"
	}
	tests := []struct {
		name string
		// setup makes the files under base and returns the paths to Load.
		setup func(t *testing.T, base string) []string
		want  string // a diagnostic substring, or "" for valid
	}{
		{"link out of the plan", func(t *testing.T, base string) []string {
			write(t, base, "secret.png", "x")
			link(t, filepath.Join(base, "secret.png"), filepath.Join(base, "plan", "a.png"))
			write(t, base, "plan/s.yaml", yamlWith("a.png"))
			return []string{filepath.Join(base, "plan")}
		}, "plan/a.png leads through a symbolic link to " /* base/secret.png */},
		{"folder link out of the plan", func(t *testing.T, base string) []string {
			write(t, base, "elsewhere/a.png", "x")
			link(t, filepath.Join(base, "elsewhere"), filepath.Join(base, "plan", "img"))
			write(t, base, "plan/s.yaml", yamlWith("img/a.png"))
			return []string{filepath.Join(base, "plan")}
		}, "outside the plan's folder"},
		{"link within the plan", func(t *testing.T, base string) []string {
			write(t, base, "plan/assets/real.png", "x")
			link(t, filepath.Join(base, "plan", "assets", "real.png"), filepath.Join(base, "plan", "a.png"))
			write(t, base, "plan/s.yaml", yamlWith("a.png"))
			return []string{filepath.Join(base, "plan")}
		}, ""},
		{"plan folder is a link (git-sync)", func(t *testing.T, base string) []string {
			write(t, base, "rev-abc/a.png", "x")
			write(t, base, "rev-abc/sub/s.yaml", yamlWith("../a.png"))
			link(t, filepath.Join(base, "rev-abc"), filepath.Join(base, "current"))
			return []string{filepath.Join(base, "current")}
		}, ""},
		{"a file given: its folder is the root", func(t *testing.T, base string) []string {
			write(t, base, "a.png", "x")
			write(t, base, "plan/s.yaml", yamlWith("../a.png"))
			return []string{filepath.Join(base, "plan", "s.yaml")}
		}, "a.png is outside the plan's folder " + "BASE/plan"},
		{"two roots: each file keeps to its own", func(t *testing.T, base string) []string {
			write(t, base, "b/x.png", "x")
			write(t, base, "b/other.yaml", "schedules: []\n")
			write(t, base, "a/s.yaml", yamlWith("../b/x.png"))
			return []string{filepath.Join(base, "a"), filepath.Join(base, "b")}
		}, "x.png is outside the plan's folder BASE/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			paths := tt.setup(t, base)
			cfg, err := Load(LoadOptions{}, paths...)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				m := cfg.Schedule("m").Post.Media[0]
				if _, err := ResolveWithin(m.Root, m.Path); err != nil || m.Root != paths[0] {
					t.Errorf("media %+v: root want %s, ResolveWithin: %v", m, paths[0], err)
				}
				return
			}
			want := strings.ReplaceAll(tt.want, "BASE", base)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "s.yaml:5:77: post.media[0].path: ") {
				t.Errorf("Load = %v; want an error at s.yaml:5:77 containing %q", err, want)
			}
		})
	}
}

// TestMediaLinkSwappedBetweenLoads: a Loader reuses a file's decode only
// while its media look the same; a file turned into a link out of the
// plan is refused on the next Load, though the YAML did not change.
func TestMediaLinkSwappedBetweenLoads(t *testing.T) {
	base := t.TempDir()
	write(t, base, "secret.png", "x")
	write(t, base, "plan/a.png", "x")
	write(t, base, "plan/s.yaml", account+"schedules:\n  - {id: m, account: brand, cron: \"@daily\", post: {text: hi, media: [{path: a.png}]}}\n")
	l := NewLoader(LoadOptions{})
	if _, err := l.Load(filepath.Join(base, "plan")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(base, "plan", "a.png")); err != nil {
		t.Fatal(err)
	}
	link(t, filepath.Join(base, "secret.png"), filepath.Join(base, "plan", "a.png"))
	_, err := l.Load(filepath.Join(base, "plan"))
	if err == nil || !strings.Contains(err.Error(), "leads through a symbolic link to "+filepath.Join(base, "secret.png")) {
		t.Errorf("second Load = %v; want the link out refused", err)
	}
}

func TestResolveWithin(t *testing.T) {
	base := t.TempDir()
	write(t, base, "root/in.png", "x")
	write(t, base, "out.png", "x")
	link(t, filepath.Join(base, "out.png"), filepath.Join(base, "root", "out.png"))
	link(t, filepath.Join(base, "root"), filepath.Join(base, "rootlink"))
	tests := []struct {
		root, path string
		outside    bool
	}{
		{"root", "root/in.png", false},
		{"rootlink", "rootlink/in.png", false},
		{"rootlink", "root/in.png", false},
		{"root", "root/out.png", true},
		{"root", "out.png", true},
		{"root", "root/../out.png", true},
	}
	for _, tt := range tests {
		_, err := ResolveWithin(filepath.Join(base, tt.root), filepath.Join(base, tt.path))
		if got := errors.Is(err, ErrOutsideRoot); got != tt.outside || (!tt.outside && err != nil) {
			t.Errorf("ResolveWithin(%s, %s) = %v; want outside %v", tt.root, tt.path, err, tt.outside)
		}
	}
	if _, err := ResolveWithin(filepath.Join(base, "root"), filepath.Join(base, "root", "gone.png")); err == nil || errors.Is(err, ErrOutsideRoot) {
		t.Errorf("a missing file: %v; want a not-exist error", err)
	}
}

func write(t *testing.T, base, rel, content string) {
	t.Helper()
	p := filepath.Join(base, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, name string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, name); err != nil {
		t.Fatal(err)
	}
}
