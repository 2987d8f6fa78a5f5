package builtins

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The gateway's SearchReplacePlugin hands `replace` to Python's re.sub, whose
// replacement syntax differs from Go's: groups are \1 or \g<name> (Go: ${1}, ${name}),
// backslash escapes such as \n are processed, and '$' is an ordinary character (Go:
// "$$"). pyReplacement translates the Python form, so a migrated config replaces exactly
// as before, and checks group references against the pattern at load time.

// pyEscapes are the single-character escapes re.sub processes in a replacement.
var pyEscapes = map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', 'f': '\f', 'v': '\v', 'a': '\a', 'b': '\b', '\\': '\\'}

// pyReplacement converts a Python re.sub replacement into a Go Expand template. literal
// reports that the template references no group (so ReplaceAllLiteralString can use
// text, the unescaped replacement, directly).
func pyReplacement(repl string, re *regexp.Regexp) (template, text string, literal bool, err error) {
	var tb, lb strings.Builder
	literal = true
	group := func(ref string) error {
		if n, convErr := strconv.Atoi(ref); convErr == nil {
			if n > re.NumSubexp() {
				return fmt.Errorf("replacement refers to group %d but the pattern has %d", n, re.NumSubexp())
			}
		} else if re.SubexpIndex(ref) < 0 {
			return fmt.Errorf("replacement refers to unknown group name %q", ref)
		}
		literal = false
		tb.WriteString("${" + ref + "}")
		return nil
	}
	lit := func(b ...byte) {
		for _, c := range b {
			if c == '$' {
				tb.WriteString("$$")
			} else {
				tb.WriteByte(c)
			}
			lb.WriteByte(c)
		}
	}
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' {
			lit(c)
			continue
		}
		if i+1 >= len(repl) {
			return "", "", false, fmt.Errorf("replacement ends with a lone backslash")
		}
		i++
		c = repl[i]
		switch {
		case c == 'g':
			end := strings.IndexByte(repl[i:], '>')
			if i+1 >= len(repl) || repl[i+1] != '<' || end < 0 {
				return "", "", false, fmt.Errorf("replacement has \\g without <name>")
			}
			ref := repl[i+2 : i+end]
			if ref == "" || !pyGroupName(ref) {
				return "", "", false, fmt.Errorf("replacement has a bad group reference \\g<%s>", ref)
			}
			if err := group(ref); err != nil {
				return "", "", false, err
			}
			i += end
		case c == '0':
			// \0 and \0oo are octal character escapes (up to three octal digits).
			j := i + 1
			for j < len(repl) && j < i+3 && repl[j] >= '0' && repl[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(repl[i:j], 8, 8)
			lit(byte(v))
			i = j - 1
		case c >= '1' && c <= '9':
			// Python: three octal digits are a character, else one or two digits a group.
			if i+2 < len(repl) && pyOctalDigit(c) && pyOctalDigit(repl[i+1]) && pyOctalDigit(repl[i+2]) {
				v, convErr := strconv.ParseUint(repl[i:i+3], 8, 16)
				if convErr != nil || v > 0o377 {
					return "", "", false, fmt.Errorf("replacement has an octal escape \\%s above \\377", repl[i:i+3])
				}
				lit(byte(v))
				i += 2
				continue
			}
			j := i + 1
			if j < len(repl) && repl[j] >= '0' && repl[j] <= '9' {
				j++
			}
			if err := group(repl[i:j]); err != nil {
				return "", "", false, err
			}
			i = j - 1
		default:
			if e, ok := pyEscapes[c]; ok {
				lit(e)
			} else if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				// Python rejects unknown escapes of ASCII letters (re.error "bad escape").
				return "", "", false, fmt.Errorf("replacement has an unknown escape \\%c", c)
			} else {
				lit('\\', c) // any other escaped character stays as written, backslash included
			}
		}
	}
	return tb.String(), lb.String(), literal, nil
}

func pyOctalDigit(c byte) bool { return c >= '0' && c <= '7' }

func pyGroupName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80) {
			return false
		}
	}
	return true
}
