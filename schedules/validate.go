package schedules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/herald-social/herald/schedules/spec"
)

// Defaults and bounds of schedule fields.
const (
	defaultCatchup     = 15 * time.Minute
	defaultMaxAttempts = 5
	maxMaxAttempts     = 100
	maxThread          = 25 // posts after the first; X's composer allows 25 in all
	maxMetrics         = 10
)

// defaultSampleFrom is the reference instant of the sample run when
// LoadOptions.SampleFrom is zero. It is fixed, not "now", so that a file
// validates the same way every day.
var defaultSampleFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// scheduleRefs is what cross-file checks need of a schedule besides its
// ID and Account (set only when valid). It holds positions, not the YAML
// nodes, because a Loader keeps it between loads and a node would keep its
// whole file's tree alive.
type scheduleRefs struct {
	item                    int // its index in the file's schedules list
	idLine, idCol           int
	accountLine, accountCol int
}

// validate turns a draft into a Schedule, recording every problem. The
// Schedule is returned even when it has problems, so that cross-file checks
// still see its id and account; Load returns no Config then anyway.
func (w *walker) validate(d *scheduleDraft) (*Schedule, scheduleRefs) {
	s := &Schedule{Enabled: true, Catchup: defaultCatchup, MaxAttempts: defaultMaxAttempts,
		Timezone: "UTC", Location: time.UTC, Source: Pos{w.file, d.item.Line, d.item.Column}}
	var refs scheduleRefs
	good := len(w.diags)
	p := d.p

	if d.id == nil {
		w.errf(d.item, p, "missing required field \"id\"")
	} else if id, ok := w.str(d.id, p.child("id")); ok {
		if validID(id) {
			s.ID, refs.idLine, refs.idCol = id, d.id.Line, d.id.Column
		} else {
			w.errf(d.id, p.child("id"), "%s is not a valid id (%s)", quoteShort(id), idRule)
		}
	}
	if d.account == nil {
		w.errf(d.item, p, "missing required field \"account\"")
	} else if name, ok := w.str(d.account, p.child("account")); ok {
		s.Account, refs.accountLine, refs.accountCol = name, d.account.Line, d.account.Column
	}
	if d.timezone != nil {
		if tz, ok := w.str(d.timezone, p.child("timezone")); ok {
			name, loc, err := w.env.zones.load(tz)
			if err != nil {
				w.errf(d.timezone, p.child("timezone"), "%v", err)
			} else {
				s.Timezone, s.Location = name, loc
			}
		}
	}
	s.Jitter = w.duration(d.jitter, p.child("jitter"), 0)
	s.Catchup = w.duration(d.catchup, p.child("catchup"), defaultCatchup)
	s.Deadline = w.deadline(d, s.Jitter, s.Catchup)
	if d.maxAttempts != nil {
		s.MaxAttempts = w.integer(d.maxAttempts, p.child("max_attempts"), 1, maxMaxAttempts, defaultMaxAttempts)
	}
	if d.enabled != nil {
		s.Enabled, _ = w.boolean(d.enabled, p.child("enabled"))
	}
	s.Start = w.civil(d.start, p.child("start"))
	s.End = w.civil(d.end, p.child("end"))
	windowOK := true
	if !s.Start.IsZero() && !s.End.IsZero() && !civilBefore(s.Start, s.End) {
		w.errf(d.end, p.child("end"), "%s is not after start %s", s.End, s.Start)
		windowOK = false
	}
	w.timing(d, s, windowOK)
	s.Metrics = w.metrics(d)
	hashes, texts := w.postContent(d, s)
	w.sample(d, s, texts)
	if len(w.diags) == good {
		s.Hash, w.hashBuf = scheduleHash(s, hashes, w.hashBuf)
	}
	return s, refs
}

// required reads a non-empty string.
func (w *walker) required(n *yaml.Node, p path) (string, error) {
	s, ok := w.str(n, p)
	if !ok {
		return "", errSkip
	}
	if strings.TrimSpace(s) == "" {
		w.errf(n, p, "must not be empty")
		return "", errSkip
	}
	return s, nil
}

// guard runs a call into the spec parsers, turning a panic on odd input
// into an error: the expressions come from files we do not control and a
// parser bug must not take the service down.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the parser failed (%v)", r)
		}
	}()
	return f()
}

func (w *walker) duration(n *yaml.Node, p path, def time.Duration) time.Duration {
	if n == nil {
		return def
	}
	s, ok := w.text(n, p, "a duration such as 90s, 5m, 2h or 1d", "!!int", "!!float")
	if !ok {
		return def
	}
	d, err := parseDuration(s)
	if err != nil {
		w.errf(n, p, "%s is not a duration (use units such as 90s, 5m, 2h or 1d)", quoteShort(s))
		return def
	}
	if d < 0 {
		w.errf(n, p, "must not be negative")
		return def
	}
	return d
}

