package spec

import (
	"testing"
	"time"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return v
}

func mustCivil(t testing.TB, s string) Civil {
	t.Helper()
	c, err := ParseCivil(s)
	if err != nil {
		t.Fatalf("bad test civil %q: %v", s, err)
	}
	return c
}

// fires returns up to n successive fires after from, as RFC 3339 strings
// in the spec's zone, stopping early when the spec ends.
func fires(t testing.TB, s Spec, from time.Time, n int) []string {
	t.Helper()
	var out []string
	for range n {
		next, ok := s.Next(from)
		if !ok {
			break
		}
		if !next.After(from) {
			t.Fatalf("Next(%s) = %s, not after", from.Format(time.RFC3339), next.Format(time.RFC3339))
		}
		out = append(out, next.Format(time.RFC3339Nano))
		from = next
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
