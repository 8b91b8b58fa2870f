package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const healthHelp = `Asks a running node whether it is ready: GETs its /readyz and exits 0 on
200 OK, 1 otherwise (printing the status and the answer). It needs no
shell and no curl, so a container image without either can use it as its
health check (Docker's HEALTHCHECK, Kubernetes' exec probe).`

// healthBodyLimit bounds how much of an unhealthy answer is printed.
const healthBodyLimit = 64 << 10

func runHealth(env *cliEnv, args []string) int {
	fs := newFlagSet("health", "[--url URL] [--timeout D]", healthHelp, env.stderr)
	target := fs.String("url", "http://127.0.0.1:8080/readyz", "the node's readiness URL (HERALD_HEALTH_URL)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long; a node that has not answered is not ready")
	if err := applyEnv(fs, env.getenv, []envFlag{{"url", "HERALD_HEALTH_URL"}}); err != nil {
		return usageError(fs, "%v", err)
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if len(rest) > 0 {
		return usageError(fs, "health takes no arguments (give the address with --url), got %q", rest)
	}
	u, err := url.Parse(*target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError(fs, "--url %q: want http://HOST:PORT/readyz or https://...", *target)
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout %v: want a positive duration", *timeout)
	}
	if err := checkReady(u.String(), *timeout); err != nil {
		fmt.Fprintf(env.stderr, "herald health: %v\n", err)
		return exitCheck
	}
	return exitOK
}

// checkReady GETs target and returns an error describing any answer but
// 200 OK, with the start of its body (which says what is not ready).
func checkReady(target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", target, err)
	}
	// No redirects: a health URL that redirects is misconfigured.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, healthBodyLimit))
	return fmt.Errorf("GET %s: %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
}
