package fakex

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// User is an X account registered with the fake, with the credentials the
// fake accepts for it.
type User struct {
	// ID is the numeric user id (generated when empty); Username the
	// handle without @ (default "user" + ID); Name the display name
	// (default Username).
	ID, Username, Name string
	// AccessToken is an OAuth 2.0 user token, valid for TokenTTL from
	// AddUser; it also serves as the OAuth 1.0a access token when
	// ConsumerKey is set (that one never expires, as on X).
	AccessToken string
	// RefreshToken, if set, can be exchanged once at POST /2/oauth2/token.
	RefreshToken string
	// ClientID is the OAuth 2.0 client (the "app") the tokens belong to;
	// ClientSecret, if set, makes it a confidential client that must
	// authenticate with HTTP Basic when refreshing.
	ClientID, ClientSecret string
	// ConsumerKey and ConsumerSecret (the app's) and TokenSecret enable
	// OAuth 1.0a HMAC-SHA1 requests for this user.
	ConsumerKey, ConsumerSecret, TokenSecret string
	// TokenTTL is how long AccessToken lives: 0 means the server's
	// Options.AccessTokenTTL (2 hours by default, as X's tokens); a
	// negative TTL never expires (for demos without a refresh token).
	// Tokens issued by a refresh live Options.AccessTokenTTL.
	TokenTTL time.Duration
}

// accessTokenTTL is the life of X's OAuth 2.0 access tokens (expires_in),
// the default of Options.AccessTokenTTL.
const accessTokenTTL = 2 * time.Hour

type user struct {
	User
	refreshToken string // the one currently valid, "" when none
	accessToken  string // the latest issued
}

type accessToken struct {
	userID  string
	expires time.Time // zero: never
	revoked bool
}

type refreshToken struct {
	userID string
	spent  bool
}

// AddUser registers an account, or replaces the one with the same ID
// (its earlier tokens stay valid until they expire).
func (s *Server) AddUser(u User) { s.addUser(u) }

// addUser registers u and returns its id.
func (s *Server) addUser(u User) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if u.ID == "" {
		u.ID = s.ids.next(now)
	}
	if u.Username == "" {
		u.Username = "user" + u.ID
	}
	if u.Name == "" {
		u.Name = u.Username
	}
	rec := &user{User: u}
	s.users[u.ID] = rec
	if u.AccessToken != "" {
		at := &accessToken{userID: u.ID}
		switch {
		case u.TokenTTL == 0:
			at.expires = now.Add(s.tokenTTL)
		case u.TokenTTL > 0:
			at.expires = now.Add(u.TokenTTL)
		}
		s.access[u.AccessToken] = at
		rec.accessToken = u.AccessToken
		if u.ConsumerKey != "" {
			s.oauth1[u.AccessToken] = u.ID
		}
	}
	if u.RefreshToken != "" {
		s.refresh[u.RefreshToken] = &refreshToken{userID: u.ID}
		rec.refreshToken = u.RefreshToken
	}
	return u.ID
}

// RefreshTokenOf returns the user's currently valid refresh token ("" when
// none): tests check that each refresh rotates it.
func (s *Server) RefreshTokenOf(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		return u.refreshToken
	}
	return ""
}

// AccessTokenOf returns the user's latest OAuth 2.0 access token.
func (s *Server) AccessTokenOf(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[userID]; u != nil {
		return u.accessToken
	}
	return ""
}

// RevokeTokens revokes every OAuth 2.0 access token of the user, as
// revoking the app's access in X's settings does; requests with them then
// answer 401. The refresh token stays usable.
func (s *Server) RevokeTokens(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.access {
		if at.userID == userID {
			at.revoked = true
		}
	}
}

// authenticate finds the user a request acts for, from an OAuth 2.0
// bearer token or an OAuth 1.0a signature, and the app it comes through.
func (s *Server) authenticate(r *http.Request, now time.Time) (*user, string, bool) {
	h := r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		s.mu.Lock()
		defer s.mu.Unlock()
		at := s.access[strings.TrimSpace(cred)]
		if at == nil || at.revoked || (!at.expires.IsZero() && !now.Before(at.expires)) {
			return nil, "", false
		}
		u := s.users[at.userID]
		if u == nil {
			return nil, "", false
		}
		return u, appOf(u.ClientID), true
	case strings.EqualFold(scheme, "OAuth"):
		return s.verifyOAuth1(r, cred)
	}
	return nil, "", false
}

