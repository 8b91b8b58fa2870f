package ratelimit

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// TestEndpointNames pins the endpoint names. The same literal list is in
// the schedules package's tests (schedules may not import ratelimit, and
// ratelimit may not import schedules) and the X client uses these strings:
// change all of them together.
func TestEndpointNames(t *testing.T) {
	want := []string{"create_post", "delete_post", "lookup_posts", "user_posts", "me", "media_upload", "media_metadata"}
	if got := Endpoints(); !slices.Equal(got, want) {
		t.Errorf("Endpoints() = %v; want %v", got, want)
	}
	Endpoints()[0] = "changed"
	if Endpoints()[0] != "create_post" {
		t.Error("Endpoints returns shared state")
	}
}

func TestPresets(t *testing.T) {
	known := Endpoints()
	for _, name := range Presets() {
		ws, err := Preset(name)
		if err != nil {
			t.Fatalf("Preset(%q): %v", name, err)
		}
		seen := map[Window]bool{}
		for _, w := range ws {
			if err := checkWindow(w); err != nil || !slices.Contains(known, w.Endpoint) || seen[w] {
				t.Errorf("%s: bad or repeated window %s (%v)", name, w, err)
			}
			seen[w] = true
		}
	}
	def, _ := Preset("")
	cur, _ := Preset("current")
	if !slices.Equal(def, cur) {
		t.Error(`Preset("") differs from "current"`)
	}

	tests := []struct {
		preset string
		want   []Window // the create_post windows
	}{
		{"current", []Window{{ep, ScopeUser, 100, 15 * time.Minute}, {ep, ScopeApp, 10000, 24 * time.Hour}}},
		{"legacy-free", []Window{{ep, ScopeUser, 17, 24 * time.Hour}, {ep, ScopeApp, 17, 24 * time.Hour}}},
		{"legacy-basic", []Window{{ep, ScopeUser, 100, 24 * time.Hour}, {ep, ScopeApp, 1667, 24 * time.Hour}}},
		{"legacy-pro", []Window{{ep, ScopeUser, 100, 15 * time.Minute}, {ep, ScopeApp, 10000, 24 * time.Hour}}},
	}
	for _, tt := range tests {
		ws, _ := Preset(tt.preset)
		var got []Window
		for _, w := range ws {
			if w.Endpoint == ep {
				got = append(got, w)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: create_post windows %v; want %v", tt.preset, got, tt.want)
		}
		// The tiers publish numbers for posting only; the rest is current.
		if !slices.Contains(ws, Window{EndpointDeletePost, ScopeUser, 50, 15 * time.Minute}) {
			t.Errorf("%s: no current delete_post window", tt.preset)
		}
	}
	if _, err := Preset("enterprise"); !errors.Is(err, ErrUnknownPreset) {
		t.Errorf("Preset(enterprise) = %v; want ErrUnknownPreset", err)
	}
}

func TestMerge(t *testing.T) {
	base := []Window{
		{ep, ScopeUser, 100, 15 * time.Minute},
		{ep, ScopeApp, 10000, 24 * time.Hour},
		{EndpointDeletePost, ScopeUser, 50, 15 * time.Minute},
	}
	explicit := []Window{
		{ep, ScopeUser, 50, 15 * time.Minute},
		{ep, ScopeUser, 300, 24 * time.Hour},
		{EndpointMe, ScopeUser, 75, 15 * time.Minute},
	}
	want := []Window{base[1], base[2], explicit[0], explicit[1], explicit[2]}
	got := Merge(base, explicit)
	if !slices.Equal(got, want) {
		t.Errorf("Merge = %v; want %v", got, want)
	}
	got[0].Limit = 1
	if base[1].Limit != 10000 {
		t.Error("Merge aliases base")
	}
	if got := Merge(base, nil); !slices.Equal(got, base) {
		t.Errorf("Merge(base, nil) = %v", got)
	}
}
