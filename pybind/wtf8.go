package pybind

import (
	"errors"
	"unsafe"

	"github.com/cpex-go/cpex/internal/jsonesc"
)

// Python strings may hold lone surrogates ("\ud800": json.loads makes them from client
// input), which UTF-8 cannot encode. Python sends them as JSON \uXXXX escapes; where a
// string only travels Python → Go → Python or is compared in Go (plugin names and ids,
// condition values, the request facts, violation texts), encoding/json's rule (a lone
// surrogate is U+FFFD) would lose it and make distinct strings equal. So these readers
// keep a lone surrogate as its generalized UTF-8 form (three bytes ED A0..BF 80..BF,
// "WTF-8"), which no valid UTF-8 text contains: Go compares it byte for byte, and the
// step writer (jw.str) sends it back as the same escape. A valid escaped pair is the one
// character it encodes, as JSON defines.

var errBadString = errors.New("invalid JSON string")

// unquoteText decodes the JSON string literal raw, keeping lone surrogates (see above).
// Invalid UTF-8 bytes in raw (which Python never sends) become U+FFFD, as in encoding/json.
func unquoteText(raw []byte) (string, error) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", errBadString
	}
	// A view, not a copy: Append only reads it, and the answer is built in its own buffer.
	body := unsafe.String(unsafe.SliceData(raw[1:]), len(raw)-1)
	b, end, ok := jsonesc.Append(make([]byte, 0, len(body)), body, 0, jsonesc.Keep)
	if !ok || end != len(body)-1 {
		return "", errBadString
	}
	return string(b), nil
}

// surrogateAt returns the surrogate whose three-byte form starts at s[i], if one does.
func surrogateAt(s string, i int) (rune, bool) {
	if i+2 < len(s) && s[i] == 0xED && s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), true
	}
	return 0, false
}

// text is a JSON string decoded by unquoteText, for the documents encoding/json reads
// (RefRegister's info): a lone surrogate in a plugin name or a condition value survives.
type text string

func (t *text) UnmarshalJSON(raw []byte) error {
	if string(raw) == "null" {
		return nil // as encoding/json leaves a string on null
	}
	s, err := unquoteText(raw)
	if err != nil {
		return err
	}
	*t = text(s)
	return nil
}

// textStrings converts a list of texts (nil stays nil: "no condition on this field").
func textStrings(xs []text) []string {
	if xs == nil {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = string(x)
	}
	return out
}
