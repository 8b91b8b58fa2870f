// Command herald is Herald's one binary: it checks schedules (validate),
// shows when they fire (next), and, in later subcommands, runs the service.
//
// main owns flags, signals, the clock and the exit status; the packages it
// calls take a context and an explicit time.
package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// Exit statuses, a contract scripts rely on.
const (
	exitOK    = 0 // success
	exitCheck = 1 // a failed check (invalid schedules, a runtime failure)
	exitUsage = 2 // wrong usage
)

// command is one subcommand of herald.
type command struct {
	name    string
	summary string
	run     func(env *cliEnv, args []string) int
}

// cliEnv is what a subcommand may touch of the process: its streams,
// environment and clock. Tests run subcommands in-process with their own.
type cliEnv struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

func defaultEnv() *cliEnv {
	return &cliEnv{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
}

func commands() []command {
	return []command{
		{"validate", "check schedule files and report every error as FILE:LINE:COL: message", runValidate},
		{"next", "list the next fire instants of a schedule or an ad-hoc cron/RRULE/at spec", runNext},
		{"serve", "run a Herald node: fire schedules, record and publish jobs, reload on edits", runServe},
		{"migrate", "apply the store's migrations and print the schema version", runMigrate},
		{"rotate-token-key", "re-encrypt the stored OAuth 2.0 tokens from HERALD_TOKEN_KEY to HERALD_NEW_TOKEN_KEY", runRotateTokenKey},
		{"ctl", "steer a running node through its admin API: schedules, jobs, reload, watch", runCtl},
		{"health", "exit 0 when a running node's /readyz answers 200 (a health check without shell or curl)", runHealth},
		{"fake-x", "serve a fake X API for demos and tests", runFakeX},
		{"version", "print Herald's version", runVersion},
	}
}

func main() {
	os.Exit(run(defaultEnv(), os.Args[1:]))
}

func run(env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(env.stdout)
		return exitOK
	case "--version":
		return runVersion(env, nil)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "herald: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Herald publishes social posts on schedules kept as code.")
	fmt.Fprintln(w, "\nUsage: herald COMMAND [flags] [args]\n\nCommands:")
	width := 0
	for _, c := range commands() {
		width = max(width, len(c.name))
	}
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'herald COMMAND --help' for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 a failed check, 2 wrong usage.")
	fmt.Fprintln(w, "herald ctl adds 3 unauthenticated or denied, 4 not found, 5 failed precondition.")
}

// usageErr is an error in how herald was called (exit status 2), as opposed
// to a failed check (exit status 1).
type usageErr string

func (e usageErr) Error() string { return string(e) }