// appOf names the app of users registered without a client id.
func appOf(id string) string {
	if id == "" {
		return "fake-app"
	}
	return id
}

// tokenOwner is the user a refresh or revoke request is about, spent
// refresh tokens included (faults and logs still name the user).
func (s *Server) tokenOwner(tokens ...string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokens {
		if t == "" {
			continue
		}
		if rt := s.refresh[t]; rt != nil {
			return s.users[rt.userID]
		}
		if at := s.access[t]; at != nil {
			return s.users[at.userID]
		}
	}
	return nil
}

// oauthError is the body of the OAuth endpoints' errors (RFC 6749 style,
// not problem JSON).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

var errInvalidToken = oauthError{"invalid_request", "Value passed for the token was invalid."}

// token is POST /2/oauth2/token with grant_type=refresh_token: it issues a
// new access token and a NEW refresh token, and spends the old one.
func (s *Server) token(w http.ResponseWriter, r *http.Request, c *call) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "The request body could not be parsed."})
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "refresh_token" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Value passed for the grant type was invalid. The fake supports refresh_token only."})
		return
	}
	access, refresh, e, status := s.rotate(r, c.now)
	if status != http.StatusOK {
		writeJSON(w, status, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":    "bearer",
		"expires_in":    max(int(s.tokenTTL/time.Second), 1),
		"access_token":  access,
		"scope":         "tweet.read tweet.write users.read media.write offline.access",
		"refresh_token": refresh,
	})
}

// rotate spends the request's refresh token and issues new tokens.
func (s *Server) rotate(r *http.Request, now time.Time) (access, refresh string, _ oauthError, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := s.refresh[r.PostForm.Get("refresh_token")]
	if rt == nil || rt.spent {
		return "", "", errInvalidToken, http.StatusBadRequest
	}
	u := s.users[rt.userID]
	if e, status, ok := clientAuthenticated(r, u); !ok {
		return "", "", e, status
	}
	rt.spent = true
	access, refresh = newToken(), newToken()
	s.access[access] = &accessToken{userID: u.ID, expires: now.Add(s.tokenTTL)}
	s.refresh[refresh] = &refreshToken{userID: u.ID}
	u.accessToken, u.refreshToken = access, refresh
	return access, refresh, oauthError{}, http.StatusOK
}

// clientAuthenticated checks the client of a token request: HTTP Basic
// with the client secret for a confidential client, the client_id form
// value for a public one.
func clientAuthenticated(r *http.Request, u *user) (oauthError, int, bool) {
	if u.ClientSecret != "" {
		id, secret, ok := r.BasicAuth()
		if !ok || id != u.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(u.ClientSecret)) != 1 {
			return oauthError{"unauthorized_client", "Missing valid authorization header"}, http.StatusUnauthorized, false
		}
		return oauthError{}, 0, true
	}
	id := r.PostForm.Get("client_id")
	if id == "" {
		return oauthError{"invalid_request", "Missing required parameter [client_id]."}, http.StatusBadRequest, false
	}
	if u.ClientID != "" && id != u.ClientID {
		return errInvalidToken, http.StatusBadRequest, false
	}
	return oauthError{}, 0, true
}

// revoke is POST /2/oauth2/revoke: it revokes an access or refresh token.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request, c *call) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "The request body could not be parsed."})
		return
	}
	t := r.PostForm.Get("token")
	s.mu.Lock()
	if at := s.access[t]; at != nil {
		at.revoked = true
	} else if rt := s.refresh[t]; rt != nil {
		rt.spent = true
		if u := s.users[rt.userID]; u != nil && u.refreshToken == t {
			u.refreshToken = ""
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

// newToken returns a random opaque token.
func newToken() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
