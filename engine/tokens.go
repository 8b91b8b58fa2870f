package engine

import (
	"fmt"
	"net"
	"os"

	"github.com/herald-social/herald/admin"
)

// adminTokens reads the tokens from HERALD_ADMIN_TOKENS and the token
// file.
func (c Config) adminTokens() (*admin.Tokens, error) {
	t, err := admin.ParseTokens(c.AdminTokens, "HERALD_ADMIN_TOKENS")
	if err != nil {
		return nil, err
	}
	if c.AdminTokenFile != "" {
		b, err := os.ReadFile(c.AdminTokenFile)
		if err != nil {
			return nil, fmt.Errorf("--admin-token-file: %w", err)
		}
		if err := t.Add(string(b), c.AdminTokenFile); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// loopbackOnly turns a listen address into its loopback equivalent (same
// port) when it would listen beyond this machine.
func loopbackOnly(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, false
	}
	if host == "localhost" {
		return addr, false
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return addr, false
	}
	return net.JoinHostPort("127.0.0.1", port), true
}
