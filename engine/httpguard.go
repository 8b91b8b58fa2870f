package engine

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

// Limits of the HTTP surface. Admin API requests are ids and filters, a
// few hundred bytes: these bounds are generous for them and small for an
// attacker.
const (
	// maxRequestBody caps a request's body as sent (compressed or not).
	maxRequestBody = 1 << 20
	// maxMessageBytes caps an API message once decompressed (connect's
	// WithReadMaxBytes: it stops inflating past it).
	maxMessageBytes = 4 << 20
	// readHeaderTimeout cuts a client that trickles its headers.
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds reading a whole request, body included.
	readTimeout = 30 * time.Second
	// writeTimeout bounds a unary answer; the event stream lifts it.
	writeTimeout = 2 * time.Minute
	idleTimeout  = 2 * time.Minute
)

// streamProcedures are the API paths that stay open as long as the client
// does: the server's read and write deadlines do not apply to them.
var streamProcedures = map[string]bool{
	adminv1connect.AdminServiceWatchJobEventsProcedure: true,
}

// guard is what every request passes before its handler: the Host check
// in no-token mode and the body cap. The API's token check is
// admin.RequireToken, in front of the API handler only.
type guard struct {
	noTokens bool
	allowed  map[string]bool // lower-case names of --allowed-host
	logger   *slog.Logger
}

func newGuard(noTokens bool, allowedHosts []string, logger *slog.Logger) *guard {
	g := &guard{noTokens: noTokens, allowed: map[string]bool{}, logger: logger}
	for _, h := range allowedHosts {
		g.allowed[normalHost(h)] = true
	}
	return g
}

func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without tokens anyone who reaches the listener may do
		// anything, and a web page can reach a loopback listener
		// through DNS rebinding (a name of the attacker's that
		// resolves to 127.0.0.1): its requests carry the attacker's
		// name as Host, so only loopback names are answered.
		if g.noTokens && !g.hostAllowed(r.Host) {
			g.logger.LogAttrs(r.Context(), slog.LevelWarn, "request refused: Host not served without admin tokens",
				slog.String("host", r.Host), slog.String("peer", r.RemoteAddr), slog.String("path", r.URL.Path))
			w.Header().Set("Connection", "close")
			http.Error(w, fmt.Sprintf("Host %q is not served: without admin tokens Herald answers only localhost, 127.0.0.0/8 and [::1], and the names given with --allowed-host (HERALD_ALLOWED_HOSTS)", r.Host), http.StatusMisdirectedRequest)
			return
		}
		r.Body = closeOnError{http.MaxBytesReader(w, r.Body, maxRequestBody), w.Header()}
		if streamProcedures[r.URL.Path] {
			// The body is capped above and, with tokens, its sender
			// known: the stream may last as long as the client stays.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}
		next.ServeHTTP(w, r)
	})
}

// closeOnError marks the connection for closing when reading the body
// fails (too large, too slow): what is left of the body would otherwise be
// read as the next request on the connection.
type closeOnError struct {
	io.ReadCloser
	header http.Header
}

func (b closeOnError) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.header.Set("Connection", "close")
	}
	return n, err
}

// hostAllowed says whether a request's Host header names this machine's
// loopback (localhost, 127.0.0.0/8, ::1, with any port) or an allowed
// name.
func (g *guard) hostAllowed(hostport string) bool {
	h := normalHost(hostport)
	if h == "" {
		return false
	}
	if h == "localhost" || g.allowed[h] {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// normalHost is a Host header's name without port, brackets, trailing dot
// or case.
func normalHost(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// validAllowedHost checks one --allowed-host name: a DNS name or an
// address, without scheme, port, path or wildcard.
func validAllowedHost(h string) error {
	if h == "" || strings.ContainsAny(h, "/:*@ ") && net.ParseIP(strings.Trim(h, "[]")) == nil {
		return fmt.Errorf("--allowed-host %q: want a host name or address, without scheme, port, path or wildcard", h)
	}
	return nil
}

// hasToken reports whether a request carries a known bearer token of
// any role (a read token is enough for /metrics and the full /readyz).
func (e *Engine) hasToken(r *http.Request) bool {
	_, reason := e.tokens.Authenticate(r.Header.Get("Authorization"))
	return reason == ""
}

// metricsGuard requires a token for /metrics when tokens are configured,
// unless --metrics-public: the series name schedules and accounts.
func (e *Engine) metricsGuard(next http.Handler) http.Handler {
	if e.tokens.Len() == 0 || e.cfg.MetricsPublic {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, reason := e.tokens.Authenticate(r.Header.Get("Authorization")); reason != "" {
			admin.Unauthenticated(w, reason+" (/metrics needs a read or admin token, or --metrics-public)")
			return
		}
		next.ServeHTTP(w, r)
	})
}
