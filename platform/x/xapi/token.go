package xapi

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// RefreshRequest asks for new OAuth 2.0 tokens.
type RefreshRequest struct {
	ClientID string
	// ClientSecret is set for confidential clients only: it is then sent
	// as HTTP Basic credentials with ClientID.
	ClientSecret string
	RefreshToken string
}

// Token is a pair of OAuth 2.0 user tokens.
type Token struct {
	AccessToken string
	// RefreshToken is the NEW refresh token: X rotates it at each refresh
	// and the old one stops working, so it must be stored before the
	// access token is used. Should X not return one, this is the old one,
	// still valid (RFC 6749 6).
	RefreshToken string
	// ExpiresAt is the Clock's now plus expires_in (zero when X does not
	// say).
	ExpiresAt time.Time
	// Scope is the space-separated list of granted scopes.
	Scope string
}

// String hides the tokens from fmt and loggers.
func (t Token) String() string { return "xapi.Token{expires " + t.ExpiresAt.Format(time.RFC3339) + "}" }

// RefreshToken exchanges a refresh token for new tokens: POST
// {BaseURL}/2/oauth2/token with the form grant_type=refresh_token,
// refresh_token and client_id, and HTTP Basic client_id:client_secret when
// a secret is given. It needs no Auth. A spent or invalid refresh token
// (400 invalid_request or invalid_grant) is an *Error of ClassReauth; an
// answer lost after the request was written, or a 5xx answer, is
// ClassAmbiguous, because X may have spent the refresh token.
func (c *Client) RefreshToken(ctx context.Context, r RefreshRequest) (Token, error) {
	if r.ClientID == "" || r.RefreshToken == "" {
		return Token{}, &Error{Endpoint: EndpointToken, Class: ClassReauth,
			Detail: "invalid request: a client id and a refresh token are needed"}
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {r.RefreshToken},
		"client_id":     {r.ClientID},
	}
	cl := call{endpoint: EndpointToken, method: http.MethodPost, path: "/2/oauth2/token",
		body: []byte(form.Encode()), contentType: "application/x-www-form-urlencoded", noAuth: true}
	if r.ClientSecret != "" {
		cl.basicUser, cl.basicPass = r.ClientID, r.ClientSecret
	}
	var resp struct {
		TokenType    string `json:"token_type"`
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		Scope        string `json:"scope"`
	}
	if err := c.do(ctx, cl, &resp); err != nil {
		return Token{}, err
	}
	if resp.AccessToken == "" {
		// The refresh token may be spent and we hold nothing new.
		return Token{}, &Error{Endpoint: EndpointToken, Status: http.StatusOK, Class: ClassAmbiguous,
			Detail: "answer without an access token"}
	}
	t := Token{AccessToken: resp.AccessToken, RefreshToken: resp.RefreshToken, Scope: resp.Scope}
	if t.RefreshToken == "" {
		t.RefreshToken = r.RefreshToken
	}
	if resp.ExpiresIn > 0 {
		t.ExpiresAt = c.clock.Now().Add(time.Duration(resp.ExpiresIn) * time.Second)
	}
	return t, nil
}
