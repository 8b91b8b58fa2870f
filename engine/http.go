package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// startHTTP serves /healthz (the process is alive) and /readyz (a
// configuration is loaded and the store answers) on Config.Listen.
func (e *Engine) startHTTP() error {
	ln, err := net.Listen("tcp", e.cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", e.cfg.Listen, err)
	}
	e.addr = ln.Addr()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", e.readyz)
	mux.Handle("GET /metrics", e.metricsHandler())
	e.server = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = e.server.Serve(ln) }()
	return nil
}

func (e *Engine) readyz(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	cfg, last := e.current, e.lastLoad
	e.mu.Unlock()
	body := map[string]any{"node": e.cfg.NodeID, "last_reload": last.Result}
	status := http.StatusOK
	if cfg == nil {
		status, body["config"] = http.StatusServiceUnavailable, "not loaded"
	} else {
		body["revision"] = cfg.Revision
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := e.store.SchemaVersion(ctx); err != nil {
		status, body["store"] = http.StatusServiceUnavailable, "unreachable"
	} else {
		body["store"] = "ok"
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
