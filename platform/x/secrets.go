package x

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/herald-social/herald/schedules"
)

// Resolver reads secrets by reference. The zero value reads the process
// environment and the file system; tests replace both.
type Resolver struct {
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
}

// Resolve returns the secret ref points to. Errors name the reference (a
// variable name or a path), never the value.
func (r Resolver) Resolve(ref schedules.SecretRef) (string, error) {
	switch ref.Scheme {
	case "env":
		lookup := r.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(ref.Name)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", ref.Name)
		}
		return v, nil
	case "file":
		read := r.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		b, err := read(ref.Name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is already in the message below
			}
			return "", fmt.Errorf("reading secret file %s: %w", ref.Name, err)
		}
		// Mounted secrets usually end with a newline the value lacks.
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", fmt.Errorf("secret file %s is empty", ref.Name)
		}
		return v, nil
	case "":
		return "", errors.New("not set")
	}
	return "", fmt.Errorf("unknown secret scheme %q", ref.Scheme)
}

// TokenKeyEnv is the environment variable holding the key that encrypts
// rotated OAuth 2.0 tokens at rest: 32 bytes, base64 or hex encoded.
const TokenKeyEnv = "HERALD_TOKEN_KEY"

// PreviousTokenKeyEnv holds the keys rotated away that still open stored
// states (never seal them), comma separated, during a rotation of
// HERALD_TOKEN_KEY (see Rekey).
const PreviousTokenKeyEnv = "HERALD_TOKEN_KEY_PREVIOUS"

// ParseTokenKey decodes a 32-byte AES-256 key written as base64 (standard
// or URL alphabet, padded or not) or as 64 hex digits.
func ParseTokenKey(s string) ([]byte, error) { return ParseTokenKeyOf(TokenKeyEnv, s) }

// ParseTokenKeyOf is ParseTokenKey for a key its errors call name (a
// variable or a file), never quoting the value.
func ParseTokenKeyOf(name, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("%s decodes to %d bytes; it must be 32 (make one with: openssl rand -base64 32)", name, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s is neither base64 nor 64 hex digits (make one with: openssl rand -base64 32)", name)
}

// Keys derived from HERALD_TOKEN_KEY. The key itself is never used: HKDF-
// SHA256 (RFC 5869) derives one key per purpose, so the key that encrypts
// the tokens is not also the key of the MAC that names the environment's
// refresh token (the seed, see oauth2Auth). Changing an info string
// changes the derived key: they are part of the stored format.
const (
	infoSealKey = "herald/x/oauth2-token-state/aes-256-gcm/v1"
	infoSeedKey = "herald/x/oauth2-seed/hmac-sha256/v1"
)

// sealedPrefix starts every state sealed with the derived key. States
// written before it (by Herald 0.x, with the key used directly) are the
// nonce and the ciphertext alone; they still open, and are written in the
// new format at the next write.
var sealedPrefix = []byte("HK1\x00")

// deriveKey derives the 32-byte key of one purpose from the token key.
func deriveKey(key []byte, info string) ([]byte, error) {
	k, err := hkdf.Key(sha256.New, key, nil, info, 32)
	if err != nil {
		return nil, fmt.Errorf("token key: deriving %s: %w", info, err)
	}
	return k, nil
}

// sealer encrypts token state with AES-256-GCM under a key derived from
// the token key. The account name is the additional data, so a ciphertext
// copied to another account's row does not decrypt.
type sealer struct {
	aead cipher.AEAD
	// legacy opens states sealed with the token key itself, and
	// legacyMAC computes their seeds (the token key): read only.
	legacy    cipher.AEAD
	legacyMAC []byte
	mac       []byte // the seed's HMAC key, derived
	// previous are the sealers of keys rotated away
	// (HERALD_TOKEN_KEY_PREVIOUS): they open states and name seeds, they
	// never seal, so that nodes keep reading the states of a rotation in
	// progress.
	previous []*sealer
}

// newSealer returns the sealer of key, which also opens what the
// previous keys sealed.
func newSealer(key []byte, previous ...[]byte) (*sealer, error) {
	s, err := newKeySealer(key)
	if err != nil {
		return nil, err
	}
	for i, k := range previous {
		p, err := newKeySealer(k)
		if err != nil {
			return nil, fmt.Errorf("previous token key %d: %w", i+1, err)
		}
		s.previous = append(s.previous, p)
	}
	return s, nil
}

func newKeySealer(key []byte) (*sealer, error) {
	sealKey, err := deriveKey(key, infoSealKey)
	if err != nil {
		return nil, err
	}
	macKey, err := deriveKey(key, infoSeedKey)
	if err != nil {
		return nil, err
	}
	aead, err := newGCM(sealKey)
	if err != nil {
		return nil, err
	}
	legacy, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead, legacy: legacy, legacyMAC: bytes.Clone(key), mac: macKey}, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return aead, nil
}

