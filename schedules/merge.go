package schedules

import (
	"fmt"
	"slices"
	"strings"
)

// crossCheck merges the files' accounts, schedules and warnings into cfg
// and checks what no single file can: duplicate account names and schedule
// ids, and schedules naming an account no file defines. Files are visited
// in sorted order, so "first" and "second" occurrences are well defined.
func crossCheck(cfg *Config, results []fileResult) []Diagnostic {
	var diags, warns []Diagnostic
	n := 0
	for i := range results {
		r := &results[i]
		diags = append(diags, r.diags...)
		warns = append(warns, r.warnings...) // a copy: r's are kept by the Loader
		n += len(r.schedules)
		for _, a := range r.accounts {
			if first, ok := cfg.Accounts[a.Name]; ok {
				diags = append(diags, Diagnostic{File: a.Source.File, Line: a.Source.Line, Col: a.Source.Col,
					Field:   "accounts." + a.Name,
					Message: fmt.Sprintf("accounts: duplicate account %q (first defined at %s:%d)", a.Name, first.Source.File, first.Source.Line)})
				continue
			}
			cfg.Accounts[a.Name] = a
		}
	}
	cfg.Schedules = make([]*Schedule, 0, n)
	byID := make(map[string]*Schedule, n)
	var names []string
	for i := range results {
		r := &results[i]
		for j, s := range r.schedules {
			ref := r.refs[j]
			if s.ID != "" {
				if first, ok := byID[s.ID]; ok {
					diags = append(diags, Diagnostic{File: s.Source.File, Line: ref.idLine, Col: ref.idCol,
						Field:   fieldOf(r, j, "id"),
						Message: fmt.Sprintf("id: duplicate schedule id %q (first defined at %s:%d)", s.ID, first.Source.File, first.Source.Line)})
				} else {
					byID[s.ID] = s
				}
			}
			if a := cfg.Accounts[s.Account]; a != nil {
				// One string shared by all of an account's schedules,
				// but only in a file decoded by this Load: a reused
				// Schedule may be in use by an earlier Config and is
				// never written (the value is equal anyway).
				if !r.reused {
					s.Account = a.Name
				}
			} else if s.Account != "" {
				if names == nil {
					names = sortedKeys(cfg.Accounts)
				}
				diags = append(diags, Diagnostic{File: s.Source.File, Line: ref.accountLine, Col: ref.accountCol,
					Field: fieldOf(r, j, "account"), Message: "account: " + unknownAccount(s.Account, names)})
			}
			cfg.Schedules = append(cfg.Schedules, s)
		}
	}
	if len(diags) == 0 {
		slices.SortFunc(cfg.Schedules, func(a, b *Schedule) int { return strings.Compare(a.ID, b.ID) })
		if len(warns) > 0 {
			cfg.Warnings = sortDiagnostics(warns)
		}
	}
	return diags
}

// fieldOf names field of the j-th schedule of a file by its position in
// the file's list.
func fieldOf(r *fileResult, j int, field string) string {
	return "schedules[" + itoa(r.refs[j].item) + "]." + field
}

func unknownAccount(name string, known []string) string {
	msg := fmt.Sprintf("unknown account %s", quoteShort(name))
	switch s := suggest(name, known); {
	case len(known) == 0:
		return msg + " (no file defines any account)"
	case s != "":
		return msg + fmt.Sprintf(" (did you mean %q?)", s)
	case len(known) <= 10:
		return msg + " (known: " + strings.Join(known, ", ") + ")"
	default:
		return msg + fmt.Sprintf(" (%d accounts are defined)", len(known))
	}
}

func sortedKeys(m map[string]*Account) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortDiagnostics sorts ds and drops exact repeats (a problem inside a
// YAML anchor is found once per alias to it, at the same place).
func sortDiagnostics(ds []Diagnostic) Diagnostics {
	slices.SortFunc(ds, func(a, b Diagnostic) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	out := ds[:0]
	for i, d := range ds {
		if i > 0 {
			prev := out[len(out)-1]
			if prev.File == d.File && prev.Line == d.Line && prev.Col == d.Col && prev.Message == d.Message {
				continue
			}
		}
		out = append(out, d)
	}
	return Diagnostics(out)
}
