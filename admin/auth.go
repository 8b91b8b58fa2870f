package admin

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"connectrpc.com/connect"

	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

// Role is what a token may do: read, or everything (admin).
type Role string

// The roles, as written in token lines (a contract).
const (
	RoleRead  Role = "read"
	RoleAdmin Role = "admin"
)

// Caller is who made a request: the role of the token and a name for logs
// (where the token came from, never the token).
type Caller struct {
	Role Role
	Name string
}

type callerKey struct{}

func callerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Tokens are the accepted bearer tokens. Only their SHA-256 hashes are
// kept, and a presented token is compared with every one of them in
// constant time, so neither memory dumps nor timing reveal them.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	hash   [sha256.Size]byte
	caller Caller
}

// ParseTokens reads token lines, ROLE:TOKEN, where ROLE is read or admin.
// Lines may also be separated by commas (convenient in an environment
// variable); blank lines and lines starting with # are skipped. Errors name
// the source and line, never the token.
func ParseTokens(text, source string) (*Tokens, error) {
	t := &Tokens{}
	if err := t.Add(text, source); err != nil {
		return nil, err
	}
	return t, nil
}

// Add parses more token lines into t.
func (t *Tokens) Add(text, source string) error {
	var errs []error
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		for i, entry := range strings.Split(sc.Text(), ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" || strings.HasPrefix(entry, "#") {
				continue
			}
			where := fmt.Sprintf("%s:%d", source, line)
			if i > 0 {
				where += fmt.Sprintf(" (entry %d)", i+1)
			}
			role, token, ok := strings.Cut(entry, ":")
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("%s: want ROLE:TOKEN with ROLE read or admin (the value is not shown)", where))
			case Role(role) != RoleRead && Role(role) != RoleAdmin:
				errs = append(errs, fmt.Errorf("%s: role %q is neither read nor admin", where, role))
			case len(token) < 16:
				errs = append(errs, fmt.Errorf("%s: the token is %d characters; use at least 16 (for example: openssl rand -hex 32)", where, len(token)))
			default:
				t.entries = append(t.entries, tokenEntry{hash: sha256.Sum256([]byte(token)), caller: Caller{Role: Role(role), Name: where}})
			}
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", source, err))
	}
	return errors.Join(errs...)
}

// Len is the number of tokens.
func (t *Tokens) Len() int {
	if t == nil {
		return 0
	}
	return len(t.entries)
}

// Check finds the caller of a presented token.
func (t *Tokens) Check(token string) (Caller, bool) {
	h := sha256.Sum256([]byte(token))
	var found Caller
	match := 0
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(h[:], e.hash[:]) == 1 {
			found, match = e.caller, 1
		}
	}
	return found, match == 1
}

// Authenticate finds the caller of an Authorization header's bearer
// token. When there is none, reason says why (no header, not a bearer
// token, an unknown token), in words fit for the client and the log.
func (t *Tokens) Authenticate(authorization string) (caller Caller, reason string) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if authorization == "" {
		return Caller{}, "no bearer token (Authorization: Bearer TOKEN)"
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Caller{}, "the Authorization header is not a bearer token"
	}
	caller, ok = t.Check(strings.TrimSpace(token))
	if !ok {
		return Caller{}, "unknown token"
	}
	return caller, ""
}

// mutations are the procedures that change something: they need admin.
var mutations = map[string]bool{
	adminv1connect.AdminServicePauseScheduleProcedure:   true,
	adminv1connect.AdminServiceResumeScheduleProcedure:  true,
	adminv1connect.AdminServiceTriggerScheduleProcedure: true,
	adminv1connect.AdminServiceCancelJobProcedure:       true,
	adminv1connect.AdminServiceRetryJobProcedure:        true,
	adminv1connect.AdminServiceReloadProcedure:          true,
}

// authInterceptor checks every call's bearer token: unauthenticated
// without a known one, permission denied for a read token on a mutation.
// With no tokens configured every call passes (the engine then listens on
// loopback only).
type authInterceptor struct {
	tokens *Tokens
	logger *slog.Logger
}

// NewAuthInterceptor returns the interceptor that authenticates calls.
func NewAuthInterceptor(tokens *Tokens, logger *slog.Logger) connect.Interceptor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &authInterceptor{tokens: tokens, logger: logger}
}

func (a *authInterceptor) authorize(ctx context.Context, procedure, peer string, header func(string) string) (context.Context, error) {
	if a.tokens.Len() == 0 {
		return context.WithValue(ctx, callerKey{}, Caller{Role: RoleAdmin, Name: "no tokens configured"}), nil
	}
	fail := func(code connect.Code, reason string, caller string) error {
		attrs := []slog.Attr{slog.String("procedure", procedure), slog.String("peer", peer), slog.String("reason", reason)}
		if caller != "" {
			attrs = append(attrs, slog.String("caller", caller))
		}
		a.logger.LogAttrs(ctx, slog.LevelWarn, "admin API: request refused", attrs...)
		return connect.NewError(code, errors.New(reason))
	}
	caller, reason := a.tokens.Authenticate(header("Authorization"))
	if reason != "" {
		return ctx, fail(connect.CodeUnauthenticated, reason, "")
	}
	if mutations[procedure] && caller.Role != RoleAdmin {
		return ctx, fail(connect.CodePermissionDenied, "this method needs an admin token; the token given is read-only", caller.Name)
	}
	return context.WithValue(ctx, callerKey{}, caller), nil
}

func (a *authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := a.authorize(ctx, req.Spec().Procedure, req.Peer().Addr, req.Header().Get)
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (a *authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a *authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := a.authorize(ctx, conn.Spec().Procedure, conn.Peer().Addr, conn.RequestHeader().Get)
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}
