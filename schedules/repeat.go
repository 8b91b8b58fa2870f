package schedules

import (
	"strings"
	"text/template/parse"
	"time"
)

// Texts that repeat. X refuses a post whose text is the same as a recent
// post of the same account ("duplicate content", a permanent error), so a
// recurring schedule whose text renders alike at successive fires
// publishes once and then fails fire after fire. Load warns of each such
// text (the main post's or a thread item's) of a cron or rrule schedule,
// enabled or not; a one-shot `at` schedule fires once and is never warned.
//
// The check is on the template, not on what X will remember:
//
//   - A text that uses neither .Run nor .Planned is the same at every
//     fire: plain text, and also a template whose actions all print
//     constants ({{ "literal" }}, a comment) or fields that are fixed for
//     the schedule (.Schedule, .Account).
//   - A text that uses .Planned but not .Run is rendered for the sample
//     fire and for the fire after it; the same output twice means a layout
//     that does not change with the fire, such as {{ .Planned.Format
//     "15:04" }} on a daily schedule.
//   - A text that uses .Run is taken to change at every fire.
//
// "Uses" means the field appears in the template (as .Run, $.Run, or the
// whole data as {{ . }}), whether or not the branch that holds it runs.
// The check cannot see a repeat further apart than two fires ("Monday"
// a week later), nor two schedules of one account that render alike.

// repeatNote ends every warning about a text that repeats.
const repeatNote = "X refuses a repeat of an account's recent post as duplicate content, so fires after the first would fail"

// fireFields is a set of the RenderData fields that change from fire to
// fire.
type fireFields uint8

const (
	usesRun fireFields = 1 << iota
	usesPlanned
)

// templateFireFields reports which fields that change from fire to fire
// the checked template p uses.
func templateFireFields(p prepared) fireFields {
	if p.simple {
		return simpleFireFields(p.text)
	}
	if p.t == nil || p.t.Tree == nil {
		return 0
	}
	return nodeFireFields(p.t.Tree.Root)
}

// simpleFireFields is templateFireFields for a text of the shape
// simpleRender accepts (which it has checked).
func simpleFireFields(text string) fireFields {
	var f fireFields
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return f
		}
		text = text[i+2:]
		j := strings.Index(text, "}}")
		if j < 0 {
			return f
		}
		field, _, _ := strings.Cut(strings.Trim(text[:j], " \t"), " ")
		text = text[j+2:]
		switch field {
		case ".Run":
			f |= usesRun
		case ".Planned", ".Planned.Format":
			f |= usesPlanned
		}
	}
}

// nodeFireFields walks a parsed template (checked by checkTemplate, so
// without range, template or define).
func nodeFireFields(n parse.Node) fireFields {
	var f fireFields
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return 0
		}
		for _, c := range n.Nodes {
			f |= nodeFireFields(c)
		}
	case *parse.ActionNode:
		f = nodeFireFields(n.Pipe)
	case *parse.IfNode:
		f = branchFireFields(&n.BranchNode)
	case *parse.WithNode:
		f = branchFireFields(&n.BranchNode)
	case *parse.PipeNode:
		if n == nil {
			return 0
		}
		for _, c := range n.Cmds {
			f |= nodeFireFields(c)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			f |= nodeFireFields(a)
		}
	case *parse.ChainNode:
		f = nodeFireFields(n.Node)
	case *parse.FieldNode:
		f = fieldFireFields(n.Ident[0])
	case *parse.VariableNode:
		switch {
		case n.Ident[0] != "$":
			// A variable: what it was set from is walked where it is
			// declared.
		case len(n.Ident) == 1:
			f = usesRun | usesPlanned // $, the whole data
		default:
			f = fieldFireFields(n.Ident[1])
		}
	case *parse.DotNode:
		// Dot is the whole data unless a with changed it; taking it for
		// the data can only leave out a warning, never make a wrong one.
		f = usesRun | usesPlanned
	}
	return f
}

func branchFireFields(b *parse.BranchNode) fireFields {
	return nodeFireFields(b.Pipe) | nodeFireFields(b.List) | nodeFireFields(b.ElseList)
}

func fieldFireFields(name string) fireFields {
	switch name {
	case "Run":
		return usesRun
	case "Planned":
		return usesPlanned
	}
	return 0
}

// repeatCheck is what checkRepeat needs of a schedule's sample run.
type repeatCheck struct {
	s       *Schedule
	key     firstFireKey
	planned time.Time // the sample fire
	ok      bool      // planned is a fire of the schedule, not a stand-in
}

// checkRepeat warns when text t, whose sample run rendered got with
// template p, renders alike at successive fires of the recurring schedule
// rc.s (see the top of this file).
func (w *walker) checkRepeat(rc *repeatCheck, t postTemplate, p prepared, got string) {
	f := templateFireFields(p)
	switch {
	case f == 0:
		w.warnf(t.n, t.p, "is the same at every fire (it uses neither .Run nor .Planned): %s", repeatNote)
	case f&usesRun != 0 || !rc.ok:
		// Run changes at every fire; without a sample fire there is no
		// next one to compare with.
	default:
		next, ok := w.secondFire(rc)
		if !ok {
			return
		}
		data := RenderData{Run: 2, Planned: next.In(rc.s.Location), Schedule: rc.s.ID, Account: rc.s.Account}
		again, err := w.env.renderer.execute(p, &data)
		if err == nil && again == got {
			w.warnf(t.n, t.p, "renders the same at its first two fires (Planned %s and %s): %s",
				rc.planned.In(rc.s.Location).Format(time.RFC3339), data.Planned.Format(time.RFC3339), repeatNote)
		}
	}
}

// secondFire returns the fire after the sample fire, memoized as that one
// is (schedules in a row often share a timing).
func (w *walker) secondFire(rc *repeatCheck) (time.Time, bool) {
	m := &w.firstFire
	if m.set && m.key == rc.key && m.secondSet {
		return m.second, m.secondOK
	}
	var next time.Time
	ok := false
	if err := guard(func() error { next, ok = rc.s.Spec.Next(rc.planned); return nil }); err != nil {
		ok = false
	}
	if m.set && m.key == rc.key {
		m.second, m.secondOK, m.secondSet = next, ok, true
	}
	return next, ok
}
