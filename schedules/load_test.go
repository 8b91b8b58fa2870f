package schedules

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-social/herald/schedules/spec"
)

// writeFiles creates files (name → content) under a new temporary folder.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, paths ...string) *Config {
	t.Helper()
	cfg, err := Load(LoadOptions{}, paths...)
	if err != nil {
		t.Fatalf("Load(%v): %v", paths, err)
	}
	return cfg
}

// loadErrors loads paths and returns the diagnostics as lines.
func loadErrors(t *testing.T, paths ...string) []string {
	t.Helper()
	_, err := Load(LoadOptions{}, paths...)
	var diags Diagnostics
	if !errors.As(err, &diags) {
		t.Fatalf("Load(%v) = %v; want Diagnostics", paths, err)
	}
	lines := make([]string, len(diags))
	for i, d := range diags {
		lines[i] = d.String()
	}
	return lines
}

const account = "accounts:\n  brand:\n    platform: x\n"

func TestLoadGood(t *testing.T) {
	cfg := mustLoad(t, "testdata/good")
	if want := []string{"testdata/good/comments.yaml", "testdata/good/empty.yaml", "testdata/good/full.yaml"}; !slices.Equal(cfg.Files, want) {
		t.Errorf("Files = %v, want %v", cfg.Files, want)
	}
	var ids []string
	for _, s := range cfg.Schedules {
		ids = append(ids, s.ID)
	}
	if want := []string{"disabled", "launch-day", "monthly-recap", "weekday-tip"}; !slices.Equal(ids, want) {
		t.Fatalf("schedule ids = %v, want %v (sorted)", ids, want)
	}

	a := cfg.Accounts["brand"]
	if a == nil || a.Platform != "x" || a.Limits != "legacy-basic" || a.OAuth2 == nil || a.OAuth1 == nil {
		t.Fatalf("account brand = %+v", a)
	}
	if got := a.OAuth2.ClientSecret; got != (SecretRef{"file", "/run/secrets/x_client_secret"}) || got.String() != "file:/run/secrets/x_client_secret" {
		t.Errorf("client_secret = %+v", got)
	}
	if a.OAuth1.AccessTokenSecret.IsZero() || a.OAuth2.AccessToken != (SecretRef{"env", "X_ACCESS_TOKEN"}) {
		t.Errorf("oauth = %+v %+v", a.OAuth1, a.OAuth2)
	}

	tip := cfg.Schedule("weekday-tip")
	abs, _ := filepath.Abs("testdata/good/assets/chart.png")
	checks := []struct {
		name      string
		got, want any
	}{
		{"kind", tip.Kind, KindCron},
		{"kind name", tip.Kind.String(), "cron"},
		{"expr", tip.Expr, "0 9 * * 1-5"},
		{"account (merged)", tip.Account, "brand"},
		{"timezone (merged)", tip.Timezone, "Europe/Berlin"},
		{"location", tip.Location.String(), "Europe/Berlin"},
		{"jitter", tip.Jitter, 5 * time.Minute},
		{"catchup in days", tip.Catchup, 24 * time.Hour},
		{"enabled", tip.Enabled, true},
		{"start", tip.Start, spec.Civil{Year: 2026, Month: 1, Day: 5, Hour: 10}},
		{"end", tip.End, spec.Civil{Year: 2027, Month: 6, Day: 30}},
		{"metrics sorted", tip.Metrics, []time.Duration{time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}},
		{"text", tip.Post.Text, `Tip #{{ .Run }} for {{ .Planned.Format "Monday" }}`},
		{"thread", tip.Post.Thread, []string{"second post", "by {{ .Account }} ({{ .Schedule }})"}},
		{"media", tip.Post.Media, []Media{{Path: abs, Alt: "A chart", Root: filepath.Dir(filepath.Dir(abs))}}},
		{"source", tip.Source, Pos{"testdata/good/full.yaml", 17, 5}},
		{"hash length", len(tip.Hash), 16},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("weekday-tip %s = %#v, want %#v", c.name, c.got, c.want)
		}
	}

	recap := cfg.Schedule("monthly-recap")
	if recap.Kind != KindRRule || recap.Timezone != "Asia/Kathmandu" || recap.Jitter != 5*time.Minute || recap.Catchup != defaultCatchup {
		t.Errorf("monthly-recap = %+v (explicit timezone must win over the merged one)", recap)
	}
	launch := cfg.Schedule("launch-day")
	if launch.Kind != KindAt || launch.Metrics != nil || launch.Post.Text != "We launch today!" {
		t.Errorf("launch-day = %+v (metrics: [] must override the merged stages)", launch)
	}
	if f, ok := launch.NextFire(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)); !ok || !f.Planned.Equal(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("launch-day NextFire = %v, %v", f, ok)
	}
	if _, ok := launch.NextFire(time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)); ok {
		t.Errorf("launch-day fires again after its instant")
	}
	disabled := cfg.Schedule("disabled")
	if disabled.Enabled || disabled.Timezone != "UTC" || disabled.Location != time.UTC || disabled.Post.Text != "A block scalar,\non two lines.\n" {
		t.Errorf("disabled = %+v", disabled)
	}
	if cfg.Schedule("nope") != nil || cfg.Schedule("") != nil {
		t.Errorf("Schedule of an unknown id is not nil")
	}
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// TestExample keeps the repository's example valid: it is what the README
// and `make run` show.
func TestExample(t *testing.T) {
	cfg := mustLoad(t, "../schedules.example.yaml")
	if len(cfg.Schedules) < 5 {
		t.Errorf("example has %d schedules", len(cfg.Schedules))
	}
}

