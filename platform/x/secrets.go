package x

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
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

// ParseTokenKey decodes a 32-byte AES-256 key written as base64 (standard
// or URL alphabet, padded or not) or as 64 hex digits.
func ParseTokenKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != 32 {
				return nil, fmt.Errorf("%s decodes to %d bytes; it must be 32 (make one with: openssl rand -base64 32)", TokenKeyEnv, len(b))
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("%s is neither base64 nor 64 hex digits (make one with: openssl rand -base64 32)", TokenKeyEnv)
}

// sealer encrypts token state with AES-256-GCM. The account name is the
// additional data, so a ciphertext copied to another account's row does
// not decrypt.
type sealer struct{ aead cipher.AEAD }

func newSealer(key []byte) (*sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(account string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(account)), nil
}

func (s *sealer) open(account string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("stored token state is truncated")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(account))
	if err != nil {
		return nil, fmt.Errorf("stored token state does not decrypt with %s (was the key changed?): %w", TokenKeyEnv, err)
	}
	return plain, nil
}
