package schedules

import (
	"fmt"
	"strings"
	"text/template"
	"time"
)

// RenderData is what a post template (post.text and each post.thread item,
// Go text/template syntax) sees:
//
//	{{ .Run }}       int64, the 1-based number of this fire (1 for the first)
//	{{ .Planned }}   time.Time, the planned instant in the schedule's zone,
//	                 e.g. {{ .Planned.Format "Monday 2 January" }}
//	{{ .Schedule }}  the schedule's id
//	{{ .Account }}   the account's name
//
// A field that does not exist is an error, not an empty string.
//
// Templates come from a git repository that may be less trusted than the
// service running them, so they are restricted to what a post needs and
// their cost is bounded: no range, template, define or block (so no loops or
// recursion: a template runs in time linear in its size); methods such as
// .Planned.Format take literal arguments only; print, printf, println,
// html, js and urlquery refuse results over 16 KiB and printf widths over
// 280; a template's source is at most 4 KiB and its output at most 16 KiB.
type RenderData struct {
	Run      int64
	Planned  time.Time
	Schedule string
	Account  string
}

const (
	maxTemplateBytes = 4 << 10
	maxRenderedBytes = 16 << 10
	maxPrintfWidth   = XTextLimit
)

// Render renders the post's texts for one fire: the main post, then each
// thread post. d.Schedule and d.Account are set from s, and d.Planned is
// shown in the schedule's zone. Errors wrap ErrTemplate, ErrEmptyText or
// ErrTextTooLong. Templates are prepared on every call, since Schedule keeps
// only their text to stay small; the usual simple ones need no parsing.
func (s *Schedule) Render(d RenderData) ([]string, error) {
	d.Schedule, d.Account = s.ID, s.Account
	if s.Location != nil {
		d.Planned = d.Planned.In(s.Location)
	}
	out := make([]string, 0, 1+len(s.Post.Thread))
	var r renderer
	for i := -1; i < len(s.Post.Thread); i++ {
		name, text := "post.text", s.Post.Text
		if i >= 0 {
			name, text = "post.thread["+itoa(i)+"]", s.Post.Thread[i]
		}
		got, err := r.render(name, text, &d)
		if err != nil {
			return nil, fmt.Errorf("schedule %s: %s: %w", s.ID, name, err)
		}
		if err := checkPost(got); err != nil {
			return nil, fmt.Errorf("schedule %s: %s: %w", s.ID, name, err)
		}
		out = append(out, got)
	}
	return out, nil
}

// checkPost applies the platform's rules to a rendered post.
func checkPost(text string) error {
	if strings.TrimSpace(text) == "" {
		return ErrEmptyText
	}
	if n := WeightedLength(text); n > XTextLimit {
		return &tooLongError{n}
	}
	return nil
}

type tooLongError struct{ n int }

func (e *tooLongError) Error() string {
	return fmt.Sprintf("%d weighted characters, over X's limit of %d", e.n, XTextLimit)
}

func (e *tooLongError) Unwrap() error { return ErrTextTooLong }

// renderer parses and runs post templates. Load gives each worker one with
// a cache, because many schedules often share a text (through a YAML
// anchor, or a generated file); Render uses one without.
type renderer struct {
	cache map[string]cachedTemplate
	buf   limitedBuffer
}

type cachedTemplate struct {
	t   *template.Template
	err error
}

// maxCached bounds the cache; when full it starts again.
const maxCached = 4096

// render runs the template text with d.
func (r *renderer) render(name, text string, d *RenderData) (string, error) {
	t, err := r.prepare(name, text)
	if err != nil {
		return "", err
	}
	return r.execute(t, d)
}

// prepared is a checked template, ready to run.
type prepared struct {
	text   string
	simple bool               // text is plain, or has only simple actions
	t      *template.Template // otherwise
}

// prepare checks a template and parses it when it needs text/template.
// Most posts are plain text or use only the simple actions of
// simpleRender, which skip text/template entirely.
func (r *renderer) prepare(name, text string) (prepared, error) {
	if len(text) > maxTemplateBytes {
		return prepared{}, fmt.Errorf("%w: the template is %d bytes, over the limit of %d", ErrTemplate, len(text), maxTemplateBytes)
	}
	if _, ok := simpleRender(text, nil, nil); ok {
		return prepared{text: text, simple: true}, nil
	}
	t, err := r.compile(name, text)
	return prepared{text: text, t: t}, err
}

// execute runs a template from prepare.
func (r *renderer) execute(p prepared, d *RenderData) (string, error) {
	if p.simple {
		if !strings.Contains(p.text, "{{") {
			return p.text, nil
		}
		r.buf.b, _ = simpleRender(p.text, d, r.buf.b[:0])
		if len(r.buf.b) > maxRenderedBytes {
			return "", fmt.Errorf("%w: %v", ErrTemplate, errTooBig)
		}
		return r.buf.String(), nil
	}
	r.buf.reset()
	if err := p.t.Execute(&r.buf, d); err != nil {
		return "", fmt.Errorf("%w: %s", ErrTemplate, cleanTemplateError(p.t.Name(), err))
	}
	return r.buf.String(), nil
}

func (r *renderer) compile(name, text string) (*template.Template, error) {
	if c, ok := r.cache[text]; ok {
		return c.t, c.err
	}
	t, err := template.New(name).Option("missingkey=error").Funcs(safeFuncs).Parse(text)
	if err != nil {
		err = fmt.Errorf("%w: %s", ErrTemplate, cleanTemplateError(name, err))
	} else if err = checkTemplate(t); err != nil {
		err = fmt.Errorf("%w: %v", ErrTemplate, err)
	}
	if err != nil {
		t = nil
	}
	if r.cache != nil {
		if len(r.cache) >= maxCached {
			clear(r.cache)
		}
		r.cache[text] = cachedTemplate{t, err}
	}
	return t, err
}

// cleanTemplateError drops the "template: NAME:" prefix and the "executing
// NAME" part of text/template's messages: the diagnostic already names the
// field.
func cleanTemplateError(name string, err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "template: "+name+":")
	msg = strings.Replace(msg, `executing "`+name+`" `, "", 1)
	// Name the fields a user may use instead of a Go type they never wrote.
	msg = strings.Replace(msg, "in type *schedules.RenderData", "(a post template knows .Run, .Planned, .Schedule and .Account)", 1)
	return "line " + msg
}

// limitedBuffer is the output of a template run; it fails past
// maxRenderedBytes.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if len(l.b)+len(p) > maxRenderedBytes {
		return 0, errTooBig
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *limitedBuffer) reset()         { l.b = l.b[:0] }
func (l *limitedBuffer) String() string { return string(l.b) }
