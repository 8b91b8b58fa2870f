package dashboard_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/herald-social/herald/dashboard"
)

func TestHandler(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(dashboard.Handler())
	defer srv.Close()
	tests := []struct {
		method, path string
		status       int
		contentType  string // prefix
		body         string // contained
	}{
		{"GET", "/", 200, "text/html", `<script type="module" src="app.js">`},
		{"HEAD", "/", 200, "text/html", ""},
		{"GET", "/app.js", 200, "text/javascript", "startLive"},
		{"GET", "/api.js", 200, "text/javascript", "application/connect+json"},
		{"GET", "/style.css", 200, "text/css", ":root"},
		{"GET", "/index.html", 404, "", ""},
		{"GET", "/nope.js", 404, "", ""},
		{"GET", "/static/app.js", 404, "", ""},
		{"GET", "/../dashboard.go", 404, "", ""},
		{"POST", "/", 405, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 {
				return
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type %q, want %s", ct, tt.contentType)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
				t.Errorf("Content-Security-Policy %q lets the page load or call other origins", csp)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body does not contain %q", tt.body)
			}
		})
	}
}

// TestHandlerRevalidates: a browser that has the page answers with its
// ETag and gets a 304, so reloading the page costs nothing, while a new
// binary's files have new ETags.
func TestHandlerRevalidates(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(dashboard.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/app.js")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, resp.Header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match with the current ETag: %s, want 304", resp.Status)
	}
}

// TestStaticFilesSelfContained: every module the page imports is served,
// and no file refers to another host (no CDN, no font service): the page
// works on a node without internet access.
func TestStaticFilesSelfContained(t *testing.T) {
	t.Parallel()
	static := os.DirFS("static")
	srv := httptest.NewServer(dashboard.Handler())
	defer srv.Close()
	imports := regexp.MustCompile(`(?:from|import)\s+"([^"]+)"|src="([^"]+)"|href="([^"#]+)"`)
	external := regexp.MustCompile(`(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		text := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "") // a namespace, not a fetch
		if m := external.FindString(text); m != "" {
			t.Errorf("%s refers to another host: %s", name, m)
		}
		for _, m := range imports.FindAllStringSubmatch(text, -1) {
			ref := m[1] + m[2] + m[3]
			if strings.HasPrefix(ref, "data:") {
				continue
			}
			resp, err := http.Get(srv.URL + "/" + strings.TrimPrefix(ref, "./"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s refers to %s, served as %s", name, ref, resp.Status)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
