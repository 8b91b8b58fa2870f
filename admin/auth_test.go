package admin

import (
	"context"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/herald-social/herald/proto/herald/admin/v1/adminv1connect"
)

func TestParseTokens(t *testing.T) {
	const long = "0123456789abcdef"
	cases := []struct {
		name, text string
		n          int
		err        string
	}{
		{"lines", "admin:" + long + "\nread:" + long + "x\n", 2, ""},
		{"commas, comments, blanks", "# ops\n\nadmin:" + long + ", read:" + long + "y", 2, ""},
		{"no colon", "admin" + long, 0, "S:1: want ROLE:TOKEN"},
		{"bad role", "root:" + long, 0, `S:1: role "root" is neither read nor admin`},
		{"short", "read:short", 0, "S:1: the token is 5 characters"},
		{"second entry", "read:" + long + ",write:" + long, 0, "S:1 (entry 2): role \"write\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseTokens(tc.text, "S")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), long) || strings.Contains(err.Error(), "short") {
					t.Errorf("the error shows the token: %v", err)
				}
				return
			}
			if err != nil || tok.Len() != tc.n {
				t.Fatalf("ParseTokens = %d tokens, %v", tok.Len(), err)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	tok, err := ParseTokens("admin:admin-0123456789abcdef\nread:read-0123456789abcdef", "env")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAuthInterceptor(tok, nil).(*authInterceptor)
	get := adminv1connect.AdminServiceGetStatusProcedure
	pause := adminv1connect.AdminServicePauseScheduleProcedure
	cases := []struct {
		name, procedure, header string
		code                    connect.Code
		role                    Role
	}{
		{"admin reads", get, "Bearer admin-0123456789abcdef", 0, RoleAdmin},
		{"admin mutates", pause, "Bearer admin-0123456789abcdef", 0, RoleAdmin},
		{"read reads", get, "Bearer read-0123456789abcdef", 0, RoleRead},
		{"read mutates", pause, "Bearer read-0123456789abcdef", connect.CodePermissionDenied, ""},
		{"scheme is case-insensitive", get, "bearer read-0123456789abcdef", 0, RoleRead},
		{"no header", get, "", connect.CodeUnauthenticated, ""},
		{"basic auth", get, "Basic YWRtaW46eA==", connect.CodeUnauthenticated, ""},
		{"unknown token", get, "Bearer admin-0123456789abcdeX", connect.CodeUnauthenticated, ""},
		{"prefix of a token", get, "Bearer admin-0123456789abcde", connect.CodeUnauthenticated, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := a.authorize(context.Background(), tc.procedure, "peer", func(string) string { return tc.header })
			if connect.CodeOf(err) != tc.code && !(tc.code == 0 && err == nil) {
				t.Fatalf("err = %v, want code %v", err, tc.code)
			}
			if tc.code == 0 {
				c, ok := callerFrom(ctx)
				if !ok || c.Role != tc.role || strings.Contains(c.Name, "0123") {
					t.Errorf("caller = %+v", c)
				}
			}
		})
	}
	// No tokens configured: everything passes (loopback only).
	open := NewAuthInterceptor(&Tokens{}, nil).(*authInterceptor)
	if _, err := open.authorize(context.Background(), pause, "peer", func(string) string { return "" }); err != nil {
		t.Errorf("no tokens configured: %v", err)
	}
}
