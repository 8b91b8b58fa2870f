package engine

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/store"
)

// Without tokens only loopback Hosts (and --allowed-host names) are
// answered; with tokens every Host is (the token is the guard).
func TestGuardHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host     string
		noTokens bool
		want     int
	}{
		{"localhost", true, http.StatusOK},
		{"LOCALHOST:8080", true, http.StatusOK},
		{"localhost.:8080", true, http.StatusOK},
		{"127.0.0.1:8080", true, http.StatusOK},
		{"127.9.9.9", true, http.StatusOK},
		{"[::1]:8080", true, http.StatusOK},
		{"herald.internal:8080", true, http.StatusOK}, // --allowed-host
		{"rebind.attacker.example", true, http.StatusMisdirectedRequest},
		{"localhost.attacker.example", true, http.StatusMisdirectedRequest},
		{"10.0.0.1:8080", true, http.StatusMisdirectedRequest},
		{"", true, http.StatusMisdirectedRequest},
		{"rebind.attacker.example", false, http.StatusOK},
	}
	for _, tt := range tests {
		g := newGuard(tt.noTokens, []string{"Herald.Internal"}, slog.New(slog.DiscardHandler))
		h := g.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("Host %q (no tokens: %v): %d %s, want %d", tt.host, tt.noTokens, rec.Code, rec.Body, tt.want)
		}
		if rec.Code == http.StatusMisdirectedRequest && !strings.Contains(rec.Body.String(), "--allowed-host") {
			t.Errorf("Host %q: the refusal %q does not name --allowed-host", tt.host, rec.Body)
		}
	}
}

// A body past maxRequestBody fails to read, whatever the handler does.
func TestGuardCapsTheBody(t *testing.T) {
	t.Parallel()
	var readErr error
	var n int64
	h := newGuard(false, nil, slog.New(slog.DiscardHandler)).wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, readErr = io.Copy(io.Discard, r.Body)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", strings.NewReader(strings.Repeat("a", maxRequestBody+10))))
	if readErr == nil || n > maxRequestBody {
		t.Errorf("read %d bytes, error %v; want at most %d and an error", n, readErr, maxRequestBody)
	}
}

// A request without a known token is refused before the handler, so
// before its body is read.
func TestRequireTokenBeforeTheBody(t *testing.T) {
	t.Parallel()
	tokens, err := admin.ParseTokens("read:0123456789abcdef0123", "test")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ auth, wantBody string }{
		{"", "no bearer token"},
		{"Basic abc", "not a bearer token"},
		{"Bearer 0123456789abcdef9999", "unknown token"},
	}
	for _, tt := range tests {
		read := false
		h := admin.RequireToken(tokens, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { read = true }))
		req := httptest.NewRequest("POST", "/herald.admin.v1.AdminService/GetStatus", strings.NewReader("{}"))
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if read || rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code":"unauthenticated"`) || !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("Authorization %q: handler ran %v, %d %s; want 401 naming %q", tt.auth, read, rec.Code, rec.Body, tt.wantBody)
		}
	}
	read := false
	h := admin.RequireToken(tokens, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { read = true }))
	req := httptest.NewRequest("POST", "/x", nil)
	req.Header.Set("Authorization", "Bearer 0123456789abcdef0123")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if !read {
		t.Error("a known token did not reach the handler")
	}
}

