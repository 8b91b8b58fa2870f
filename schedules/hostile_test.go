package schedules

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// loadBytes runs Load's pipeline on one in-memory file.
func loadBytes(data []byte) (*Config, error) {
	opts := LoadOptions{}.withDefaults()
	f := fileRef{display: "f.yaml", rel: "f.yaml", absDir: "/nonexistent"}
	return NewLoader(opts).load(opts, []fileRef{f}, nil, "", func(fileRef) ([]byte, error) { return data, nil })
}

// laughs builds a "billion laughs" document whose expansion, through merge
// keys, would visit 9^levels mappings.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString(account + "schedules:\n  - id: laughs\n    account: brand\n    cron: \"0 9 * * *\"\n    post:\n      <<:\n        - &l0 {text: lol}\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "        - &l%d {<<: [%s]}\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	return b.String()
}

func TestHostileInput(t *testing.T) {
	const tooMuch = "aliases expand to too many nodes"
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"billion laughs through merge keys", laughs(9), tooMuch},
		{"billion laughs through lists", account + `schedules:
  - &s1 {id: a, account: brand, cron: "@daily", post: &p {text: x, media: &m [{path: a.png}, {path: a.png}, {path: a.png}, {path: a.png}]}}
` + strings.Repeat("  - *s1\n", 5000), tooMuch},
		{"many literal aliases", account + "schedules:\n  - &s {id: a, account: brand, cron: \"@daily\", post: {text: x}}\n" + strings.Repeat("  - *s\n", 100000), tooMuch},
		{"deep flow nesting", account + "x: " + strings.Repeat("[", 200) + strings.Repeat("]", 200), "nesting deeper than 32 levels"},
		{"deep block nesting", account + "x:\n" + strings.Repeat("- ", 200) + "1\n", "nesting deeper than 32 levels"},
		{"nesting past yaml.v3's limit", "x: " + strings.Repeat("[", 20000), "exceeded max depth of 10000"},
		{"block nesting past yaml.v3's limit", strings.Repeat("- ", 20000) + "1", "exceeded max depth of 10000"},
		{"an alias to its own list", account + "schedules: &s [*s]", "schedule: must be a mapping, got a list"},
		{"a merge of itself", account + "schedules:\n  - &a {id: a, account: brand, cron: \"@daily\", post: {text: x}, <<: *a}\n", "<< (merge) of a mapping into itself"},
		{"unknown anchor", account + "schedules: *nope\n", "unknown anchor 'nope' referenced"},
		{"many keys", account + "schedules:\n  - {" + manyKeys(50000) + "}\n", "more problems in this file are not shown (the first 1000 are)"},
		{"many duplicate keys", account + "schedules:\n  - {" + strings.Repeat("id: a, ", 50000) + "}\n", `duplicate key "id"`},
		{"a huge template", account + "schedules:\n  - {id: a, account: brand, cron: \"@daily\", post: {text: \"" + strings.Repeat("{{ .Run }}", 1000) + "\"}}\n", "over the limit of 4096"},
		{"binary garbage", "\x00\xff\xfe{[\x01", "invalid YAML"},
		{"a tagged value", account + "schedules: !!binary aGVsbG8=\n", "schedules: must be a list, got a value tagged \"!!binary\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadBytes([]byte(tt.doc))
			var diags Diagnostics
			if !errors.As(err, &diags) || !strings.Contains(err.Error(), tt.want) {
				msg := fmt.Sprint(err)
				if len(msg) > 2000 {
					msg = msg[:2000]
				}
				t.Fatalf("Load = %s; want a diagnostic containing %q", msg, tt.want)
			}
		})
	}
}

func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "k%d: 1, ", i)
	}
	return b.String()
}

// TestMillionAliases is the brief's worst case: a file of a million alias
// nodes. yaml.v3 has to parse it (about 0.8 s for these 6 MB on one core);
// the walker then gives up after its budget instead of expanding.
func TestMillionAliases(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 6 MB")
	}
	doc := account + "schedules:\n  - &s {id: a, account: brand, cron: \"@daily\", post: {text: x}}\n" + strings.Repeat("  - *s\n", 1_000_000)
	_, err := loadBytes([]byte(doc))
	if err == nil || !strings.Contains(err.Error(), "aliases expand to too many nodes") {
		t.Fatalf("Load = %.300v", err)
	}
}

// BenchmarkHostile measures how quickly hostile files are rejected (the
// speed half of the safety contract; the tests above check they are
// rejected, not expanded). Figures in BENCHMARKS.md.
func BenchmarkHostile(b *testing.B) {
	docs := []struct{ name, doc string }{
		{"million-aliases", account + "schedules:\n  - &s {id: a, account: brand, cron: \"@daily\", post: {text: x}}\n" + strings.Repeat("  - *s\n", 1_000_000)},
		{"billion-laughs", laughs(9)},
		{"deep-nesting", "x: " + strings.Repeat("[", 20000)},
	}
	for _, d := range docs {
		b.Run(d.name, func(b *testing.B) {
			b.SetBytes(int64(len(d.doc)))
			for b.Loop() {
				if _, err := loadBytes([]byte(d.doc)); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

// TestMergeKeys checks YAML merge semantics: explicit keys win, earlier
// sources win over later ones, merges nest, and a problem inside merged
// defaults is reported once, where it is written.
func TestMergeKeys(t *testing.T) {
	doc := account + `schedules:
  - id: a
    <<: [&first {account: brand, timezone: Asia/Tokyo}, &second {timezone: Europe/Paris, jitter: 1m, catchup: 2m}]
    cron: "@daily"
    post: {text: x}
  - id: b
    <<: &nested {<<: *second, jitter: 3m}
    account: brand
    cron: "@daily"
    post: {text: x}
  - id: c
    <<: *first
    timezone: UTC
    cron: "@daily"
    post: {text: x}
`
	cfg, err := loadBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id, tz          string
		jitter, catchup time.Duration
	}{
		{"a", "Asia/Tokyo", time.Minute, 2 * time.Minute},
		{"b", "Europe/Paris", 3 * time.Minute, 2 * time.Minute},
		{"c", "UTC", 0, defaultCatchup},
	} {
		s := cfg.Schedule(c.id)
		if s.Account != "brand" || s.Timezone != c.tz || s.Jitter != c.jitter || s.Catchup != c.catchup {
			t.Errorf("%s: account %q, timezone %q, jitter %v, catchup %v; want brand, %q, %v, %v",
				c.id, s.Account, s.Timezone, s.Jitter, s.Catchup, c.tz, c.jitter, c.catchup)
		}
	}

	bad := account + `schedules:
  - {id: a, <<: &d {account: brand, timezone: Nowhere/Land, colour: red}, cron: "@daily", post: {text: x}}
  - {id: b, <<: *d, cron: "@daily", post: {text: x}}
  - {id: c, <<: *d, cron: "@daily", post: {text: x}}
  - {id: d, <<: 5, cron: "@daily", account: brand, post: {text: x}}
`
	_, err = loadBytes([]byte(bad))
	var diags Diagnostics
	if !errors.As(err, &diags) {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range diags {
		lines = append(lines, d.String())
	}
	if len(lines) != 3 || !strings.Contains(lines[0], `timezone: unknown time zone "Nowhere/Land"`) ||
		!strings.Contains(lines[1], `unknown field "colour"`) || !strings.Contains(lines[2], "<< (merge) needs a mapping") {
		t.Errorf("diagnostics:\n%s\nwant each problem of the defaults once, and the bad merge", strings.Join(lines, "\n"))
	}
}
