package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// herald health answers 0 for a real node's /readyz, and 1 with the reason
// for a node that is not ready, one that does not answer, and one that
// redirects; wrong usage is 2.
func TestHealth(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "plan.yaml", "accounts:\n  brand: {platform: x}\nschedules:\n  - {id: a, account: brand, cron: \"0 0 1 1 *\", post: {text: a}}\n")
	n := startNode(t, "--config", filepath.Join(dir, "plan.yaml"), "--db", "sqlite:"+filepath.Join(dir, "herald.db"), "--node-id", "n1", "--dry-run")
	addr := n.waitLog("start", 30*time.Second, msgIs("herald started"))["listen"].(string)

	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"store":"unreachable"}`))
	}))
	defer unready.Close()
	redirect := httptest.NewServer(http.RedirectHandler("http://"+addr+"/readyz", http.StatusFound))
	defer redirect.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"ready node", []string{"--url", "http://" + addr + "/readyz"}, exitOK, ""},
		{"unready node", []string{"--url", unready.URL + "/readyz"}, exitCheck, `503 Service Unavailable: {"store":"unreachable"}`},
		{"nothing listening", []string{"--url", "http://" + closed + "/readyz", "--timeout", "10s"}, exitCheck, "connection refused"},
		{"redirect not followed", []string{"--url", redirect.URL}, exitCheck, "302 Found"},
		{"bad url", []string{"--url", "127.0.0.1:8080/readyz"}, exitUsage, "--url"},
		{"bad timeout", []string{"--timeout", "0s"}, exitUsage, "--timeout"},
		{"stray argument", []string{"http://" + addr + "/readyz"}, exitUsage, "health takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := herald(t, "", append([]string{"health"}, tt.args...)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.inStderr) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.inStderr)
			}
		})
	}
	if r := herald(t, "", "--help"); !strings.Contains(r.stdout, "health ") {
		t.Errorf("herald --help does not list health:\n%s", r.stdout)
	}
}
