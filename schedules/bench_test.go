package schedules

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-social/herald/internal/benchutil"
)

// writeBenchConfig writes files × perFile schedules under dir: a realistic
// mix of cron (60%), rrule (25%) and at (15%) schedules across ten zones,
// each with a distinct template text, some with a thread, jitter and
// metrics; plus one file of accounts.
func writeBenchConfig(tb testing.TB, dir string, files, perFile int) {
	tb.Helper()
	zones := []string{"UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney",
		"Europe/London", "America/Los_Angeles", "Asia/Kolkata", "America/Sao_Paulo", "Africa/Lagos"}
	var acc strings.Builder
	acc.WriteString("accounts:\n")
	for a := range 10 {
		fmt.Fprintf(&acc, "  brand-%d:\n    platform: x\n    oauth2: {access_token: env:X_TOKEN_%d}\n", a, a)
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts.yaml"), []byte(acc.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	for f := range files {
		var b strings.Builder
		b.WriteString("schedules:\n")
		for i := range perFile {
			n := f*perFile + i
			fmt.Fprintf(&b, "  - id: s-%06d\n    account: brand-%d\n    timezone: %s\n", n, n%10, zones[n%len(zones)])
			switch k := n % 20; {
			case k < 12:
				fmt.Fprintf(&b, "    cron: \"%d %d * * %d-5\"\n", n%60, 6+n%12, n%2)
			case k < 17:
				fmt.Fprintf(&b, "    rrule: \"FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=%d;BYMINUTE=%d\"\n    start: 2026-0%d-0%dT08:00:00\n",
					8+n%10, n%60, 1+n%9, 1+n%9)
			default:
				fmt.Fprintf(&b, "    at: 2027-%02d-%02dT%02d:%02d:00\n", 1+n%12, 1+n%28, n%24, n%60)
			}
			if n%3 == 0 {
				b.WriteString("    jitter: 5m\n    metrics: [1h, 24h, 7d]\n")
			}
			fmt.Fprintf(&b, "    post:\n      text: \"Post %d: tip #{{ .Run }} for {{ .Planned.Format \\\"Monday 2 Jan\\\" }}, see https://example.com/tips/%d\"\n", n, n)
			if n%5 == 0 {
				fmt.Fprintf(&b, "      thread: [\"More on tip %d\", \"Posted by {{ .Account }}\"]\n", n)
			}
		}
		name := filepath.Join(dir, "team-"+strconv.Itoa(f/10), fmt.Sprintf("schedules-%03d.yaml", f))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// writeFlowBenchConfig writes n schedules under dir in the flow style the
// engine benchmarks load (actors/bench_helpers_test.go): files of 5,000
// one-line schedules sharing one account, one cron and one post text, plus
// accounts.yaml.
func writeFlowBenchConfig(tb testing.TB, dir string, n int) {
	tb.Helper()
	const perFile = 5000
	if err := os.WriteFile(filepath.Join(dir, "accounts.yaml"), []byte("accounts:\n  bench: {platform: x}\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	for f := 0; f*perFile < n; f++ {
		var b strings.Builder
		b.WriteString("schedules:\n")
		for i := f * perFile; i < min(n, (f+1)*perFile); i++ {
			fmt.Fprintf(&b, "  - {id: s-%07d, account: bench, cron: \"0 0 1 1 *\", post: {text: \"post {{ .Run }}\"}}\n", i)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("schedules-%03d.yaml", f)), []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkLoad100k loads 100,000 schedules in 100 files. Besides ns/op it
// reports the CPU time of one load over all cores (cpu-s/op, which unlike
// ns/op does not suffer when other processes share the machine), the heap
// the loaded Config keeps (live-MB), what one load allocates (alloc-MB/op)
// and the process's peak resident set (peak-RSS-MB, which includes the
// benchmark's own set-up).
//
//	go test -run='^$' -bench=Load100k -benchtime=5x ./schedules/
func BenchmarkLoad100k(b *testing.B) {
	dir := b.TempDir()
	writeBenchConfig(b, dir, 100, 1000)
	benchLoad(b, 100000, func() (*Config, error) { return Load(LoadOptions{}, dir) })
}

// BenchmarkLoadFlow100k is BenchmarkLoad100k on what the engine benchmarks
// load, 20 files of 5,000 flow-style one-line schedules
// (writeFlowBenchConfig): the YAML parse and the per-schedule overhead
// weigh more there, since the timing and the text are shared.
//
//	go test -run='^$' -bench=LoadFlow100k -benchtime=5x ./schedules/
func BenchmarkLoadFlow100k(b *testing.B) {
	dir := b.TempDir()
	writeFlowBenchConfig(b, dir, 100000)
	benchLoad(b, 100000, func() (*Config, error) { return Load(LoadOptions{}, dir) })
}

// BenchmarkRestart100k is a node's first Load after a restart, through a
// decode cache that an earlier process filled (a map here; the disk's adds
// reading the entries), on BenchmarkLoad100k's files and on the flow-style
// ones: what the cache leaves of a load. live-MB counts the map's entries
// too (cache-MB); the Config alone is live-MB minus cache-MB.
//
//	go test -run='^$' -bench='Restart100k|Load100k$|LoadFlow100k' -benchtime=5x ./schedules/
func BenchmarkRestart100k(b *testing.B) {
	for _, c := range []struct {
		name  string
		write func(dir string)
	}{
		{"mixed", func(dir string) { writeBenchConfig(b, dir, 100, 1000) }},
		{"flow", func(dir string) { writeFlowBenchConfig(b, dir, 100000) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			c.write(dir)
			cache := &mapCache{}
			if _, err := NewLoader(LoadOptions{Cache: cache}).Load(dir); err != nil {
				b.Fatal(err)
			}
			benchLoad(b, 100000, func() (*Config, error) {
				l := NewLoader(LoadOptions{Cache: cache})
				cfg, err := l.Load(dir)
				if st := l.LastStats(); err == nil && st.Decoded > 1 {
					b.Fatalf("a restart parsed %d files", st.Decoded)
				}
				return cfg, err
			})
			entries := 0
			for _, e := range cache.m {
				entries += len(e)
			}
			b.ReportMetric(float64(entries)/(1<<20), "cache-MB") // after benchLoad's ResetTimer
		})
	}
}

// benchLoad runs load b.N times and reports the metrics BenchmarkLoad100k
// describes; each load must give want schedules. What load keeps (a
// Loader) counts in live-MB.
func benchLoad(b *testing.B, want int, load func() (*Config, error)) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := benchutil.CPUTime()
	b.ResetTimer()
	var cfg *Config
	for b.Loop() {
		var err error
		if cfg, err = load(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric((benchutil.CPUTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	runtime.ReadMemStats(&after)
	if len(cfg.Schedules) != want {
		b.Fatalf("loaded %d schedules, want %d", len(cfg.Schedules), want)
	}
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "live-MB")
	runtime.KeepAlive(cfg)
	runtime.KeepAlive(load)
	if rss := peakRSS(); rss > 0 {
		b.ReportMetric(rss, "peak-RSS-MB")
	}
}

// BenchmarkReload100kOneFileChanged is what a node does on an edit: a
// Loader that has loaded the 100,000 schedules of BenchmarkLoad100k loads
// them again after one file of 1,000 was rewritten with one schedule
// changed (each iteration toggles that schedule's text, so every Load sees
// a change). The time includes writing the file, a fraction of a
// millisecond. Compare with BenchmarkLoad100k, what every reload cost
// before Loader.
//
//	go test -run='^$' -bench='Load100k|Reload100k' -benchtime=5x ./schedules/
func BenchmarkReload100kOneFileChanged(b *testing.B) {
	dir := b.TempDir()
	writeBenchConfig(b, dir, 100, 1000)
	name := filepath.Join(dir, "team-4", "schedules-042.yaml")
	orig, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	const old = "Post 42500: tip"
	if !strings.Contains(string(orig), old) {
		b.Fatalf("%s has no %q", name, old)
	}
	versions := [][]byte{[]byte(strings.Replace(string(orig), old, "Post 42500 (edited): tip", 1)), orig}
	l := NewLoader(LoadOptions{})
	if _, err := l.Load(dir); err != nil {
		b.Fatal(err)
	}
	n := 0
	benchLoad(b, 100000, func() (*Config, error) {
		if err := os.WriteFile(name, versions[n%2], 0o644); err != nil {
			return nil, err
		}
		n++
		cfg, err := l.Load(dir)
		if err == nil && len(l.decoded) != 1 {
			b.Fatalf("decoded %v, want the one file changed", l.decoded)
		}
		return cfg, err
	})
}

// peakRSS reads the process's peak resident set size (Linux), in MiB.
func peakRSS() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
