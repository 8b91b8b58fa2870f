package main

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/engine"
	"github.com/herald-social/herald/platform/x"
	"github.com/herald-social/herald/platform/x/fakex"
	"github.com/herald-social/herald/store"
	"github.com/herald-social/herald/store/open"
)

var (
	rotateOldKey   = bytes.Repeat([]byte{1}, 32)
	rotateNewKey   = bytes.Repeat([]byte{2}, 32)
	rotateOtherKey = bytes.Repeat([]byte{3}, 32)
)

func b64(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

// sealedUnder seals a token state for account under key in the current
// format, through package x's API alone: sealed in Herald 0.x's format
// under a scratch key, then re-keyed.
func sealedUnder(t *testing.T, account string, key []byte) []byte {
	t.Helper()
	scratch := bytes.Repeat([]byte{9}, 32)
	block, _ := aes.NewCipher(scratch)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	legacy := gcm.Seal(nonce, nonce, []byte(`{"access_token":"at-`+account+`","refresh_token":"rt-`+account+`","seed":"s"}`), []byte(account))
	sealed, err := x.Rekey(account, legacy, scratch, key, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

// opensWith reports whether key opens the account's stored state.
func opensWith(t *testing.T, db, account string, key []byte) bool {
	t.Helper()
	st, err := open.Open(context.Background(), db, open.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cur, err := st.GetState(context.Background(), engine.TokenStateKey(account))
	if err != nil {
		t.Fatal(err)
	}
	_, err = x.Rekey(account, cur.Value, key, rotateOtherKey, time.Now())
	return err == nil
}

// TestRotateTokenKey seeds two accounts' states under the old key (and
// none for a third), re-encrypts them, runs again, and tries a wrong key.
func TestRotateTokenKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "herald.db")
	ctx := context.Background()
	st, err := open.Open(ctx, db, open.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"alpha", "beta"} {
		if _, err := st.PutState(ctx, store.PutStateParams{Key: engine.TokenStateKey(a), Value: sealedUnder(t, a, rotateOldKey), Now: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	plan := writeFile(t, dir, "plan.yaml", `accounts:
  alpha: {platform: x, oauth2: {access_token: env:A, refresh_token: env:RA, client_id: env:C}}
  gamma: {platform: x, oauth2: {access_token: env:G}}
schedules: []
`)
	run := func(oldKey, newKey []byte) result {
		env := []string{"HERALD_TOKEN_KEY=" + b64(oldKey), "HERALD_NEW_TOKEN_KEY=" + b64(newKey)}
		return heraldEnv(t, dir, env, "rotate-token-key", "--db", db, "--config", plan, "beta")
	}

	r := run(rotateOldKey, rotateNewKey)
	if r.code != exitOK || !strings.Contains(r.stdout, "alpha: re-encrypted") || !strings.Contains(r.stdout, "beta: re-encrypted") ||
		!strings.Contains(r.stdout, "gamma: no stored tokens") || !strings.Contains(r.stdout, "2 re-encrypted, 0 already under the new key, 1 without stored tokens, 0 failed") {
		t.Fatalf("first run: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, a := range []string{"alpha", "beta"} {
		if !opensWith(t, db, a, rotateNewKey) || opensWith(t, db, a, rotateOldKey) {
			t.Errorf("%s: the state does not open with the new key alone", a)
		}
	}

	r = run(rotateOldKey, rotateNewKey)
	if r.code != exitOK || !strings.Contains(r.stdout, "0 re-encrypted, 2 already under the new key") {
		t.Errorf("second run: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	r = run(rotateOtherKey, bytes.Repeat([]byte{4}, 32))
	if r.code != exitCheck || !strings.Contains(r.stderr, "account alpha: the stored tokens open with neither the current key nor the new one") ||
		!strings.Contains(r.stdout, "2 failed") {
		t.Errorf("wrong old key: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if !opensWith(t, db, "alpha", rotateNewKey) {
		t.Error("a failed run changed the entry")
	}
	for _, k := range [][]byte{rotateOldKey, rotateNewKey, rotateOtherKey} {
		if out := r.stdout + r.stderr; strings.Contains(out, b64(k)) {
			t.Error("a key reached the output")
		}
	}
}

func TestRotateTokenKeyUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "herald.db")
	keyFile := writeFile(t, dir, "new.key", b64(rotateNewKey)+"\n")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no current key", []string{"HERALD_NEW_TOKEN_KEY=" + b64(rotateNewKey)}, []string{"a"}, "the current key: HERALD_TOKEN_KEY is not set"},
		{"no new key", []string{"HERALD_TOKEN_KEY=" + b64(rotateOldKey)}, []string{"a"}, "the new key: HERALD_NEW_TOKEN_KEY is not set"},
		{"bad new key", []string{"HERALD_TOKEN_KEY=" + b64(rotateOldKey), "HERALD_NEW_TOKEN_KEY=short"}, []string{"a"}, "the new key: HERALD_NEW_TOKEN_KEY is neither base64"},
		{"same keys", []string{"HERALD_TOKEN_KEY=" + b64(rotateNewKey)}, []string{"--new-key-file", keyFile, "a"}, "the current and the new key are the same"},
		{"missing key file", []string{"HERALD_TOKEN_KEY=" + b64(rotateOldKey)}, []string{"--new-key-file", filepath.Join(dir, "nope"), "a"}, "--new-key-file:"},
		{"no accounts", []string{"HERALD_TOKEN_KEY=" + b64(rotateOldKey)}, []string{"--new-key-file", keyFile}, "no accounts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := heraldEnv(t, dir, tc.env, append([]string{"rotate-token-key", "--db", db}, tc.args...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
}

// TestServePreviousTokenKeyUsage: a bad HERALD_TOKEN_KEY_PREVIOUS is a
// usage error naming the variable and the key's position, not its value.
func TestServePreviousTokenKeyUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plan := writeFile(t, dir, "plan.yaml", "accounts: {}\nschedules: []\n")
	for _, tc := range []struct{ env, want string }{
		{"HERALD_TOKEN_KEY=" + b64(rotateNewKey) + "\x00HERALD_TOKEN_KEY_PREVIOUS=" + b64(rotateOldKey) + ",c2VjcmV0", "HERALD_TOKEN_KEY_PREVIOUS (key 2) decodes to 6 bytes"},
		{"HERALD_TOKEN_KEY_PREVIOUS=" + b64(rotateOldKey), "HERALD_TOKEN_KEY_PREVIOUS is set but HERALD_TOKEN_KEY is not"},
	} {
		r := heraldEnv(t, dir, strings.Split(tc.env, "\x00"), "serve", "--config", plan, "--db", "sqlite:"+filepath.Join(dir, "h.db"), "--listen", "127.0.0.1:0")
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "c2VjcmV0") {
			t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", r.code, r.stderr, tc.want)
		}
	}
}

// TestServeWithPreviousTokenKey: a node restarted with a new key and the
// old one as HERALD_TOKEN_KEY_PREVIOUS uses the state sealed under the old
// key (the environment's refresh token is spent), rewrites it under the
// new key, so that the rotation command finds nothing left to do.
func TestServeWithPreviousTokenKey(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Parallel()
	w := newXWorld(t, fakex.Options{})
	w.fake.AddUser(fakex.User{ID: "77", Username: "rot", AccessToken: "at-0", RefreshToken: "rt-0", ClientID: "client-1", ClientSecret: "secret-1"})
	base := []string{"X_ROT_ACCESS=at-0", "X_ROT_REFRESH=rt-0", "X_CLIENT_ID=client-1", "X_CLIENT_SECRET=secret-1"}
	plan := `accounts:
  rot:
    platform: x
    oauth2: {access_token: env:X_ROT_ACCESS, refresh_token: env:X_ROT_REFRESH, client_id: env:X_CLIENT_ID, client_secret: env:X_CLIENT_SECRET}
schedules:
  - {id: tick, account: rot, cron: "*/2 * * * * *", post: {text: "tick {{ .Run }}"}}
`
	w.clk.Advance(2*time.Hour + time.Minute) // at-0 expires at the fake
	n := w.start(append(base, "HERALD_TOKEN_KEY="+b64(rotateOldKey)), plan)
	n.waitLog("refresh", 30*time.Second, msgIs("oauth2: token refreshed and stored", "account", "rot"))
	stopClean(t, n)

	w.clk.Advance(2*time.Hour + time.Minute) // the stored access token expires too
	n2 := w.start(append(base, "HERALD_TOKEN_KEY="+b64(rotateNewKey), "HERALD_TOKEN_KEY_PREVIOUS="+b64(rotateOtherKey)+","+b64(rotateOldKey)), plan)
	n2.waitLog("rewrite", 30*time.Second, msgIs("oauth2: stored tokens rewritten under the current token key", "account", "rot"))
	n2.waitLog("refresh after the restart", 30*time.Second, msgIs("oauth2: token refreshed and stored", "account", "rot"))
	mark := time.Now()
	n2.waitLog("a post after the restart", 30*time.Second, func(l map[string]any) bool {
		return l["msg"] == "job transition" && l["to"] == "succeeded" && logTime(t, l).After(mark)
	})
	stopClean(t, n2)
	for _, r := range w.fake.Requests() {
		if r.Endpoint == "POST /2/oauth2/token" && r.Status != http.StatusOK {
			t.Errorf("a refresh was refused (%d): the spent environment token was used", r.Status)
		}
	}
	r := heraldEnv(t, w.dir, []string{"HERALD_TOKEN_KEY=" + b64(rotateOldKey), "HERALD_NEW_TOKEN_KEY=" + b64(rotateNewKey)},
		"rotate-token-key", "--db", w.db, "rot")
	if r.code != exitOK || !strings.Contains(r.stdout, "rot: already under the new key") {
		t.Errorf("rotation after the node rewrote: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

// racingStore writes the entry once between the command's read and its
// write, as a node refreshing meanwhile would.
type racingStore struct {
	store.Store
	t       *testing.T
	account string
	raced   bool
}

func (r *racingStore) PutState(ctx context.Context, p store.PutStateParams) (int64, error) {
	if !r.raced {
		r.raced = true
		if _, err := r.Store.PutState(ctx, store.PutStateParams{Key: p.Key, Value: sealedUnder(r.t, r.account, rotateOldKey), Version: p.Version, Now: p.Now}); err != nil {
			r.t.Fatal(err)
		}
	}
	return r.Store.PutState(ctx, p)
}

// TestRotateAccountRereadsOnConflict: a node's write between the read
// and the write makes the compare-and-swap fail; the entry is read again
// and what the node wrote is re-encrypted.
func TestRotateAccountRereadsOnConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := open.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "herald.db"), open.Options{Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key := engine.TokenStateKey("alpha")
	if _, err := st.PutState(ctx, store.PutStateParams{Key: key, Value: sealedUnder(t, "alpha", rotateOldKey), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	racing := &racingStore{Store: st, t: t, account: "alpha"}
	got, err := rotateAccount(ctx, racing, "alpha", rotateOldKey, rotateNewKey, time.Now)
	if err != nil || got != rotated || !racing.raced {
		t.Fatalf("rotateAccount = %v, %v (raced %v), want re-encrypted after a reread", got, err, racing.raced)
	}
	cur, err := st.GetState(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != 3 {
		t.Errorf("version %d, want 3: the seed, the node's write, the rotation", cur.Version)
	}
	if _, err := x.Rekey("alpha", cur.Value, rotateNewKey, rotateOtherKey, time.Now()); err != nil {
		t.Errorf("the entry does not open with the new key: %v", err)
	}
}
