package schedules

import (
	"errors"
	"fmt"
	"text/template"
)

// safeFuncs replace text/template's string-building builtins with versions
// that refuse oversized input and output, so that a hostile template cannot
// build a huge string in variables without ever writing it out.
var safeFuncs = template.FuncMap{
	"print": func(args ...any) (string, error) {
		if err := checkArgs(args); err != nil {
			return "", err
		}
		return capped(fmt.Sprint(args...))
	},
	"println": func(args ...any) (string, error) {
		if err := checkArgs(args); err != nil {
			return "", err
		}
		return capped(fmt.Sprintln(args...))
	},
	"printf": func(format string, args ...any) (string, error) {
		if err := checkFormat(format); err != nil {
			return "", err
		}
		if err := checkArgs(args); err != nil {
			return "", err
		}
		return capped(fmt.Sprintf(format, args...))
	},
	"html": func(args ...any) (string, error) {
		if err := checkArgs(args); err != nil {
			return "", err
		}
		return capped(template.HTMLEscaper(args...))
	},
	"js": func(args ...any) (string, error) {
		if err := checkArgs(args); err != nil {
			return "", err
		}
		return capped(template.JSEscaper(args...))
	},
	"urlquery": func(args ...any) (string, error) {
		if err := checkArgs(args); err != nil {
			return "", err
		}
		return capped(template.URLQueryEscaper(args...))
	},
}

func checkArgs(args []any) error {
	if len(args) > 1000 {
		return errors.New("too many arguments")
	}
	for _, a := range args {
		if s, ok := a.(string); ok && len(s) > maxRenderedBytes {
			return errTooLongValue
		}
	}
	return nil
}

func capped(s string) (string, error) {
	if len(s) > maxRenderedBytes {
		return "", errTooLongValue
	}
	return s, nil
}

// checkFormat refuses printf formats that could pad a value to a huge
// width: a '*' width, or a width or precision over maxPrintfWidth.
func checkFormat(f string) error {
	if len(f) > maxTemplateBytes {
		return errTooLongValue
	}
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		for i++; i < len(f); i++ {
			c := f[i]
			if c == '*' {
				return errors.New("printf: a * width is not allowed")
			}
			if c >= '0' && c <= '9' {
				n := 0
				for ; i < len(f) && f[i] >= '0' && f[i] <= '9'; i++ {
					if n = n*10 + int(f[i]-'0'); n > maxPrintfWidth {
						return fmt.Errorf("printf: widths and precisions over %d are not allowed", maxPrintfWidth)
					}
				}
				i--
				continue
			}
			if c != '+' && c != '-' && c != '#' && c != ' ' && c != '.' && c != '[' && c != ']' {
				break // the verb
			}
		}
	}
	return nil
}
