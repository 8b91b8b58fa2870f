package schedules

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalid matches every error Load returns for a configuration it
// rejects: errors.Is(err, ErrInvalid) is true for a Diagnostics value, so a
// caller can tell "the YAML is wrong" (keep the last good configuration, tell
// the author) from a bug without inspecting the list.
var ErrInvalid = errors.New("schedules: invalid configuration")

// ErrTemplate is wrapped by Render when a post template does not parse,
// breaks the template rules (see RenderData) or fails while executing. A
// schedule that passed Load can still hit it at run time, for example when a
// conditional branch the sample run did not take is broken.
var ErrTemplate = errors.New("schedules: post template failed")

// ErrTextTooLong is wrapped by Render when a rendered post is over the
// platform's limit (X: 280 weighted characters, see WeightedLength). Load
// checks one sample run; later runs may render longer text (a bigger run
// number, a longer month name); retrying cannot help, so a publisher should
// treat it as a permanent failure of that fire.
var ErrTextTooLong = errors.New("schedules: post text over the platform limit")

// ErrEmptyText is wrapped by Render when a post renders to nothing but
// white space; X rejects empty posts.
var ErrEmptyText = errors.New("schedules: post text is empty")

// Internal sentinels; none leaves the package unwrapped.
var (
	// errBadDuration is parseDuration's error; callers write the message.
	errBadDuration = errors.New("schedules: bad duration")
	// errSkip tells a caller that the problem is already recorded as a
	// diagnostic.
	errSkip = errors.New("schedules: already reported")
	// errTooBig stops a template whose output passes maxRenderedBytes.
	errTooBig = fmt.Errorf("output over %d bytes", maxRenderedBytes)
	// errTooLongValue stops a template function given or building a
	// string over maxRenderedBytes (see safeFuncs).
	errTooLongValue = fmt.Errorf("a value over %d bytes", maxRenderedBytes)
)

// Diagnostic is one problem found by Load, located at the YAML node that
// causes it. Line and Col are 1-based; Line 0 means the problem concerns the
// whole file (an I/O error, a file too big) and Col is then 0 too.
//
// Most diagnostics are errors, which reject the configuration. A warning
// (Warning true, listed in Config.Warnings) does not: it names something
// that loads but will probably fail at run time, such as a recurring post
// whose text never changes (see Config.Warnings).
type Diagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"column"`
	Field   string `json:"field,omitempty"` // dotted path such as schedules[3].post.text
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
}

// String formats d as FILE:LINE:COL: message, the form editors and CI
// annotators understand; a whole-file problem is FILE: message. A warning
// reads FILE:LINE:COL: warning: message, as compilers write theirs.
func (d Diagnostic) String() string {
	msg := d.Message
	if d.Warning {
		msg = "warning: " + msg
	}
	if d.Line == 0 {
		if d.File == "" {
			return msg
		}
		return d.File + ": " + msg
	}
	return d.File + ":" + strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Col) + ": " + msg
}

// Diagnostics is the error Load returns: every problem in the loaded files,
// sorted by file, line and column. Match it with errors.As to list them.
type Diagnostics []Diagnostic

// Error lists the diagnostics one per line.
func (ds Diagnostics) Error() string {
	switch len(ds) {
	case 0:
		return "schedules: no problems"
	case 1:
		return ds[0].String()
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(ds)))
	b.WriteString(" problems:")
	for _, d := range ds {
		b.WriteString("\n")
		b.WriteString(d.String())
	}
	return b.String()
}

// Is makes errors.Is(ds, ErrInvalid) true.
func (ds Diagnostics) Is(target error) bool { return target == ErrInvalid }

// less orders diagnostics by file, position, then message so that output is
// deterministic whatever order the parallel workers finished in.
func (d Diagnostic) less(o Diagnostic) bool {
	if d.File != o.File {
		return d.File < o.File
	}
	if d.Line != o.Line {
		return d.Line < o.Line
	}
	if d.Col != o.Col {
		return d.Col < o.Col
	}
	if d.Message != o.Message {
		return d.Message < o.Message
	}
	return d.Field < o.Field
}
