package schedules

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"90s", 90 * time.Second, true},
		{"5m", 5 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"1d", day, true},
		{"7d", 7 * day, true},
		{"1d12h", 36 * time.Hour, true},
		{"12h1d", 36 * time.Hour, true},
		{"1.5d", 36 * time.Hour, true},
		{"-5m", -5 * time.Minute, true},
		{"-1d", -day, true},
		{"", 0, false},
		{"d", 0, false},
		{"1dd", 0, false},
		{"1.2.3d", 0, false},
		{"5", 0, false},
		{"5 minutes", 0, false},
		{"soon", 0, false},
		{"1d5", 0, false},
		{"300000000d", 0, false},
		{"1e3d", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour:        "1h",
		90 * time.Minute: "1h30m",
		48 * time.Hour:   "2d",
		30 * time.Second: "30s",
		5 * time.Minute:  "5m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
