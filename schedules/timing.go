package schedules

import (
	"cmp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/herald-social/herald/schedules/spec"
)

// timing compiles the one of cron, rrule and at that the schedule sets.
// With a bad window (already reported) it only checks the expression's form,
// so that the window's problem is not reported twice.
func (w *walker) timing(d *scheduleDraft, s *Schedule, windowOK bool) {
	p := d.p
	type timingKey struct {
		name string
		n    *yaml.Node
	}
	var set []timingKey
	for _, k := range [...]timingKey{{"cron", d.cron}, {"rrule", d.rrule}, {"at", d.at}} {
		if k.n != nil {
			set = append(set, k)
		}
	}
	// The first one written is the timing; each later one is the mistake.
	slices.SortFunc(set, func(a, b timingKey) int { return cmp.Or(a.n.Line-b.n.Line, a.n.Column-b.n.Column) })
	for _, k := range set[min(1, len(set)):] {
		w.errf(k.n, p.child(k.name), "a schedule has exactly one of cron, rrule and at; this one already has %s", set[0].name)
	}
	if len(set) == 0 {
		w.errf(d.item, p, "missing the timing: one of cron, rrule or at")
		return
	}
	if len(set) > 1 {
		return
	}
	win := spec.Window{Start: s.Start, End: s.End}
	first, pp := set[0].n, p.child(set[0].name)
	var err error
	switch set[0].name {
	case "cron":
		s.Kind = KindCron
		if s.Expr, err = w.required(first, pp); err != nil {
			return
		}
		if up := strings.ToUpper(s.Expr); strings.HasPrefix(up, "TZ=") || strings.HasPrefix(up, "CRON_TZ=") {
			w.errf(first, pp, "set the zone with timezone:, not inside the expression")
			return
		}
		if !windowOK {
			return
		}
		s.Expr, s.Spec, err = w.env.specs.get(specKey{KindCron, s.Expr, s.Timezone, s.Start, s.End}, func() (spec.Spec, error) {
			return spec.Cron(s.Expr, s.Location, win)
		})
		if err != nil {
			w.errf(first, pp, "%s", specMessage(err, "cron"))
		}
	case "rrule":
		s.Kind = KindRRule
		if s.Expr, err = w.required(first, pp); err != nil {
			return
		}
		if strings.Contains(strings.ToUpper(s.Expr), "DTSTART") {
			w.errf(first, pp, "the rule's DTSTART comes from start:, not from the rule")
			return
		}
		if s.Start.IsZero() {
			w.errf(first, pp, "an rrule needs start: (its DTSTART, a local wall time)")
			return
		}
		if !windowOK {
			return
		}
		s.Expr, s.Spec, err = w.env.specs.get(specKey{KindRRule, s.Expr, s.Timezone, s.Start, s.End}, func() (spec.Spec, error) {
			return spec.RRule(s.Expr, s.Start, s.Location, win)
		})
		if err != nil {
			w.errf(first, pp, "%s", specMessage(err, "rrule"))
		}
	case "at":
		s.Kind = KindAt
		var ok bool
		if s.Expr, ok = w.text(first, pp, "a time (RFC 3339, or a local wall time)", "!!timestamp"); !ok {
			return
		}
		t, err := spec.ParseAt(s.Expr, s.Location)
		if err != nil {
			w.errf(first, pp, "%s", specMessage(err, "at", "civil"))
			return
		}
		if !s.Start.IsZero() && t.Before(spec.Resolve(s.Start, s.Location)) {
			w.errf(first, pp, "%s is before the window start %s", s.Expr, s.Start)
			return
		}
		if !s.End.IsZero() && !t.Before(spec.Resolve(s.End, s.Location)) {
			w.errf(first, pp, "%s is not before the window end %s (the end is exclusive)", s.Expr, s.End)
			return
		}
		s.Spec = spec.At(t)
	}
}

// specMessage returns the message of an error from the spec package
// without its leading "cron: " (or similar) when that only repeats the
// field the diagnostic already names.
func specMessage(err error, prefixes ...string) string {
	msg := err.Error()
	for _, p := range prefixes {
		msg = strings.TrimPrefix(msg, p+": ")
	}
	return msg
}
