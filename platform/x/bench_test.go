package x

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-social/herald/clock"
	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store/sqlite"
)

// BenchmarkPublish measures posts per second against the fake X on
// loopback: through the bare client, and through this package's Publish
// (account routing, rate-limit reservation and header correction, error
// classification) — the difference is what Herald adds per publish above
// the HTTP call. Serial and with 8 concurrent publishers (the default pool).
func BenchmarkPublish(b *testing.B) {
	for _, par := range []int{1, 8} {
		for _, kind := range []string{"client", "herald"} {
			b.Run(fmt.Sprintf("%s/publishers=%d", kind, par), func(b *testing.B) {
				// A fresh fake each time: its duplicate check grows with
				// the posts it keeps.
				publish := benchPublisher(b, kind)
				b.ReportAllocs()
				b.ResetTimer()
				if par == 1 {
					for i := 0; i < b.N; i++ {
						if err := publish(); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					b.SetParallelism(max(1, par/testingProcs()))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if err := publish(); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
			})
		}
	}
}

// benchPublisher returns a function publishing one new post through the
// bare client or through Publish, against a new fake X.
func benchPublisher(b *testing.B, kind string) func() error {
	fake := fakex.New(fakex.Options{Limits: map[string]fakex.Limit{fakex.EndpointCreatePost: {}}})
	srv := httptest.NewServer(fake)
	b.Cleanup(srv.Close)
	fake.AddUser(fakex.User{ID: "1", Username: "bench", AccessToken: "at"})
	var seq atomic.Int64
	text := func() string { return fmt.Sprintf("bench post %d", seq.Add(1)) }
	if kind == "client" {
		client, err := xapi.New(xapi.Options{BaseURL: srv.URL, Auth: xapi.BearerToken("at")})
		if err != nil {
			b.Fatal(err)
		}
		return func() error {
			_, err := client.CreatePost(context.Background(), xapi.NewPost{Text: text()})
			return err
		}
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"), sqlite.Options{Migrate: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	p, err := New(Options{BaseURL: srv.URL, Store: storeTokens{st, clock.Real()}, DryRun: dryrun.New(slog.New(slog.DiscardHandler)), Clock: clock.Real(),
		Secrets: Resolver{LookupEnv: func(string) (string, bool) { return "at", true }}})
	if err != nil {
		b.Fatal(err)
	}
	// The account's real windows (the current preset) would defer after
	// 100 posts; one large window keeps the limiter's work in the figure.
	acct := &schedules.Account{Name: "bench", Platform: "x", Limits: "current", OAuth2: &schedules.OAuth2{AccessToken: env("AT")},
		LimitWindows: []schedules.LimitWindow{{Endpoint: "create_post", Scope: "user", Limit: 1 << 30, Per: 15 * time.Minute}}}
	if err := p.Configure(context.Background(), config(acct)); err != nil {
		b.Fatal(err)
	}
	return func() error {
		_, err := p.Publish(context.Background(), platform.Post{Account: "bench", Texts: []string{text()}}, platform.Hooks{})
		return err
	}
}

func testingProcs() int { return runtime.GOMAXPROCS(0) }
