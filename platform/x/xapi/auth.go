package xapi

import (
	"context"
	"net/http"
)

// Auth authorizes requests. Implementations are safe for concurrent use.
type Auth interface {
	// Authorize sets the Authorization header of req. The body of req,
	// when it has one, can be read through req.GetBody (signers such as
	// OAuth 1.0a sign form bodies, never JSON or multipart ones).
	Authorize(ctx context.Context, req *http.Request) error
	// Refresh is called once after a 401 answer; it returns true when new
	// credentials are in place and the request should be tried once more,
	// false when it cannot refresh (OAuth 1.0a, no refresh token). An
	// error's class (ClassOf) becomes the class of the failed request.
	Refresh(ctx context.Context) (bool, error)
}

// BearerToken authorizes with a fixed OAuth 2.0 user access token. It
// cannot refresh: a 401 is ClassReauth. Refreshing auths (a token store
// behind a lock) implement Auth themselves, using Client.RefreshToken.
func BearerToken(token string) Auth { return bearer(token) }

type bearer string

func (b bearer) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+string(b))
	return nil
}

func (bearer) Refresh(context.Context) (bool, error) { return false, nil }

// String hides the token from fmt and loggers.
func (bearer) String() string { return "xapi.BearerToken(***)" }
