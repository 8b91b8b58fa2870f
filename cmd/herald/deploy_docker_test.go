package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dockerfile is deploy/Dockerfile read as the few instructions these tests
// need: continuation lines joined, comments dropped.
type dockerfile struct {
	froms, runs, envs []string
	healthcheck       string
	user              string // the last USER
	args              map[string]string
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{args: map[string]string{}}
	var logical []string
	cur := ""
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		if cur += trimmed; strings.TrimSpace(cur) != "" {
			logical = append(logical, strings.TrimSpace(cur))
		}
		cur = ""
	}
	for _, l := range logical {
		instr, rest, _ := strings.Cut(l, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			d.froms = append(d.froms, rest)
		case "RUN":
			d.runs = append(d.runs, rest)
		case "ENV":
			d.envs = append(d.envs, strings.Fields(rest)...)
		case "USER":
			d.user = rest
		case "ARG":
			name, def, _ := strings.Cut(rest, "=")
			d.args[name] = def
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK without CMD: %s", l)
			}
			d.healthcheck = cmd
		}
	}
	return d
}

// shellWords splits a RUN line the way sh would for the simple lines the
// Dockerfile uses: words, double quotes, and ${NAME} from vars.
func shellWords(t *testing.T, s string, vars map[string]string) []string {
	t.Helper()
	s = regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := vars[name]
		if !ok {
			t.Fatalf("RUN line uses ${%s}, which no ARG declares", name)
		}
		return v
	})
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t') && !quoted:
			if inWord {
				words = append(words, w.String())
				w.Reset()
			}
			inWord = false
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// The binary built exactly as deploy/Dockerfile builds it (same
// environment, same flags, its version stamped in) starts with the
// image's environment and answers /readyz, and the image's HEALTHCHECK
// command says so. The image is a non-root, multi-stage one.
func TestDockerfileBuild(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)
	if len(d.froms) < 2 {
		t.Errorf("want a multi-stage build, got FROM %q", d.froms)
	}
	if d.user == "" || strings.HasPrefix(d.user, "0") || strings.HasPrefix(d.user, "root") {
		t.Errorf("the image runs as %q, want a non-root user", d.user)
	}
	var build []string
	for _, r := range d.runs {
		if strings.Contains(r, "go build") {
			build = shellWords(t, r, map[string]string{"VERSION": "v9.9.9-docker-test"})
		}
	}
	if build == nil {
		t.Fatal("no RUN line with go build in deploy/Dockerfile")
	}
	var env []string
	for len(build) > 0 && strings.Contains(build[0], "=") {
		env, build = append(env, build[0]), build[1:]
	}
	joined := strings.Join(build, " ")
	for _, want := range []string{"CGO_ENABLED=0"} {
		if !strings.Contains(strings.Join(env, " "), want) {
			t.Errorf("the build runs without %s: %q", want, env)
		}
	}
	for _, want := range []string{"-trimpath", "-X main.version=v9.9.9-docker-test"} {
		if !strings.Contains(joined, want) {
			t.Errorf("the build lacks %s: %q", want, joined)
		}
	}
	bin := filepath.Join(t.TempDir(), "herald")
	for i := range build {
		if build[i] == "-o" && i+1 < len(build) {
			build[i+1] = bin
		}
	}
	if build[0] != "go" {
		t.Fatalf("the build line does not start with go: %q", build)
	}
	cmd := exec.Command("go", build[1:]...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", strings.Join(env, " "), joined, err, out)
	}
	if out, err := exec.Command("file", bin).Output(); err == nil && !strings.Contains(string(out), "statically linked") {
		t.Errorf("the binary is not static: %s", out)
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "herald v9.9.9-docker-test" {
		t.Errorf("herald version = %q, %v; want the stamped version", out, err)
	}

	// The image's environment, with its folders moved under a temporary
	// one and the port chosen by the system.
	dir := t.TempDir()
	writeFile(t, dir, "etc/herald/plan.yaml", "accounts:\n  brand: {platform: x}\nschedules:\n  - {id: a, account: brand, cron: \"0 0 1 1 *\", post: {text: a}}\n")
	var runEnv []string
	for _, kv := range d.envs {
		name, val, _ := strings.Cut(kv, "=")
		switch name {
		case "HERALD_LISTEN":
			val = "127.0.0.1:0"
		case "HERALD_CONFIG", "HERALD_CACHE_DIR":
			val = filepath.Join(dir, val)
		case "HERALD_DB":
			val = "sqlite:" + filepath.Join(dir, strings.TrimPrefix(val, "sqlite:"))
			if err := os.MkdirAll(filepath.Dir(strings.TrimPrefix(val, "sqlite:")), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		runEnv = append(runEnv, name+"="+val)
	}
	n := startBinary(t, bin, append(runEnv, "HERALD_NODE_ID=docker"), "serve", "--dry-run")
	addr := n.waitLog("start", 60*time.Second, msgIs("herald started"))["listen"].(string)
	checkHealth(t, addr)

	// HEALTHCHECK's exec form, pointed at the test's port.
	var hc []string
	for _, w := range strings.Split(strings.Trim(strings.TrimSpace(d.healthcheck), "[]"), ",") {
		hc = append(hc, strings.Trim(strings.TrimSpace(w), `"`))
	}
	if len(hc) < 2 || hc[1] != "health" {
		t.Fatalf("HEALTHCHECK CMD %q: want [\"/usr/local/bin/herald\", \"health\", ...] in exec form", d.healthcheck)
	}
	for i := range hc {
		if hc[i] == "--url" && i+1 < len(hc) {
			hc[i+1] = strings.Replace(hc[i+1], "127.0.0.1:8080", addr, 1)
		}
	}
	if out, err := exec.Command(bin, hc[1:]...).CombinedOutput(); err != nil {
		t.Errorf("HEALTHCHECK %q: %v\n%s", hc, err, out)
	}
	if code := n.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("herald exited %d after SIGTERM", code)
	}
}
