package schedules

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// XTextLimit is X's limit on a post, in weighted characters.
const XTextLimit = 280

// xURLLength is what any URL counts for: X wraps every link in a t.co URL
// of this length, however long the original.
const xURLLength = 23

// WeightedLength returns the length of s as X counts it (twitter-text v3):
// after Unicode NFC normalisation, code points in U+0000–U+10FF,
// U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 count 1 and all others 2;
// each URL counts 23 whatever its length; an emoji sequence (a base with
// variation selectors, skin-tone modifiers, ZWJ-joined parts, a flag pair, a
// keycap or a tag sequence) counts 2 in all.
//
// URL detection simplifies twitter-text's: a URL starts with http://,
// https:// or www. at a word boundary, runs to the next white space, drops
// trailing punctuation (and a closing parenthesis it does not open), and
// needs a dotted host whose last label is two or more letters. twitter-text
// also checks that label against its list of top-level domains, so a made-up
// one (https://example.notatld) counts 23 here but its full length on X; X
// then rejects the post and the publisher reports it.
func WeightedLength(s string) int {
	s = norm.NFC.String(s)
	n := 0
	for i := 0; i < len(s); {
		if end := urlAt(s, i); end > i {
			n += xURLLength
			i = end
			continue
		}
		if end := emojiAt(s, i); end > i {
			n += 2
			i = end
			continue
		}
		r, size := decodeRune(s, i)
		n += runeWeight(r)
		i += size
	}
	return n
}

func runeWeight(r rune) int {
	switch {
	case r <= 0x10FF,
		r >= 0x2000 && r <= 0x200D,
		r >= 0x2010 && r <= 0x201F,
		r >= 0x2032 && r <= 0x2037:
		return 1
	}
	return 2
}

// urlAt returns the end of a URL starting at byte i of s, or i.
func urlAt(s string, i int) int {
	c := s[i]
	if c != 'h' && c != 'H' && c != 'w' && c != 'W' {
		return i
	}
	if i > 0 {
		// A URL starts a word: not in the middle of one, an @mention or
		// a #hashtag.
		p, _ := lastRune(s[:i])
		if unicode.IsLetter(p) || unicode.IsDigit(p) || strings.ContainsRune("@$#＃＠_/.-", p) {
			return i
		}
	}
	rest := s[i:]
	var hostStart int
	switch {
	case hasPrefixFold(rest, "https://"):
		hostStart = 8
	case hasPrefixFold(rest, "http://"):
		hostStart = 7
	case hasPrefixFold(rest, "www."):
		hostStart = 0
	default:
		return i
	}
	end := hostStart
	for end < len(rest) {
		r, size := decodeRune(rest, end)
		if unicode.IsSpace(r) {
			break
		}
		end += size
	}
	// Trailing punctuation ends a sentence, not the URL; a closing
	// parenthesis is part of the URL only when it balances one inside it.
	for end > hostStart {
		c := rest[end-1]
		if strings.IndexByte(".,:;!?'\"", c) >= 0 ||
			c == ')' && strings.Count(rest[hostStart:end], "(") < strings.Count(rest[hostStart:end], ")") {
			end--
			continue
		}
		break
	}
	host := rest[hostStart:end]
	if k := strings.IndexAny(host, "/?#:"); k >= 0 {
		host = host[:k]
	}
	if !validHost(host) {
		return i
	}
	return i + end
}