// deadline reads the schedule's deadline: a positive duration, or none
// (0, no deadline); left out, the default for the schedule's catch-up
// window and jitter (see defaultDeadline). A deadline no longer than the
// jitter would let a fire expire before its first attempt, so it is
// refused; one shorter than catchup is fine (see FORMAT.md: the deadline
// then decides).
func (w *walker) deadline(d *scheduleDraft, jitter, catchup time.Duration) time.Duration {
	def := defaultDeadline(catchup, jitter)
	n, p := d.deadline, d.p.child("deadline")
	if n == nil {
		return def
	}
	s, ok := w.text(n, p, "a duration such as 2h, or none", "!!int", "!!float")
	if !ok {
		return def
	}
	if s == "none" {
		return 0
	}
	v, err := parseDuration(s)
	switch {
	case err != nil && strings.EqualFold(s, "none"):
		w.errf(n, p, "%s: write none, in lower case, for no deadline", quoteShort(s))
	case err != nil:
		w.errf(n, p, "%s is neither a duration (use units such as 90s, 5m, 2h or 1d) nor none", quoteShort(s))
	case v < 0:
		w.errf(n, p, "must not be negative")
	case v == 0:
		w.errf(n, p, "must be positive (write none for no deadline)")
	case v <= jitter:
		w.errf(n, p, "%s is not longer than jitter %s: a jittered fire could expire before its first attempt",
			formatDuration(v), formatDuration(jitter))
	default:
		return v
	}
	return def
}

// defaultDeadline is the deadline of a schedule that leaves it out:
// DefaultDeadline, or catchup + jitter when that is longer, since a fire
// may be caught up until catchup after its jittered instant and must then
// still be publishable. It is 0 (no deadline) only when the sum overflows,
// which a catch-up window of centuries would need.
func defaultDeadline(catchup, jitter time.Duration) time.Duration {
	sum := catchup + jitter
	if sum < catchup {
		return 0
	}
	return max(DefaultDeadline, sum)
}

// integer reads an integer scalar in [lo, hi]; def when it is not one.
func (w *walker) integer(n *yaml.Node, p path, lo, hi, def int) int {
	want := fmt.Sprintf("an integer from %d to %d", lo, hi)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		w.errf(n, p, "must be %s, got %s", want, describe(n))
		return def
	}
	v, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		w.errf(n, p, "must be %s, got %s", want, cut(n.Value))
		return def
	}
	return int(v)
}

func (w *walker) civil(n *yaml.Node, p path) spec.Civil {
	if n == nil {
		return spec.Civil{}
	}
	s, ok := w.text(n, p, "a local wall time such as 2026-01-05T10:00:00", "!!timestamp")
	if !ok {
		return spec.Civil{}
	}
	c, err := spec.ParseCivil(s)
	if err != nil {
		w.errf(n, p, "%s", specMessage(err, "civil"))
	}
	return c
}

func civilBefore(a, b spec.Civil) bool {
	ta := time.Date(a.Year, a.Month, a.Day, a.Hour, a.Minute, a.Second, 0, time.UTC)
	tb := time.Date(b.Year, b.Month, b.Day, b.Hour, b.Minute, b.Second, 0, time.UTC)
	return ta.Before(tb)
}