// seal encrypts in the current format: sealedPrefix, nonce, ciphertext.
func (s *sealer) seal(account string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out := append(bytes.Clone(sealedPrefix), nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(account)), nil
}

// open decrypts a state in either format, with the current key or a
// previous one.
func (s *sealer) open(account string, sealed []byte) ([]byte, error) {
	plain, _, err := s.openStale(account, sealed)
	return plain, err
}

// openStale decrypts a state with the current key or a previous one;
// stale reports a state to rewrite under the current key (sealed with a
// previous key, or in the legacy format).
func (s *sealer) openStale(account string, sealed []byte) (plain []byte, stale bool, err error) {
	plain, legacy, err := s.openFormat(account, sealed)
	if err == nil {
		return plain, legacy, nil
	}
	for _, p := range s.previous {
		if plain, _, perr := p.openFormat(account, sealed); perr == nil {
			return plain, true, nil
		}
	}
	keys := TokenKeyEnv
	if len(s.previous) > 0 {
		keys += " nor with " + PreviousTokenKeyEnv
	}
	return nil, false, fmt.Errorf("stored token state does not decrypt with %s (was the key changed?): %w", keys, err)
}

// openFormat decrypts a state in either format; legacy reports the old
// one (sealed with the token key itself).
func (s *sealer) openFormat(account string, sealed []byte) (plain []byte, legacy bool, err error) {
	if rest, ok := bytes.CutPrefix(sealed, sealedPrefix); ok {
		if plain, err := openWith(s.aead, account, rest); err == nil {
			return plain, false, nil
		}
		// An old state whose random nonce happens to begin with the
		// prefix: try it as one below.
	}
	plain, err = openWith(s.legacy, account, sealed)
	if err != nil {
		return nil, false, err // openStale says which keys were tried
	}
	return plain, true, nil
}

func openWith(aead cipher.AEAD, account string, sealed []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("stored token state is truncated")
	}
	return aead.Open(nil, sealed[:n], sealed[n:], []byte(account))
}

// seedOf names an environment refresh token without revealing it: an
// HMAC-SHA256 under the derived seed key, shortened.
func (s *sealer) seedOf(refresh string) string { return macHex(s.mac, refresh) }

// legacySeedOf is the seed as Herald computed it before key derivation
// (the HMAC keyed with the token key itself), to recognise stored states
// of that time.
func (s *sealer) legacySeedOf(refresh string) string { return macHex(s.legacyMAC, refresh) }

// oldSeedsOf are the seeds refresh had under earlier schemes and keys:
// the legacy seed, and both seeds under each previous key. A stored
// state bearing one of them descends from refresh too.
func (s *sealer) oldSeedsOf(refresh string) []string {
	seeds := []string{s.legacySeedOf(refresh)}
	for _, p := range s.previous {
		seeds = append(seeds, p.seedOf(refresh), p.legacySeedOf(refresh))
	}
	return seeds
}

// descendsFrom reports whether the stored state t comes from the
// environment's refresh token, whose current seed is seed. A state
// re-encrypted by 'herald rotate-token-key' carries the seed of a key
// this node may no longer have: it is taken as descending when no known
// seed matches, since after a rotation its pair is the live one (the
// environment's was spent by the first refresh).
func descendsFrom(t tokenState, seed string, oldSeeds []string) bool {
	return t.Seed == seed || slices.Contains(oldSeeds, t.Seed) || !t.RekeyedAt.IsZero()
}

// seedOf is the seed of refresh under the token key, as the platform asks
// for it when it builds an account.
func seedOf(key []byte, refresh string) string {
	macKey, err := deriveKey(key, infoSeedKey)
	if err != nil {
		// hkdf.Key fails only for an output longer than 255 hashes.
		panic(err)
	}
	return macHex(macKey, refresh)
}

func macHex(key []byte, msg string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))[:32]
}
