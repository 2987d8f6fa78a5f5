package pybind

import "github.com/cpex-go/cpex/internal/wirejson"

// Python strings may hold lone surrogates ("\ud800": json.loads makes them from client
// input), which UTF-8 cannot encode. Python sends them as JSON \uXXXX escapes; where a
// string only travels Python → Go → Python or is compared in Go (plugin names and ids,
// condition values, the request facts, violation texts), encoding/json's rule (a lone
// surrogate is U+FFFD) would lose it and make distinct strings equal. So these readers
// keep a lone surrogate as its generalized UTF-8 form (three bytes ED A0..BF 80..BF,
// "WTF-8"), which no valid UTF-8 text contains: Go compares it byte for byte, and the
// step writer (wirejson.Writer.Str) sends it back as the same escape. A valid escaped pair is the one
// character it encodes, as JSON defines.

// unquoteText decodes the JSON string literal raw, keeping lone surrogates (see above).
// Invalid UTF-8 bytes in raw (which Python never sends) become U+FFFD, as in encoding/json.
func unquoteText(raw []byte) (string, error) { return wirejson.Unquote(raw, wirejson.Keep) }

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
