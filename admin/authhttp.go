package admin

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// RequireToken answers 401 to every request without a known bearer token
// before next, and so before anything reads the request's body: the
// Connect interceptor (which also checks roles) runs only after the
// message was read and decompressed, which let a caller without a token
// make the server read, and inflate, whatever it sent. With no tokens
// configured every request passes (the listener is then on loopback only).
//
// The refusal is a Connect error body ({"code":"unauthenticated",...});
// Connect and gRPC clients alike map a 401 to codes.Unauthenticated.
func RequireToken(tokens *Tokens, logger *slog.Logger, next http.Handler) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tokens.Len() == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if _, reason := tokens.Authenticate(r.Header.Get("Authorization")); reason != "" {
			logger.LogAttrs(r.Context(), slog.LevelWarn, "admin API: request refused",
				slog.String("procedure", r.URL.Path), slog.String("peer", r.RemoteAddr), slog.String("reason", reason))
			Unauthenticated(w, reason)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Unauthenticated writes a 401 whose body is a Connect error, and closes
// the connection: the unread body, however large, is not drained.
func Unauthenticated(w http.ResponseWriter, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
	w.Header().Set("Connection", "close")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": "unauthenticated", "message": reason})
}
