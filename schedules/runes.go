package schedules

import "unicode/utf8"

// decodeRune decodes the rune at byte i of s; past the end it returns
// (utf8.RuneError, 0), so callers check i < len(s) before trusting it.
func decodeRune(s string, i int) (rune, int) {
	if i >= len(s) {
		return utf8.RuneError, 0
	}
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

// lastRune returns the last rune of s.
func lastRune(s string) (rune, int) { return utf8.DecodeLastRuneInString(s) }
