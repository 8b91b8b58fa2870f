package schedules

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// maxNarrowSize bounds the files whose syntax errors are narrowed down:
// each step re-parses a prefix of the file.
const maxNarrowSize = 64 << 10

// yamlDiagnostic turns a yaml.v3 syntax error into a diagnostic. yaml.v3
// reports no column, and for parser errors it reports the line where the
// enclosing block starts rather than where parsing failed (a misindented
// key on line 8 is reported at the "schedules:" of line 4). So for files up
// to 64 KiB (hand-written ones; generated files rarely break this way) the
// failing line is found by parsing longer and longer prefixes of the file,
// starting from yaml.v3's line: it is the last line of the shortest prefix
// that fails with the same message. yaml.v3's own line is kept in the
// message when it differs.
func yamlDiagnostic(file string, data []byte, err error) Diagnostic {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(err.Error(), m[0])
	}
	d := Diagnostic{File: file, Line: line, Message: "invalid YAML: " + msg}
	if len(data) <= maxNarrowSize {
		if n := failingLine(data, err.Error(), line); n > 0 {
			if line > 0 && n != line {
				d.Message += " (in the block at line " + strconv.Itoa(line) + ")"
			}
			d.Line = n
		}
	}
	if d.Line > 0 {
		d.Col = 1
	}
	return d
}

// failingLine returns the smallest n such that the first n lines of data
// fail to parse with the error message want, or 0. The answer is normally
// at or after from, the line yaml.v3 reported, and close to it, so the
// search gallops forward from there (a handful of parses) before it
// bisects.
func failingLine(data []byte, want string, from int) int {
	var ends []int // ends[i] is the end of line i+1
	for i, c := range data {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 0 || ends[len(ends)-1] != len(data) {
		ends = append(ends, len(data))
	}
	fails := func(n int) bool { return parseError(data[:ends[n-1]]) == want }
	last := len(ends)
	if !fails(last) {
		return 0
	}
	// Find lo < hi with !fails(lo) (or lo == 0) and fails(hi).
	lo, hi := 0, last
	if start := min(max(from-1, 1), last); fails(start) {
		hi = start
	} else {
		lo = start
		for step := 1; lo+step < last; step *= 2 {
			if fails(lo + step) {
				hi = lo + step
				break
			}
			lo += step
		}
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

func parseError(b []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		if err := decodeDoc(dec, &n); err != nil {
			if errors.Is(err, io.EOF) {
				return ""
			}
			return err.Error()
		}
	}
}
