package engine

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/herald-social/herald/admin"
	"github.com/herald-social/herald/dashboard"
	"github.com/herald-social/herald/platform/x"
)

// startHTTP serves, on Config.Listen: /healthz (the process is alive),
// /readyz (a configuration is loaded and the store answers; with a token,
// or without tokens configured, it also names the node, the revision and
// the accounts that may need re-authorization) and /metrics (a token when
// tokens are configured, unless --metrics-public); and the admin API,
// whose token is checked before its body is read (see httpguard.go). HTTP/1.1 and, for
// gRPC, HTTP/2 (h2c without TLS). With no admin token configured it
// listens on loopback only.
func (e *Engine) startHTTP() error {
	listen := e.cfg.Listen
	if e.tokens.Len() == 0 {
		if lo, changed := loopbackOnly(listen); changed {
			e.logger.Warn("no admin token configured: listening on loopback only (set HERALD_ADMIN_TOKENS or --admin-token-file to listen on "+listen+")",
				slog.String("listen", lo))
			listen = lo
		} else {
			e.logger.Info("no admin token configured: the admin API answers without a token, on loopback only", slog.String("listen", listen))
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", listen, err)
	}
	e.addr = ln.Addr()
	logger := e.logger.With(slog.String("component", "http"))
	mux := http.NewServeMux()
	path, api := e.adminHandler()
	mux.Handle(path, admin.RequireToken(e.tokens, e.logger.With(slog.String("component", "admin")), api))
	// The dashboard: static files that call the API above from the browser.
	// "/" without a method: "GET /" would conflict with the API path.
	mux.Handle("/", dashboard.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", e.readyz)
	mux.Handle("GET /metrics", e.metricsGuard(e.metricsHandler()))
	// WatchJobEvents streams for as long as the client stays: the guard
	// lifts the read and write deadlines for it alone.
	e.server = &http.Server{Handler: newGuard(e.tokens.Len() == 0, e.cfg.AllowedHosts, logger).wrap(mux),
		ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, WriteTimeout: writeTimeout, IdleTimeout: idleTimeout,
		MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	e.server.Protocols = new(http.Protocols)
	e.server.Protocols.SetHTTP1(true)
	e.server.Protocols.SetHTTP2(true)
	e.server.Protocols.SetUnencryptedHTTP2(true)
	if e.cfg.TLSCert != "" {
		certs, err := newCertReloader(e.cfg.TLSCert, e.cfg.TLSKey, e.clock, logger)
		if err != nil {
			ln.Close()
			return err
		}
		e.server.TLSConfig = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
		go func() { _ = e.server.ServeTLS(ln, "", "") }()
		return nil
	}
	go func() { _ = e.server.Serve(ln) }()
	return nil
}

func (e *Engine) readyz(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	cfg, last := e.current, e.lastLoad
	e.mu.Unlock()
	// Without a token (when tokens are configured) the answer is the
	// status and health words only: no node, revision or account names.
	full := e.tokens.Len() == 0 || e.hasToken(r)
	body := map[string]any{}
	status := http.StatusOK
	if cfg == nil {
		status, body["config"] = http.StatusServiceUnavailable, "not loaded"
	} else if full {
		body["revision"] = cfg.Revision
	}
	if full {
		body["node"], body["last_reload"] = e.cfg.NodeID, last.Result
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := e.store.SchemaVersion(ctx); err != nil {
		status, body["store"] = http.StatusServiceUnavailable, "unreachable"
	} else {
		body["store"] = "ok"
	}
	// Redis is a fast path: without it the node still works (degraded),
	// so it never makes the node unready.
	if configured, err := e.Redis(ctx); configured && err != nil {
		body["redis"] = "degraded"
		if full {
			body["redis"] = "degraded: " + err.Error()
		}
	} else if configured {
		body["redis"] = "ok"
	}
	if full {
		if accounts := e.accountsNeedingAttention(ctx); len(accounts) > 0 {
			body["accounts"] = accounts
		}
	}
	body["status"] = "ready"
	if status != http.StatusOK {
		body["status"] = "unready"
	}
	writeJSON(w, status, body)
}

// accountAttention is how /readyz describes an account whose credentials
// may need re-authorization.
type accountAttention struct {
	AuthState string    `json:"auth_state"`
	Detail    string    `json:"detail,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	Action    string    `json:"action"`
}

// accountsNeedingAttention lists, by name, the accounts whose credentials
// are not known good. They do not make the node unready: it still
// publishes for the other accounts, and a restart would not fix them.
func (e *Engine) accountsNeedingAttention(ctx context.Context) map[string]accountAttention {
	if e.platform == nil {
		return nil
	}
	out := map[string]accountAttention{}
	for _, a := range e.platform.AccountStates(ctx) {
		if a.State == x.AuthOK {
			continue
		}
		action := "may need re-authorization: the next refresh tries the stored refresh token once; if X refuses it, authorize the account again"
		switch a.State {
		case x.AuthReauthRequired:
			action = "needs re-authorization: put new tokens in the account's environment, then reload or restart"
		case x.AuthUnknown:
			action = "the stored tokens could not be read: check the store and HERALD_TOKEN_KEY"
		}
		out[a.Account] = accountAttention{AuthState: string(a.State), Detail: a.Detail, Since: a.Since.UTC(), Action: action}
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