func TestConfigRefusesTokensInClearText(t *testing.T) {
	t.Parallel()
	base := Config{ConfigPaths: []string{"x.yaml"}, DB: "sqlite:x.db", Publishers: 1, NodeID: "n", AdminTokens: "read:0123456789abcdef0123"}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // "" for valid
	}{
		{"loopback", func(c *Config) { c.Listen = "127.0.0.1:8080" }, ""},
		{"localhost", func(c *Config) { c.Listen = "localhost:8080" }, ""},
		{"all interfaces", func(c *Config) { c.Listen = ":8080" }, "--listen :8080: admin tokens would cross the network in clear text"},
		{"insecure-http", func(c *Config) { c.Listen = ":8080"; c.InsecureHTTP = true }, ""},
		{"tls", func(c *Config) { c.Listen = "0.0.0.0:8080"; c.TLSCert, c.TLSKey = "c.pem", "k.pem" }, ""},
		{"no tokens", func(c *Config) { c.Listen = ":8080"; c.AdminTokens = "" }, ""},
		{"allowed host with a scheme", func(c *Config) { c.AllowedHosts = []string{"http://h"} }, `--allowed-host "http://h"`},
		{"allowed host with a port", func(c *Config) { c.AllowedHosts = []string{"h:80"} }, `--allowed-host "h:80"`},
		{"allowed IPv6", func(c *Config) { c.AllowedHosts = []string{"::2"} }, ""},
	}
	for _, tt := range tests {
		c := base
		tt.change(&c)
		err := c.Validate()
		if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// Above the limit every fire is counted under schedule_id="_other", and
// the per-schedule series are gone.
func TestScheduleLabelsBounded(t *testing.T) {
	t.Parallel()
	m := newEngineMetrics()
	m.scheduleLabels.Store(2)
	m.setSchedules(2)
	m.Fired("a", store.TriggerScheduled)
	m.setSchedules(3)
	m.Fired("b", store.TriggerScheduled)
	m.DeadLetter("c", "permanent")
	if got := testutil.CollectAndCount(m.fires); got != 1 {
		t.Errorf("%d fire series, want 1", got)
	}
	if got := testutil.ToFloat64(m.fires.WithLabelValues(otherSchedules, string(store.TriggerScheduled))); got != 1 {
		t.Errorf("_other fires: %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.deadLetters.WithLabelValues(otherSchedules, "permanent")); got != 1 {
		t.Errorf("_other dead letters: %v, want 1", got)
	}
	never := newEngineMetrics()
	never.scheduleLabels.Store(-1)
	if got := never.scheduleLabel("a"); got != otherSchedules {
		t.Errorf("limit -1: label %q, want %q", got, otherSchedules)
	}
}

// A renewed certificate is served after the next check; a broken one
// leaves the previous in service.
func TestCertReloads(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeCert(t, certFile, keyFile, "first")
	clk := clock.NewFake(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	r, err := newCertReloader(certFile, keyFile, clk, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	served := func() string {
		c, err := r.GetCertificate(nil)
		if err != nil {
			t.Fatal(err)
		}
		x, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return x.Subject.CommonName
	}
	writeCert(t, certFile, keyFile, "second")
	if got := served(); got != "first" {
		t.Errorf("before a check is due: %q, want first", got)
	}
	clk.Advance(certCheckEvery)
	if got := served(); got != "second" {
		t.Errorf("after the check: %q, want second", got)
	}
	if err := os.WriteFile(certFile, []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	clk.Advance(certCheckEvery)
	if got := served(); got != "second" {
		t.Errorf("after a broken renewal: %q, want second kept", got)
	}
	if _, err := newCertReloader(certFile, keyFile, clk, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Errorf("a broken pair at start: %v, want an error naming --tls-cert", err)
	}
}

// writeCert writes a self-signed certificate named cn and its key, with a
// distinct size each time (so the stamp changes even within one mtime tick).
func writeCert(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
}

// The event stream outlives the server's read and write timeouts (the
// guard lifts them for it), over HTTP/1.1 and h2c, while a unary call that
// outlives them is cut.
func TestStreamOutlivesTheTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 5; i++ {
			if _, err := io.WriteString(w, "tick\n"); err != nil {
				return
			}
			http.NewResponseController(w).Flush()
			time.Sleep(timeout) // real time: what is tested is the server's real deadline
		}
	})
	srv := httptest.NewUnstartedServer(newGuard(false, nil, slog.New(slog.DiscardHandler)).wrap(slow))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = timeout, timeout
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetHTTP1(true)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Start()
	defer srv.Close()
	for _, h2c := range []bool{false, true} {
		tr := &http.Transport{}
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP1(!h2c)
		tr.Protocols.SetUnencryptedHTTP2(h2c)
		client := &http.Client{Transport: tr}
		for _, c := range []struct {
			path      string
			wantTicks int
		}{{"/herald.admin.v1.AdminService/WatchJobEvents", 5}, {"/herald.admin.v1.AdminService/GetStatus", -1}} {
			resp, err := client.Post(srv.URL+c.path, "application/json", strings.NewReader("{}"))
			if err != nil {
				if c.wantTicks < 0 {
					continue
				}
				t.Fatalf("h2c %v %s: %v", h2c, c.path, err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ticks := strings.Count(string(b), "tick")
			if c.wantTicks >= 0 && ticks != c.wantTicks || c.wantTicks < 0 && ticks == 5 {
				t.Errorf("h2c %v %s: %d ticks; want %d (-1: cut before 5)", h2c, c.path, ticks, c.wantTicks)
			}
		}
	}
}
