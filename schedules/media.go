package schedules

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// X's media rules for one post: up to 4 images, or 1 GIF, or 1 video, never
// mixed; each file under its type's size limit; alt text up to 1000
// characters.
const (
	xMaxImages   = 4
	xMaxAltChars = 1000
	mib          = 1 << 20
)

type mediaClass uint8

const (
	classImage mediaClass = iota + 1
	classGIF
	classVideo
)

var mediaClasses = map[string]mediaClass{
	".jpg": classImage, ".jpeg": classImage, ".png": classImage, ".webp": classImage,
	".gif": classGIF, ".mp4": classVideo, ".mov": classVideo,
}

var mediaLimits = map[mediaClass]int64{classImage: 5 * mib, classGIF: 15 * mib, classVideo: 512 * mib}

var mediaNames = map[mediaClass]string{classImage: "image", classGIF: "GIF", classVideo: "video"}

// mediaHash is what the schedule hash covers of one file: where it is
// relative to the loaded folder (not the machine) and its size, so that
// replacing the file with different content usually changes the hash
// without reading it.
type mediaHash struct {
	rel  string
	size int64
}

// media checks the media of a post and resolves their paths.
func (w *walker) media(d *scheduleDraft) ([]Media, []mediaHash) {
	p := d.p.child("post").child("media")
	if len(d.mediaItems) > 64 {
		w.errf(d.media, p, "%d items; X allows at most %d images, or 1 GIF, or 1 video", len(d.mediaItems), xMaxImages)
		return nil, nil
	}
	out := make([]Media, 0, len(d.mediaItems))
	hashes := make([]mediaHash, 0, len(d.mediaItems))
	count := map[mediaClass]int{}
	for _, md := range d.mediaItems {
		ip := p.index(md.i)
		m, h, class, ok := w.mediaItem(md, ip)
		if ok {
			out = append(out, m)
			hashes = append(hashes, h)
			count[class]++
		}
	}
	switch n := count[classImage] + count[classGIF] + count[classVideo]; {
	case count[classGIF]+count[classVideo] > 0 && n > 1:
		w.errf(d.media, p, "a GIF or a video must be the only media of a post (got %s)", describeCount(count))
	case count[classImage] > xMaxImages:
		w.errf(d.media, p, "%d images, over X's limit of %d per post", count[classImage], xMaxImages)
	}
	return out, hashes
}

func (w *walker) mediaItem(md mediaDraft, p path) (Media, mediaHash, mediaClass, bool) {
	var m Media
	if md.alt != nil {
		if alt, ok := w.str(md.alt, p.child("alt")); ok {
			if n := utf8.RuneCountInString(alt); n > xMaxAltChars {
				w.errf(md.alt, p.child("alt"), "%d characters, over X's limit of %d", n, xMaxAltChars)
			}
			m.Alt = alt
		}
	}
	if md.path == nil {
		w.errf(md.item, p, "missing required field \"path\"")
		return m, mediaHash{}, 0, false
	}
	pp := p.child("path")
	rel, ok := w.str(md.path, pp)
	if !ok {
		return m, mediaHash{}, 0, false
	}
	if rel == "" || filepath.IsAbs(rel) || strings.ContainsRune(rel, 0) {
		w.errf(md.path, pp, "must be a path relative to the folder of this file")
		return m, mediaHash{}, 0, false
	}
	class := mediaClasses[strings.ToLower(filepath.Ext(rel))]
	if filepath.Ext(rel) == "" {
		w.errf(md.path, pp, "%s has no file extension (X accepts .jpg, .jpeg, .png, .webp, .gif, .mp4 and .mov)", quoteShort(rel))
		return m, mediaHash{}, 0, false
	}
	if class == 0 {
		w.errf(md.path, pp, "unsupported media type %s (X accepts .jpg, .jpeg, .png, .webp, .gif, .mp4 and .mov)",
			quoteShort(filepath.Ext(rel)))
		return m, mediaHash{}, 0, false
	}
	shown := filepath.Join(filepath.Dir(w.fc.display), filepath.FromSlash(rel))
	m.Path = filepath.Join(w.fc.absDir, filepath.FromSlash(rel))
	m.Root = w.fc.root
	if !within(w.fc.root, m.Path) {
		w.errf(md.path, pp, "%s is outside the plan's folder %s: media must stay under the folder given to --config", shown, w.fc.root)
		return m, mediaHash{}, 0, false
	}
	pr := w.probe(mediaKey{m.Path, w.fc.root, class == classVideo})
	switch {
	case pr.outside != "":
		w.errf(md.path, pp, "%s leads through a symbolic link to %s, outside the plan's folder %s: media must stay under the folder given to --config",
			shown, pr.outside, w.fc.root)
		return m, mediaHash{}, 0, false
	case pr.notExist:
		w.errf(md.path, pp, "%s: no such file", shown)
		return m, mediaHash{}, 0, false
	case pr.err != "":
		w.errf(md.path, pp, "%s: %s", shown, pr.err)
		return m, mediaHash{}, 0, false
	case !pr.regular:
		w.errf(md.path, pp, "%s: not a regular file", shown)
		return m, mediaHash{}, 0, false
	case pr.size > mediaLimits[class]:
		w.errf(md.path, pp, "%s is %s, over X's limit of %d MB for %ss", shown, formatSize(pr.size),
			mediaLimits[class]/mib, mediaNames[class])
		return m, mediaHash{}, 0, false
	}
	if class == classVideo {
		switch d := pr.dur; {
		case pr.durErr != "":
			w.errf(md.path, pp, "%s: cannot read the video's duration: %s", shown, pr.durErr)
			return m, mediaHash{}, 0, false
		case d < xMinVideo || d > xMaxVideo:
			w.errf(md.path, pp, "%s is %s long; X accepts videos of 0.5 to 140 s", shown, formatSeconds(d))
			return m, mediaHash{}, 0, false
		}
	}
	h := mediaHash{rel: filepath.ToSlash(filepath.Join(filepath.Dir(filepath.FromSlash(w.fc.rel)), rel)), size: pr.size}
	return m, h, class, true
}

func describeCount(count map[mediaClass]int) string {
	var parts []string
	for _, c := range []mediaClass{classImage, classGIF, classVideo} {
		switch n := count[c]; {
		case n == 1:
			parts = append(parts, "1 "+mediaNames[c])
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, mediaNames[c]))
		}
	}
	return strings.Join(parts, ", ")
}

func formatSize(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/mib) }

// unwrapPathError drops the path an *fs.PathError repeats, since the
// message already shows it.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// probe asks the Load's media cache about k and records the answer: the
// file's decode depends on it, so a Loader reuses the decode only while the
// disk still answers the same (see Loader).
func (w *walker) probe(k mediaKey) mediaProbe {
	pr := w.env.media.probe(k)
	if _, seen := w.mediaSeen[k]; !seen {
		if w.mediaSeen == nil {
			w.mediaSeen = make(map[mediaKey]struct{})
		}
		w.mediaSeen[k] = struct{}{}
		w.mediaDeps = append(w.mediaDeps, mediaDep{k, pr})
	}
	return pr
}

// mediaDep is one media file a file's decode looked at, and what it saw.
type mediaDep struct {
	key   mediaKey
	probe mediaProbe
}
