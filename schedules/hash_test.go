package schedules

import (
	"strings"
	"testing"
)

const hashBase = `  - id: tip
    account: brand
    cron: "0 9 * * 1-5"
    timezone: Europe/Berlin
    jitter: 5m
    catchup: 15m
    deadline: 2h
    max_attempts: 4
    start: 2026-01-05T10:00:00
    end: 2027-06-30T00:00:00
    post:
      text: "Tip {{ .Run }}"
      thread: ["more"]
      media: [{path: a.png, alt: "chart"}]
    metrics: [1h, 24h]
`

// hashOf loads the schedule "tip" from files and returns its hash.
func hashOf(t *testing.T, files map[string]string) string {
	t.Helper()
	if _, ok := files["a.png"]; !ok {
		files["a.png"] = "png"
	}
	return mustLoad(t, writeFiles(t, files)).Schedule("tip").Hash
}

func TestHashStability(t *testing.T) {
	base := hashOf(t, map[string]string{"s.yaml": account + "schedules:\n" + hashBase})

	// Where a schedule is written does not matter.
	same := map[string]map[string]string{
		"moved down a file":     {"s.yaml": account + "\n\n# comment\nschedules:\n  - {id: other, account: brand, cron: \"@daily\", post: {text: x}}\n" + hashBase},
		"moved to another file": {"a.yaml": account, "b.yaml": "schedules:\n" + hashBase},
		"keys reordered":        {"s.yaml": account + "schedules:\n" + strings.Replace(hashBase, "    jitter: 5m\n    catchup: 15m\n", "    catchup: 15m\n    jitter: 5m\n", 1)},
		"flow style": {"s.yaml": account + `schedules: [{id: tip, account: brand, cron: "0 9 * * 1-5", timezone: Europe/Berlin, jitter: 5m,
  catchup: 15m, deadline: 120m, max_attempts: 4, start: "2026-01-05T10:00:00", end: "2027-06-30T00:00:00",
  post: {text: "Tip {{ .Run }}", thread: [more], media: [{path: a.png, alt: chart}]}, metrics: [24h, 1h]}]`},
	}
	for name, files := range same {
		if got := hashOf(t, files); got != base {
			t.Errorf("%s: hash %s, want %s", name, got, base)
		}
	}

	// Everything that changes behaviour changes the hash.
	changes := map[string][2]string{
		"text":                  {`text: "Tip {{ .Run }}"`, `text: "Tip! {{ .Run }}"`},
		"thread":                {`thread: ["more"]`, `thread: ["more", "again"]`},
		"alt":                   {`alt: "chart"`, `alt: "a chart"`},
		"cron":                  {`cron: "0 9 * * 1-5"`, `cron: "0 10 * * 1-5"`},
		"timezone":              {"timezone: Europe/Berlin", "timezone: Europe/Paris"},
		"jitter":                {"jitter: 5m", "jitter: 6m"},
		"catchup":               {"catchup: 15m", "catchup: 1h"},
		"deadline":              {"deadline: 2h", "deadline: 3h"},
		"deadline left out":     {"    deadline: 2h\n", ""},
		"no deadline":           {"deadline: 2h", "deadline: none"},
		"max_attempts":          {"max_attempts: 4", "max_attempts: 5"},
		"max_attempts left out": {"    max_attempts: 4\n", ""},
		"start":                 {"start: 2026-01-05T10:00:00", "start: 2026-01-06T10:00:00"},
		"end":                   {"end: 2027-06-30T00:00:00", "end: 2027-07-01T00:00:00"},
		"metrics":               {"metrics: [1h, 24h]", "metrics: [1h, 7d]"},
		"enabled":               {"catchup: 15m", "catchup: 15m\n    enabled: false"},
		"kind":                  {`cron: "0 9 * * 1-5"`, `rrule: "FREQ=DAILY"`},
		"media":                 {"path: a.png", "path: b.png"},
	}
	for name, c := range changes {
		files := map[string]string{"s.yaml": account + "schedules:\n" + strings.Replace(hashBase, c[0], c[1], 1), "b.png": "png"}
		if !strings.Contains(files["s.yaml"], c[1]) || files["s.yaml"] == account+"schedules:\n"+hashBase {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if got := hashOf(t, files); got == base {
			t.Errorf("changing %s keeps the hash", name)
		}
	}
	if got := hashOf(t, map[string]string{"s.yaml": account + "schedules:\n" + hashBase, "a.png": "a bigger png"}); got == base {
		t.Errorf("a media file of another size keeps the hash")
	}
	moved := map[string]string{
		"s.yaml": "schedules:\n" + strings.Replace(hashBase, "account: brand", "account: promo", 1),
		"p.yaml": "accounts:\n  promo: {platform: x}\n",
	}
	if got := hashOf(t, moved); got == base {
		t.Errorf("changing the account keeps the hash")
	}

	// Writing a default out changes nothing the schedule does.
	plain := strings.Replace(hashBase, "    max_attempts: 4\n", "", 1)
	explicit := strings.Replace(hashBase, "max_attempts: 4", "max_attempts: 5", 1)
	if a, b := hashOf(t, map[string]string{"s.yaml": account + "schedules:\n" + plain}),
		hashOf(t, map[string]string{"s.yaml": account + "schedules:\n" + explicit}); a != b {
		t.Errorf("max_attempts: 5 (the default) changes the hash: %s, %s", a, b)
	}
	plain = strings.Replace(hashBase, "    deadline: 2h\n", "", 1)
	explicit = strings.Replace(hashBase, "deadline: 2h", "deadline: 1h", 1)
	if a, b := hashOf(t, map[string]string{"s.yaml": account + "schedules:\n" + plain}),
		hashOf(t, map[string]string{"s.yaml": account + "schedules:\n" + explicit}); a != b {
		t.Errorf("deadline: 1h (the default for catchup 15m, jitter 5m) changes the hash: %s, %s", a, b)
	}
}
