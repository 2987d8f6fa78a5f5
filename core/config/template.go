package config

import (
	"html"
	"math"
	"strconv"
	"strings"
)

// Render expands the Jinja subset that plugin config files use (gateway
// plugins/config.yaml, spec §5.2), so Go callers get the same text that
// upstream's sandboxed Jinja environment produces:
//
//	{{ env.NAME }}  {{ env['NAME'] }}  {{ env["NAME"] }}
//	{{ env.NAME | default('x') }}      (also d(...), and default(x, true))
//	{{ env.A | default(env.B | default("redis://redis:6379/0")) }}
//	{{ name }}                          an undefined variable: renders ""
//	{# comment #}   {{- x -}} whitespace control
//
// Literals may be strings ('..' or ".."), integers, floats, true/false and
// none (printed True, False, None as Python does). An unset variable is
// undefined and renders as the empty string; default() replaces undefined
// values only, or also falsy ones when its second argument is true.
//
// Quirk kept on purpose: upstream renders with autoescape=True, so every
// substituted value, literal defaults included, is HTML-escaped (& < > " '
// become &amp; &lt; &gt; &#34; &#39;). A password containing & arrives
// in the YAML as &amp;. Also as Jinja: \r\n and \r become \n, and one
// trailing newline is dropped.
//
// Anything else (other filters, attribute chains, {% statements %}) is an
// error naming the line, rather than a silent difference from Jinja.
func Render(text, source string, env EnvLookup) (string, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var out strings.Builder
	out.Grow(len(text))
	stripNext := false
	line, counted := 1, 0 // line number of text[counted], advanced incrementally
	for pos := 0; pos < len(text); {
		start := nextTag(text, pos)
		chunk := text[pos:]
		if start >= 0 {
			chunk = text[pos:start]
		}
		if stripNext {
			chunk = strings.TrimLeft(chunk, " \t\n")
			stripNext = false
		}
		if start < 0 {
			out.WriteString(chunk)
			break
		}
		open := text[start : start+2]
		line += strings.Count(text[counted:start], "\n")
		counted = start
		fail := func(end int, msg string) (string, error) {
			if end <= start || end > len(text) {
				end = min(len(text), start+60)
			}
			return "", &TemplateError{Source: source, Line: line, Expr: text[start:end], Message: msg}
		}
		if open == "{%" {
			return fail(-1, "template statements ({% ... %}) are not supported")
		}
		closeTag := "}}"
		if open == "{#" {
			closeTag = "#}"
		}
		bodyStart := start + 2
		end := findClose(text, bodyStart, closeTag, open == "{{")
		if end < 0 {
			return fail(-1, "unterminated "+open+" tag")
		}
		body := text[bodyStart:end]
		if strings.HasPrefix(body, "-") {
			chunk = strings.TrimRight(chunk, " \t\n")
			body = body[1:]
		}
		if strings.HasSuffix(body, "-") {
			stripNext = true
			body = body[:len(body)-1]
		}
		out.WriteString(chunk)
		pos = end + 2
		if open == "{#" {
			continue
		}
		val, err := evalExpr(body, env)
		if err != nil {
			return fail(pos, err.Error())
		}
		out.WriteString(html.EscapeString(val.String()))
	}
	s := out.String()
	return strings.TrimSuffix(s, "\n"), nil
}

// nextTag finds the next "{{", "{%" or "{#" at or after pos.
func nextTag(text string, pos int) int {
	for i := pos; i+1 < len(text); i++ {
		if text[i] == '{' {
			switch text[i+1] {
			case '{', '%', '#':
				return i
			}
		}
	}
	return -1
}

// findClose finds closeTag from pos, skipping quoted strings inside an
// expression so that "}}" in a literal does not end it.
func findClose(text string, pos int, closeTag string, quotes bool) int {
	var quote byte
	for i := pos; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case quotes && (c == '\'' || c == '"'):
			quote = c
		case strings.HasPrefix(text[i:], closeTag):
			return i
		}
	}
	return -1
}

// tmplValue is a value of the template language.
type tmplValue struct {
	kind  valueKind
	s     string  // string text
	n     float64 // number
	isInt bool
	b     bool
}

type valueKind int

const (
	kindUndefined valueKind = iota
	kindString
	kindNumber
	kindBool
	kindNone
)

// String prints a value as Jinja (Python str()) does.
func (v tmplValue) String() string {
	switch v.kind {
	case kindString:
		return v.s
	case kindNumber:
		if v.isInt {
			return v.s
		}
		return pythonFloat(v.n)
	case kindBool:
		if v.b {
			return "True"
		}
		return "False"
	case kindNone:
		return "None"
	}
	return ""
}

// truthy is Python truthiness, for default(x, true).
func (v tmplValue) truthy() bool {
	switch v.kind {
	case kindString:
		return v.s != ""
	case kindNumber:
		return v.n != 0
	case kindBool:
		return v.b
	}
	return false
}

// pythonFloat approximates Python's repr of a float (1.0, 1.5, 1e+20, inf).
func pythonFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs >= 1e16 || abs < 1e-4) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes 1e+20 and 1e-05: at least two exponent digits.
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[:1]
		digits := strings.TrimLeft(exp[1:], "0")
		if len(digits) < 2 {
			digits = strings.Repeat("0", 2-len(digits)) + digits
		}
		return mant + "e" + sign + digits
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
