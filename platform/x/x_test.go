package x

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/platform/x/ratelimit"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/sqlite"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// world is a fake X, a store and a clock shared by Herald and the fake.
type world struct {
	t     *testing.T
	clk   *clock.Fake
	fake  *fakex.Server
	url   string
	store store.Store
	env   map[string]string
}

func newWorld(t *testing.T, opts fakex.Options) *world {
	t.Helper()
	w := &world{t: t, clk: clock.NewFake(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)), env: map[string]string{}}
	opts.Clock = w.clk
	w.fake = fakex.New(opts)
	srv := httptest.NewServer(w.fake)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w.store = st
	return w
}

func (w *world) platform(limiter ratelimit.Limiter) *Platform {
	w.t.Helper()
	p, err := New(Options{
		BaseURL: w.url, Store: storeTokens{w.store, w.clk}, TokenKey: testKey, Clock: w.clk, Limiter: limiter,
		Secrets: Resolver{LookupEnv: func(k string) (string, bool) { v, ok := w.env[k]; return v, ok }},
		DryRun:  dryrun.New(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func env(name string) schedules.SecretRef { return schedules.SecretRef{Scheme: "env", Name: name} }

func config(accounts ...*schedules.Account) *schedules.Config {
	c := &schedules.Config{Accounts: map[string]*schedules.Account{}}
	for _, a := range accounts {
		c.Accounts[a.Name] = a
	}
	return c
}

func oauth2Account(name string, refresh bool) *schedules.Account {
	a := &schedules.Account{Name: name, Platform: "x", Limits: "current", OAuth2: &schedules.OAuth2{AccessToken: env("AT")}}
	if refresh {
		a.OAuth2.RefreshToken, a.OAuth2.ClientID, a.OAuth2.ClientSecret = env("RT"), env("CID"), env("CSECRET")
	}
	return a
}

func post(account, text string) platform.Post {
	return platform.Post{JobID: 1, ScheduleID: "s", Account: account, PlannedAt: time.Date(2026, 11, 29, 11, 59, 0, 0, time.UTC), Texts: []string{text}}
}

// TestTokenRotationIsStoredBeforeUseAndSurvivesARestart: after the access
// token expires, one refresh spends the refresh token; the new pair is in
// the store, encrypted; a new Platform on the same store (a restart, whose
// environment still holds the spent token) uses the stored pair.
func TestTokenRotationIsStoredBeforeUseAndSurvivesARestart(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0", RefreshToken: "rt-0", ClientID: "cid", ClientSecret: "cs"})
	w.env = map[string]string{"AT": "at-0", "RT": "rt-0", "CID": "cid", "CSECRET": "cs"}
	ctx := context.Background()
	cfg := config(oauth2Account("brand", true))

	p := w.platform(nil)
	if err := p.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, post("brand", "one"), platform.Hooks{}); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(2*time.Hour + time.Minute)
	if _, err := p.Publish(ctx, post("brand", "two"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after expiry: %v", err)
	}
	rotated := w.fake.RefreshTokenOf("1")
	if rotated == "rt-0" {
		t.Fatal("the refresh token did not rotate")
	}
	st, err := w.store.GetState(ctx, tokenKey("brand"))
	if err != nil {
		t.Fatalf("rotated tokens not stored: %v", err)
	}
	if strings.Contains(string(st.Value), rotated) || strings.Contains(string(st.Value), "at-") {
		t.Error("the stored token state holds a token in clear")
	}

	// Restart: same store and environment (with the spent rt-0).
	w.clk.Advance(2*time.Hour + time.Minute)
	p2 := w.platform(nil)
	if err := p2.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := p2.Publish(ctx, post("brand", "three"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after restart and expiry: %v", err)
	}
	for _, r := range w.fake.Requests() {
		if r.Endpoint == fakex.EndpointToken && r.Status != http.StatusOK {
			t.Errorf("a refresh was refused with %d: a spent token was reused", r.Status)
		}
	}
	if got := w.fake.RefreshTokenOf("1"); got == rotated {
		t.Error("no second rotation after the restart")
	}

	// An operator re-authorizes: a new refresh token in the environment
	// wins over the stored descendant of the old one.
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-new", RefreshToken: "rt-new", ClientID: "cid", ClientSecret: "cs"})
	w.env["AT"], w.env["RT"] = "at-new", "rt-new"
	p3 := w.platform(nil)
	if err := p3.Configure(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := p3.Publish(ctx, post("brand", "four"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after re-authorization: %v", err)
	}
}

// TestSpentRefreshTokenIsReauth: when X refuses the refresh, the job is
// dead for re-authorization, not retried.
func TestSpentRefreshTokenIsReauth(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0", RefreshToken: "rt-live", ClientID: "cid", ClientSecret: "cs"})
	w.env = map[string]string{"AT": "at-0", "RT": "rt-spent", "CID": "cid", "CSECRET": "cs"}
	p := w.platform(nil)
	if err := p.Configure(context.Background(), config(oauth2Account("brand", true))); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(3 * time.Hour)
	_, err := p.Publish(context.Background(), post("brand", "one"), platform.Hooks{})
	if !errors.Is(err, platform.ErrReauth) {
		t.Fatalf("err = %v, want ErrReauth", err)
	}
}

// TestWindowDefersWithoutSending: a job over the account's window is
// deferred until the window frees, and nothing reaches X.
func TestWindowDefersWithoutSending(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0"})
	w.env = map[string]string{"AT": "at-0"}
	a := oauth2Account("brand", false)
	a.LimitWindows = []schedules.LimitWindow{{Endpoint: "create_post", Scope: "user", Limit: 2, Per: 15 * time.Minute}}
	p := w.platform(ratelimit.NewMemory(w.clk))
	if err := p.Configure(context.Background(), config(a)); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"a", "b", "c"} {
		_, err := p.Publish(context.Background(), post("brand", text), platform.Hooks{})
		if i < 2 && err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
		if i == 2 {
			var d *platform.DeferredError
			if !errors.As(err, &d) || !errors.Is(err, platform.ErrDeferred) {
				t.Fatalf("third post: err = %v, want a DeferredError", err)
			}
			if want := w.clk.Now().Add(15 * time.Minute); d.Until.Before(want.Add(-time.Second)) || d.Until.After(want) {
				t.Errorf("deferred until %v, want about %v", d.Until, want)
			}
		}
	}
	if got := len(w.fake.Posts()); got != 2 {
		t.Errorf("%d posts reached X, want 2", got)
	}
}

// TestAmbiguousPublishIsFoundNotRepeated: the connection drops after X
// stored the post; Find locates it by its text in the account's timeline,
// even with X's URL shortening and escaping.
func TestAmbiguousPublishIsFoundNotRepeated(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0"})
	w.env = map[string]string{"AT": "at-0"}
	p := w.platform(nil)
	if err := p.Configure(context.Background(), config(oauth2Account("brand", false))); err != nil {
		t.Fatal(err)
	}
	w.fake.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, DropAfterStore: true})
	pst := post("brand", "Read the docs at https://example.com/docs & enjoy")
	pst.Texts = append(pst.Texts, "and a reply")
	res, err := p.Publish(context.Background(), pst, platform.Hooks{})
	if !errors.Is(err, platform.ErrAmbiguous) {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
	if !res.SentAt.Equal(w.clk.Now()) {
		t.Errorf("SentAt = %v, want the send's %v", res.SentAt, w.clk.Now())
	}
	pst.FirstSentAt = res.SentAt
	found, err := p.Find(context.Background(), "brand", []platform.Post{pst})
	if err != nil {
		t.Fatal(err)
	}
	posts := w.fake.Posts()
	if len(posts) != 1 || len(found[0]) != 1 || found[0][0] != posts[0].ID {
		t.Fatalf("found %v; the fake has %+v", found, posts)
	}
	// The retry (attempt 2) resumes after the found post: only the reply.
	pst.Published = found[0]
	res, err = p.Publish(context.Background(), pst, platform.Hooks{})
	if err != nil || len(res.IDs) != 2 {
		t.Fatalf("resume: %v %v", res.IDs, err)
	}
	if posts := w.fake.Posts(); len(posts) != 2 || posts[1].ReplyTo != posts[0].ID {
		t.Fatalf("after resume the fake has %+v", posts)
	}
}

// TestDuplicateCountsOnlyWhenTheTimelineShowsThisJobsPost: a 403
// duplicate answer means only that SOME recent post has the text. It is
// this job's only when an earlier attempt sent and the timeline shows the
// post created since; else the job is a duplicate (dead), or, before the
// timeline can show the earlier attempt's post, ambiguous.
func TestDuplicateCountsOnlyWhenTheTimelineShowsThisJobsPost(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0"})
	w.env = map[string]string{"AT": "at-0"}
	p := w.platform(nil)
	if err := p.Configure(context.Background(), config(oauth2Account("brand", false))); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Fire 1 of a static text publishes.
	first, err := p.Publish(ctx, post("brand", "same words"), platform.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(10 * time.Minute)

	// Fire 2, first attempt: no earlier attempt sent, so the post X has
	// is fire 1's: a duplicate, without even reading the timeline.
	reads := len(w.fake.Requests())
	_, err = p.Publish(ctx, post("brand", "same words"), platform.Hooks{})
	if !errors.Is(err, platform.ErrDuplicate) || !errors.Is(err, platform.ErrPermanent) {
		t.Fatalf("first attempt answered duplicate: err %v, want ErrDuplicate", err)
	}
	if n := len(w.fake.Requests()) - reads; n != 1 {
		t.Errorf("%d requests, want the create alone", n)
	}

	// Fire 2, attempt 2, after an attempt 1 that sent (a 503) a minute
	// ago: the timeline holds fire 1's post only, created long before.
	retry := post("brand", "same words")
	retry.FirstSentAt = w.clk.Now().Add(-time.Minute)
	retry.SentBefore = retry.FirstSentAt.Add(time.Second)
	res, err := p.Publish(ctx, retry, platform.Hooks{})
	if !errors.Is(err, platform.ErrDuplicate) || len(res.IDs) != 0 {
		t.Fatalf("retry after the timeline settled: ids %v err %v, want ErrDuplicate and no id (never fire 1's %v)", res.IDs, err, first.IDs)
	}
	// The same, a second after attempt 1 sent: not yet proof.
	retry.FirstSentAt = w.clk.Now().Add(-time.Second)
	retry.SentBefore = retry.FirstSentAt
	if _, err := p.Publish(ctx, retry, platform.Hooks{}); !errors.Is(err, platform.ErrAmbiguous) {
		t.Fatalf("retry before the timeline settled: err %v, want ErrAmbiguous", err)
	}

	// A job whose attempt 1 landed (the answer lost) and is refused as a
	// duplicate on attempt 2: the timeline shows its post, created after
	// its first send: it is this job's.
	w.fake.Inject(fakex.Fault{Endpoint: fakex.EndpointCreatePost, DropAfterStore: true})
	lost := post("brand", "other words")
	res, err = p.Publish(ctx, lost, platform.Hooks{})
	if !errors.Is(err, platform.ErrAmbiguous) {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
	lost.FirstSentAt, lost.SentBefore = res.SentAt, res.SentAt
	w.clk.Advance(time.Second)
	res2, err := p.Publish(ctx, lost, platform.Hooks{})
	posts := w.fake.Posts()
	if err != nil || len(res2.IDs) != 1 || res2.IDs[0] != posts[len(posts)-1].ID {
		t.Fatalf("retry of a lost answer: ids %v err %v; the fake has %+v", res2.IDs, err, posts)
	}
	if got := len(posts); got != 2 {
		t.Errorf("%d posts at the fake, want 2", got)
	}
}

// TestPostMetrics reads public and, for the author, non-public figures,
// and reports a deleted post as missing.
func TestPostMetrics(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0"})
	w.env = map[string]string{"AT": "at-0"}
	p := w.platform(nil)
	if err := p.Configure(context.Background(), config(oauth2Account("brand", false))); err != nil {
		t.Fatal(err)
	}
	res, err := p.Publish(context.Background(), post("brand", "measure me"), platform.Hooks{})
	ids := res.IDs
	if err != nil {
		t.Fatal(err)
	}
	w.fake.SetMetrics(ids[0], fakex.Metrics{
		Public:    fakex.PublicMetrics{LikeCount: 7, RetweetCount: 3, ImpressionCount: 120},
		NonPublic: fakex.NonPublicMetrics{ImpressionCount: 120, URLLinkClicks: 4},
	})
	got, err := p.PostMetrics(context.Background(), "brand", []string{ids[0], "999999"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %+v", got)
	}
	m := got[0]
	if m.PostID != ids[0] || m.Likes != 7 || m.Reposts != 3 || m.Impressions != 120 || m.NonPublic["url_link_clicks"] != 4 {
		t.Errorf("metrics %+v", m)
	}
	if !got[1].Missing || got[1].PostID != "999999" {
		t.Errorf("unknown post: %+v", got[1])
	}
}

// TestConfigureErrorsNameTheFieldNotTheSecret covers the start-up checks.
func TestConfigureErrorsNameTheFieldNotTheSecret(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	cases := []struct {
		name string
		env  map[string]string
		key  []byte
		want string
	}{
		{"missing access token", map[string]string{}, testKey, "oauth2.access_token: environment variable AT is not set"},
		{"refresh without key", map[string]string{"AT": "sekrit-a", "RT": "sekrit-r", "CID": "c", "CSECRET": "sekrit-s"}, nil, "HERALD_TOKEN_KEY"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.env = tc.env
			p, err := New(Options{BaseURL: w.url, Store: storeTokens{w.store, w.clk}, TokenKey: tc.key, Clock: w.clk, DryRun: dryrun.New(slog.New(slog.DiscardHandler)),
				Secrets: Resolver{LookupEnv: func(k string) (string, bool) { v, ok := w.env[k]; return v, ok }}})
			if err != nil {
				t.Fatal(err)
			}
			err = p.Configure(context.Background(), config(oauth2Account("brand", true)))
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "sekrit") {
				t.Errorf("err = %v, want it to mention %q and no secret", err, tc.want)
			}
		})
	}
}

func TestParseTokenKey(t *testing.T) {
	cases := []struct {
		in string
		ok bool
	}{
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", true},
		{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY", true},
		{strings.Repeat("ab", 32), true},
		{"c2hvcnQ=", false},
		{"not base64 at all!", false},
	}
	for _, tc := range cases {
		k, err := ParseTokenKey(tc.in)
		if (err == nil) != tc.ok || (tc.ok && len(k) != 32) {
			t.Errorf("ParseTokenKey(%q) = %d bytes, %v", tc.in, len(k), err)
		}
	}
}

func TestSealedStateIsBoundToItsAccount(t *testing.T) {
	s, err := newSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.seal("a", []byte("tokens"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.open("a", sealed); err != nil || string(got) != "tokens" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := s.open("b", sealed); err == nil {
		t.Error("another account's state decrypted")
	}
}

func TestNormalizeMatchesXsCopy(t *testing.T) {
	cases := []struct{ ours, xs string }{
		{"See https://example.com/a?b=c & more", "See https://t.co/abc123 &amp; more"},
		{"  spaced\nout  ", "spaced out"},
		{"<tag> 1 > 0", "&lt;tag&gt; 1 &gt; 0"},
	}
	for _, tc := range cases {
		if normalize(tc.ours) != normalize(tc.xs) {
			t.Errorf("%q and %q do not match", tc.ours, tc.xs)
		}
	}
	if normalize("one") == normalize("two") {
		t.Error("different texts match")
	}
}

// TestVideoIsUploadedInChunksAndWaitsForProcessing publishes a post with a
// video: initialize, append, finalize, then STATUS polls on the clock
// until the fake has processed it, and only then the post.
func TestVideoIsUploadedInChunksAndWaitsForProcessing(t *testing.T) {
	w := newWorld(t, fakex.Options{MediaProcessing: 10 * time.Second})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-0"})
	w.env = map[string]string{"AT": "at-0"}
	p := w.platform(nil)
	if err := p.Configure(context.Background(), config(oauth2Account("brand", false))); err != nil {
		t.Fatal(err)
	}
	// Any bytes do for the fake; herald validate checks real durations.
	video := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(video, bytes.Repeat([]byte{0, 0, 0, 8, 'f', 'r', 'e', 'e'}, 1<<17), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	pst := post("brand", "watch this")
	pst.Media = []platform.Media{{Path: video, Alt: "a short clip"}}
	go func() { _, err := p.Publish(context.Background(), pst, platform.Hooks{}); done <- err }()
	// Drive the fake clock while the client waits between STATUS polls.
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			posts := w.fake.Posts()
			if len(posts) != 1 || len(posts[0].MediaIDs) != 1 || posts[0].AltTexts[posts[0].MediaIDs[0]] != "a short clip" {
				t.Fatalf("the fake has %+v", posts)
			}
			var init, appends, final, status int
			for _, r := range w.fake.Requests() {
				switch {
				case strings.HasSuffix(r.Endpoint, "/initialize"):
					init++
				case strings.HasSuffix(r.Endpoint, "/append"):
					appends++
				case strings.HasSuffix(r.Endpoint, "/finalize"):
					final++
				case strings.Contains(r.Endpoint, "GET /2/media/upload"):
					status++
				}
			}
			if init != 1 || appends < 1 || final != 1 || status < 1 {
				t.Errorf("upload requests: initialize %d, append %d, finalize %d, status %d", init, appends, final, status)
			}
			return
		case <-w.clk.Armed():
			if d, ok := w.clk.NextDeadline(); ok {
				w.clk.Set(d)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("publish with a video did not finish")
		}
	}
}

// TestReloadPicksUpARotatedSecretFile: the YAML is the same, but the
// mounted file behind file: changed; Configure rebuilds the account.
func TestReloadPicksUpARotatedSecretFile(t *testing.T) {
	w := newWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-1"})
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("at-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a := &schedules.Account{Name: "brand", Platform: "x", Limits: "current", OAuth2: &schedules.OAuth2{AccessToken: schedules.SecretRef{Scheme: "file", Name: secret}}}
	p := w.platform(nil)
	ctx := context.Background()
	if err := p.Configure(ctx, config(a)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, post("brand", "one"), platform.Hooks{}); err != nil {
		t.Fatal(err)
	}
	// The operator rotates the token: X now knows only the new one.
	w.fake.RevokeTokens("1")
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-2"})
	if err := os.WriteFile(secret, []byte("at-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	same := &schedules.Account{Name: "brand", Platform: "x", Limits: "current", OAuth2: &schedules.OAuth2{AccessToken: schedules.SecretRef{Scheme: "file", Name: secret}}}
	if err := p.Configure(ctx, config(same)); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(ctx, post("brand", "two"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after the secret file rotated: %v", err)
	}
}