// validHost reports whether host looks like a DNS name with a top-level
// domain of two or more letters.
func validHost(host string) bool {
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 || len(host)-dot-1 < 2 {
		return false
	}
	for _, r := range host[dot+1:] {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// emojiAt returns the end of an emoji sequence starting at byte i of s, or
// i when none starts there.
func emojiAt(s string, i int) int {
	r, size := decodeRune(s, i)
	j := i + size
	switch {
	case isRegionalIndicator(r):
		if r2, size2 := decodeRune(s, j); j < len(s) && isRegionalIndicator(r2) {
			return j + size2
		}
		return i
	case r == '#' || r == '*' || r >= '0' && r <= '9':
		// A keycap: the character, an optional VS16, U+20E3.
		k := j
		if r2, size2 := decodeRune(s, k); k < len(s) && r2 == 0xFE0F {
			k += size2
		}
		if r2, size2 := decodeRune(s, k); k < len(s) && r2 == 0x20E3 {
			return k + size2
		}
		return i
	case !isPictographic(r):
		return i
	}
	// Pictographs that weigh 1 on their own (©, ®) are emoji only when
	// followed by VS16.
	if runeWeight(r) == 1 {
		if r2, _ := decodeRune(s, j); j >= len(s) || r2 != 0xFE0F {
			return i
		}
	}
	for {
		j = emojiModifiers(s, j)
		r2, size2 := decodeRune(s, j)
		if j >= len(s) || r2 != 0x200D {
			return j
		}
		r3, size3 := decodeRune(s, j+size2)
		if j+size2 >= len(s) || !isPictographic(r3) {
			return j
		}
		j += size2 + size3
	}
}

// emojiModifiers skips variation selectors, skin tones, a combining keycap
// and tag characters (subdivision flags) after an emoji base.
func emojiModifiers(s string, j int) int {
	for j < len(s) {
		r, size := decodeRune(s, j)
		if r == 0xFE0F || r == 0xFE0E || r == 0x20E3 ||
			r >= 0x1F3FB && r <= 0x1F3FF || r >= 0xE0020 && r <= 0xE007F {
			j += size
			continue
		}
		return j
	}
	return j
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// pictographic approximates Unicode's Extended_Pictographic property
// (emoji-data.txt), which the standard library does not provide.
var pictographic = [][2]rune{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x231A, 0x231B}, {0x2328, 0x2328}, {0x2388, 0x2388}, {0x23CF, 0x23CF},
	{0x23E9, 0x23F3}, {0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB},
	{0x25B6, 0x25B6}, {0x25C0, 0x25C0}, {0x25FB, 0x25FE}, {0x2600, 0x2605},
	{0x2607, 0x2612}, {0x2614, 0x2685}, {0x2690, 0x2705}, {0x2708, 0x2712},
	{0x2714, 0x2714}, {0x2716, 0x2716}, {0x271D, 0x271D}, {0x2721, 0x2721},
	{0x2728, 0x2728}, {0x2733, 0x2734}, {0x2744, 0x2744}, {0x2747, 0x2747},
	{0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757},
	{0x2763, 0x2767}, {0x2795, 0x2797}, {0x27A1, 0x27A1}, {0x27B0, 0x27B0},
	{0x27BF, 0x27BF}, {0x2934, 0x2935}, {0x2B05, 0x2B07}, {0x2B1B, 0x2B1C},
	{0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x3030, 0x3030}, {0x303D, 0x303D},
	{0x3297, 0x3297}, {0x3299, 0x3299}, {0x1F000, 0x1F0FF}, {0x1F10D, 0x1F10F},
	{0x1F12F, 0x1F12F}, {0x1F16C, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E},
	{0x1F191, 0x1F19A}, {0x1F1AD, 0x1F1E5}, {0x1F201, 0x1F20F}, {0x1F21A, 0x1F21A},
	{0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A}, {0x1F23C, 0x1F23F}, {0x1F249, 0x1F3FA},
	{0x1F400, 0x1F53D}, {0x1F546, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F774, 0x1F77F},
	{0x1F7D5, 0x1F7FF}, {0x1F80C, 0x1F80F}, {0x1F848, 0x1F84F}, {0x1F85A, 0x1F85F},
	{0x1F888, 0x1F88F}, {0x1F8AE, 0x1F8FF}, {0x1F90C, 0x1F93A}, {0x1F93C, 0x1F945},
	{0x1F947, 0x1FAFF}, {0x1FC00, 0x1FFFD},
}

func isPictographic(r rune) bool {
	if r < 0xA9 {
		return false
	}
	k := sort.Search(len(pictographic), func(k int) bool { return pictographic[k][1] >= r })
	return k < len(pictographic) && pictographic[k][0] <= r
}
