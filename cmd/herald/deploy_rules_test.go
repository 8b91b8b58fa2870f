package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// exportedMetrics are the metric names Herald registers, read from the
// engine's sources (a scrape shows a labelled series only once it has a
// value), with a histogram's series suffixes, plus Prometheus' own up.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	srcs, _ := filepath.Glob("../../engine/*.go")
	names := map[string]bool{"up": true}
	re := regexp.MustCompile(`"(herald_[a-z0-9_]+)"`)
	for _, p := range srcs {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			for _, suffix := range []string{"", "_bucket", "_sum", "_count"} {
				names[m[1]+suffix] = true
			}
		}
	}
	if !names["herald_fire_lateness_seconds"] || !names["herald_ratelimit_degraded"] {
		t.Fatalf("the engine's metric names were not found: %v", names)
	}
	return names
}

var metricRe = regexp.MustCompile(`\b(herald_[a-z0-9_]+|up)\b`)

// checkExpr fails for a PromQL expression that names a metric Herald does
// not export, names none, or has unbalanced brackets.
func checkExpr(t *testing.T, where, expr string, exported map[string]bool) {
	t.Helper()
	found := metricRe.FindAllString(expr, -1)
	if len(found) == 0 {
		t.Errorf("%s: %q names no Herald metric", where, expr)
	}
	for _, name := range found {
		if !exported[name] {
			t.Errorf("%s: %s is not a metric Herald exports", where, name)
		}
	}
	for _, pair := range []string{"()", "{}", "[]"} {
		if strings.Count(expr, pair[:1]) != strings.Count(expr, pair[1:]) {
			t.Errorf("%s: unbalanced %s in %q", where, pair, expr)
		}
	}
}

// The alert rules decode strictly in Prometheus' rule file format, cover
// what the operations guide promises, and name only metrics Herald
// exports. (Prometheus' own rulefmt would pull its whole module in; the
// PromQL itself is checked for metric names and brackets only.)
func TestAlertRules(t *testing.T) {
	t.Parallel()
	type rule struct {
		Alert       string            `yaml:"alert"`
		Expr        string            `yaml:"expr"`
		For         string            `yaml:"for"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
	}
	var file struct {
		Groups []struct {
			Name     string `yaml:"name"`
			Interval string `yaml:"interval"`
			Rules    []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("deploy/prometheus/alerts.yml: %v", err)
	}
	exported := exportedMetrics(t)
	alerts := map[string]bool{}
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			if r.Alert == "" || alerts[r.Alert] {
				t.Errorf("%s: want a unique alert name", where)
			}
			alerts[r.Alert] = true
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: want a severity label, a summary and a description", where)
			}
			checkExpr(t, where, r.Expr, exported)
		}
	}
	for _, want := range []string{"HeraldDeadLetters", "HeraldFiresLate", "HeraldConfigReloadFailed", "HeraldConfigRevisionMismatch",
		"HeraldStoreUnavailable", "HeraldRedisDegraded", "HeraldRateLimitExhausted", "HeraldNodeDown"} {
		if !alerts[want] {
			t.Errorf("no alert %s", want)
		}
	}
	ops, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	for a := range alerts {
		if !strings.Contains(string(ops), a) {
			t.Errorf("docs/OPERATIONS.md does not explain %s", a)
		}
	}
}

// The Grafana dashboard is JSON whose every query names only metrics
// Herald exports.
func TestGrafanaDashboard(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../deploy/grafana/herald-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if len(dash.Panels) == 0 {
		t.Fatal("the dashboard has no panels")
	}
	exported := exportedMetrics(t)
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			checkExpr(t, "panel "+p.Title, q.Expr, exported)
		}
	}
}

// The systemd unit passes systemd-analyze verify (with the binary it
// names replaced by the one under test) without a warning, and keeps its
// sandbox. Skipped where systemd-analyze is not installed.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../deploy/systemd/herald.service")
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=herald", "NoNewPrivileges=yes",
		"ProtectHome=yes", "PrivateTmp=yes", "CapabilityBoundingSet=\n", "UMask=0077"} {
		if !strings.Contains(unit, want) {
			t.Errorf("herald.service lacks %q", strings.TrimSpace(want))
		}
	}
	tool, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the unit is not verified")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/herald", heraldBin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
