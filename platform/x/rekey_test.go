package x

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/dryrun"
	"github.com/herald-social/herald/store"
)

var newTestKey = bytes.Repeat([]byte{0x5a}, 32)

// refreshedUnder has a node with key refresh brand's token once (rt-0 is
// spent at X from then on) and lets the stored access token expire: only
// the stored refresh token can publish now.
func refreshedUnder(t *testing.T, w *world, key []byte) {
	t.Helper()
	ctx := context.Background()
	w.clk.Advance(2*time.Hour + time.Minute)
	if _, err := w.nodeKeys(nil, nil, key).Publish(ctx, post("brand", "before the rotation"), platform.Hooks{}); err != nil {
		t.Fatalf("publish before the rotation: %v", err)
	}
	w.clk.Advance(2*time.Hour + time.Minute)
}

// publishesWithoutRefusal publishes with p and checks that X refused no
// refresh token (the environment's rt-0 is spent: using it would be).
func publishesWithoutRefusal(t *testing.T, w *world, p *Platform, text string) {
	t.Helper()
	if _, err := p.Publish(context.Background(), post("brand", text), platform.Hooks{}); err != nil {
		t.Fatalf("publish %q: %v", text, err)
	}
	for status, n := range w.tokenRequests() {
		if status != http.StatusOK {
			t.Fatalf("X answered %d token requests with %d: a spent refresh token was used", n, status)
		}
	}
}

// TestPreviousKeyOpensAndRewrites: a node with a new token key and the
// old one as previous key uses the state sealed under the old key, and
// rewrites it under the new key and seed, so that the previous key can be
// dropped.
func TestPreviousKeyOpensAndRewrites(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	refreshedUnder(t, w, testKey)

	l := &logs{}
	publishesWithoutRefusal(t, w, w.nodeKeys(nil, l, newTestKey, testKey), "with the previous key")
	if len(l.find(t, "INFO", "rewritten under the current token key")) != 1 {
		t.Error("the load did not log the rewrite")
	}
	got := w.storedStateKey(newTestKey)
	if got.Seed != seedOf(newTestKey, "rt-0") || !got.RekeyedAt.IsZero() {
		t.Errorf("rewritten state: seed %q rekeyed %v, want the new key's seed", got.Seed, got.RekeyedAt)
	}
	st, _ := w.store.GetState(context.Background(), tokenKey("brand"))
	if old, _ := newSealer(testKey); old != nil {
		if _, err := old.open("brand", st.Value); err == nil {
			t.Error("the rewritten state still opens with the old key")
		}
	}
	// The previous key dropped: a restart still uses the stored pair.
	w.clk.Advance(2*time.Hour + time.Minute)
	publishesWithoutRefusal(t, w, w.nodeKeys(nil, nil, newTestKey), "after dropping the previous key")
}

// TestWithoutPreviousKeyFailsClearly: a node with only a new key cannot
// open the old state and says which variables to set.
func TestWithoutPreviousKeyFailsClearly(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	refreshedUnder(t, w, testKey)
	p, err := New(Options{BaseURL: w.url, Store: storeTokens{w.store, w.clk}, TokenKey: newTestKey, Clock: w.clk,
		Secrets: Resolver{LookupEnv: func(k string) (string, bool) { v, ok := w.env[k]; return v, ok }},
		DryRun:  dryrun.New(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Configure(context.Background(), config(oauth2Account("brand", true)))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(TokenKeyEnv)) {
		t.Fatalf("Configure with only a new key = %v, want an error naming %s", err, TokenKeyEnv)
	}
	s, _ := newSealer(newTestKey, bytes.Repeat([]byte{1}, 32))
	st, _ := w.store.GetState(context.Background(), tokenKey("brand"))
	if _, err := s.open("brand", st.Value); err == nil || !bytes.Contains([]byte(err.Error()), []byte(PreviousTokenKeyEnv)) {
		t.Errorf("open with wrong previous keys = %v, want an error naming %s", err, PreviousTokenKeyEnv)
	}
}

// TestRekeyedStateIsUsed: after Rekey, a node with only the new key uses
// the stored pair (its seed is of the old key) and rewrites the seed.
func TestRekeyedStateIsUsed(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	refreshedUnder(t, w, testKey)
	ctx := context.Background()
	st, err := w.store.GetState(ctx, tokenKey("brand"))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Rekey("brand", st.Value, testKey, newTestKey, w.clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.PutState(ctx, store.PutStateParams{Key: tokenKey("brand"), Value: sealed, Version: st.Version, Now: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}
	if got := w.storedStateKey(newTestKey); got.RekeyedAt.IsZero() || got.Seed != seedOf(testKey, "rt-0") {
		t.Fatalf("rekeyed state: rekeyed %v seed %q, want marked and the old seed", got.RekeyedAt, got.Seed)
	}
	publishesWithoutRefusal(t, w, w.nodeKeys(nil, nil, newTestKey), "after the rotation")
	if got := w.storedStateKey(newTestKey); !got.RekeyedAt.IsZero() || got.Seed != seedOf(newTestKey, "rt-0") {
		t.Errorf("state after a node loaded it: rekeyed %v seed %q, want the mark cleared and the new seed", got.RekeyedAt, got.Seed)
	}
}

func TestRekey(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	old, _ := newSealer(testKey)
	plain := []byte(`{"access_token":"at","refresh_token":"rt","seed":"s","from_the_future":7}`)
	sealed, err := old.seal("brand", plain)
	if err != nil {
		t.Fatal(err)
	}
	rekeyed, err := Rekey("brand", sealed, testKey, newTestKey, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.open("brand", rekeyed); err == nil {
		t.Error("the rekeyed state opens with the old key")
	}
	nw, _ := newSealer(newTestKey)
	got, err := nw.open("brand", rekeyed)
	if err != nil {
		t.Fatalf("the rekeyed state does not open with the new key: %v", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(got, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["refresh_token"] != "rt" || fields["from_the_future"] != float64(7) || fields["rekeyed_at"] != "2026-12-07T12:00:00Z" {
		t.Errorf("rekeyed state = %v, want its fields kept and rekeyed_at set", fields)
	}
	other := bytes.Repeat([]byte{9}, 32)
	for _, tc := range []struct {
		name           string
		sealed         []byte
		oldKey, newKey []byte
		want           error
	}{
		{"a second run", rekeyed, testKey, newTestKey, ErrAlreadyRekeyed},
		{"a wrong old key", sealed, other, newTestKey, ErrWrongOldKey},
		{"another account's state", sealed, testKey, newTestKey, nil}, // account below
	} {
		account := "brand"
		if tc.want == nil {
			account, tc.want = "other", ErrWrongOldKey
		}
		if _, err := Rekey(account, tc.sealed, tc.oldKey, tc.newKey, now); !errors.Is(err, tc.want) {
			t.Errorf("%s: Rekey = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := Rekey("brand", sealed, testKey, testKey, now); err == nil {
		t.Error("Rekey with the same old and new key succeeded")
	}
}
