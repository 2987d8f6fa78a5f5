package builtins

// Byte-level helpers shared by the single-pass scanners (pii_scan.go, secrets_scan.go).
// The scanners work on the bytes of a Go string: every pattern they recognise starts and
// ends on an ASCII byte, so replacing a found span never splits a UTF-8 sequence. Bytes
// >= 0x80 count as non-word bytes, like Go's regexp `\b`.

const (
	bcWord  = 1 << iota // [A-Za-z0-9_]
	bcDigit             // [0-9]
	bcAlpha             // [A-Za-z]
	bcUpper             // [A-Z]
	bcHex               // [0-9A-Fa-f]
	bcB64               // [A-Za-z0-9+/]
	bcIdent             // [A-Za-z0-9_-] (token bodies)
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		var k uint8
		isDigit := b >= '0' && b <= '9'
		isUpper := b >= 'A' && b <= 'Z'
		isLower := b >= 'a' && b <= 'z'
		if isDigit || isUpper || isLower || b == '_' {
			k |= bcWord
		}
		if isDigit {
			k |= bcDigit
		}
		if isUpper || isLower {
			k |= bcAlpha
		}
		if isUpper {
			k |= bcUpper
		}
		if isDigit || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F') {
			k |= bcHex
		}
		if isDigit || isUpper || isLower || b == '+' || b == '/' {
			k |= bcB64
		}
		if isDigit || isUpper || isLower || b == '_' || b == '-' {
			k |= bcIdent
		}
		t[c] = k
	}
	return t
}()

func isWordByte(b byte) bool  { return byteClass[b]&bcWord != 0 }
func isDigitByte(b byte) bool { return b >= '0' && b <= '9' }
func isAlphaByte(b byte) bool { return byteClass[b]&bcAlpha != 0 }
func isHexByte(b byte) bool   { return byteClass[b]&bcHex != 0 }

// wordBefore reports whether the byte before i is a word byte (i.e. i is not at a `\b`
// for a word that starts at i).
func wordBefore(s string, i int) bool { return i > 0 && isWordByte(s[i-1]) }

// wordAt reports whether s[i] exists and is a word byte (i.e. a match ending at i has no
// `\b` after it).
func wordAt(s string, i int) bool { return i < len(s) && isWordByte(s[i]) }

// runOf returns the end of the run of bytes starting at i that have all bits of class.
func runOf(s string, i int, class uint8) int {
	for i < len(s) && byteClass[s[i]]&class == class {
		i++
	}
	return i
}

// lowerASCII lower-cases an ASCII letter.
func lowerASCII(b byte) byte {
	if b >= 'A' && b <= 'Z' {
		return b + ('a' - 'A')
	}
	return b
}

// hasPrefixFold reports whether s[i:] starts with the lower-case ASCII word w, ignoring case.
func hasPrefixFold(s string, i int, w string) bool {
	if len(s)-i < len(w) {
		return false
	}
	for k := 0; k < len(w); k++ {
		if lowerASCII(s[i+k]) != w[k] {
			return false
		}
	}
	return true
}

// skipSet skips the bytes of set starting at i and returns the new index.
func skipSet(s string, i int, set string) int {
	for i < len(s) {
		found := false
		for k := 0; k < len(set); k++ {
			if s[i] == set[k] {
				found = true
				break
			}
		}
		if !found {
			return i
		}
		i++
	}
	return i
}

// followWord matches, after at least one space at i, the lower-case word w (ignoring
// case) ending at a word boundary; it returns the index after the word.
func followWord(s string, i int, w string) (int, bool) {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j == i || !hasPrefixFold(s, j, w) || wordAt(s, j+len(w)) {
		return i, false
	}
	return j + len(w), true
}
