package schedules

import (
	"strings"
	"testing"
)

func TestWeightedLength(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{"empty", "", 0},
		{"ascii", "Hello, world!", 13},
		{"latin accents", "café naïve", 10},
		{"NFD is normalised first", "cafe\u0301", 4},
		{"general punctuation weighs 1", "\u2014\u2019\u2032", 3},
		{"CJK weighs 2", "日本語", 6},
		{"arabic weighs 1", "مرحبا", 5},
		{"hangul weighs 2", "한국어", 6},
		{"ellipsis U+2026 weighs 2", "\u2026", 2},
		{"http URL counts 23", "see http://example.com/a/very/long/path/that/goes/on/and/on", 4 + 23},
		{"https URL counts 23", "https://example.com", 23},
		{"www URL counts 23", "visit www.example.org/x today", 6 + 23 + 6},
		{"short URL still 23", "http://a.co", 23},
		{"trailing period is not in the URL", "go to https://example.com.", 6 + 23 + 1},
		{"balanced paren stays in URL", "(https://en.wikipedia.org/wiki/Go_(language))", 1 + 23 + 1},
		{"two URLs", "https://a.com https://b.com", 23 + 1 + 23},
		{"no host dot is not a URL", "http://localhost", 16},
		{"prefix alone is not a URL", "https:// nothing", 16},
		{"URL inside a word is not a URL", "xhttps://example.com", 20},
		{"emoji weighs 2", "🙂", 2},
		{"emoji with VS16", "❤️", 2},
		{"skin tone sequence", "👍🏽", 2},
		{"ZWJ family", "👨‍👩‍👧‍👦", 2},
		{"flag pair", "🇩🇪", 2},
		{"two flags", "🇩🇪🇫🇷", 4},
		{"keycap", "1️⃣", 2},
		{"keycap without VS16", "#\u20e3", 2},
		{"digits are not keycaps", "123", 3},
		{"subdivision flag", "🏴\U000E0067\U000E0062\U000E0065\U000E006E\U000E0067\U000E007F", 2},
		{"copyright alone weighs 1", "©", 1},
		{"copyright emoji weighs 2", "©️", 2},
		{"mixed", "Tip 👍🏽 https://x.com/" + strings.Repeat("a", 100) + " 日本", 4 + 2 + 1 + 23 + 1 + 4},
		{"280 ascii", strings.Repeat("a", 280), 280},
		{"140 CJK is 280", strings.Repeat("語", 140), 280},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WeightedLength(tt.text); got != tt.want {
				t.Errorf("WeightedLength(%q) = %d, want %d", tt.text, got, tt.want)
			}
		})
	}
}

func TestCheckPost(t *testing.T) {
	if err := checkPost(strings.Repeat("a", 280)); err != nil {
		t.Errorf("280 characters: %v", err)
	}
	err := checkPost(strings.Repeat("a", 281))
	if err == nil || err.Error() != "281 weighted characters, over X's limit of 280" {
		t.Errorf("281 characters: %v", err)
	}
	if err := checkPost(" \n\t"); err != ErrEmptyText {
		t.Errorf("blank: %v, want ErrEmptyText", err)
	}
}
