package schedules

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRender(t *testing.T) {
	dir := writeFiles(t, map[string]string{"s.yaml": account + `schedules:
  - id: tip
    account: brand
    cron: "30 9 * * *"
    timezone: Asia/Tokyo
    post:
      text: 'Tip #{{ .Run }} on {{ .Planned.Format "Mon 2 Jan 15:04 MST" }}'
      thread: ["by {{ .Account }}", "{{ .Schedule }} {{ if gt .Run 9 }}{{ .Nope }}{{ end }}"]
  - id: grows
    account: brand
    cron: "30 9 * * *"
    post:
      text: '{{ if gt .Run 1 }}` + strings.Repeat("x", 290) + `{{ else }}short{{ end }}'
  - id: blank-later
    account: brand
    cron: "30 9 * * *"
    post:
      text: '{{ if eq .Run 1 }}first{{ end }}'
`})
	cfg := mustLoad(t, dir)
	tip := cfg.Schedule("tip")
	planned := time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC) // 09:30 in Tokyo
	got, err := tip.Render(RenderData{Run: 3, Planned: planned, Schedule: "ignored", Account: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Tip #3 on Mon 2 Mar 09:30 JST", "by brand", "tip "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Render = %q, want %q", got, want)
	}

	tests := []struct {
		id   string
		run  int64
		want error
	}{
		{"tip", 10, ErrTemplate},
		{"grows", 2, ErrTextTooLong},
		{"blank-later", 2, ErrEmptyText},
	}
	for _, tt := range tests {
		_, err := cfg.Schedule(tt.id).Render(RenderData{Run: tt.run, Planned: planned})
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.id) {
			t.Errorf("%s Render(Run %d) = %v, want %v", tt.id, tt.run, err, tt.want)
		}
	}
}

func TestNextFire(t *testing.T) {
	dir := writeFiles(t, map[string]string{"s.yaml": account + `schedules:
  - {id: daily, account: brand, cron: "0 9 * * *", post: {text: hi}}
  - {id: jittered, account: brand, cron: "0 9 * * *", jitter: 10m, post: {text: hi}}
  - {id: weekly, account: brand, rrule: "FREQ=WEEKLY;BYDAY=MO", start: 2026-01-05T08:00:00, timezone: Europe/Berlin, post: {text: hi}}
  - {id: once, account: brand, at: "2026-07-01T12:00:00+02:00", post: {text: hi}}
`})
	cfg := mustLoad(t, dir)
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		id   string
		want []time.Time
	}{
		{"daily", []time.Time{time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 9, 0, 0, 0, time.UTC)}},
		{"weekly", []time.Time{time.Date(2026, 1, 5, 8, 0, 0, 0, berlin), time.Date(2026, 1, 12, 8, 0, 0, 0, berlin)}},
		{"once", []time.Time{time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		s := cfg.Schedule(tt.id)
		var got []time.Time
		for t := from; len(got) < 3; {
			f, ok := s.NextFire(t)
			if !ok {
				break
			}
			got = append(got, f.Planned)
			t = f.Planned
		}
		if len(got) > len(tt.want) {
			got = got[:len(tt.want)]
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s fires %v, want %v", tt.id, got, tt.want)
			continue
		}
		for i := range got {
			if !got[i].Equal(tt.want[i]) {
				t.Errorf("%s fire %d = %v, want %v", tt.id, i, got[i], tt.want[i])
			}
		}
	}
	// Jitter delays a fire by less than the schedule's jitter, and the
	// same fire always gets the same delay.
	j := cfg.Schedule("jittered")
	f1, _ := j.NextFire(from)
	f2, _ := j.NextFire(from)
	if d := f1.At.Sub(f1.Planned); d < 0 || d >= 10*time.Minute || f1 != f2 {
		t.Errorf("jittered fire %v then %v", f1, f2)
	}
}
