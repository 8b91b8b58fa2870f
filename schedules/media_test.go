package schedules

import (
	"cmp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedia(t *testing.T) {
	tests := []struct {
		name  string
		sizes map[string]int64 // files to create, with their size
		media string           // the YAML list
		want  string           // a diagnostic substring, or "" for valid
		// dur is how long the .mp4 and .mov files last (10s when zero); a
		// negative one leaves them without an MP4 structure.
		dur time.Duration
	}{
		{"an image", map[string]int64{"a.png": 10}, "[{path: a.png, alt: x}]", "", 0},
		{"upper-case extension", map[string]int64{"a.JPG": 10}, "[{path: a.JPG}]", "", 0},
		{"four images", map[string]int64{"a.jpg": 1, "b.jpeg": 1, "c.webp": 1, "d.png": 1}, "[{path: a.jpg}, {path: b.jpeg}, {path: c.webp}, {path: d.png}]", "", 0},
		{"image at the limit", map[string]int64{"a.png": 5 << 20}, "[{path: a.png}]", "", 0},
		{"image over the limit", map[string]int64{"a.png": 5<<20 + 1}, "[{path: a.png}]", "is 5.0 MB, over X's limit of 5 MB for images", 0},
		{"gif at the limit", map[string]int64{"a.gif": 15 << 20}, "[{path: a.gif}]", "", 0},
		{"gif over the limit", map[string]int64{"a.gif": 15<<20 + 1}, "[{path: a.gif}]", "over X's limit of 15 MB for GIFs", 0},
		{"video at the limit", map[string]int64{"a.mp4": 512 << 20}, "[{path: a.mp4}]", "", 0},
		{"video over the limit", map[string]int64{"a.mov": 512<<20 + 1}, "[{path: a.mov}]", "over X's limit of 512 MB for videos", 0},
		{"video of 0.5 s", map[string]int64{"a.mp4": 1000}, "[{path: a.mp4}]", "", 500 * time.Millisecond},
		{"video of 140 s", map[string]int64{"a.mov": 1000}, "[{path: a.mov}]", "", 140 * time.Second},
		{"video too short", map[string]int64{"a.mp4": 1000}, "[{path: a.mp4}]", "a.mp4 is 0.499 s long; X accepts videos of 0.5 to 140 s", 499 * time.Millisecond},
		{"video too long", map[string]int64{"a.mov": 1000}, "[{path: a.mov}]", "a.mov is 140.001 s long; X accepts videos of 0.5 to 140 s", 140001 * time.Millisecond},
		{"video without a duration", map[string]int64{"a.mp4": 1000}, "[{path: a.mp4}]", "a.mp4: cannot read the video's duration: no moov box", -1},
		{"empty video", map[string]int64{"a.mp4": 0}, "[{path: a.mp4}]", "a.mp4: cannot read the video's duration: 0 bytes, too short", -1},
		{"same video twice", map[string]int64{"a.mp4": 100}, "[{path: a.mp4}, {path: a.mp4}]", "a GIF or a video must be the only media of a post (got 2 videos)", 0},
		{"in a sub-folder", map[string]int64{"img/a.png": 1}, "[{path: img/a.png}]", "", 0},
		{"parent folder", map[string]int64{"../a.png": 1}, "[{path: ../a.png}]", "s.yaml:5:77: post.media[0].path: ", 0},
		{"parent folder, said why", map[string]int64{"../a.png": 1}, "[{path: ../a.png}]", "a.png is outside the plan's folder", 0},
		{"far outside", nil, "[{path: ../../../etc/passwd.png}]", "passwd.png is outside the plan's folder", 0},
		{"in and out again", map[string]int64{"a.png": 1}, "[{path: ../schedules/a.png}]", "", 0},
		{"missing", nil, "[{path: a.png}]", "a.png: no such file", 0},
		{"a folder", map[string]int64{"d.png/x": 1}, "[{path: d.png}]", "d.png: not a regular file", 0},
		{"gif and image", map[string]int64{"a.gif": 1, "b.png": 1}, "[{path: a.gif}, {path: b.png}]", "a GIF or a video must be the only media of a post (got 1 image, 1 GIF)", 0},
		{"five images", map[string]int64{"a.png": 1}, "[{path: a.png}, {path: a.png}, {path: a.png}, {path: a.png}, {path: a.png}]", "5 images, over X's limit of 4", 0},
		{"empty path", nil, `[{path: ""}]`, "must be a path relative to the folder of this file", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "schedules")
			for name, size := range tt.sizes {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				f, err := os.Create(p)
				if err != nil {
					t.Fatal(err)
				}
				if ext := filepath.Ext(name); (ext == ".mp4" || ext == ".mov") && tt.dur >= 0 {
					// A tiny MP4 whose last box runs to the end of the
					// file, grown below to the size wanted.
					v := videoFixture(cmp.Or(tt.dur, 10*time.Second))
					if _, err := f.Write(v); err != nil {
						t.Fatal(err)
					}
					size = max(size, int64(len(v)))
				}
				// A sparse file: big media without writing them.
				if err := f.Truncate(size); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
			_ = os.MkdirAll(dir, 0o755)
			yaml := account + "schedules:\n  - {id: m, account: brand, cron: \"@daily\", post: {text: hi, media: " + tt.media + "}}\n"
			if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(LoadOptions{}, dir)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range cfg.Schedule("m").Post.Media {
					if !filepath.IsAbs(m.Path) {
						t.Errorf("media path %q is not absolute", m.Path)
					}
					if _, err := os.Stat(m.Path); err != nil {
						t.Errorf("media path: %v", err)
					}
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v; want an error containing %q", err, tt.want)
			}
		})
	}
}
