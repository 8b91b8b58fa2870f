package fakex_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/herald-social/herald/platform/x/fakex"
)

// A new post reaches the user timeline only TimelineLag after its
// creation; a lookup by id finds it at once.
func TestTimelineLag(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fakex.Options{TimelineLag: 5 * time.Second})
	first := h.post(aliceToken, text("first"))
	h.clk.Advance(2 * time.Second)
	second := h.post(aliceToken, text("second"))

	timeline := func() []string {
		t.Helper()
		r := h.do("GET", "/2/users/"+aliceID+"/tweets", aliceToken, nil)
		var page struct {
			Data []struct{ ID string }
			Meta struct {
				ResultCount int `json:"result_count"`
			}
		}
		if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 || page.Meta.ResultCount != len(page.Data) {
			t.Fatalf("timeline: %d %s", r.status, r.body)
		}
		var ids []string
		for _, d := range page.Data {
			ids = append(ids, d.ID)
		}
		return ids
	}
	steps := []struct {
		name    string
		advance time.Duration // from the previous step
		want    []string
	}{
		{"right after", 0, nil},
		{"a nanosecond before the first is due", 3*time.Second - 1, nil},
		{"the first is due", 1, []string{first}},
		{"a nanosecond before the second is due", 2*time.Second - 1, []string{first}},
		{"both", 1, []string{second, first}},
	}
	for _, s := range steps {
		h.clk.Advance(s.advance)
		if got := timeline(); !slices.Equal(got, s.want) {
			t.Errorf("%s: timeline %v, want %v", s.name, got, s.want)
		}
	}

	late := h.post(aliceToken, text("late"))
	r := h.do("GET", "/2/tweets?ids="+late, aliceToken, nil)
	if got := r.json(t)["data"]; got == nil {
		t.Errorf("a lookup by id waits for the lag: %s", r.body)
	}
}

// Duplicate content is judged over DuplicateWindow; without one, over the
// author's every post that is not deleted.
func TestDuplicateWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		window time.Duration
		gap    time.Duration // between the two posts
		status int
	}{
		{"no window, a moment later", 0, time.Second, 403},
		{"no window, a year later", 0, 365 * 24 * time.Hour, 403},
		{"inside an hour", time.Hour, time.Hour - time.Nanosecond, 403},
		{"at the hour", time.Hour, time.Hour, 201},
		{"past the hour", time.Hour, 2 * time.Hour, 201},
		{"inside a minute", time.Minute, 59 * time.Second, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fakex.Options{DuplicateWindow: tt.window})
			h.longLived()
			h.post(aliceToken, text("Same words"))
			h.clk.Advance(tt.gap)
			r := h.do("POST", "/2/tweets", aliceToken, text("Same words"))
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if tt.status == 403 {
				sameJSON(t, r, `{"type":"about:blank","title":"Forbidden","status":403,
					"detail":"You are not allowed to create a Tweet with duplicate content."}`)
			}
			h.post(bobToken, text("Same words")) // another author may, always
		})
	}
}
