package schedules

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLimitEndpoints pins the endpoint names a limits window may use. The
// same literal list is in ratelimit's TestEndpointNames: schedules may not
// import ratelimit nor ratelimit schedules, so each side checks its copy
// against this list. Change both (and the X client) together.
func TestLimitEndpoints(t *testing.T) {
	want := []string{"create_post", "delete_post", "lookup_posts", "user_posts", "me", "media_upload", "media_metadata"}
	if got := LimitEndpoints(); !slices.Equal(got, want) {
		t.Errorf("LimitEndpoints() = %v; want %v", got, want)
	}
	if want := []string{"current", "legacy-free", "legacy-basic", "legacy-pro"}; !slices.Equal(limitPresets, want) {
		t.Errorf("limitPresets = %v; want %v (ratelimit.Presets)", limitPresets, want)
	}
}

func TestLoadLimits(t *testing.T) {
	tests := []struct {
		name    string
		limits  string // the YAML value of limits, "" to leave it out
		preset  string
		windows []LimitWindow // Source left out
	}{
		{"default", "", "current", nil},
		{"a preset name", "legacy-pro", "legacy-pro", nil},
		{"a mapping with a preset only", "{preset: legacy-free}", "legacy-free", nil},
		{"an empty mapping", "{}", "current", nil},
		{"windows without a preset", "{windows: [{endpoint: create_post, scope: user, limit: 50, per: 15m}]}", "current",
			[]LimitWindow{{Endpoint: "create_post", Scope: "user", Limit: 50, Per: 15 * time.Minute}}},
		{
			"the brief's example",
			"\n      preset: legacy-basic\n      windows:\n" +
				"        - {endpoint: create_post, scope: user, limit: 50, per: 15m}\n" +
				"        - {endpoint: create_post, scope: app, limit: 1000, per: 24h}\n" +
				"        - {endpoint: create_post, scope: user, limit: 300, per: 1d}\n" +
				"        - {endpoint: media_upload, scope: user, limit: 1_000, per: 1h30m}\n",
			"legacy-basic",
			[]LimitWindow{
				{Endpoint: "create_post", Scope: "user", Limit: 50, Per: 15 * time.Minute},
				{Endpoint: "create_post", Scope: "app", Limit: 1000, Per: 24 * time.Hour},
				{Endpoint: "create_post", Scope: "user", Limit: 300, Per: 24 * time.Hour},
				{Endpoint: "media_upload", Scope: "user", Limit: 1000, Per: 90 * time.Minute},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct := "accounts:\n  brand:\n    platform: x\n"
			if tt.limits != "" {
				acct += "    limits: " + tt.limits + "\n"
			}
			cfg := mustLoad(t, writeFiles(t, map[string]string{"s.yaml": acct}))
			a := cfg.Accounts["brand"]
			if a.Limits != tt.preset {
				t.Errorf("Limits = %q; want %q", a.Limits, tt.preset)
			}
			got := slices.Clone(a.LimitWindows)
			for i := range got {
				if got[i].Source.Line == 0 || !strings.HasSuffix(got[i].Source.File, "s.yaml") {
					t.Errorf("window %d has no position: %+v", i, got[i].Source)
				}
				got[i].Source = Pos{}
			}
			if !slices.Equal(got, tt.windows) {
				t.Errorf("LimitWindows = %+v; want %+v", got, tt.windows)
			}
		})
	}
}

func TestLoadDeadlineAndAttempts(t *testing.T) {
	tests := []struct {
		name     string
		fields   string
		deadline time.Duration
		attempts int
	}{
		{"defaults", "", time.Hour, 5},
		{"no deadline", "deadline: none\n", 0, 5},
		{"the default deadline covers catchup and jitter", "catchup: 50m\n    jitter: 20m\n", 70 * time.Minute, 5},
		{"the default deadline covers a catchup of days", "catchup: 2d\n", 48 * time.Hour, 5},
		{"the default deadline stays 1h for a short catchup", "catchup: 10s\n    jitter: 5m\n", time.Hour, 5},
		{"the default deadline with the default catchup", "jitter: 50m\n", 65 * time.Minute, 5},
		{"an overflowing catchup leaves no deadline", "catchup: 106751d\n    jitter: 1d\n", 0, 5},
		{"both", "deadline: 2h\n    max_attempts: 3\n", 2 * time.Hour, 3},
		{"a deadline shorter than catchup", "catchup: 1d\n    deadline: 30m\n", 30 * time.Minute, 5},
		{"a deadline longer than jitter", "jitter: 5m\n    deadline: 6m\n", 6 * time.Minute, 5},
		{"bounds", "deadline: 1s\n    max_attempts: 1\n", time.Second, 1},
		{"upper bound", "max_attempts: 100\n", time.Hour, 100},
		{"a deadline under the default", "catchup: 2h\n    deadline: 30m\n", 30 * time.Minute, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := account + "schedules:\n  - id: s\n    account: brand\n    cron: \"@daily\"\n    post: {text: hi}\n    " + tt.fields
			s := mustLoad(t, writeFiles(t, map[string]string{"s.yaml": yaml})).Schedule("s")
			if s.Deadline != tt.deadline || s.MaxAttempts != tt.attempts {
				t.Errorf("Deadline, MaxAttempts = %v, %d; want %v, %d", s.Deadline, s.MaxAttempts, tt.deadline, tt.attempts)
			}
		})
	}
}