// TestEveryErrorAtOnce checks that one file with many independent
// problems reports all of them, not just the first.
func TestEveryErrorAtOnce(t *testing.T) {
	dir := writeFiles(t, map[string]string{"many.yaml": account + `schedules:
  - id: Bad Id
    account: brand
    cron: "0 9 * * *"
    post: {text: hi}
  - id: two
    account: nobody
    cron: "99 * * * *"
    timezone: Mars/Olympus
    jitter: -1m
    catchup: forever
    enabled: "yes"
    metrics: [0s]
    post:
      text: "{{ .Nope }}"
      thread: ["", 5]
      media: [{path: missing.png}]
    extra: 1
  - id: two
    account: brand
    at: tomorrow
    post: {text: hi}
`})
	lines := loadErrors(t, dir)
	for _, want := range []string{
		`:5:9: id: "Bad Id" is not a valid id`,
		`:10:14: account: unknown account "nobody" (known: brand)`,
		`:11:11: cron: `,
		`:12:15: timezone: unknown time zone "Mars/Olympus"`,
		`:13:13: jitter: must not be negative`,
		`:14:14: catchup: "forever" is not a duration`,
		`:15:14: enabled: must be a boolean (true or false), got string "yes"`,
		`:16:15: metrics[0]: must be positive`,
		`:18:13: post.text: line 1:3: at <.Nope>: can't evaluate field Nope`,
		`:19:16: post.thread[0]: must not be empty`,
		`:19:20: post.thread[1]: must be a string, got integer 5`,
		`:20:22: post.media[0].path: ` + filepath.Join(dir, "missing.png") + `: no such file`,
		`:21:5: schedule: unknown field "extra"`,
		`:22:9: id: duplicate schedule id "two" (first defined at`,
		`:24:9: at: "tomorrow" is neither`,
	} {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, want) }) {
			t.Errorf("no diagnostic contains %q", want)
		}
	}
	if len(lines) != 15 {
		t.Errorf("got %d diagnostics, want 15:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}

func TestLoadPaths(t *testing.T) {
	good := account + "schedules:\n  - {id: a, account: brand, cron: \"@daily\", post: {text: hi}}\n"
	tests := []struct {
		name  string
		files map[string]string
		paths func(dir string) []string
		want  string // a diagnostic's text, or "" for success
		ids   []string
	}{
		{"no paths", nil, func(string) []string { return nil }, "no schedules file or folder given", nil},
		{"missing path", nil, func(d string) []string { return []string{filepath.Join(d, "nope")} }, "nope: no such file or directory", nil},
		{"empty folder", map[string]string{"README.md": "x"}, func(d string) []string { return []string{d} }, "no *.yaml or *.yml files found", nil},
		{"a file", map[string]string{"a.yaml": good}, func(d string) []string { return []string{filepath.Join(d, "a.yaml")} }, "", []string{"a"}},
		{"a file with another extension", map[string]string{"a.conf": good}, func(d string) []string { return []string{filepath.Join(d, "a.conf")} }, "", []string{"a"}},
		{"yml and nested folders", map[string]string{"x/y/a.yml": good}, func(d string) []string { return []string{d} }, "", []string{"a"}},
		{"hidden files and folders are skipped", map[string]string{
			"a.yaml": good, ".git/b.yaml": "broken: [", "..data/c.yaml": "broken: [", ".#a.yaml": "broken: [",
		}, func(d string) []string { return []string{d} }, "", []string{"a"}},
		{"the same file twice", map[string]string{"a.yaml": good}, func(d string) []string { return []string{d, filepath.Join(d, "a.yaml")} }, "", []string{"a"}},
		{"file too big", map[string]string{"a.yaml": good + strings.Repeat("#", DefaultMaxFileSize)}, func(d string) []string { return []string{d} }, "over the limit of 8388608", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			cfg, err := Load(LoadOptions{}, tt.paths(dir)...)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("Load = %v; want an error containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range cfg.Schedules {
				ids = append(ids, s.ID)
			}
			if !slices.Equal(ids, tt.ids) {
				t.Errorf("ids = %v, want %v", ids, tt.ids)
			}
		})
	}
}

func TestSymlinks(t *testing.T) {
	good := account + "schedules:\n  - {id: a, account: brand, cron: \"@daily\", post: {text: hi}}\n"
	dir := writeFiles(t, map[string]string{"..2026_01/a.yaml": good})
	other := writeFiles(t, map[string]string{"b.yaml": "broken: ["})
	// Kubernetes mounts a ConfigMap as links to a hidden, versioned folder.
	if err := os.Symlink("..2026_01", filepath.Join(dir, "..data")); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := os.Symlink(filepath.Join("..data", "a.yaml"), filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(other, filepath.Join(dir, "linked-folder.yaml")); err != nil {
		t.Fatal(err)
	}
	cfg := mustLoad(t, dir)
	if len(cfg.Files) != 1 || filepath.Base(cfg.Files[0]) != "a.yaml" || cfg.Schedule("a") == nil {
		t.Errorf("Files = %v: want the linked file once and no linked folder", cfg.Files)
	}
}

func TestRevision(t *testing.T) {
	files := map[string]string{
		"a.yaml":     account,
		"sub/b.yaml": "schedules:\n  - {id: b, account: brand, cron: \"@daily\", post: {text: hi}}\n",
	}
	r1 := mustLoad(t, writeFiles(t, files)).Revision
	r2 := mustLoad(t, writeFiles(t, files)).Revision
	if len(r1) != 16 || r1 != r2 {
		t.Errorf("the same files in two folders give revisions %q and %q", r1, r2)
	}
	files["sub/b.yaml"] += "# a comment\n"
	if r3 := mustLoad(t, writeFiles(t, files)).Revision; r3 == r1 {
		t.Errorf("a changed file keeps the revision")
	}
	files["sub/c.yaml"] = files["sub/b.yaml"]
	delete(files, "sub/b.yaml")
	files["sub/c.yaml"] = strings.Replace(files["sub/c.yaml"], "# a comment\n", "", 1)
	if r4 := mustLoad(t, writeFiles(t, files)).Revision; r4 == r1 {
		t.Errorf("a renamed file keeps the revision")
	}
}

func TestGitCommit(t *testing.T) {
	const c1 = "0123456789abcdef0123456789abcdef01234567"
	const c2 = "89abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"no git", map[string]string{}, ""},
		{"loose ref", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": c1 + "\n"}, c1},
		{"packed ref", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/packed-refs": "# pack-refs with: peeled\n" + c2 + " refs/heads/main\n"}, c2},
		{"detached", map[string]string{".git/HEAD": c2 + "\n"}, c2},
		{"linked work tree", map[string]string{
			".git":                        "gitdir: repo/worktrees/wt\n",
			"repo/worktrees/wt/HEAD":      "ref: refs/heads/feature\n",
			"repo/worktrees/wt/commondir": "../..\n",
			"repo/refs/heads/feature":     c1 + "\n",
		}, c1},
		{"ref outside refs/", map[string]string{".git/HEAD": "ref: ../../secret\n"}, ""},
		{"garbage", map[string]string{".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": "not a hash\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["schedules/a.yaml"] = account
			dir := writeFiles(t, tt.files)
			if got := gitCommit(filepath.Join(dir, "schedules")); got != tt.want && !(tt.want == "" && got != "" && tt.name == "no git") {
				t.Errorf("gitCommit = %q, want %q", got, tt.want)
			}
			if tt.want != "" {
				if cfg := mustLoad(t, filepath.Join(dir, "schedules", "a.yaml")); cfg.Commit != tt.want {
					t.Errorf("Config.Commit = %q, want %q", cfg.Commit, tt.want)
				}
			}
		})
	}
}

func TestDiagnosticFormat(t *testing.T) {
	d := Diagnostic{File: "s/a.yaml", Line: 3, Col: 7, Field: "schedules[0].cron", Message: "cron: bad"}
	if got := d.String(); got != "s/a.yaml:3:7: cron: bad" {
		t.Errorf("String = %q", got)
	}
	if got := (Diagnostic{File: "s/a.yaml", Message: "too big"}).String(); got != "s/a.yaml: too big" {
		t.Errorf("whole-file String = %q", got)
	}
	b, _ := json.Marshal(d)
	if want := `{"file":"s/a.yaml","line":3,"column":7,"field":"schedules[0].cron","message":"cron: bad"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	ds := Diagnostics{d, d}
	if !strings.HasPrefix(ds.Error(), "2 problems:\ns/a.yaml:3:7") || !errors.Is(ds, ErrInvalid) {
		t.Errorf("Diagnostics.Error = %q", ds.Error())
	}
}

// TestSecretsNeverEchoed puts a would-be secret wherever a secret reference
// or its mapping belongs and checks that no message repeats it.
func TestSecretsNeverEchoed(t *testing.T) {
	const secret = "sk-live-0123456789abcdef"
	dir := writeFiles(t, map[string]string{"a.yaml": `accounts:
  a: {platform: x, oauth2: {access_token: ` + secret + `}}
  b: {platform: x, oauth2: ` + secret + `}
  c: ` + secret + `
  d: {platform: x, oauth2: {access_token: "env:` + secret + `"}}
  e: {platform: x, oauth2: {access_token: "file:` + secret + `"}}
  f: {platform: x, oauth2: {access_token: [` + secret + `]}}
  g: {platform: x, oauth1: {consumer_key: {k: ` + secret + `}, consumer_secret: env:A, access_token: env:B, access_token_secret: env:C}}
`})
	lines := loadErrors(t, dir)
	if len(lines) != 7 {
		t.Errorf("got %d diagnostics, want 7:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if strings.Contains(l, secret) || strings.Contains(l, "sk-live") {
			t.Errorf("a diagnostic repeats the secret: %s", l)
		}
	}
}

// TestDeterministic loads the same folders with one worker and with many:
// the files finish in different orders, the results must not differ.
func TestDeterministic(t *testing.T) {
	dir := t.TempDir()
	writeBenchConfig(t, dir, 12, 50)
	for _, paths := range [][]string{{"testdata/multi"}, {"testdata/bad"}, {dir}} {
		var want string
		for _, workers := range []int{1, 2, 8} {
			cfg, err := Load(LoadOptions{Workers: workers}, paths...)
			got := fmt.Sprint(err)
			if cfg != nil {
				var b strings.Builder
				fmt.Fprintln(&b, cfg.Revision, cfg.Files, len(cfg.Accounts))
				for _, s := range cfg.Schedules {
					fmt.Fprintln(&b, s.ID, s.Hash, s.Source)
				}
				got = b.String()
			}
			if workers == 1 {
				want = got
			} else if got != want {
				t.Errorf("%v with %d workers differs from one worker", paths, workers)
			}
		}
	}
}

func TestLoadOptions(t *testing.T) {
	dir := writeFiles(t, map[string]string{"a.yaml": account + `schedules:
  - {id: a, account: brand, cron: "0 9 * * *", post: {text: '{{ if eq (.Planned.Format "2006") "2030" }}{{ .Nope }}{{ end }}ok'}}
`})
	if _, err := Load(LoadOptions{}, dir); err != nil {
		t.Errorf("default sample run: %v", err)
	}
	_, err := Load(LoadOptions{SampleFrom: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, dir)
	if err == nil || !strings.Contains(err.Error(), "Planned 2030-01-01T09:00:00Z") {
		t.Errorf("sample run from 2030: %v", err)
	}
	_, err = Load(LoadOptions{MaxFileSize: 100}, dir)
	if err == nil || !strings.Contains(err.Error(), "over the limit of 100") {
		t.Errorf("MaxFileSize 100: %v", err)
	}
}

// git-sync points the configured path itself at a revision folder through a
// symlink (current -> rev-abc), swapped by rename on each sync.
func TestConfiguredFolderIsASymlink(t *testing.T) {
	good := account + "schedules:\n  - {id: a, account: brand, cron: \"@daily\", post: {text: hi}}\n"
	dir := writeFiles(t, map[string]string{"rev-abc/a.yaml": good})
	current := filepath.Join(dir, "current")
	if err := os.Symlink("rev-abc", current); err != nil {
		t.Skip("no symlinks:", err)
	}
	cfg := mustLoad(t, current)
	if cfg.Schedule("a") == nil || len(cfg.Files) != 1 {
		t.Fatalf("Files = %v: want a.yaml through the link", cfg.Files)
	}
	if !strings.HasPrefix(cfg.Files[0], current) {
		t.Errorf("file %q is not named through the configured path %q", cfg.Files[0], current)
	}
}
