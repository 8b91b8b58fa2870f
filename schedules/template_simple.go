package schedules

import (
	"strconv"
	"strings"
)

// simpleRender renders the common shape of post template without
// text/template: literal text and the actions {{ .Run }}, {{ .Planned }},
// {{ .Schedule }}, {{ .Account }} and {{ .Planned.Format "layout" }}
// (spaces optional, the layout a Go string literal). Parsing a template
// with text/template costs about ten times more than everything else Load
// does for a schedule, and nearly every post template has this shape. It
// appends the output to out and reports false, having rendered nothing
// useful, when text has any other action; the caller then uses
// text/template, whose output on the simple shape is the same (a test
// checks). With d nil it only checks the shape.
func simpleRender(text string, d *RenderData, out []byte) ([]byte, bool) {
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return append(out, text...), true
		}
		out = append(out, text[:i]...)
		text = text[i+2:]
		j := strings.Index(text, "}}")
		if j < 0 {
			return out, false
		}
		raw := text[:j]
		text = text[j+2:]
		if strings.HasPrefix(raw, "-") || strings.HasSuffix(raw, "-") {
			return out, false // a trim marker
		}
		action := strings.Trim(raw, " \t")
		field, arg, _ := strings.Cut(action, " ")
		var layout string
		if arg != "" {
			if field != ".Planned.Format" {
				return out, false
			}
			l, err := strconv.Unquote(strings.Trim(arg, " \t"))
			if err != nil {
				return out, false
			}
			layout = l
		}
		switch field {
		case ".Run":
			if d != nil {
				out = strconv.AppendInt(out, d.Run, 10)
			}
		case ".Planned":
			if d != nil {
				out = append(out, d.Planned.String()...)
			}
		case ".Planned.Format":
			if arg == "" {
				return out, false
			}
			if d != nil {
				out = d.Planned.AppendFormat(out, layout)
			}
		case ".Schedule":
			if d != nil {
				out = append(out, d.Schedule...)
			}
		case ".Account":
			if d != nil {
				out = append(out, d.Account...)
			}
		default:
			return out, false
		}
	}
}
