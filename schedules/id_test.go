package schedules

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidID checks validID against the regexp it replaces.
func TestValidID(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)
	cases := []string{"", "a", "0", "-", ".a", "_a", "a-b.c_d", "A", "aB", "a b", "a\n", "é", "a/b",
		strings.Repeat("a", 127), strings.Repeat("a", 128), strings.Repeat("a", 129), "s-0000001", "brand-9"}
	for c := range 256 {
		cases = append(cases, string(rune(c)), "a"+string(rune(c)), string([]byte{'a', byte(c)}))
	}
	for _, s := range cases {
		if got, want := validID(s), re.MatchString(s); got != want {
			t.Errorf("validID(%q) = %v, want %v", s, got, want)
		}
	}
}