// metrics checks the capture stages: positive, distinct; they are sorted.
func (w *walker) metrics(d *scheduleDraft) []time.Duration {
	p := d.p.child("metrics")
	if len(d.metricItems) > maxMetrics {
		w.errf(d.metrics, p, "%d stages, over the limit of %d", len(d.metricItems), maxMetrics)
		return nil
	}
	var out []time.Duration
	for i, n := range d.metricItems {
		ip := p.index(i)
		v := w.duration(n, ip, -1)
		switch {
		case v == -1:
		case v == 0:
			w.errf(n, ip, "must be positive")
		case slices.Contains(out, v):
			w.errf(n, ip, "%s is listed twice", formatDuration(v))
		default:
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// firstFireMemo is the planned time of the last sample run: its timing
// (which determines the Spec) and reference instant, and the instant they
// gave. Schedules in a row often share both.
type firstFireMemo struct {
	key     firstFireKey
	planned time.Time
	ok      bool // planned is a fire, not the reference instant standing in
	set     bool
	// second is the fire after planned, once secondFire has asked.
	second              time.Time
	secondOK, secondSet bool
}

type firstFireKey struct {
	timing specKey
	from   time.Time
}

// postTemplate is one text of a post, to be checked by a sample run.
type postTemplate struct {
	n    *yaml.Node
	p    path
	text string
}

// postContent checks the post's fields and returns what the hash needs of
// its media and the texts that decoded, for the sample run.
func (w *walker) postContent(d *scheduleDraft, s *Schedule) ([]mediaHash, []postTemplate) {
	p := d.p.sub("post")
	if d.post == nil {
		w.errf(d.item, d.p, "missing required field \"post\"")
		return nil, nil
	}
	if !d.postOK {
		return nil, nil
	}
	texts := w.texts[:0] // the previous schedule's, whose sample ran

	if d.text == nil {
		w.errf(d.post, p, "missing required field \"text\"")
	} else if text, ok := w.str(d.text, d.p.sub("post.text")); ok {
		s.Post.Text = text
		texts = append(texts, postTemplate{d.text, d.p.sub("post.text"), text})
	}
	if len(d.threadItems) > maxThread {
		w.errf(d.thread, d.p.sub("post.thread"), "%d posts, over the limit of %d", len(d.threadItems), maxThread)
	} else if len(d.threadItems) > 0 {
		s.Post.Thread = make([]string, len(d.threadItems))
		for i, n := range d.threadItems {
			ip := d.p.sub("post.thread").index(i)
			if text, ok := w.str(n, ip); ok {
				s.Post.Thread[i] = text
				texts = append(texts, postTemplate{n, ip, text})
			}
		}
	}
	var hashes []mediaHash
	if len(d.mediaItems) > 0 {
		s.Post.Media, hashes = w.media(d)
	}
	w.texts = texts
	return hashes, texts
}

// sample renders the post's texts for a sample fire and applies the
// platform's rules to them. The fire is the first one after the window
// start, or after the load's reference instant; when the timing did not
// compile, the reference instant stands in for it.
func (w *walker) sample(d *scheduleDraft, s *Schedule, texts []postTemplate) {
	if len(texts) == 0 {
		return
	}
	from := w.env.opts.SampleFrom
	if !s.Start.IsZero() {
		from = spec.Resolve(s.Start, s.Location).Add(-time.Second)
	}
	planned, ok := from, false
	actions := false
	for _, t := range texts {
		actions = actions || strings.Contains(t.text, "{{")
	}
	k := firstFireKey{specKey{s.Kind, s.Expr, s.Timezone, s.Start, s.End}, from}
	if s.Spec != nil && actions { // plain texts need no planned time
		if m := &w.firstFire; m.set && m.key == k {
			planned, ok = m.planned, m.ok
		} else {
			err := guard(func() error { planned, ok = s.Spec.Next(from); return nil })
			if err != nil {
				w.errf(d.item, d.p, "computing the first fire: %v", err)
				return
			}
			if !ok && s.Kind == KindAt {
				planned, ok = s.Spec.Next(time.Time{})
			}
			if !ok {
				planned = from
			}
			*m = firstFireMemo{key: k, planned: planned, ok: ok, set: true}
		}
	}
	var repeat *repeatCheck // set for a schedule that fires again and again
	if s.Kind != KindAt && s.Spec != nil {
		repeat = &repeatCheck{s: s, key: k, planned: planned, ok: ok}
	}
	data := &w.sampleData
	*data = RenderData{Run: 1, Planned: planned.In(s.Location), Schedule: s.ID, Account: s.Account}
	for _, t := range texts {
		tmpl, err := w.env.renderer.prepare(t.p.rel, t.text)
		if err != nil {
			w.errf(t.n, t.p, "%s", strings.TrimPrefix(err.Error(), ErrTemplate.Error()+": "))
			continue
		}
		got, err := w.env.renderer.execute(tmpl, data)
		if err != nil {
			w.errf(t.n, t.p, "%s%s", strings.TrimPrefix(err.Error(), ErrTemplate.Error()+": "), sampleNote(t.text, data))
			continue
		}
		switch err := checkPost(got); {
		case errors.Is(err, ErrEmptyText) && !strings.Contains(t.text, "{{"):
			w.errf(t.n, t.p, "must not be empty")
		case errors.Is(err, ErrEmptyText):
			w.errf(t.n, t.p, "renders to an empty post%s", sampleNote(t.text, data))
		case err != nil:
			w.errf(t.n, t.p, "%v%s", err, sampleNote(t.text, data))
		case repeat != nil:
			w.checkRepeat(repeat, t, tmpl, got)
		}
	}
}

// sampleNote ends a message about the sample run of text: what it ran
// with, when text has actions. It is built only for a message, since
// formatting the time for every schedule costs more than the run.
func sampleNote(text string, data *RenderData) string {
	if !strings.Contains(text, "{{") {
		return ""
	}
	return fmt.Sprintf(" (sample run: Run 1, Planned %s)", data.Planned.Format(time.RFC3339))
}
