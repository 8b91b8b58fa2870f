package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/herald-social/herald/schedules"
)

const validateHelp = `Loads every *.yaml and *.yml file under each PATH (a file or a folder,
searched recursively) exactly as 'herald serve' does, and reports every
problem at once, one per line as FILE:LINE:COL: message. It needs no
secrets, no database and no network, so a schedules repository's own CI can
run it.

Warnings, printed as FILE:LINE:COL: warning: message, name what loads but
will probably fail when published (a recurring post whose text is the same
at every fire, which X refuses as duplicate content). They are listed once
the files have no error, and do not make the files invalid.

Exit status: 0 valid (with or without warnings), 1 invalid, 2 wrong usage.`

// validateReport is the --format json document, a contract for machine
// consumers.
type validateReport struct {
	Valid     bool                   `json:"valid"`
	Revision  string                 `json:"revision,omitempty"`
	Commit    string                 `json:"commit,omitempty"`
	Files     int                    `json:"files"`
	Accounts  int                    `json:"accounts"`
	Schedules int                    `json:"schedules"`
	Errors    []schedules.Diagnostic `json:"errors"`
	// Warnings are listed only when Valid (see schedules.Config.Warnings).
	Warnings []schedules.Diagnostic `json:"warnings"`
}

func runValidate(env *cliEnv, args []string) int {
	fs := newFlagSet("validate", "[--format text|json] PATH...", validateHelp, env.stderr)
	format := fs.String("format", "text", "output format: text or json")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return parseStatus(err)
	}
	if *format != "text" && *format != "json" {
		return usageError(fs, "--format must be text or json, not %q", *format)
	}
	if len(paths) == 0 {
		return usageError(fs, "validate needs at least one PATH (a schedules file or folder)")
	}

	cfg, err := schedules.Load(schedules.LoadOptions{}, paths...)
	var diags schedules.Diagnostics
	if err != nil && !errors.As(err, &diags) {
		fmt.Fprintf(env.stderr, "herald validate: %v\n", err)
		return exitCheck
	}
	report := validateReport{Valid: err == nil, Errors: []schedules.Diagnostic(diags), Warnings: []schedules.Diagnostic{}}
	if report.Errors == nil {
		report.Errors = []schedules.Diagnostic{}
	}
	if cfg != nil {
		report.Revision, report.Commit = cfg.Revision, cfg.Commit
		report.Files, report.Accounts, report.Schedules = len(cfg.Files), len(cfg.Accounts), len(cfg.Schedules)
		if cfg.Warnings != nil {
			report.Warnings = cfg.Warnings
		}
	}

	if *format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(report); err != nil {
			fmt.Fprintf(env.stderr, "herald validate: %v\n", err)
			return exitCheck
		}
	} else {
		for _, d := range diags {
			fmt.Fprintln(env.stdout, d.String())
		}
		for _, d := range report.Warnings {
			fmt.Fprintln(env.stdout, d.String())
		}
		if report.Valid {
			warned := ""
			if n := len(report.Warnings); n > 0 {
				warned = fmt.Sprintf("; %d %s", n, plural(n, "warning", "warnings"))
			}
			fmt.Fprintf(env.stdout, "ok: %d schedules, %d accounts in %d files (revision %s)%s\n",
				report.Schedules, report.Accounts, report.Files, report.Revision, warned)
		} else {
			fmt.Fprintf(env.stderr, "%d %s\n", len(diags), plural(len(diags), "error", "errors"))
		}
	}
	if !report.Valid {
		return exitCheck
	}
	return exitOK
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
