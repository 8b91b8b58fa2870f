package x

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/schedules"
	"github.com/herald-social/herald/store"
)

func stateOf(t *testing.T, p *Platform, account string) AccountState {
	t.Helper()
	for _, s := range p.AccountStates(context.Background()) {
		if s.Account == account {
			return s
		}
	}
	t.Fatalf("no state for account %s", account)
	return AccountState{}
}

// failingStore fails every PutState of one key once n have gone through:
// the store goes away between X's answer and the write of the new pair,
// and the process dies before it could write it.
type failingStore struct {
	store.Store
	key string

	mu   sync.Mutex
	left int
}

func (f *failingStore) PutState(ctx context.Context, p store.PutStateParams) (int64, error) {
	if p.Key == f.key {
		f.mu.Lock()
		left := f.left
		f.left--
		f.mu.Unlock()
		if left <= 0 {
			return 0, errors.New("disk I/O error")
		}
	}
	return f.Store.PutState(ctx, p)
}

// TestCrashBetweenAnswerAndWrite: a process spends the refresh token at X
// and dies before the new pair is stored. The process that starts next
// finds the marker, warns that the account may need re-authorization,
// tries the stored (spent) token once, and reports reauth_required with
// X's refusal; it does not try again. A re-authorization (a new refresh
// token in the environment) makes the account good again.
func TestCrashBetweenAnswerAndWrite(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	ctx := context.Background()
	crashing := &failingStore{Store: w.store, key: tokenKey("brand"), left: 1} // the marker goes through
	p1 := w.node(crashing, nil)
	w.clk.Advance(2*time.Hour + time.Minute)
	if _, err := p1.Publish(ctx, post("brand", "one"), platform.Hooks{}); err == nil || errors.Is(err, platform.ErrReauth) {
		t.Fatalf("publish while the store fails: err = %v, want a retryable error", err)
	}
	if got := w.fake.RefreshTokenOf("1"); got == "rt-0" {
		t.Fatal("X did not rotate: the crash is not between X's answer and the write")
	}
	if m := w.storedState(); m.RefreshStarted.IsZero() || m.RefreshToken != "rt-0" {
		t.Fatalf("stored state after the crash: marker %v on %q, want a marker on rt-0", m.RefreshStarted, m.RefreshToken)
	}
	// p1 dies with the new pair in memory. The next process starts a few
	// minutes later, with rt-0 still in its environment.
	w.clk.Advance(5 * time.Minute)
	l := &logs{}
	p2 := w.node(nil, l)
	warns := l.find(t, "WARN", "may need re-authorization")
	if len(warns) != 1 || warns[0]["account"] != "brand" {
		t.Fatalf("warnings at start: %v, want one naming the account", warns)
	}
	if got := w.tokenRequests(); got[http.StatusOK] != 1 || got[http.StatusBadRequest] != 1 {
		t.Fatalf("token requests by status: %v, want the crashed refresh and one retry that X refused", got)
	}
	if errs := l.find(t, "ERROR", "needs re-authorization"); len(errs) != 1 {
		t.Errorf("errors after the refused retry: %v, want one", errs)
	}
	st := stateOf(t, p2, "brand")
	if st.State != AuthReauthRequired || !strings.Contains(st.Detail, "HTTP 400") || st.Since.IsZero() {
		t.Fatalf("state = %+v, want reauth_required with X's refusal", st)
	}
	_, err := p2.Publish(ctx, post("brand", "two"), platform.Hooks{})
	if !errors.Is(err, platform.ErrReauth) {
		t.Fatalf("publish in reauth: err = %v, want ErrReauth", err)
	}
	if got := w.tokenRequests(); got[http.StatusBadRequest] != 1 {
		t.Errorf("the refused token was sent again: %v", got)
	}

	// The operator re-authorizes.
	w.fake.AddUser(fakex.User{ID: "1", Username: "brand", AccessToken: "at-new", RefreshToken: "rt-new", ClientID: "cid", ClientSecret: "cs"})
	w.env["AT"], w.env["RT"] = "at-new", "rt-new"
	p3 := w.node(nil, nil)
	if st := stateOf(t, p3, "brand"); st.State != AuthOK {
		t.Errorf("state after re-authorization = %+v, want ok", st)
	}
	if _, err := p3.Publish(ctx, post("brand", "three"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after re-authorization: %v", err)
	}
}

// TestMarkerFoundAtStartIsTriedOnce: the process died after writing its
// marker, before X spent the token (or X's answer was lost although it
// had not). The next process warns, tries the stored token once, and X
// answers: the new pair is stored, the marker is gone, all is well.
func TestMarkerFoundAtStartIsTriedOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, w *world)
	}{
		{"answer lost", func(t *testing.T, w *world) {
			p1 := w.node(nil, nil)
			w.fake.Inject(fakex.Fault{Endpoint: fakex.EndpointToken, DropBeforeStore: true})
			w.clk.Advance(2*time.Hour + time.Minute)
			_, err := p1.Publish(context.Background(), post("brand", "one"), platform.Hooks{})
			if err == nil || errors.Is(err, platform.ErrAmbiguous) || errors.Is(err, platform.ErrReauth) {
				t.Fatalf("publish when the refresh's answer is lost: %v, want a transient error (the post was not sent)", err)
			}
			if st := stateOf(t, p1, "brand"); st.State != AuthRefreshInProgressFound {
				t.Fatalf("state after the lost answer = %+v, want refresh_in_progress_found", st)
			}
		}},
		{"died before calling X", func(t *testing.T, w *world) {
			p1 := w.node(nil, nil)
			w.clk.Advance(2*time.Hour + time.Minute)
			// What refreshLocked writes before it calls X.
			s, _ := newSealer(testKey)
			m := tokenState{AccessToken: "at-0", RefreshToken: "rt-0", Seed: seedOf(testKey, "rt-0"), RefreshStarted: w.clk.Now(), RefreshBy: "dead-process"}
			plain, _ := json.Marshal(m)
			sealed, _ := s.seal("brand", plain)
			if _, err := w.store.PutState(context.Background(), store.PutStateParams{Key: tokenKey("brand"), Value: sealed, Now: w.clk.Now()}); err != nil {
				t.Fatal(err)
			}
			if st := stateOf(t, p1, "brand"); st.State != AuthOK {
				t.Fatalf("a fresh marker = %+v, want ok (the refresh may be running)", st)
			}
			w.clk.Advance(markerStale)
			if st := stateOf(t, p1, "brand"); st.State != AuthRefreshInProgressFound {
				t.Fatalf("a stale marker = %+v, want refresh_in_progress_found", st)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := refreshWorld(t)
			tc.crash(t, w)
			l := &logs{}
			p2 := w.node(nil, l)
			if warns := l.find(t, "WARN", "may need re-authorization"); len(warns) != 1 || warns[0]["account"] != "brand" {
				t.Fatalf("warnings at start: %v, want one naming the account", warns)
			}
			if ok := l.find(t, "INFO", "the stored refresh token worked"); len(ok) != 1 {
				t.Errorf("no record that the retry worked: %v", l.records(t))
			}
			if got := w.tokenRequests(); got[http.StatusOK] != 1 || got[http.StatusBadRequest] != 0 {
				t.Fatalf("token requests by status: %v, want one retry that X answered", got)
			}
			if m := w.storedState(); !m.RefreshStarted.IsZero() || m.Unresolved != "" || m.RefreshToken != w.fake.RefreshTokenOf("1") {
				t.Fatalf("stored state after the retry: %+v, want the new pair and no marker", m)
			}
			if st := stateOf(t, p2, "brand"); st.State != AuthOK || st.Detail != "" {
				t.Errorf("state = %+v, want ok", st)
			}
			if _, err := p2.Publish(context.Background(), post("brand", "two"), platform.Hooks{}); err != nil {
				t.Fatalf("publish after the retry: %v", err)
			}
		})
	}
}

