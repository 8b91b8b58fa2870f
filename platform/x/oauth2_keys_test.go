package x

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/herald-social/herald/platform"
	"github.com/herald-social/herald/platform/x/xapi"
	"github.com/herald-social/herald/store"
)

// TestLegacySealedStateOpensAndIsRewritten: a state written before keys
// were derived (sealed with HERALD_TOKEN_KEY itself, its seed an HMAC
// keyed with it) still opens and is used; the next write is in the new
// format, which the key itself no longer opens.
func TestLegacySealedStateOpensAndIsRewritten(t *testing.T) {
	t.Parallel()
	w := refreshWorld(t)
	ctx := context.Background()
	// Before the upgrade, Herald rotated rt-0 (now spent at X); at-0 has
	// expired since. Only the stored pair can publish.
	w.clk.Advance(2*time.Hour - time.Minute)
	refresher, err := xapi.New(xapi.Options{BaseURL: w.url, Clock: w.clk})
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := refresher.RefreshToken(ctx, xapi.RefreshRequest{ClientID: "cid", ClientSecret: "cs", RefreshToken: "rt-0"})
	if err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(2 * time.Minute)
	mac := hmac.New(sha256.New, testKey)
	mac.Write([]byte("rt-0"))
	legacy := tokenState{AccessToken: rotated.AccessToken, RefreshToken: rotated.RefreshToken, ExpiresAt: rotated.ExpiresAt, Seed: hex.EncodeToString(mac.Sum(nil))[:32]}
	plain, _ := json.Marshal(legacy)
	block, _ := aes.NewCipher(testKey)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := gcm.Seal(nonce, nonce, plain, []byte("brand"))
	if _, err := w.store.PutState(ctx, store.PutStateParams{Key: tokenKey("brand"), Value: sealed, Now: w.clk.Now()}); err != nil {
		t.Fatal(err)
	}

	p := w.node(nil, nil)
	if _, err := p.Publish(ctx, post("brand", "with the stored access token"), platform.Hooks{}); err != nil {
		t.Fatalf("publish with the legacy state's token: %v", err)
	}
	w.clk.Advance(2*time.Hour + time.Minute)
	if _, err := p.Publish(ctx, post("brand", "after a refresh of the stored token"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after the refresh: %v", err)
	}
	if got := w.tokenRequests(); got[http.StatusOK] != 2 || len(got) != 1 {
		t.Fatalf("token requests by status: %v, want two answered (before and after the upgrade), none refused", got)
	}
	st, err := w.store.GetState(ctx, tokenKey("brand"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(st.Value, sealedPrefix) {
		t.Error("the state was not rewritten in the new format")
	}
	if _, err := gcm.Open(nil, st.Value[len(sealedPrefix):][:gcm.NonceSize()], st.Value[len(sealedPrefix)+gcm.NonceSize():], []byte("brand")); err == nil {
		t.Error("the new state opens with the token key itself: the encryption key is not derived")
	}
	if got := w.storedState(); got.Seed != seedOf(testKey, "rt-0") || got.Seed == legacy.Seed || got.RefreshToken != w.fake.RefreshTokenOf("1") {
		t.Errorf("rewritten state: seed %q (legacy %q), want the derived seed and the new pair", got.Seed, legacy.Seed)
	}
	// A restart reads the new format.
	w.clk.Advance(2*time.Hour + time.Minute)
	if _, err := w.node(nil, nil).Publish(ctx, post("brand", "after a restart"), platform.Hooks{}); err != nil {
		t.Fatalf("publish after a restart: %v", err)
	}
}

// TestDerivedKeys: the encryption key and the seed's MAC key are derived
// from the token key, differ from it and from each other.
func TestDerivedKeys(t *testing.T) {
	t.Parallel()
	s, err := newSealer(testKey)
	if err != nil {
		t.Fatal(err)
	}
	seal, _ := deriveKey(testKey, infoSealKey)
	if bytes.Equal(seal, testKey) || bytes.Equal(seal, s.mac) || bytes.Equal(s.mac, testKey) {
		t.Error("derived keys equal the token key or each other")
	}
	if s.seedOf("rt") == s.legacySeedOf("rt") || s.seedOf("rt") != seedOf(testKey, "rt") {
		t.Error("seeds: the derived seed must differ from the legacy one and match seedOf")
	}
	other, _ := newSealer(bytes.Repeat([]byte{7}, 32))
	sealed, _ := s.seal("a", []byte("tokens"))
	if _, err := other.open("a", sealed); err == nil {
		t.Error("a state opened with another key")
	}
}
