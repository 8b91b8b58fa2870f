package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The deployment files and the operations guide: everything under deploy/,
// and docs/OPERATIONS.md. Paths relative to cmd/herald.
func deployFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir("../../deploy", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("../../docs/OPERATIONS.md"); err == nil {
		files["../../docs/OPERATIONS.md"] = string(b)
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return files
}

var (
	heraldEnvRe = regexp.MustCompile(`\bHERALD_[A-Z0-9_]*[A-Z0-9]\b`)
	helpFlagRe  = regexp.MustCompile(`(?m)^\s+-([a-z0-9][a-z0-9-]*)`)
	// A herald command line: "herald SUB", an exec list ["/…/herald", "SUB"
	// or a list that starts with a subcommand (a container's args).
	cmdLineRe = regexp.MustCompile(`(?:\bherald\s+|/herald",\s*"|\[\s*")([a-z][a-z-]*)(?:"|\b)(?:\s+([a-z]+)\b)?`)
	dashFlag  = regexp.MustCompile(`(?:^|[\s"'\[,(=])--([a-z0-9][a-z0-9-]*)`)
)

// cliFlags asks the binary for the flags of each command (and of each ctl
// command) and collects every HERALD_* variable its help texts name.
func cliFlags(t *testing.T) (flags map[string]map[string]bool, env map[string]bool) {
	t.Helper()
	flags, env = map[string]map[string]bool{}, map[string]bool{}
	collect := func(key string, args ...string) {
		r := herald(t, "", append(args, "--help")...)
		text := r.stdout + r.stderr
		if r.code != exitOK {
			t.Fatalf("herald %v --help: exit %d\n%s", args, r.code, text)
		}
		set := map[string]bool{"help": true}
		for _, m := range helpFlagRe.FindAllStringSubmatch(text, -1) {
			set[m[1]] = true
		}
		flags[key] = set
		for _, name := range heraldEnvRe.FindAllString(text, -1) {
			env[name] = true
		}
	}
	for _, c := range commands() {
		collect(c.name, c.name)
	}
	ctlHelp := herald(t, "", "ctl", "--help").stderr
	_, ctlCommands, _ := strings.Cut(ctlHelp, "Commands:\n")
	ctlCommands, _, _ = strings.Cut(ctlCommands, "\n\n")
	for _, line := range strings.Split(ctlCommands, "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			collect("ctl "+f[0], "ctl", f[0])
		}
	}
	if len(flags) < len(commands())+5 {
		t.Fatalf("ctl commands not found in its help:\n%s", ctlHelp)
	}
	// Secrets are read from the environment only, so no flag help names
	// them: take them from the sources that read them.
	srcs, _ := filepath.Glob("*.go")
	getenvRe := regexp.MustCompile(`getenv\("(HERALD_[A-Z0-9_]+)"\)`)
	for _, p := range srcs {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range getenvRe.FindAllStringSubmatch(string(b), -1) {
			env[m[1]] = true
		}
	}
	return flags, env
}

// planCredentials lists the variables the example plans read credentials
// from (env:NAME): the compose file must set them, though Herald itself
// does not read them.
func planCredentials(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	plans, _ := filepath.Glob("../../examples/*.yaml")
	for _, p := range plans {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`env:([A-Z0-9_]+)`).FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
	}
	return names
}

// Every HERALD_* variable and every herald flag that a deployment file or
// the operations guide names exists: the binary's help lists it (or, for
// a secret, the binary reads it).
func TestDeployNamesOnlyRealFlagsAndVariables(t *testing.T) {
	t.Parallel()
	flags, env := cliFlags(t)
	creds := planCredentials(t)
	if !env["HERALD_TOKEN_KEY"] || !env["HERALD_DB"] || !flags["serve"]["redis-prefix"] {
		t.Fatalf("the binary's help was not read: env %v, serve flags %v", env, flags["serve"])
	}
	files := deployFiles(t)
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	sort.Strings(names)
	var checked int
	for _, p := range names {
		text := strings.ReplaceAll(files[p], "\\\n", " ")
		for _, name := range heraldEnvRe.FindAllString(text, -1) {
			if !env[name] && !creds[name] {
				t.Errorf("%s names %s, which herald does not read", p, name)
			}
		}
		for i, line := range strings.Split(text, "\n") {
			m := cmdLineRe.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			key := m[1]
			if _, ok := flags[key]; !ok {
				// Prose says "herald nodes"; code says `herald COMMAND`.
				if strings.Contains(line, "`herald "+key) {
					t.Errorf("%s:%d: herald %s is not a command", p, i+1, key)
				}
				continue
			}
			if key == "ctl" && m[2] != "" {
				if _, ok := flags["ctl "+m[2]]; !ok {
					t.Errorf("%s:%d: herald ctl %s is not a ctl command", p, i+1, m[2])
					continue
				}
				key = "ctl " + m[2]
			}
			for _, f := range dashFlag.FindAllStringSubmatch(line[strings.Index(line, m[0]):], -1) {
				checked++
				if !flags[key][f[1]] && !flags["ctl"][f[1]] {
					t.Errorf("%s:%d: herald %s has no flag --%s", p, i+1, key, f[1])
				}
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d herald flags found in the deployment files: the scan is broken", checked)
	}
}