// newAuth is one process's oauth2Auth of the brand account on w's store,
// loaded as build does it.
func (w *world) newAuth(t *testing.T) *oauth2Auth {
	t.Helper()
	s, err := newSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	refresher, err := xapi.New(xapi.Options{BaseURL: w.url, Clock: w.clk})
	if err != nil {
		t.Fatal(err)
	}
	a := &oauth2Auth{account: "brand", clientID: "cid", clientSecret: "cs", refresher: refresher, st: storeTokens{w.store, w.clk}, sealer: s,
		clock: w.clk, logger: slog.New(slog.DiscardHandler), seed: seedOf(testKey, w.env["RT"])}
	if err := a.load(context.Background(), tokenState{AccessToken: w.env["AT"], RefreshToken: w.env["RT"], Seed: a.seed}); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRefreshersRace: two processes of one account (two oauth2Auth on
// one store) find the access token expired at the same instant, round
// after round. Exactly one calls X each round; the other waits for the
// pair the winner stores and uses it. X never sees a spent token, no one
// ends in reauth, and both use the latest access token.
func TestRefreshersRace(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	auths := []*oauth2Auth{w.newAuth(t), w.newAuth(t)}
	ctx := context.Background()
	const rounds = 15
	for round := range rounds {
		w.clk.Advance(2*time.Hour + time.Minute)
		var wg sync.WaitGroup
		errs := make([]error, len(auths))
		headers := make([]string, len(auths))
		start := make(chan struct{})
		for i, a := range auths {
			wg.Go(func() {
				<-start
				req, _ := http.NewRequest(http.MethodGet, w.url, nil)
				// The environment's pair has no expiry: the first round
				// refreshes after a 401; then the expiry is known.
				if round%2 == 1 {
					errs[i] = a.Authorize(ctx, req) // expiry noticed before a request
				} else if _, errs[i] = a.Refresh(ctx); errs[i] == nil { // after a 401
					errs[i] = a.Authorize(ctx, req)
				}
				headers[i] = req.Header.Get("Authorization")
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: refresher %d: %v", round, i, err)
			}
		}
		if want := "Bearer " + w.fake.AccessTokenOf("1"); headers[0] != want || headers[1] != want {
			t.Fatalf("round %d: authorizations %q, want both the latest token", round, headers)
		}
	}
	if got := w.tokenRequests(); got[http.StatusOK] != rounds || len(got) != 1 {
		t.Fatalf("token requests by status: %v, want exactly %d answered, none refused", got, rounds)
	}
	if st := w.storedState(); !st.RefreshStarted.IsZero() || st.RefreshToken != w.fake.RefreshTokenOf("1") {
		t.Errorf("stored state: %+v, want the live pair without a marker", st)
	}
}

// TestLoserOfTheSwapUsesTheWinnersPair: a refresher that read the state
// before another wrote its marker loses the compare-and-swap, rereads, and
// uses the winner's pair without calling X.
func TestLoserOfTheSwapUsesTheWinnersPair(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	winner, loser := w.newAuth(t), w.newAuth(t)
	w.clk.Advance(2*time.Hour + time.Minute)
	ctx := context.Background()
	winner.mu.Lock()
	if err := winner.refreshLocked(ctx, false); err != nil {
		t.Fatal(err)
	}
	winner.mu.Unlock()
	// The loser's view is the version before the winner's writes.
	loser.mu.Lock()
	defer loser.mu.Unlock()
	if _, err := loser.put(ctx, loser.marker(loser.tok), loser.version); !errors.Is(err, ErrTokenConflict) {
		t.Fatalf("the loser's marker over a stale version: %v, want ErrTokenConflict", err)
	}
	if err := loser.refreshLocked(ctx, false); err != nil {
		t.Fatal(err)
	}
	if loser.tok.AccessToken != winner.tok.AccessToken || loser.tok.AccessToken != w.fake.AccessTokenOf("1") {
		t.Errorf("the loser uses %q, the winner %q", loser.tok.AccessToken, winner.tok.AccessToken)
	}
	if got := w.tokenRequests(); got[http.StatusOK] != 1 || len(got) != 1 {
		t.Errorf("token requests by status: %v, want one, by the winner", got)
	}
}

// TestFreshMarkerElsewhereIsAwaited: a process that finds another's
// fresh marker does not call X; if no pair comes within the wait, its
// request fails as transient (not reauth), and the account stays ok.
func TestFreshMarkerElsewhereIsAwaited(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	a, other := w.newAuth(t), w.newAuth(t)
	a.awaitMax = 200 * time.Millisecond
	w.clk.Advance(2*time.Hour + time.Minute)
	ctx := context.Background()
	if _, err := other.put(ctx, other.marker(other.tok), other.version); err != nil {
		t.Fatal(err)
	}
	_, err := a.Refresh(ctx)
	if !errors.Is(err, errRefreshBusy) || xapi.ClassOf(err) != xapi.ClassTransient {
		t.Fatalf("Authorize = %v, want errRefreshBusy (transient)", err)
	}
	if got := w.tokenRequests(); len(got) != 0 {
		t.Errorf("X was called while another process held the marker: %v", got)
	}
}

// TestAccountStatesKinds: every configured account is reported with its
// kind of credentials and whether it publishes in dry run.
func TestAccountStatesKinds(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	w.env["CK"], w.env["CS1"], w.env["AT1"], w.env["ATS"] = "ck", "cs1", "at1", "ats"
	cfg := config(oauth2Account("brand", true), oauth2Account("plain", false),
		oauth1Account("legacy"), noCredentials("demo"))
	p := w.platform(nil)
	if err := p.Configure(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	got := p.AccountStates(context.Background())
	want := []AccountState{
		{Account: "brand", Auth: "oauth2", State: AuthOK},
		{Account: "demo", Auth: "none", DryRun: true, State: AuthOK},
		{Account: "legacy", Auth: "oauth1", State: AuthOK},
		{Account: "plain", Auth: "oauth2", State: AuthOK},
	}
	if len(got) != len(want) {
		t.Fatalf("AccountStates = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("AccountStates[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func oauth1Account(name string) *schedules.Account {
	return &schedules.Account{Name: name, Platform: "x", Limits: "current", OAuth1: &schedules.OAuth1{
		ConsumerKey: env("CK"), ConsumerSecret: env("CS1"), AccessToken: env("AT1"), AccessTokenSecret: env("ATS")}}
}

func noCredentials(name string) *schedules.Account {
	return &schedules.Account{Name: name, Platform: "x", Limits: "current"}
}
