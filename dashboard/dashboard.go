// Package dashboard serves Herald's web dashboard: one page, hand-written
// HTML, CSS and JavaScript modules embedded in the binary, that steers a
// node through the admin API (herald.admin.v1.AdminService) with the
// Connect JSON protocol, from the same origin.
//
// It owns only the static files and how they are served: no build step, no
// third-party script, nothing fetched from another host. It must not
// import the engine, the store or the admin API's implementation; the page
// talks to the API over HTTP like any other client, so it sees exactly what
// `herald ctl` and curl see.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var files embed.FS

// contentSecurityPolicy allows the page's own scripts, styles and API
// calls and nothing else: a value the page shows (a post's text, an error
// message) can never load or run anything.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// file is one embedded asset, ready to serve.
type file struct {
	content []byte
	etag    string
}

// Handler serves the page at "/" and its assets beside it ("/app.js",
// "/style.css", ...). Mount it at "/" next to the API: the API's longer
// patterns win in a ServeMux. Any other path is 404; only GET and HEAD are
// answered.
func Handler() http.Handler {
	assets, err := load(files, "static")
	if err != nil {
		// The folder is embedded at build time: a failure is a build bug.
		panic("dashboard: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = "index.html"
		}
		f, ok := assets[name]
		if !ok || r.URL.Path == "/index.html" {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// The files change only with the binary: revalidating with the
		// ETag costs little, and an upgraded node never serves a stale
		// script.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		// ServeContent answers If-None-Match and HEAD, and sets the
		// Content-Type from the extension (module scripts need a
		// JavaScript type).
		http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(f.content))
	})
}

// load reads the flat folder dir of fsys into memory, with an ETag per
// file (embedded files have no modification time for Last-Modified).
func load(fsys fs.FS, dir string) (map[string]file, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	assets := make(map[string]file, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		assets[e.Name()] = file{content: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	}
	return assets, nil
}
