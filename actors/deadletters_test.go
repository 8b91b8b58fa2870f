package actors

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
)

var hookNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testNotifier(u string, secret string) *deadLetterNotifier {
	return &deadLetterNotifier{url: u, shown: RedactURL(u), secret: []byte(secret), client: noRedirects(nil),
		now: func() time.Time { return hookNow }}
}

// TestDeadLetterSigned: the receiver gets the timestamp and a signature of
// "timestamp.body" that VerifyDeadLetter accepts, and that fails for
// another body, secret or time.
func TestDeadLetterSigned(t *testing.T) {
	var ts, sig string
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts, sig = r.Header.Get("X-Herald-Timestamp"), r.Header.Get("X-Herald-Signature")
		body, _ = io.ReadAll(r.Body)
	}))
	defer srv.Close()
	if err := testNotifier(srv.URL+"/hook", "whsec").deliver(context.Background(), 7, []byte(`{"event":"dead_letter"}`)); err != nil {
		t.Fatal(err)
	}
	if ts != "1772366400" || !strings.HasPrefix(sig, "sha256=") {
		t.Fatalf("headers: timestamp %q, signature %q", ts, sig)
	}
	tests := []struct {
		name            string
		secret, ts, sig string
		body            string
		now             time.Time
		ok              bool
	}{
		{"as sent", "whsec", ts, sig, string(body), hookNow, true},
		{"within the tolerance", "whsec", ts, sig, string(body), hookNow.Add(DeadLetterTolerance), true},
		{"replayed later", "whsec", ts, sig, string(body), hookNow.Add(DeadLetterTolerance + time.Second), false},
		{"from the future", "whsec", ts, sig, string(body), hookNow.Add(-DeadLetterTolerance - time.Second), false},
		{"another body", "whsec", ts, sig, `{"event":"dead_letter","x":1}`, hookNow, false},
		{"another secret", "other", ts, sig, string(body), hookNow, false},
		{"another timestamp", "whsec", "1772366401", sig, string(body), hookNow, false},
		{"no timestamp", "whsec", "", sig, string(body), hookNow, false},
		{"body-only signature (the old scheme)", "whsec", ts, bodyOnly("whsec", body), string(body), hookNow, false},
	}
	for _, tt := range tests {
		err := VerifyDeadLetter([]byte(tt.secret), tt.ts, tt.sig, []byte(tt.body), tt.now, DeadLetterTolerance)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrBadSignature)) {
			t.Errorf("%s: VerifyDeadLetter = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

// bodyOnly is the signature Herald sent before it signed a timestamp.
func bodyOnly(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TestDeadLetterRedirectNotFollowed: a 3xx is a failed delivery; the body
// never reaches where it points.
func TestDeadLetterRedirectNotFollowed(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer target.Close()
	for _, code := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL, code)
		}))
		err := testNotifier(srv.URL+"/hook?token=s3cret", "whsec").deliver(context.Background(), 1, []byte("{}"))
		srv.Close()
		if err == nil || !strings.Contains(err.Error(), "redirects are not followed") || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%d: err = %v; want a failed delivery that does not show the URL's secret", code, err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect's target was called %d times", n)
	}
}

// TestDeadLetterErrorsRedactTheURL: neither a refused connection nor an
// error status shows the URL's path, query or password.
func TestDeadLetterErrorsRedactTheURL(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer failing.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, base := range []string{failing.URL, closed.URL} {
		u := strings.Replace(base, "http://", "http://user:pa55@", 1) + "/services/T0/B0/s3cret?token=t0ken"
		err := testNotifier(u, "").deliver(context.Background(), 1, []byte("{}"))
		if err == nil {
			t.Fatalf("%s: delivered", base)
		}
		msg := err.Error()
		for _, secret := range []string{"pa55", "user", "s3cret", "t0ken", "services"} {
			if strings.Contains(msg, secret) {
				t.Errorf("the error shows %q: %s", secret, msg)
			}
		}
		if !strings.Contains(msg, base+"/…") {
			t.Errorf("the error %q does not name the host as %s/…", msg, base)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.example/abc?token=x", "https://hooks.example/…"},
		{"https://u:p@hooks.example:8443/", "https://hooks.example:8443"},
		{"https://hooks.example", "https://hooks.example"},
		{"https://hooks.example/#frag", "https://hooks.example/…"},
		{"::not a url", "(unparsable URL)"},
		{"hooks.example/x", "(unparsable URL)"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDeadLetterOfPrunedJob: a dead event whose job retention deleted
// after the event was read is skipped, not retried forever, and nothing
// is posted.
func TestDeadLetterOfPrunedJob(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { posts.Add(1) }))
	defer srv.Close()
	s, err := sqlite.Open(context.Background(), sqlite.Memory, sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := testNotifier(srv.URL, "whsec")
	n.rt = &Runtime{opts: Options{Store: s}, logger: slog.New(slog.DiscardHandler)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a retry loop fails instead of hanging
	defer cancel()
	if err := n.deliverWithRetry(ctx, store.Event{ID: 9, JobID: 42, To: store.StatusDead}); err != nil {
		t.Fatalf("deliverWithRetry for a pruned job: %v", err)
	}
	if posts.Load() != 0 {
		t.Fatalf("%d webhook posts for a pruned job", posts.Load())
	}
}
